"""IARC accuracies from predictions and the dataset's fields (spec: Metrics).

- `accuracy`: the headline, at the last labelled position of each window (the next
  symbol after the full context);
- `accuracy_all`: over every labelled position; `accuracy_determined`: over positions
  the window alone determines;
- `accuracy_I`, `accuracy_A`, `accuracy_R`: split by `task_ids`; `accuracy_C`: positions
  with `context_steps > 0`;
- `accuracy_last_I`, ..., `accuracy_last_C`: the same split of the headline, at the last
  labelled position of each window.
"""

from __future__ import annotations

import numpy as np

from iarc_hf.tasks import TASK_IDS

METRIC_NAMES = (
    "accuracy",
    "accuracy_all",
    "accuracy_determined",
    *(f"accuracy_{letter}" for letter in (*TASK_IDS, "C")),
    *(f"accuracy_last_{letter}" for letter in (*TASK_IDS, "C")),
)


def last_labelled_position(labels: np.ndarray) -> np.ndarray:
    """Index of the last position with a label (not -100) in each window."""
    labelled = labels != -100
    if not labelled.any(axis=1).all():
        raise ValueError("labels: every window needs at least one labelled position")
    return labels.shape[1] - 1 - np.argmax(labelled[:, ::-1], axis=1)


def _mean(correct: np.ndarray, where: np.ndarray) -> float:
    count = int(where.sum())
    return float(correct[where].mean()) if count else float("nan")


def compute_metrics(predictions, batch: dict, prefix: str = "") -> dict[str, float]:
    """Every metric of the spec for `predictions` (n, L) against `batch`'s fields."""
    predictions = np.asarray(predictions)
    labels = np.asarray(batch["labels"])
    if predictions.shape != labels.shape:
        raise ValueError(f"predictions have shape {predictions.shape}, labels {labels.shape}")
    labelled = labels != -100
    correct = (predictions == labels) & labelled
    task_ids = np.asarray(batch["task_ids"])
    rows = np.arange(len(labels))
    last = np.zeros_like(labelled)
    last[rows, last_labelled_position(labels)] = True
    metrics = {
        "accuracy": float(correct[last].mean()),
        "accuracy_all": _mean(correct, labelled),
        "accuracy_determined": _mean(correct, labelled & np.asarray(batch["determined"], bool)),
    }
    for letter, task_id in TASK_IDS.items():
        metrics[f"accuracy_{letter}"] = _mean(correct, labelled & (task_ids == task_id))
    after_c = labelled & (np.asarray(batch["context_steps"]) > 0)
    metrics["accuracy_C"] = _mean(correct, after_c)
    for letter, task_id in TASK_IDS.items():
        metrics[f"accuracy_last_{letter}"] = _mean(correct, last & (task_ids == task_id))
    metrics["accuracy_last_C"] = _mean(correct, last & after_c)
    return {f"{prefix}{name}": value for name, value in metrics.items()}


def oracle_metrics(task, batch: dict) -> dict[str, float]:
    """The oracle's metrics on the same windows, named `oracle_*`."""
    from iarc_hf.oracle import oracle_predict

    predictions, _ = oracle_predict(task, batch["input_ids"], batch.get("control_ids"))
    return compute_metrics(predictions, batch, prefix="oracle_")
