"""Arguments of `scripts/train.py`, parsed by `transformers.HfArgumentParser`.

Three groups: the model (a preset or a checkpoint, plus an override for every
`IARCConfig` field), the data (an IARC config and its task knobs) and the run (named like
`transformers.TrainingArguments` where they overlap). `check_arguments` rejects bad values
before any compute is spent, naming the argument.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

from iarc_hf.cli_checks import require_positive_int
from iarc_hf.configuration_iarc import _OWN_FIELDS, PRESETS, IARCConfig
from iarc_hf.data.tasks import IARCTask
from iarc_hf.eval.evaluation import check_model_reads_task
from iarc_hf.training.run_memory import check_run_memory

# Set from the data task, never by hand: a model reads the windows it is trained on.
TASK_SIZED_FIELDS = ("n_symbols", "n_controls", "context_length", "encoding")
OVERRIDABLE_FIELDS = tuple(f for f in _OWN_FIELDS if f not in TASK_SIZED_FIELDS)
OPTIMIZERS = ("sgd", "adamw", "muon")  # muon: Muon for the matrices, AdamW for the rest
SCHEDULERS = ("constant", "constant_with_warmup", "linear", "cosine")
TRACKERS = ("none", "tensorboard", "trackio")
DATA_SOURCES = ("stream", "dataset")
TRAIN_LABELS = ("all", "determined")


def _override_field(name: str):
    kind = IARCConfig.__annotations__[name]
    optional = kind if type(None) in getattr(kind, "__args__", ()) else kind | None
    metadata = {"help": f"override IARCConfig.{name} (the preset's value otherwise)"}
    if kind is bool:  # `--pre_projection` alone means true, as for TrainingArguments' flags
        metadata.update(nargs="?", const=True)
    return (name, optional, field(default=None, metadata=metadata))


@dataclass
class _ModelChoice:
    preset: str | None = field(
        default="cisformer-ea", metadata={"help": f"model preset, one of {tuple(PRESETS)}"}
    )
    model_name_or_path: str | None = field(
        default=None,
        metadata={"help": "start from a saved model (folder or Hub id) instead of a preset"},
    )
    model_type: str | None = field(
        default=None,
        metadata={
            "help": "train any transformers architecture by its model type (llama, gpt2, "
            "mamba2, ...) as IARCBackboneModel instead of a preset; with --model_config"
        },
    )
    model_config: str | None = field(
        default=None,
        metadata={
            "help": "the backbone's config fields for --model_type: a JSON object or the path "
            "of a JSON file"
        },
    )


# One optional argument per IARCConfig field, so a new field is an argument the moment it exists.
ModelArguments = dataclasses.make_dataclass(
    "ModelArguments",
    [_override_field(name) for name in OVERRIDABLE_FIELDS],
    bases=(_ModelChoice,),
)


def model_overrides(model_args) -> dict:
    return {
        name: getattr(model_args, name)
        for name in OVERRIDABLE_FIELDS
        if getattr(model_args, name) is not None
    }


@dataclass
class DataArguments:
    dataset_config: str = field(
        default="IARC", metadata={"help": "control set: IARC, IAR, IA, IR or any other subset"}
    )
    n_symbols: int | None = field(default=None, metadata={"help": "N (default 20 - n_controls)"})
    min_gap: int = 1
    max_gap: int = 9
    context_length: int = 24
    encoding: str = field(default="tape", metadata={"help": "tape | inline"})
    data_source: str = field(
        default="stream",
        metadata={"help": "stream: a fresh batch every step (the paper); dataset: the train split"},
    )
    train_size: int = field(default=100_000, metadata={"help": "train split size (dataset source)"})
    eval_size: int = field(default=2_000, metadata={"help": "validation windows evaluated"})
    test_size: int = field(default=10_000, metadata={"help": "test windows for the final report"})
    data_seed: int = field(default=0, metadata={"help": "seed of the validation / test splits"})

    def task(self) -> IARCTask:
        return IARCTask.from_attributes(self.dataset_config, self)


@dataclass
class RunArguments:
    output_dir: str = field(metadata={"help": "where checkpoints, logs and the final model go"})
    max_steps: int = 8000
    per_device_train_batch_size: int = 200
    per_device_eval_batch_size: int = 1000
    learning_rate: float = 0.02
    optimizer: str = field(default="sgd", metadata={"help": f"one of {OPTIMIZERS}"})
    momentum: float = field(default=0.8, metadata={"help": "SGD momentum (the paper: 0.8)"})
    weight_decay: float = 0.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    lr_scheduler_type: str = field(default="constant", metadata={"help": f"one of {SCHEDULERS}"})
    warmup_steps: int = 0
    train_labels: str = field(
        default="all",
        metadata={
            "help": "labels the loss sees: all, or only those the window determines (the "
            "oracle's `determined`; the others are ignored, as -100)"
        },
    )
    max_grad_norm: float | None = field(
        default=None, metadata={"help": "clip gradients to this norm"}
    )
    seed: int = 0
    bf16: bool = field(
        default=False,
        metadata={
            "help": "bf16 autocast for the training forward: matrix products in bfloat16, and "
            "with them this package's attention weights (softmax, expressive, cog: computed "
            "from the bfloat16 scores); parameters, optimizer state and evaluation in float32; "
            "on a CPU, worth it only with bf16 units (lscpu: avx512_bf16 / amx_bf16); a run "
            "resumes only under the precision it started with"
        },
    )
    eval_steps: int = 500
    stop_at_accuracy: float | None = field(
        default=None,
        metadata={
            "help": "end at the first evaluation whose validation accuracy (last position) is at "
            "or above this, and finish (test, save, card) with the steps done"
        },
    )
    save_steps: int = 1000
    save_total_limit: int = field(default=2, metadata={"help": "checkpoints kept (oldest removed)"})
    logging_steps: int = 50
    report_to: str = field(default="none", metadata={"help": f"one of {TRACKERS}"})
    resume_from_checkpoint: str | None = field(
        default=None, metadata={"help": "a checkpoint folder, or 'latest' in output_dir"}
    )
    overwrite_output_dir: bool = False
    push_to_hub: bool = False
    hub_model_id: str | None = None
    hub_private_repo: bool = False
    dataset_repo_id: str = field(
        default="iarc-hf/iarc", metadata={"help": "the dataset repo the model card names"}
    )


def _choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"--{name} must be one of {tuple(allowed)}, got {value!r}")


# Real-valued run arguments: the allowed values in words, and their test. A negative
# --max_grad_norm would flip the gradient (training uphill); inf or nan would write NaN weights.
REAL_RANGES = {
    "learning_rate": ("> 0", lambda v: v > 0),
    "momentum": ("in [0, 1)", lambda v: 0 <= v < 1),
    "weight_decay": (">= 0", lambda v: v >= 0),
    "adam_beta1": ("in [0, 1)", lambda v: 0 <= v < 1),
    "adam_beta2": ("in [0, 1)", lambda v: 0 <= v < 1),
    "max_grad_norm": ("> 0 (leave it unset for no clipping)", lambda v: v > 0),
    "stop_at_accuracy": ("in (0, 1] (or unset)", lambda v: 0 < v <= 1),
}
UNSET_ALLOWED = ("max_grad_norm", "stop_at_accuracy")


def _check_reals(run) -> None:
    for name, (allowed, test) in REAL_RANGES.items():
        value = getattr(run, name)
        if value is None and name in UNSET_ALLOWED:
            continue
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (number and math.isfinite(value) and test(value)):
            raise ValueError(f"--{name} must be a finite number {allowed}, got {value!r}")


def check_arguments(model_args, data_args: DataArguments, run: RunArguments) -> IARCTask:
    """Validate everything that can be checked without training; returns the data task."""
    from iarc_hf.training.backbones import BACKBONE_PRESETS

    if model_args.model_name_or_path is None and not getattr(model_args, "model_type", None):
        if model_args.preset not in PRESETS and model_args.preset not in BACKBONE_PRESETS:
            raise ValueError(
                f"--preset must be one of {(*PRESETS, *BACKBONE_PRESETS)}, got {model_args.preset!r}"
            )
    try:
        task = data_args.task()
    except ValueError as error:
        raise ValueError(f"data argument: {error}") from None
    _choice("data_source", data_args.data_source, DATA_SOURCES)
    for name in ("max_steps", "per_device_train_batch_size", "per_device_eval_batch_size"):
        require_positive_int(name, getattr(run, name))
    for name in (
        "eval_steps",
        "save_steps",
        "logging_steps",
        "eval_size",
        "test_size",
        "train_size",
    ):
        source = run if hasattr(run, name) else data_args
        require_positive_int(name, getattr(source, name))
    _check_reals(run)
    if run.warmup_steps < 0:
        raise ValueError(f"--warmup_steps must be >= 0, got {run.warmup_steps!r}")
    _choice("optimizer", run.optimizer, OPTIMIZERS)
    _choice("lr_scheduler_type", run.lr_scheduler_type, SCHEDULERS)
    _choice("report_to", run.report_to, TRACKERS)
    _choice("train_labels", run.train_labels, TRAIN_LABELS)
    if run.push_to_hub and not run.hub_model_id:
        raise ValueError("--push_to_hub needs --hub_model_id (e.g. user/iarc-cisformer-ea)")
    resume = run.resume_from_checkpoint
    if resume not in (None, "latest") and not Path(resume).is_dir():
        raise ValueError(
            f"--resume_from_checkpoint {resume!r} does not exist (give a folder or 'latest')"
        )
    check_run_memory(build_model_config(model_args, task), task, data_args, run)
    return task


def build_model_config(model_args, task: IARCTask) -> IARCConfig:
    """The model config for `task`: a preset (or a saved model's config) plus overrides.

    A saved model must already read this task's windows; a preset is sized for it.
    """
    from iarc_hf.training.backbones import is_backbone, model_backbone_config

    if is_backbone(model_args):
        return model_backbone_config(model_args, task)
    overrides = model_overrides(model_args)
    if model_args.model_name_or_path is not None:
        from iarc_hf.hub.safe_loading import MODEL_TYPES, read_config, source_for

        try:  # the package's IARCConfig reads config.json; the checkpoint's code never runs
            source = source_for(model_args.model_name_or_path)
            config = read_config(source, model_types={"iarc": MODEL_TYPES["iarc"]})
            check_model_reads_task(config, task)
        except ValueError as error:
            reason = getattr(error, "reason", error)  # a CheckpointError names the folder itself
            raise ValueError(
                f"--model_name_or_path {model_args.model_name_or_path}: {reason}"
            ) from None
        for name, value in overrides.items():
            setattr(config, name, value)
        config.check()
        return config
    try:
        preset = IARCConfig.from_preset(model_args.preset, **overrides)
        return preset.for_task(task.n_symbols, task.n_controls, task.context_length, task.encoding)
    except ValueError as error:
        raise ValueError(f"model argument: {error}") from None
