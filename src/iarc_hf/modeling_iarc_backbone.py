"""IARCBackboneModel: any `transformers` backbone reading IARC windows, scored like IARCModel.

Shipped with every such checkpoint as remote code: imports torch, transformers and its siblings
only. The backbone itself is built by transformers (`AutoModel.from_config`), so a checkpoint
loads without iarc-hf and gives the same logits.
"""

import sys

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AttentionInterface, AutoModel, AutoModelForCausalLM, PreTrainedModel
from transformers import initialization as init
from transformers.masking_utils import AttentionMaskInterface, eager_mask

from .configuration_iarc import IARCConfig
from .configuration_iarc_backbone import BACKBONE_ATTENTIONS, IARCBackboneConfig
from .modeling_iarc import WEIGHT_FUNCTIONS, IARCModel, IARCOutput, check_ids

EXPRESSIVE_EPS = IARCConfig.expressive_eps  # the same normaliser guard as in our models


def iarc_attention(name: str):
    """An AttentionInterface function whose weights are `WEIGHT_FUNCTIONS[name]` of
    z = q.k * scaling and the additive causal mask (eager's: 0 or the dtype's minimum)."""
    weights = WEIGHT_FUNCTIONS[name]

    def attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **_):
        groups = query.shape[1] // key.shape[1]  # grouped-query attention shares keys and values
        key = key.repeat_interleave(groups, dim=1)
        value = value.repeat_interleave(groups, dim=1)
        scale = query.shape[-1] ** -0.5 if scaling is None else scaling
        z = torch.matmul(query, key.transpose(2, 3)).float() * scale
        q_len, k_len = z.shape[-2:]
        if attention_mask is None:  # causal, as eager's mask would be
            bias = z.new_full((q_len, k_len), float("-inf")).triu(1 + k_len - q_len)
        elif attention_mask.dtype == torch.bool:
            bias = torch.zeros_like(attention_mask, dtype=z.dtype).masked_fill(
                ~attention_mask, float("-inf")
            )[..., :k_len]
        else:
            bias = attention_mask[..., :k_len].float()
        w = weights(z, bias, EXPRESSIVE_EPS).to(value.dtype)
        w = F.dropout(w, p=dropout, training=module.training)
        return torch.matmul(w, value).transpose(1, 2).contiguous(), w

    return attention


for _name in BACKBONE_ATTENTIONS[1:]:
    AttentionInterface.register(f"iarc_{_name}", iarc_attention(_name))
    AttentionMaskInterface.register(f"iarc_{_name}", eager_mask)


def dispatches_attention(model: nn.Module) -> bool:
    """Whether a backbone's attention layers go through transformers' AttentionInterface, the
    only way `attention` reaches them (state-space and recurrent types such as mamba2 have none)."""
    return hasattr(sys.modules[type(model).__module__], "ALL_ATTENTION_FUNCTIONS")


def check_attention_dispatch(model: nn.Module, attention: str) -> None:
    """ValueError unless `attention` is "native" or reaches the backbone (`dispatches_attention`)."""
    if attention != "native" and not dispatches_attention(model):
        raise ValueError(
            f"attention={attention!r} needs a backbone whose attention layers dispatch through "
            f"transformers' AttentionInterface; {model.config.model_type} has none: use "
            f"attention='native'"
        )


class TapeEmbedding(nn.Module):
    """Symbols and the control tape as one vector per position: learned tables summed, or the
    paper's one-hot code [one_hot(symbol) | one_hot(control)] through a linear projection."""

    def __init__(self, config: IARCBackboneConfig):
        super().__init__()
        self.config = config
        width = config.width
        if config.embedding == "learned":
            self.symbols = nn.Embedding(config.n_symbols, width)
            self.controls = nn.Embedding(config.n_controls + 1, width, padding_idx=0)
        else:
            self.projection = nn.Linear(config.n_symbols + config.n_controls, width)

    def forward(self, input_ids: torch.Tensor, control_ids: torch.Tensor | None, dtype):
        c = self.config
        if control_ids is None:
            control_ids = torch.zeros_like(input_ids)
        if c.embedding == "learned":
            return self.symbols(input_ids) + self.controls(control_ids)
        code = torch.cat(
            [
                F.one_hot(input_ids, c.n_symbols),
                F.one_hot(control_ids, c.n_controls + 1)[..., 1:],
            ],
            dim=-1,
        ).to(dtype)
        return self.projection(code)


class IARCBackbonePreTrainedModel(PreTrainedModel):
    config_class = IARCBackboneConfig
    base_model_prefix = "iarc_backbone"
    main_input_name = "input_ids"

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        """Only the wrapper's own layers: the backbone (a PreTrainedModel) initialises itself."""
        if isinstance(module, nn.Embedding):
            init.normal_(module.weight, std=1.0)  # O(1) inputs, as IARCModel's embedding
            if module.padding_idx is not None:
                init.zeros_(module.weight[module.padding_idx])
        elif isinstance(module, nn.Linear):
            init.normal_(module.weight, std=module.in_features**-0.5)
            if module.bias is not None:
                init.zeros_(module.bias)


class IARCBackboneModel(IARCBackbonePreTrainedModel):
    """Next-symbol model: (input_ids, control_ids) -> logits over the N symbols at every position,
    from a `transformers` backbone (tape: `inputs_embeds`; inline: an unmodified causal LM)."""

    def __init__(self, config: IARCBackboneConfig):
        config.check()
        super().__init__(config)
        backbone_config = config.backbone_config()
        if config.encoding == "inline":
            self.lm = AutoModelForCausalLM.from_config(backbone_config)
            check_attention_dispatch(self.lm, config.attention)
        else:
            self.embedding = TapeEmbedding(config)
            self.backbone = AutoModel.from_config(backbone_config)
            check_attention_dispatch(self.backbone, config.attention)
            self.head = nn.Linear(config.width, config.n_symbols)
        self.post_init()

    # The same loss as IARCModel, by the same code (config.loss_reduction, -100 ignored).
    compute_loss = IARCModel.compute_loss

    def forward(
        self,
        input_ids: torch.LongTensor,
        control_ids: torch.LongTensor | None = None,
        labels: torch.LongTensor | None = None,
        return_dict: bool = True,
        **kwargs,
    ) -> IARCOutput | tuple:
        """labels[t] is the target at position t (already next-symbol aligned: no shift here, and
        none inside the backbone, which never sees the labels); -100 is ignored."""
        c = self.config
        check_ids("input_ids", input_ids, c.input_vocab_size)
        if control_ids is not None:
            check_ids("control_ids", control_ids, c.n_controls + 1)
            if c.encoding == "inline" and bool(control_ids.any()):
                raise ValueError(
                    "encoding='inline' carries controls in input_ids; control_ids must be 0"
                )
        if labels is not None:  # -100: the package's IGNORE_INDEX (this file imports none)
            check_ids("labels", labels, c.n_symbols, ignored=-100)
        if c.encoding == "inline":
            logits = self.lm(input_ids=input_ids, use_cache=False).logits[..., : c.n_symbols]
        else:
            x = self.embedding(input_ids, control_ids, self.head.weight.dtype)
            hidden = self.backbone(inputs_embeds=x, use_cache=False)[0]
            logits = self.head(hidden)
        loss = None if labels is None else self.compute_loss(logits, labels.to(logits.device))
        output = IARCOutput(loss=loss, logits=logits)
        return output if return_dict else output.to_tuple()


IARCBackboneModel.register_for_auto_class("AutoModel")
