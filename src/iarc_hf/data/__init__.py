"""The benchmark itself: tasks and their rules, the rule state of a control tape, the window
generator, the window-only oracle, the `datasets` builder and the publishable dataset folder."""
