"""Training: the run arguments, the accelerate loop and its final step, checkpoints (saved,
checked, resumed), a run's memory check, the `transformers` backbones and your own model."""
