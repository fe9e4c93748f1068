"""Pictures: training curves, attention maps of one window, and the explorer's logic."""
