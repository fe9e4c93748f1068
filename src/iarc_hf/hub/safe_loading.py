"""Loading IARC checkpoints with this package's own classes, never with a checkpoint's own code.

A checkpoint ships its model code (config.json's `auto_map`) so that it loads without this
package, through `trust_remote_code=True`. Where the package is installed that code is never
needed, so it is never run: config.json is read first (for a Hub id, that file alone), any
model type the package does not register is refused, so (with `SizeLimits`) is anything too
large, before a single weight is fetched; then the weights are read from `model.safetensors`
only (a pickle is never opened) into the installed classes.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import huggingface_hub
import huggingface_hub.constants
import huggingface_hub.utils
import torch

from iarc_hf.configuration_iarc import IARCConfig
from iarc_hf.configuration_iarc_backbone import IARCBackboneConfig
from iarc_hf.data.tasks import IARCTask
from iarc_hf.modeling_iarc import IARCModel
from iarc_hf.modeling_iarc_backbone import IARCBackboneModel

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
TRAINING_ARGS_FILE = "training_args.json"


class CheckpointError(ValueError):
    """A checkpoint refused or unreadable: one line, `name: reason`."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


@dataclass(frozen=True)
class ModelType:
    """A model type loaded with the package's own classes. `size_fields` caps the config.json
    integers that size the model; they are checked (under `SizeLimits`) before it is built."""

    config_class: type
    model_class: type
    size_fields: Mapping[str, int] = field(default_factory=dict)


# The model types loaded at all (a wrapped-backbone type is one more entry here). The caps are
# generous for IARC (the paper's 60-layer transformer, the 550-wide LSTM) and keep a served
# model small enough to build on a CPU in a moment.
MODEL_TYPES: dict[str, ModelType] = {
    "iarc": ModelType(
        IARCConfig,
        IARCModel,
        {
            "num_hidden_layers": 64,
            "num_attention_heads": 16,
            "hidden_size": 1024,
            "ffn_expansion": 16,
            "context_length": 256,
            "n_symbols": 1024,
            "n_controls": 64,
            "lstm_hidden_size": 2048,
        },
    ),
    # any transformers backbone wrapped for IARC: its nested sizes are bounded by the parameter
    # cap, counted on the meta device before any weight is read
    "iarc_backbone": ModelType(
        IARCBackboneConfig,
        IARCBackboneModel,
        {"context_length": 256, "n_symbols": 1024, "n_controls": 64},
    ),
}


@dataclass(frozen=True)
class SizeLimits:
    """What a server (the explorer) loads at most; command lines load what their user names."""

    max_parameters: int = 10_000_000
    max_file_bytes: int = 1 << 20  # config.json, training_args.json

    @property
    def max_weights_bytes(self) -> int:
        return 4 * self.max_parameters + (1 << 20)  # float32 weights plus the header


@dataclass(frozen=True)
class CheckpointSource:
    """Where a checkpoint's files come from: a local folder, or a Hub repo whose files go to the
    Hugging Face cache or, with `scratch`, to a temp folder removed once the model is loaded."""

    id: str
    local: bool
    scratch: bool = False

    @property
    def name(self) -> str:
        return Path(self.id).name if self.local else self.id


def source_for(model_id: str) -> CheckpointSource:
    """A command line's reading of `model_id`: an existing folder, else a Hub id."""
    if Path(model_id).is_dir():
        return CheckpointSource(model_id, local=True)
    return hub_source(model_id, reason="no such folder, and not a Hub id (user/name)")


def hub_source(model_id: str, scratch: bool = False, reason: str | None = None):
    """`model_id` as a Hub repo id; CheckpointError if it is not a valid one."""
    try:
        huggingface_hub.utils.validate_repo_id(model_id)
    except ValueError:
        raise CheckpointError(model_id, reason or "not a Hub id (user/name)") from None
    return CheckpointSource(model_id, local=False, scratch=scratch)


def load_checkpoint(source: CheckpointSource, limits: SizeLimits | None = None,
                    model_types: Mapping[str, ModelType] = MODEL_TYPES):  # fmt: skip
    """(model in eval mode, the IARCTask it was trained on or None) from `source`."""
    with _download_dir(source) as download_dir:
        config = read_config(source, limits, download_dir, model_types)
        kind = model_types[config.model_type]
        parameters, shapes = _expected_weights(source, kind, config)
        if limits and parameters > limits.max_parameters:
            raise CheckpointError(
                source.name,
                f"{parameters:,} parameters; at most {limits.max_parameters:,} are served",
            )
        max_bytes = limits.max_weights_bytes if limits else None
        weights = _fetch(source, WEIGHTS_FILE, download_dir, max_bytes)
        check_weights(source.name, weights, shapes)
        try:
            model = kind.model_class.from_pretrained(
                weights.parent, config=config, use_safetensors=True
            )
        except Exception as error:  # noqa: BLE001 - checked above; anything left is one line
            raise CheckpointError(source.name, f"{WEIGHTS_FILE}: {_first_line(error)}") from None
        task = read_training_task(source, download_dir)
    return model.eval(), task


def read_config(source: CheckpointSource, limits: SizeLimits | None = None, download_dir=None,
                model_types: Mapping[str, ModelType] = MODEL_TYPES):  # fmt: skip
    """The checkpoint's config, built by the package's class for its model type, from its
    config.json alone; CheckpointError for any other model type (or, under `limits`, a size
    field above its cap)."""
    max_bytes = limits.max_file_bytes if limits else None
    values = _read_json(source, _fetch(source, CONFIG_FILE, download_dir, max_bytes))
    model_type = values.get("model_type")
    if model_type not in model_types:
        raise CheckpointError(
            source.name,
            f"model_type {model_type!r} is not an IARC model; only {tuple(model_types)} load",
        )
    if "quantization_config" in values:
        raise CheckpointError(source.name, "quantized checkpoints are not loaded")
    if limits:
        _check_size_fields(source.name, values, model_types[model_type].size_fields)
    try:  # `auto_map` stays a plain attribute: the class is ours, its code is not imported
        return model_types[model_type].config_class.from_dict(values)
    except (TypeError, ValueError) as error:
        raise CheckpointError(source.name, f"{CONFIG_FILE}: {_first_line(error)}") from None


def read_training_task(source: CheckpointSource, download_dir=None) -> IARCTask | None:
    """The IARCTask in the checkpoint's training_args.json, None if it has none."""
    path = _fetch(source, TRAINING_ARGS_FILE, download_dir, 1 << 20, required=False)
    if path is None:
        return None
    try:
        return IARCTask(**_read_json(source, path)["task"])
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(
            source.name, f"{TRAINING_ARGS_FILE} has no readable task ({_first_line(error)})"
        ) from None


def check_weights(name: str, path: Path, shapes: Mapping[str, tuple]) -> None:
    """CheckpointError (one line, naming the file) unless `path` is a readable safetensors file
    holding every tensor the model has, each of its shape."""
    from safetensors import safe_open

    try:
        with safe_open(path, framework="pt") as weights:
            found = {key: tuple(weights.get_slice(key).get_shape()) for key in weights.keys()}  # noqa: SIM118 - safe_open has no __iter__
    except Exception as error:  # noqa: BLE001 - SafetensorError and OSError alike
        raise CheckpointError(
            name, f"{WEIGHTS_FILE} is not a readable safetensors file ({_first_line(error)})"
        ) from None
    missing = sorted(set(shapes) - set(found))
    if missing:
        raise CheckpointError(
            name, f"{WEIGHTS_FILE} lacks {len(missing)} of the model's tensors, e.g. {missing[0]}"
        )
    for key, shape in shapes.items():
        if found[key] != shape:
            raise CheckpointError(
                name, f"{WEIGHTS_FILE}: {key} has shape {found[key]}, its config needs {shape}"
            )


def _expected_weights(source, kind: ModelType, config) -> tuple[int, dict[str, tuple]]:
    """(parameter count, tensor shapes) of the model `config` makes, built on the meta device
    (no memory, no compute)."""
    try:
        with torch.device("meta"):
            model = kind.model_class(config)
    except Exception as error:  # noqa: BLE001 - a config the model cannot be built from
        raise CheckpointError(source.name, f"{CONFIG_FILE}: {_first_line(error)}") from None
    shapes = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    return sum(p.numel() for p in model.parameters()), shapes


def _check_size_fields(name: str, values: dict, caps: Mapping[str, int]) -> None:
    for key, cap in caps.items():
        value = values.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise CheckpointError(name, f"{CONFIG_FILE}: {key} must be an integer, got {value!r}")
        if value > cap:
            raise CheckpointError(name, f"{key}={value} is above the most served ({cap})")


def _read_json(source: CheckpointSource, path: Path) -> dict:
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(source.name, f"{path.name} is not JSON ({error})") from None
    if not isinstance(values, dict):
        raise CheckpointError(source.name, f"{path.name} is not a JSON object")
    return values


def _fetch(source, filename: str, download_dir, max_bytes: int | None, required: bool = True):
    """The local path of one of the checkpoint's files (None if absent and not `required`),
    refused when larger than `max_bytes` (a Hub file before it is downloaded, when online)."""
    if source.local:
        path = Path(source.id) / filename
        if not path.is_file():
            if required:
                raise CheckpointError(source.name, f"no {filename} in this folder")
            return None
    else:
        path = _download(source, filename, download_dir, max_bytes, required)
        if path is None:
            return None
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise CheckpointError(source.name, f"{filename} is {size:,} bytes, above {max_bytes:,}")
    return path


def _download(source, filename: str, download_dir, max_bytes, required: bool) -> Path | None:
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    try:
        if max_bytes is not None and not _hub_offline():
            url = huggingface_hub.hf_hub_url(source.id, filename)
            size = huggingface_hub.get_hf_file_metadata(url).size
            if size is not None and size > max_bytes:
                raise CheckpointError(
                    source.name, f"{filename} is {size:,} bytes, above {max_bytes:,}"
                )
        return Path(huggingface_hub.hf_hub_download(source.id, filename, local_dir=download_dir))
    except LocalEntryNotFoundError:
        if not required:
            return None
        reason = f"{filename} is not in the local Hugging Face cache and the Hub is offline"
    except RepositoryNotFoundError:
        reason = "no such Hub model (or it is private or gated)"
    except EntryNotFoundError:
        if not required:
            return None
        only = " (only safetensors weights are loaded)" if filename == WEIGHTS_FILE else ""
        reason = f"the Hub repo has no {filename}{only}"
    except (HfHubHTTPError, OSError) as error:
        reason = f"could not fetch {filename} ({_first_line(error)})"
    raise CheckpointError(source.name, reason)


def _hub_offline() -> bool:
    """HF_HUB_OFFLINE, read as the Hub client reads it (`is_offline_mode` is newer than 1.0)."""
    is_offline_mode = getattr(huggingface_hub, "is_offline_mode", None)
    return is_offline_mode() if is_offline_mode else huggingface_hub.constants.HF_HUB_OFFLINE


@contextlib.contextmanager
def _download_dir(source: CheckpointSource):
    if not source.scratch:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="iarc-checkpoint-") as folder:
        yield folder


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
