"""The Trainer path: the example trains under `transformers.Trainer`, and `evaluate()` reports
exactly `iarc_hf.compute_metrics` on the same predictions."""

import math
import runpy
from pathlib import Path

import numpy as np
import pytest
import torch

from iarc_hf import compute_metrics, load_iarc, make_compute_metrics
from iarc_hf.eval.evaluation import predict
from iarc_hf.eval.metrics import METRIC_NAMES

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train_with_trainer.py"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The README's example at a tiny size, with the Trainer it made."""
    out = tmp_path_factory.mktemp("trainer")
    example = runpy.run_path(str(EXAMPLE))
    captured = {}
    trainer_class = example["Trainer"]

    class Recording(trainer_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            captured["trainer"] = self

    example["main"].__globals__["Trainer"] = Recording
    threads = torch.get_num_threads()
    try:
        metrics = example["main"](["--output_dir", str(out), "--max_steps", "8",
                                   "--train_size", "1600", "--validation_size", "300",
                                   "--num_hidden_layers", "2"])  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    return metrics, captured["trainer"]


@pytest.mark.integration
def test_trainer_evaluate_reports_the_benchmark_metrics(trained):
    metrics, trainer = trained
    expected = {f"eval_{name}" for name in METRIC_NAMES}
    assert expected <= set(metrics)
    # the same numbers as iarc_hf.compute_metrics on the model's own predictions
    validation = trainer.eval_dataset.with_format("numpy")[:]
    ours = compute_metrics(predict(trainer.model, validation), validation)
    for name, value in ours.items():
        reported = metrics[f"eval_{name}"]
        assert (math.isnan(value) and math.isnan(reported)) or reported == pytest.approx(value), (
            name
        )


def test_compute_metrics_needs_the_window_fields_and_the_same_windows():
    validation = load_iarc("IA", split="validation", train_size=0, validation_size=20, test_size=0)
    with pytest.raises(ValueError, match="eval_dataset lacks"):
        make_compute_metrics(validation.remove_columns(["task_ids"]))
    compute = make_compute_metrics(validation)

    class Prediction:
        predictions = np.zeros((5, 24), dtype=np.int64)
        label_ids = np.zeros((5, 24), dtype=np.int64)

    with pytest.raises(ValueError, match="made for 20 evaluation windows but got 5"):
        compute(Prediction())
