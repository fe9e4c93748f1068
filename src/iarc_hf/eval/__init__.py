"""Scoring: the metrics (beside the oracle's), evaluation of a model on a split, metrics for
`transformers.Trainer`, where the errors are, and forward FLOPs per window."""
