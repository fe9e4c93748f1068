"""A model that is not part of iarc-hf trains and is scored on IARC (examples/own_model.py)."""

import runpy
from pathlib import Path

import pytest
import torch

from iarc_hf.data.tasks import IARCTask
from iarc_hf.training.own_model import next_symbol_loss, train_and_score

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "own_model.py"


def load_example() -> dict:
    """The example's globals, as tests/test_trainer_metrics.py runs its example."""
    return runpy.run_path(str(EXAMPLE))


@pytest.mark.integration
def test_the_example_gru_learns_on_iarc():
    example = load_example()
    task = IARCTask("IA")
    torch.manual_seed(0)
    model = example["GRUModel"](task.n_symbols, task.n_controls, width=32, layers=1)
    before = train_and_score(model, task, max_steps=1, learning_rate=1e-9, test_size=300)
    after = train_and_score(model, task, max_steps=300, learning_rate=1e-2, test_size=300)
    assert after["metrics"]["accuracy"] > before["metrics"]["accuracy"] + 0.2, (before, after)
    assert after["oracle"]["accuracy"] == pytest.approx(1.0)
    assert after["params"] == sum(p.numel() for p in model.parameters())


def test_the_example_script_runs_end_to_end():
    result = load_example()["main"](["--max_steps", "2", "--test_size", "100"])
    assert 0 <= result["metrics"]["accuracy"] <= 1 and result["windows"] == 400


def test_labels_are_read_at_their_own_position():
    logits = torch.randn(1, 3, 5)
    labels = torch.tensor([[1, -100, 4]])
    expected = torch.nn.functional.cross_entropy(logits[0, [0, 2]], labels[0, [0, 2]])
    torch.testing.assert_close(next_symbol_loss(logits, labels, "mean"), expected)
    last = torch.nn.functional.cross_entropy(logits[0, 2:], labels[0, 2:])
    torch.testing.assert_close(next_symbol_loss(logits, labels, "last"), last)


def test_a_bad_loss_reduction_is_named():
    with pytest.raises(ValueError, match="loss_reduction must be"):
        train_and_score(torch.nn.Linear(1, 1), "IA", max_steps=1, loss_reduction="sum")
