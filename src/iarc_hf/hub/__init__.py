"""The Hugging Face Hub: model and dataset cards (from `templates/`), the dataset repository,
pushing a model folder, the explorer's Space, and loading checkpoints without their code."""
