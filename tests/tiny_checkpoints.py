"""Tiny trained checkpoints (2 steps, 2 layers) for tests that need a saved model folder."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import train as train_script  # noqa: E402

from iarc_hf.training.loop import train  # noqa: E402


def tiny_checkpoint(out, preset="cisformer-ea", controls="IARC"):
    args = ["--output_dir", str(out), "--preset", preset, "--num_hidden_layers", "2",
            "--dataset_config", controls,
            "--max_steps", "2", "--per_device_train_batch_size", "8", "--eval_size", "20",
            "--test_size", "20", "--eval_steps", "2"]  # fmt: skip
    train(*train_script.parse(args), command="test", show_progress=False)
    return out
