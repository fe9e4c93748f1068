"""IARCBackboneConfig: any `transformers` architecture, wrapped to read IARC windows.

Shipped with every such checkpoint as remote code, so it imports transformers only.
"""

from transformers import AutoConfig, PreTrainedConfig

BACKBONE_ENCODINGS = ("tape", "inline")
BACKBONE_EMBEDDINGS = ("learned", "onehot")
BACKBONE_LOSS_REDUCTIONS = ("mean", "sum", "last")
# "native": the backbone's own attention; the others put our weight functions (as IARCConfig's
# `attention`) into every attention layer of a backbone that dispatches through transformers'
# AttentionInterface (llama, qwen3, lfm2, gpt2, gpt_neox, recurrent_gemma, ...).
BACKBONE_ATTENTIONS = ("native", "dpa", "expressive", "cog")
# Fields every backbone config gets from the wrapper: they must agree with the windows.
_WIDTH_FIELDS = ("hidden_size", "d_model", "n_embd", "dim")


def backbone_width(backbone: dict) -> int:
    """The width of a backbone's hidden states, whatever its config calls it."""
    for name in _WIDTH_FIELDS:
        if isinstance(backbone.get(name), int):
            return backbone[name]
    raise ValueError(f"backbone config has none of {_WIDTH_FIELDS}: cannot tell its width")


def _require(field: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{field}={value!r} is not allowed; choose one of {tuple(allowed)}")


class IARCBackboneConfig(PreTrainedConfig):
    r"""A `transformers` backbone on IARC windows.

    backbone: the backbone's config as a dict with its `model_type` (any type `AutoConfig`
        knows), e.g. {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 4, ...}.
    encoding: "tape" — symbols and the control tape are embedded (`embedding`), summed, and fed
        to `AutoModel` as `inputs_embeds`; a linear head maps its last hidden state to the N
        symbols. "inline" — the inline stream (controls as ids N .. N+n_controls-1) is fed as
        plain `input_ids` to an unmodified `AutoModelForCausalLM` with that vocabulary; its
        logits over the N symbols are the prediction.
    embedding: "learned" (a symbol table plus a control table, summed) or "onehot" (the paper's
        code: [one_hot(symbol) | one_hot(control)] through a linear projection).
    loss_reduction: as IARCConfig: "mean" over positions, "sum" (averaged over windows) or
        "last". Labels are already next-symbol aligned: nothing shifts them.
    attention: "native" keeps the backbone's attention; "dpa", "expressive" or "cog" replace
        its attention weights by IARCConfig's weight function of that name (registered with
        transformers' AttentionInterface as "iarc_<name>"); "dpa" computes the backbone's own
        softmax attention by our code path, the control for the other two.
    n_symbols, n_controls, context_length: set from the task the model reads.
    """

    model_type = "iarc_backbone"

    def __init__(
        self,
        backbone: dict | None = None,
        encoding: str = "tape",
        embedding: str = "learned",
        loss_reduction: str = "mean",
        attention: str = "native",
        n_symbols: int = 16,
        n_controls: int = 4,
        context_length: int = 24,
        **kwargs,
    ):
        self.backbone = dict(backbone or {"model_type": "llama"})
        self.encoding = encoding
        self.embedding = embedding
        self.loss_reduction = loss_reduction
        self.attention = attention
        self.n_symbols = n_symbols
        self.n_controls = n_controls
        self.context_length = context_length
        super().__init__(**kwargs)

    @property
    def input_vocab_size(self) -> int:
        """Ids the input can hold: the symbols, and on the inline stream the controls too."""
        return self.n_symbols + (self.n_controls if self.encoding == "inline" else 0)

    @property
    def backbone_type(self) -> str:
        return self.backbone.get("model_type", "")

    @property
    def width(self) -> int:
        """The width of the backbone's hidden states."""
        return backbone_width(self.backbone)

    def check(self) -> None:
        """ValueError naming the field unless every value is allowed."""
        _require("encoding", self.encoding, BACKBONE_ENCODINGS)
        _require("embedding", self.embedding, BACKBONE_EMBEDDINGS)
        _require("loss_reduction", self.loss_reduction, BACKBONE_LOSS_REDUCTIONS)
        _require("attention", self.attention, BACKBONE_ATTENTIONS)
        for name in ("n_symbols", "n_controls", "context_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.backbone, dict) or "model_type" not in self.backbone:
            raise ValueError("backbone must be a dict with a 'model_type' (e.g. 'llama')")
        self.backbone_config()

    def backbone_config(self) -> PreTrainedConfig:
        """The backbone's own config object (AutoConfig), sized for the windows it reads."""
        fields = {k: v for k, v in self.backbone.items() if k != "model_type"}
        try:
            config = AutoConfig.for_model(self.backbone_type, **fields)
        except ValueError as error:
            raise ValueError(f"backbone model_type {self.backbone_type!r}: {error}") from None
        # Only the inline stream reads the backbone's own token table; elsewhere it is a small
        # unused table kept so every architecture builds as transformers defines it.
        config.vocab_size = self.input_vocab_size
        for name in ("pad_token_id", "bos_token_id", "eos_token_id"):
            if (
                getattr(config, name, None) is not None
                and getattr(config, name) >= config.vocab_size
            ):
                setattr(config, name, 0)
        config.use_cache = False
        if self.attention != "native":  # the functions modeling_iarc_backbone registers
            config._attn_implementation = f"iarc_{self.attention}"
        return config


IARCBackboneConfig.register_for_auto_class()
