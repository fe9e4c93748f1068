"""Evaluate a model on IARC windows: the spec's metrics beside the oracle's."""

from __future__ import annotations

import numpy as np
import torch

from iarc_hf.metrics import compute_metrics, oracle_metrics
from iarc_hf.tasks import IARCTask

MODEL_INPUTS = ("input_ids", "control_ids", "labels")


def to_tensors(batch: dict, device, keys=MODEL_INPUTS) -> dict[str, torch.Tensor]:
    return {
        key: torch.as_tensor(np.asarray(batch[key]), dtype=torch.long, device=device)
        for key in keys
    }


@torch.no_grad()
def predict(model, batch: dict, batch_size: int = 1000) -> np.ndarray:
    """Argmax predictions (n, L) of `model` for the windows in `batch`."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    predictions = []
    n = len(batch["input_ids"])
    for start in range(0, n, batch_size):
        part = {
            key: np.asarray(batch[key])[start : start + batch_size]
            for key in ("input_ids", "control_ids")
        }
        logits = model(**to_tensors(part, device, keys=("input_ids", "control_ids"))).logits
        predictions.append(logits.argmax(-1).cpu().numpy())
    model.train(was_training)
    return np.concatenate(predictions)


def evaluate_model(
    model, task: IARCTask, batch: dict, batch_size: int = 1000, oracle: bool = True
) -> dict:
    """Every metric of the spec for `model` on `batch`, and the oracle's as `oracle_*`."""
    metrics = compute_metrics(predict(model, batch, batch_size), batch)
    if oracle:
        metrics.update(oracle_metrics(task, batch))
    return metrics


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
    """A saved model via `AutoModel` (remote code), and the task it was trained on if known."""
    import json
    from pathlib import Path

    from transformers import AutoModel

    model = AutoModel.from_pretrained(model_id, trust_remote_code=True)
    args_file = Path(model_id) / "training_args.json"
    task = None
    if args_file.is_file():
        task = IARCTask(**json.loads(args_file.read_text())["task"])
    else:
        try:  # a Hub repo: its training_args.json, from the cache or the Hub
            from huggingface_hub import hf_hub_download

            task = IARCTask(
                **json.loads(Path(hf_hub_download(model_id, "training_args.json")).read_text())[
                    "task"
                ]
            )
        except Exception:  # noqa: BLE001 - without it, the caller must name the dataset config
            task = None
    return model, task
