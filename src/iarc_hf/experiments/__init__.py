"""Experiments: the registry of runs and recipes, their jobs (run sequentially or as a Ray
sweep), the recipe search, the leaderboard, result files, reruns and the reports."""
