"""Evaluate a model on IARC windows: the spec's metrics beside the oracle's."""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from iarc_hf.data.generator import iter_split
from iarc_hf.data.tasks import IARCTask
from iarc_hf.eval.metrics import add_counts, metric_counts, metrics_from_counts, oracle_counts

MODEL_INPUTS = ("input_ids", "control_ids", "labels")


def to_tensors(batch: dict, device, keys=MODEL_INPUTS) -> dict[str, torch.Tensor]:
    return {
        key: torch.as_tensor(np.asarray(batch[key]), dtype=torch.long, device=device)
        for key in keys
    }


def batches_of(chunks, batch_size: int):
    """The windows of `chunks` (dicts of (n, L) arrays) regrouped into batches of `batch_size`
    (the last one may be smaller): the model sees the same batches however a split is read."""
    pending, held = [], 0
    for chunk in chunks:
        n, start = len(chunk["input_ids"]), 0
        while start < n:
            take = min(batch_size - held, n - start)
            pending.append({key: value[start : start + take] for key, value in chunk.items()})
            held, start = held + take, start + take
            if held == batch_size:
                yield _joined(pending)
                pending, held = [], 0
    if pending:
        yield _joined(pending)


def _joined(parts: list[dict]) -> dict:
    if len(parts) == 1:
        return parts[0]
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


@contextlib.contextmanager
def _eval_mode(model):
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


@torch.no_grad()
def _argmax(model, batch: dict) -> np.ndarray:
    device = next(model.parameters()).device
    inputs = to_tensors(batch, device, keys=("input_ids", "control_ids"))
    return model(**inputs).logits.argmax(-1).cpu().numpy()


def predict(model, batch: dict, batch_size: int = 1000) -> np.ndarray:
    """Argmax predictions (n, L) of `model` for the windows in `batch`."""
    with _eval_mode(model):
        return np.concatenate([_argmax(model, part) for part in batches_of([batch], batch_size)])


def evaluate_batches(model, task: IARCTask, batches, oracle: bool = True) -> dict:
    """Every metric of the spec over an iterable of window batches (one forward pass each), and
    the oracle's as `oracle_*`. Only integer counts are kept between batches, so memory holds
    one batch whatever the number of windows, and the result equals scoring them all at once."""
    model_counts = oracle_total = None
    with _eval_mode(model):
        for batch in batches:
            model_counts = add_counts(model_counts, metric_counts(_argmax(model, batch), batch))
            if oracle:
                oracle_total = add_counts(oracle_total, oracle_counts(task, batch))
    if model_counts is None:
        raise ValueError("no windows to evaluate: the batch or split is empty")
    metrics = metrics_from_counts(model_counts)
    if oracle:
        metrics.update(metrics_from_counts(oracle_total, prefix="oracle_"))
    return metrics


def evaluate_model(
    model, task: IARCTask, batch: dict, batch_size: int = 1000, oracle: bool = True
) -> dict:
    """Every metric of the spec for `model` on `batch`, and the oracle's as `oracle_*`."""
    return evaluate_batches(model, task, batches_of([batch], batch_size), oracle)


def evaluate_split(
    model,
    task: IARCTask,
    split: str,
    size: int,
    seed: int,
    batch_size: int = 1000,
    oracle: bool = True,
) -> dict:
    """`evaluate_model` on `generate_split(task, split, size, seed)`, generated chunk by chunk
    (`iter_split`): the same metrics, in memory bounded by one chunk at any `size`."""
    chunks = iter_split(task, split, size, seed)
    return evaluate_batches(model, task, batches_of(chunks, batch_size), oracle)


def check_model_reads_task(config, task: IARCTask) -> None:
    """Raise ValueError when a model cannot read `task`'s windows."""
    expected = {
        "n_symbols": task.n_symbols,
        "n_controls": task.n_controls,
        "context_length": task.context_length,
        "encoding": task.encoding,
    }
    for name, value in expected.items():
        if getattr(config, name) != value:
            raise ValueError(
                f"the model has {name}={getattr(config, name)!r}, but dataset config "
                f"{task.name} needs {value!r}"
            )


def task_for_model(config, trained_task: IARCTask | None, dataset_config=None, **knobs):
    """The task to read a model's windows from: the one it was trained on, with the control set
    and knobs given (None keeps the trained value); ValueError if the model cannot read it."""
    values = trained_task.to_dict() if trained_task else {}
    if dataset_config:
        values["controls"] = dataset_config
    values.update({name: value for name, value in knobs.items() if value is not None})
    if "controls" not in values:
        raise ValueError(
            "--dataset_config is needed: the model folder does not say what it was trained on"
        )
    values.setdefault("n_symbols", config.n_symbols)
    values.setdefault("context_length", config.context_length)
    values.setdefault("encoding", config.encoding)
    task = IARCTask(**values)
    check_model_reads_task(config, task)
    return task


def load_for_evaluation(model_id: str):
    """A saved IARC model (a folder or a Hub id) and the task it was trained on (None if the
    checkpoint does not say), loaded with this package's classes: the checkpoint's own code is
    never run (see `iarc_hf.hub.safe_loading`). CheckpointError (a ValueError) names what is
    wrong."""
    from iarc_hf.hub.safe_loading import load_checkpoint, source_for

    return load_checkpoint(source_for(model_id))
