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

from iarc_hf.data.tasks import IGNORE_INDEX, TASK_IDS

METRIC_NAMES = (
    "accuracy",
    "accuracy_all",
    "accuracy_determined",
    *(f"accuracy_{letter}" for letter in (*TASK_IDS, "C")),
    *(f"accuracy_last_{letter}" for letter in (*TASK_IDS, "C")),
)


def last_labelled_position(labels: np.ndarray) -> np.ndarray:
    """Index of the last position with a label (not -100) in each window."""
    labelled = labels != IGNORE_INDEX
    if not labelled.any(axis=1).all():
        raise ValueError("labels: every window needs at least one labelled position")
    return labels.shape[1] - 1 - np.argmax(labelled[:, ::-1], axis=1)


def metric_counts(predictions, batch: dict) -> dict[str, np.ndarray]:
    """(right, total) per metric of `predictions` (n, L) against `batch`'s fields: integer counts
    that add over chunks of windows, so a split read in pieces scores exactly as one batch."""
    predictions = np.asarray(predictions)
    labels = np.asarray(batch["labels"])
    if predictions.shape != labels.shape:
        raise ValueError(f"predictions have shape {predictions.shape}, labels {labels.shape}")
    labelled = labels != IGNORE_INDEX
    correct = (predictions == labels) & labelled
    task_ids = np.asarray(batch["task_ids"])
    last = np.zeros_like(labelled)
    last[np.arange(len(labels)), last_labelled_position(labels)] = True
    after_c = labelled & (np.asarray(batch["context_steps"]) > 0)
    where = {
        "accuracy": last,
        "accuracy_all": labelled,
        "accuracy_determined": labelled & np.asarray(batch["determined"], bool),
        **{f"accuracy_{letter}": labelled & (task_ids == i) for letter, i in TASK_IDS.items()},
        "accuracy_C": after_c,
        **{f"accuracy_last_{letter}": last & (task_ids == i) for letter, i in TASK_IDS.items()},
        "accuracy_last_C": last & after_c,
    }
    return {
        name: np.array([np.count_nonzero(correct & mask), np.count_nonzero(mask)], np.int64)
        for name, mask in where.items()
    }


def add_counts(total: dict | None, counts: dict) -> dict:
    """`total` + `counts`, metric by metric (None: nothing counted yet)."""
    if total is None:
        return dict(counts)
    return {name: total[name] + counts[name] for name in counts}


def metrics_from_counts(counts: dict, prefix: str = "") -> dict[str, float]:
    """The accuracies (right / total; NaN for an empty slice) named `prefix` + metric."""
    return {
        f"{prefix}{name}": float(right / total) if total else float("nan")
        for name, (right, total) in counts.items()
    }


def compute_metrics(predictions, batch: dict, prefix: str = "") -> dict[str, float]:
    """Every metric of the spec for `predictions` (n, L) against `batch`'s fields."""
    return metrics_from_counts(metric_counts(predictions, batch), prefix)


def oracle_counts(task, batch: dict) -> dict[str, np.ndarray]:
    """`metric_counts` of the oracle's predictions on `batch`."""
    from iarc_hf.data.oracle import oracle_predict

    predictions, _ = oracle_predict(task, batch["input_ids"], batch.get("control_ids"))
    return metric_counts(predictions, batch)


def oracle_metrics(task, batch: dict) -> dict[str, float]:
    """The oracle's metrics on the same windows, named `oracle_*`."""
    return metrics_from_counts(oracle_counts(task, batch), prefix="oracle_")


def oracle_ceilings(configs=None, size: int = 10_000, seed: int = 0) -> list[dict]:
    """The oracle's headline and all-position accuracy on each config's test split (`size`
    windows, `seed`), with N and chance (1/N): the ceilings `make demo` prints and the docs show.

    Args:
        configs: control sets (default: the published ones, IARC, IAR, IA, IR).
        size: test windows per config.
        seed: the split's seed.
    """
    from iarc_hf.data.generator import generate_split
    from iarc_hf.data.tasks import PUBLISHED_CONFIGS, IARCTask

    rows = []
    for config in configs or PUBLISHED_CONFIGS:
        task = IARCTask(config)
        m = oracle_metrics(task, generate_split(task, "test", size, seed=seed))
        rows.append({"config": config, "n_symbols": task.n_symbols,
                     "accuracy": m["oracle_accuracy"], "accuracy_all": m["oracle_accuracy_all"],
                     "random": 1 / task.n_symbols})  # fmt: skip
    return rows
