"""Tiny trained checkpoints (2 steps, 2 layers) for tests that need a saved model folder.

Each (preset, controls) is trained once per test session; every caller gets its own copy,
so a test may change its folder without touching another test's."""

import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import train as train_script  # noqa: E402

from iarc_hf.training.loop import train  # noqa: E402

_TRAINED: dict[tuple[str, str], Path] = {}


def _train_once(preset: str, controls: str) -> Path:
    key = (preset, controls)
    if key not in _TRAINED:
        out = Path(tempfile.mkdtemp(prefix="iarc-tiny-")) / f"{preset}-{controls}"
        args = ["--output_dir", str(out), "--preset", preset, "--num_hidden_layers", "2",
                "--dataset_config", controls,
                "--max_steps", "2", "--per_device_train_batch_size", "8", "--eval_size", "20",
                "--test_size", "20", "--eval_steps", "2"]  # fmt: skip
        train(*train_script.parse(args), command="test", show_progress=False)
        _TRAINED[key] = out
    return _TRAINED[key]


def tiny_checkpoint(out, preset="cisformer-ea", controls="IARC"):
    """A copy at `out` of the session's tiny checkpoint of `preset` on `controls`."""
    shutil.copytree(_train_once(preset, controls), out, dirs_exist_ok=True)
    return out
