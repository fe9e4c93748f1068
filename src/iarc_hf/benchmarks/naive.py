"""Straightforward eager references for the benchmark, written as one would first write them:
a separate projection per Q, K, V, heads split per layer, the ALiBi bias and causal mask
rebuilt in every layer, the attention weights as the paper's formula (the plain reference
functions of modeling_iarc, on (batch, head, query, key) scores), the cisformer as one
einsum per position-wise projection. Same shapes and parameter counts as the presets they are
compared with."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from iarc_hf.data.tasks import IGNORE_INDEX
from iarc_hf.modeling_iarc import WEIGHT_FUNCTIONS


def alibi_causal_bias(length: int, num_heads: int, device) -> torch.Tensor:
    slopes = torch.tensor(
        [2 ** (-8 * h / num_heads) for h in range(1, num_heads + 1)], device=device
    )
    i = torch.arange(length, device=device)[:, None]
    j = torch.arange(length, device=device)[None, :]
    bias = -slopes[:, None, None] * (i - j)
    mask = torch.tril(torch.ones(length, length, dtype=torch.bool, device=device))
    return bias.masked_fill(~mask, float("-inf"))


class NaiveBlock(nn.Module):
    def __init__(self, d: int, heads: int, expansion: int, attention: str, eps: float):
        super().__init__()
        self.heads, self.weights, self.eps = heads, WEIGHT_FUNCTIONS[attention], eps
        self.norm1, self.norm2 = nn.LayerNorm(d, bias=False), nn.LayerNorm(d, bias=False)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ff1, self.ff2 = nn.Linear(d, expansion * d), nn.Linear(expansion * d, d)

    def forward(self, x):
        b, t, d = x.shape
        h = self.norm1(x)
        q = self.q(h).view(b, t, self.heads, -1).transpose(1, 2)
        k = self.k(h).view(b, t, self.heads, -1).transpose(1, 2)
        v = self.v(h).view(b, t, self.heads, -1).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d // self.heads)
        att = self.weights(scores, alibi_causal_bias(t, self.heads, x.device), self.eps)
        x = x + self.o((att @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.ff2(F.gelu(self.ff1(self.norm2(x))))


class NaivePositionWiseBlock(nn.Module):
    """Cisformer block: every tensor has a leading position axis, applied with einsum."""

    def __init__(self, length: int, d: int, heads: int, expansion: int, attention: str, eps: float):
        super().__init__()
        self.heads, self.weights, self.eps = heads, WEIGHT_FUNCTIONS[attention], eps

        def weight(d_in, d_out):
            return nn.Parameter(torch.randn(length, d_in, d_out) / math.sqrt(d_in))

        def zeros(width):
            return nn.Parameter(torch.zeros(length, width))

        self.g1, self.g2 = nn.Parameter(torch.ones(length, d)), nn.Parameter(torch.ones(length, d))
        self.wq, self.wk, self.wv, self.wo = (weight(d, d) for _ in range(4))
        self.bq, self.bk, self.bv, self.bo = (zeros(d) for _ in range(4))
        self.w1, self.b1 = weight(d, expansion * d), zeros(expansion * d)
        self.w2, self.b2 = weight(expansion * d, d), zeros(d)

    def forward(self, x):
        b, t, d = x.shape
        h = F.layer_norm(x, (d,)) * self.g1
        q = (
            (torch.einsum("bld,lde->ble", h, self.wq) + self.bq)
            .view(b, t, self.heads, -1)
            .transpose(1, 2)
        )
        k = (
            (torch.einsum("bld,lde->ble", h, self.wk) + self.bk)
            .view(b, t, self.heads, -1)
            .transpose(1, 2)
        )
        v = (
            (torch.einsum("bld,lde->ble", h, self.wv) + self.bv)
            .view(b, t, self.heads, -1)
            .transpose(1, 2)
        )
        scores = q @ k.transpose(-2, -1) / math.sqrt(d // self.heads)
        att = self.weights(scores, alibi_causal_bias(t, self.heads, x.device), self.eps)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + torch.einsum("bld,lde->ble", y, self.wo) + self.bo
        h = F.layer_norm(x, (d,)) * self.g2
        h = F.gelu(torch.einsum("bld,lde->ble", h, self.w1) + self.b1)
        return x + torch.einsum("bld,lde->ble", h, self.w2) + self.b2


class NaiveModel(nn.Module):
    """One-hot input (d = n_symbols + n_controls), blocks, final norm, head onto the symbols."""

    def __init__(
        self,
        n_symbols,
        n_controls,
        layers,
        heads,
        expansion,
        length,
        position_wise,
        attention,
        eps,
    ):
        super().__init__()
        d = n_symbols + n_controls
        self.n_symbols, self.n_controls = n_symbols, n_controls
        if position_wise:
            self.blocks = nn.ModuleList(
                NaivePositionWiseBlock(length, d, heads, expansion, attention, eps)
                for _ in range(layers)
            )
        else:
            self.blocks = nn.ModuleList(
                NaiveBlock(d, heads, expansion, attention, eps) for _ in range(layers)
            )
        self.norm = nn.LayerNorm(d, bias=False)
        self.head = nn.Linear(d, n_symbols)

    def forward(self, input_ids, control_ids, labels):
        x = torch.cat(
            [
                F.one_hot(input_ids, self.n_symbols),
                F.one_hot(control_ids, self.n_controls + 1)[..., 1:],
            ],
            dim=-1,
        ).to(self.head.weight.dtype)
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.norm(x))
        return F.cross_entropy(
            logits.reshape(-1, self.n_symbols), labels.reshape(-1), ignore_index=IGNORE_INDEX
        )


def naive_for(config) -> NaiveModel:
    """The naive reference with the shape and attention of an IARCConfig (a transformer or
    cisformer, one-hot embedding, no pre-projection or content skip)."""
    return NaiveModel(
        config.n_symbols,
        config.n_controls,
        config.num_hidden_layers,
        config.num_attention_heads,
        config.ffn_expansion,
        config.context_length,
        config.position_wise,
        config.attention,
        config.expressive_eps,
    )
