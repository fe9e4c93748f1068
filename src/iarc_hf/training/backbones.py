"""Any `transformers` architecture on IARC: `--model_type NAME --model_config JSON`, and presets.

A backbone is named by its transformers `model_type` and a JSON object of its config fields (a
string, or the path of a JSON file). `IARCBackboneModel` embeds the symbols and the control
tape, feeds them as `inputs_embeds`, and reads the N symbols off the last hidden state; every
model sees the same windows and is scored by the same metric as the paper's models.

The presets are sized like MAD and zoology compare architectures: a small track at the
paper's 60-layer transformer (about 250K parameters) and a large track at the cisformer
(about 1.45M), each within 15 %.
"""

from __future__ import annotations

import json
from pathlib import Path

from iarc_hf.configuration_iarc_backbone import IARCBackboneConfig

TRACKS = {"small": 250_000, "large": 1_450_000}  # target parameters; a preset is within 15 %
TRACK_TOLERANCE = 0.15


def _llama_like(model_type: str, width: int, layers: int, **extra) -> dict:
    return {
        "model_type": model_type,
        "hidden_size": width,
        "intermediate_size": 4 * width,
        "num_hidden_layers": layers,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
        "max_position_embeddings": 64,
        **extra,
    }


# name -> (track, backbone config). Chosen for measured CPU speed (README, "The leaderboard"):
# pure-PyTorch paths only; mamba (v1) and bamba without their kernels are too slow for a CPU.
BACKBONE_PRESETS: dict[str, tuple[str, dict]] = {
    "llama-small": ("small", _llama_like("llama", 64, 4)),
    "llama-large": ("large", _llama_like("llama", 128, 5)),
    "qwen3-small": ("small", _llama_like("qwen3", 64, 4, head_dim=16)),
    "qwen3-large": ("large", _llama_like("qwen3", 128, 5, head_dim=32)),
    "gpt2-small": (
        "small",
        {"model_type": "gpt2", "n_embd": 64, "n_layer": 5, "n_head": 4, "n_positions": 64},
    ),
    "gpt2-large": (
        "large",
        {"model_type": "gpt2", "n_embd": 128, "n_layer": 7, "n_head": 4, "n_positions": 64},
    ),
    "gpt_neox-small": (
        "small",
        {
            "model_type": "gpt_neox",
            "hidden_size": 64,
            "intermediate_size": 256,
            "num_hidden_layers": 5,
            "num_attention_heads": 4,
            "max_position_embeddings": 64,
        },
    ),
    "mamba2-small": (
        "small",
        {
            "model_type": "mamba2",
            "hidden_size": 96,
            "num_hidden_layers": 4,
            "num_heads": 6,
            "head_dim": 32,
            "state_size": 16,
            "n_groups": 1,
            "expand": 2,
            "chunk_size": 32,  # the default 256 pads a 24-long window more than tenfold
        },
    ),
    "rwkv-small": (
        "small",
        {
            "model_type": "rwkv",
            "hidden_size": 64,
            "attention_hidden_size": 64,
            "intermediate_size": 256,
            "num_hidden_layers": 4,
            "context_length": 64,
        },
    ),
    "xlstm-small": (
        "small",
        {"model_type": "xlstm", "hidden_size": 64, "num_hidden_layers": 4, "num_heads": 4},
    ),
    "recurrent_gemma-small": (
        "small",
        {
            "model_type": "recurrent_gemma",
            "hidden_size": 64,
            "intermediate_size": 512,
            "num_hidden_layers": 4,
            "num_attention_heads": 4,
            "lru_width": 64,
            "attention_window_size": 24,
            "block_types": ["recurrent", "recurrent", "attention"],
        },
    ),
    "lfm2-small": (
        "small",
        _llama_like("lfm2", 64, 4, layer_types=["conv", "conv", "full_attention", "conv"]),
    ),
    "lfm2-large": (
        "large",
        _llama_like(
            "lfm2",
            128,
            6,
            layer_types=["conv", "conv", "full_attention", "conv", "conv", "full_attention"],
        ),
    ),
}


def parse_model_config(text: str | None) -> dict:
    """`--model_config`: a JSON object, or the path of a file holding one."""
    if not text:
        return {}
    source = "--model_config"
    if not text.lstrip().startswith(("{", "[")):
        path = Path(text)
        if not path.is_file():
            raise ValueError(f"--model_config {text!r}: neither a JSON object nor a JSON file")
        source, text = f"--model_config {path}", path.read_text()
    try:
        fields = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{source}: not valid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(fields, dict):
        raise ValueError(
            f"{source}: must be a JSON object of config fields, got {type(fields).__name__}"
        )
    return fields


def backbone_config(
    model_type: str,
    fields: dict,
    task,
    encoding: str | None = None,
    embedding: str = "learned",
    loss_reduction: str = "mean",
    attention: str = "native",
) -> IARCBackboneConfig:
    """The wrapper config of a `transformers` model type with these fields, sized for `task`."""
    from transformers import CONFIG_MAPPING

    if model_type not in CONFIG_MAPPING:
        raise ValueError(
            f"--model_type {model_type!r} is not a transformers model type "
            "(e.g. llama, gpt2, qwen3, mamba2, rwkv, xlstm; see transformers.CONFIG_MAPPING)"
        )
    config = IARCBackboneConfig(
        backbone={
            "model_type": model_type,
            **{k: v for k, v in fields.items() if k != "model_type"},
        },
        encoding=encoding or task.encoding,
        embedding=embedding,
        loss_reduction=loss_reduction,
        attention=attention,
        n_symbols=task.n_symbols,
        n_controls=task.n_controls,
        context_length=task.context_length,
    )
    try:
        config.check()
    except (ValueError, TypeError) as error:
        raise ValueError(f"--model_type {model_type} --model_config: {error}") from None
    return config


def preset_backbone(name: str) -> tuple[str, dict]:
    """(model_type, fields) of a backbone preset."""
    fields = dict(BACKBONE_PRESETS[name][1])
    return fields.pop("model_type"), fields


def track_of(params: int) -> str | None:
    """The track whose size `params` is within 15 % of, if any."""
    for track, target in TRACKS.items():
        if abs(params - target) <= TRACK_TOLERANCE * target:
            return track
    return None


def is_backbone(model_args) -> bool:
    """Whether `scripts/train.py`'s model arguments name a transformers backbone."""
    return bool(getattr(model_args, "model_type", None)) or model_args.preset in BACKBONE_PRESETS


def model_backbone_config(model_args, task) -> IARCBackboneConfig:
    """The backbone config of `--model_type/--model_config` or of a backbone preset (whose
    fields `--model_config` overrides); `--embedding` and `--loss_reduction` apply as for ours, and
    `--attention` (dpa, expressive, cog) puts our weight function into the backbone's attention."""
    from iarc_hf.training.arguments import model_overrides

    if model_args.model_name_or_path is not None:
        raise ValueError("--model_name_or_path continues our models only; drop --model_type")
    extra = {
        k: v
        for k, v in model_overrides(model_args).items()
        if k not in ("embedding", "loss_reduction", "attention")
    }
    if extra:
        raise ValueError(
            f"--{next(iter(extra))} is a field of our presets; a backbone's fields go in "
            "--model_config"
        )
    if model_args.model_type:
        model_type, fields = model_args.model_type, {}
    else:
        model_type, fields = preset_backbone(model_args.preset)
    fields.update(parse_model_config(model_args.model_config))
    return backbone_config(
        model_type,
        fields,
        task,
        embedding=model_args.embedding or "learned",
        loss_reduction=model_args.loss_reduction or "mean",
        attention=model_args.attention or "native",
    )
