"""Rough memory estimates that refuse absurd sizes before any compute is spent.

They tell a typo such as `--context_length 1000000000` (pebibytes) from a real experiment
(the paper's settings need tens of megabytes); they are not meant to plan a run. Compared with
peaks measured on CPU, they sit at or above them, by up to about three times.
"""

from __future__ import annotations

from collections.abc import Callable

MEMORY_CAP_BYTES = 16 * 2**30  # one generation call, one split held in memory, one model batch

# Peak bytes of `generator.generate` per window, fitted to tracemalloc peaks over short and long
# streams, small and int64 integer types, tape and inline windows (tests/test_memory.py); an
# inline window holds up to twice as many positions while it is cut.
GENERATOR_BYTES_PER_STREAM_POSITION = 48
GENERATOR_BYTES_PER_WINDOW_POSITION = 160
# A split held as arrays: the six fields (8 + 8 + 8 + 1 + 2 + 1 bytes a position), twice while
# its chunks are concatenated.
SPLIT_BYTES_PER_POSITION = 2 * 28
FLOAT_BYTES = 4
# Training holds the weights, their gradients and up to two optimizer states (AdamW).
TRAINING_COPIES_OF_WEIGHTS = 4


def format_bytes(n: float) -> str:
    """1.5 GiB, 59.6 TiB, ..."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    power = 0
    while n >= 1024 and power < len(units) - 1:
        n, power = n / 1024, power + 1
    return f"{n:.1f} {units[power]}"


def too_big(needed: float) -> bool:
    return needed > MEMORY_CAP_BYTES


def refuse_above_cap(needed: float, what: str, advice: str) -> None:
    """ValueError when `needed` bytes exceed the cap: `what` would need about X; `advice`."""
    if too_big(needed):
        raise ValueError(
            f"{what} would need about {format_bytes(needed)}, more than the "
            f"{format_bytes(MEMORY_CAP_BYTES)} allowed; {advice}"
        )


def largest_fitting(bytes_of: Callable[[int], float], start: int = 0) -> int:
    """The largest n >= start whose `bytes_of(n)` fits the cap (`bytes_of` grows with n);
    start - 1 when not even `start` fits."""
    if too_big(bytes_of(start)):
        return start - 1
    low, high = start, start + 1
    while not too_big(bytes_of(high)):  # doubling, then bisection: ~2 log2(n) evaluations
        low, high = high, 2 * high
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if not too_big(bytes_of(middle)) else (low, middle)
    return low


def generator_bytes(
    stream_length: int, context_length: int, windows: int, inline: bool = False
) -> int:
    """Peak memory of generating `windows` windows from streams of `stream_length` symbols."""
    window_positions = context_length * (2 if inline else 1)
    return windows * (
        GENERATOR_BYTES_PER_STREAM_POSITION * stream_length
        + GENERATOR_BYTES_PER_WINDOW_POSITION * window_positions
    )


def split_bytes(context_length: int, windows: int) -> int:
    """A split of `windows` windows held as arrays (validation, test, the train split)."""
    return windows * context_length * SPLIT_BYTES_PER_POSITION


def parameter_count(config) -> int:
    """The model's exact parameter count, from a model built on the meta device (no memory)."""
    import torch

    from iarc_hf.modeling_iarc import IARCModel
    from iarc_hf.modeling_iarc_backbone import IARCBackboneModel

    model_class = IARCBackboneModel if config.model_type == "iarc_backbone" else IARCModel
    with torch.device("meta"):
        model = model_class(config)
    return sum(p.numel() for p in model.parameters())


def activation_floats(config) -> tuple[int, int]:
    """(floats one layer keeps per window for the backward pass, floats outside the layers):
    a transformer layer its projections, feed-forward and attention maps (heads x L x L)."""
    length = config.context_length
    if config.model_type == "iarc_backbone":  # a generic block: projections, MLP, 16 maps
        per_layer = length * config.width * 24 + 3 * 16 * length * length
        return per_layer, length * config.width + 3 * length * config.n_symbols
    if config.architecture == "transformer":
        width = config.hidden_size
        per_layer = length * width * (10 + 2 * config.ffn_expansion)
        per_layer += 3 * config.num_attention_heads * length * length
    elif config.architecture == "mlp":
        per_layer = 8 * length * config.hidden_size
    else:
        per_layer = 12 * length * config.lstm_hidden_size
    outside = length * config.hidden_size + 3 * length * config.n_symbols  # embedding, logits
    return per_layer, outside


def layer_count(config) -> int:
    """Layers of our model, or of a backbone (whatever its config calls them)."""
    if config.model_type != "iarc_backbone":
        return config.num_hidden_layers
    backbone = config.backbone
    return next((backbone[k] for k in ("num_hidden_layers", "n_layer", "num_layers")
                 if isinstance(backbone.get(k), int)), 1)  # fmt: skip


def model_bytes(config, batch_size: int, training: bool, parameters: int | None = None) -> int:
    """Memory of one batch through the model: a training step (weights, gradients, optimizer
    state, activations of every layer), or an evaluation forward pass (one layer at a time)."""
    parameters = parameter_count(config) if parameters is None else parameters
    per_layer, outside = activation_floats(config)
    if training:
        floats = TRAINING_COPIES_OF_WEIGHTS * parameters
        floats += batch_size * (layer_count(config) * per_layer + outside)
    else:
        floats = parameters + batch_size * (2 * per_layer + outside)
    return FLOAT_BYTES * floats
