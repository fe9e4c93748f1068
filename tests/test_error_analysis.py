"""The error analysis: last-position slices on a hand-made batch, and the script on a tiny
checkpoint (JSON + plot)."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_checkpoints import tiny_checkpoint

from iarc_hf.eval.error_analysis import analyse, last_position_frame, sliced_accuracy

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import analyze_errors  # noqa: E402


class Predicts(torch.nn.Module):
    """A stand-in model that predicts the given symbols."""

    def __init__(self, predictions, n_symbols=16):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.logits = torch.nn.functional.one_hot(torch.as_tensor(predictions), n_symbols).float()

    def forward(self, input_ids, control_ids):
        return type("Out", (), {"logits": self.logits})


BATCH = {
    "input_ids": np.zeros((3, 4), np.int64),
    "control_ids": np.array([[1, 0, 0, 0], [0, 0, 4, 0], [0, 0, 0, 0]]),
    "labels": np.array([[0, 0, 0, 5], [0, 0, 0, 6], [0, 0, 0, 7]]),
    "task_ids": np.array([[0, 0, 0, 0], [2, 2, 2, 2], [1, 1, 1, 1]]),
    "context_steps": np.array([[0, 0, 0, 0], [0, 0, 1, 1], [0, 0, 0, 0]]),
    "determined": np.ones((3, 4), bool),
}
PREDICTIONS = [[0, 0, 0, 5], [0, 0, 0, 0], [0, 0, 0, 7]]  # the R window is wrong


def test_slices_on_a_hand_made_batch():
    frame = last_position_frame(Predicts(PREDICTIONS), BATCH)
    assert frame["correct"].tolist() == [True, False, True]
    assert frame["distance"].tolist() == [4, 2, -1]  # label position 4 - last control; none
    assert [(r["task"], r["accuracy"]) for r in sliced_accuracy(frame, "task")] == [
        ("I", 1.0),
        ("A", 1.0),
        ("R", 0.0),
    ]
    assert [r["distance"] for r in sliced_accuracy(frame, "distance")] == ["none in window", 2, 4]
    assert sliced_accuracy(frame, "context_steps")[1] == {
        "context_steps": 1,
        "windows": 1,
        "accuracy": 0.0,
        "errors": 1,
    }
    result = analyse(Predicts(PREDICTIONS), BATCH)
    assert (result["errors"], result["windows"]) == (1, 3)
    with pytest.raises(ValueError, match="by must be one of"):
        sliced_accuracy(frame, "gap")


def test_script_writes_json_and_plot(tmp_path):
    checkpoint = tiny_checkpoint(tmp_path / "tiny")
    out = tmp_path / "errors"
    analyses = analyze_errors.main([str(checkpoint), "--size", "200", "--output", str(out)])
    saved = json.loads(out.with_suffix(".json").read_text())
    assert saved["models"]["tiny"]["windows"] == 200
    assert sum(r["windows"] for r in analyses["tiny"]["by_task"]) == 200
    assert out.with_suffix(".png").stat().st_size > 10_000
