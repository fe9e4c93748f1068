"""IARCConfig: one config for the whole model family (the paper's transformer, cisformer, MLP, LSTM).

Shipped with every checkpoint as remote code, so it imports transformers only.
"""

from transformers import PreTrainedConfig

ARCHITECTURES = ("transformer", "mlp", "lstm")
ATTENTIONS = ("dpa", "expressive", "cog")
EMBEDDINGS = ("onehot", "learned")
POSITIONS = ("alibi", "none")
ENCODINGS = ("tape", "inline")
# Readings of the paper where its text leaves a choice; the first value is ours, the default.
NORM_POSITIONS = ("pre", "post")  # post: Vaswani et al. 2017, "as originally defined"
INIT_SCHEMES = ("scaled", "torch")  # ours: N(0, 1/fan_in), residual outputs / sqrt(2 layers)
ATTENTION_SCALES = ("sqrt", "none", "learned")  # z = q.k / sqrt(d_head) | q.k | tau_h q.k / sqrt
EXPRESSIVE_ALIBI = ("multiplicative", "additive", "none")  # e^b factor | z + b before squaring
LOSS_REDUCTIONS = ("mean", "sum", "last")  # over positions: mean | sum | the last one only
READINGS = {
    "norm_position": NORM_POSITIONS,
    "init_scheme": INIT_SCHEMES,
    "attention_scale": ATTENTION_SCALES,
    "expressive_alibi": EXPRESSIVE_ALIBI,
    "loss_reduction": LOSS_REDUCTIONS,
}
# Readings of attention blocks; an mlp or lstm must keep their default.
TRANSFORMER_READINGS = ("norm_position", "attention_scale", "expressive_alibi")

# Options that only make sense for attention blocks; an mlp or lstm that sets them is a mistake.
TRANSFORMER_ONLY = ("position_wise", "pre_projection", "content_skip", "cog_softmax_edges")

# Paper-sized presets for N=16 symbols, 4 controls (d=20), L=24. The paper's counts: the
# 60-layer transformer ~240K, the 12-layer cisformer ~1.3M, mlp ~1.9M, lstm ~3.7M.
_TRANSFORMER_60 = dict(
    architecture="transformer",
    num_hidden_layers=60,
    # FFN expansion 4 would give 301.6K parameters (+26% over the paper's 240K); expansion 3
    # gives 252.4K (+5%), so the paper's 60-layer model cannot have had the full expansion 4.
    ffn_expansion=3,
)
_CISFORMER_12 = dict(
    architecture="transformer",
    position_wise=True,
    num_hidden_layers=12,
    ffn_expansion=4,  # 1.446M parameters, +11% over the paper's 1.3M
)
PRESETS: dict[str, dict] = {
    "transformer-dpa": dict(_TRANSFORMER_60, attention="dpa"),
    "transformer-ea": dict(_TRANSFORMER_60, attention="expressive"),
    "cisformer-dpa": dict(_CISFORMER_12, attention="dpa"),
    "cisformer-ea": dict(_CISFORMER_12, attention="expressive"),
    # Lv et al. keep plain softmax in the first and last layer of their CogAttn models.
    "cisformer-cog": dict(_CISFORMER_12, attention="cog", cog_softmax_edges=True),
    # The recipe search's winners (results/search/frontier-400k_summary.json): the cisformers
    # with the loss at the last position (EA: FFN expansion 2, 974K parameters); train them with
    # the recipes `best-dpa` / `best-ea`.
    "cisformer-dpa-best": dict(_CISFORMER_12, attention="dpa", loss_reduction="last"),
    "cisformer-ea-best": dict(
        _CISFORMER_12, attention="expressive", loss_reduction="last", ffn_expansion=2
    ),
    "mlp": dict(architecture="mlp", num_hidden_layers=16),
    "lstm": dict(architecture="lstm", num_hidden_layers=2, lstm_hidden_size=550),
}


def _require(field: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{field}={value!r} is not allowed; choose one of {tuple(allowed)}")


class IARCConfig(PreTrainedConfig):
    r"""Configuration of an IARC model.

    architecture: "transformer" (pre-norm blocks, attention + FFN), "mlp" (causal dense layers
        over the window) or "lstm".
    position_wise: the cisformer — every position owns its copy of every block tensor.
    attention: weight function of the attention, "dpa" | "expressive" | "cog"
        (transformer only; defaults to "dpa").
    cog_softmax_edges: with "cog", use plain softmax in the first and last layer.
    pre_projection / content_skip: the residual MLP before Q/K/V and the gated content bypass.
    embedding: "onehot" (fixed, width n_symbols + n_controls) or "learned" (width hidden_size).
    encoding: "tape" (controls on control_ids) or "inline" (controls are input ids N..N+n_controls-1).
    positions: "alibi" or "none" (transformer only; defaults to "alibi").

    Readings of the paper (the first value is ours and the default):
    norm_position: "pre" (LayerNorm before attention / FFN) or "post" (after the residual sum).
    init_scheme: "scaled" (N(0, 1/fan_in), residual outputs scaled by 1/sqrt(2 layers)) or
        "torch" (torch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases).
    attention_scale: score z = q.k / sqrt(d_head) ("sqrt"), q.k ("none") or a learned per-head
        temperature times q.k / sqrt(d_head) ("learned", starting at 1).
    expressive_alibi: how ALiBi enters expressive attention: the factor e^b ("multiplicative"),
        added to z before squaring ("additive"), or not at all ("none").
    loss_reduction: cross-entropy averaged over positions ("mean"), summed over positions and
        averaged over windows ("sum"), or at the last position only ("last").
    """

    model_type = "iarc"

    architecture: str = "transformer"
    position_wise: bool = False
    attention: str | None = None
    cog_softmax_edges: bool = False
    pre_projection: bool = False
    content_skip: bool = False
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    embedding: str = "onehot"
    encoding: str = "tape"
    hidden_size: int | None = None
    ffn_expansion: int = 4
    context_length: int = 24
    n_symbols: int = 16
    n_controls: int = 4
    positions: str | None = None
    dropout: float = 0.0
    lstm_hidden_size: int = 550
    expressive_eps: float = 1e-6
    norm_position: str = "pre"
    init_scheme: str = "scaled"
    attention_scale: str = "sqrt"
    expressive_alibi: str = "multiplicative"
    loss_reduction: str = "mean"

    def __post_init__(self, **kwargs):
        if self.architecture == "transformer":
            self.attention = "dpa" if self.attention is None else self.attention
            self.positions = "alibi" if self.positions is None else self.positions
        if self.hidden_size is None:
            self.hidden_size = self.n_symbols + self.n_controls
        super().__post_init__(**kwargs)
        self.check()

    @property
    def input_vocab_size(self) -> int:
        """Ids input_ids may hold: symbols, plus the control tokens when they are inline."""
        return self.n_symbols + (self.n_controls if self.encoding == "inline" else 0)

    def check(self) -> None:
        """Raise ValueError, naming the field, for any invalid value or contradiction."""
        _require("architecture", self.architecture, ARCHITECTURES)
        _require("embedding", self.embedding, EMBEDDINGS)
        _require("encoding", self.encoding, ENCODINGS)
        for field, allowed in READINGS.items():
            _require(field, getattr(self, field), allowed)
        for field in ("num_hidden_layers", "n_symbols", "context_length", "hidden_size"):
            if not isinstance(getattr(self, field), int) or getattr(self, field) < 1:
                raise ValueError(
                    f"{field} must be a positive integer, got {getattr(self, field)!r}"
                )
        if not isinstance(self.n_controls, int) or self.n_controls < 0:
            raise ValueError(f"n_controls must be a non-negative integer, got {self.n_controls!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.embedding == "onehot" and self.hidden_size != self.n_symbols + self.n_controls:
            raise ValueError(
                f"hidden_size={self.hidden_size} must equal n_symbols + n_controls = "
                f"{self.n_symbols + self.n_controls} with embedding='onehot' (or use 'learned')"
            )
        if self.architecture == "transformer":
            self._check_transformer()
        else:
            for field in TRANSFORMER_ONLY:
                if getattr(self, field):
                    raise ValueError(
                        f"{field}=True needs architecture='transformer', not {self.architecture!r}"
                    )
            for field in TRANSFORMER_READINGS:
                if getattr(self, field) != READINGS[field][0]:
                    raise ValueError(
                        f"{field}={getattr(self, field)!r} needs architecture='transformer'; "
                        f"leave it {READINGS[field][0]!r} for {self.architecture!r}"
                    )
            for field in ("attention", "positions"):
                if getattr(self, field) is not None:
                    raise ValueError(
                        f"{field}={getattr(self, field)!r} needs architecture='transformer'; "
                        f"leave it None for {self.architecture!r}"
                    )
        if self.architecture == "lstm" and (
            not isinstance(self.lstm_hidden_size, int) or self.lstm_hidden_size < 1
        ):
            raise ValueError(
                f"lstm_hidden_size must be a positive integer, got {self.lstm_hidden_size!r}"
            )

    def _check_transformer(self) -> None:
        _require("attention", self.attention, ATTENTIONS)
        _require("positions", self.positions, POSITIONS)
        heads = self.num_attention_heads
        if not isinstance(heads, int) or heads < 1 or self.hidden_size % heads:
            raise ValueError(
                f"num_attention_heads={heads!r} must be a positive divisor of hidden_size={self.hidden_size}"
            )
        if not isinstance(self.ffn_expansion, int) or self.ffn_expansion < 1:
            raise ValueError(
                f"ffn_expansion must be a positive integer, got {self.ffn_expansion!r}"
            )
        if self.cog_softmax_edges and self.attention != "cog":
            raise ValueError(
                f"cog_softmax_edges=True needs attention='cog', not {self.attention!r}"
            )
        if self.expressive_alibi != "multiplicative" and self.attention != "expressive":
            raise ValueError(
                f"expressive_alibi={self.expressive_alibi!r} needs attention='expressive', "
                f"not {self.attention!r}"
            )
        if self.expressive_eps <= 0:
            raise ValueError(f"expressive_eps must be positive, got {self.expressive_eps!r}")

    @classmethod
    def from_preset(cls, name: str, **overrides) -> "IARCConfig":
        """A paper-sized config by name, with any field overridden (e.g. num_hidden_layers=2)."""
        if name not in PRESETS:
            raise ValueError(f"preset={name!r} is unknown; choose one of {tuple(PRESETS)}")
        fields = cls.__dataclass_fields__
        unknown = sorted(k for k in overrides if k not in fields)
        if unknown:
            raise ValueError(f"unknown IARCConfig field(s) {unknown}")
        return cls(**{**PRESETS[name], **overrides})

    def for_task(
        self, n_symbols: int, n_controls: int, context_length: int, encoding: str = "tape"
    ) -> "IARCConfig":
        """A copy of this config sized for a dataset task (hidden_size re-derived for onehot)."""
        values = {k: getattr(self, k) for k in self.__dataclass_fields__ if k in _OWN_FIELDS}
        values.update(
            n_symbols=n_symbols,
            n_controls=n_controls,
            context_length=context_length,
            encoding=encoding,
        )
        if self.embedding == "onehot":
            values["hidden_size"] = n_symbols + n_controls
        return type(self)(**values)


_OWN_FIELDS = tuple(IARCConfig.__annotations__)

IARCConfig.register_for_auto_class()
