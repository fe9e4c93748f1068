"""The IARC model family of C. Gros, arXiv:2508.04461 (transformer, cisformer, MLP, LSTM) as one
transformers model, IARCModel.

Shipped with every checkpoint as remote code: imports torch, transformers and the sibling
configuration only. Transformer stacks run time-major, (T, B, d), internally: a position-wise
(cisformer) linear is then one batched matmul over positions with no transposes. Attention runs
through AttentionCore, one autograd Function for all heads and every weight function, whose
forward and backward are written out (FUSED_WEIGHT_FUNCTIONS); the plain formulas
(WEIGHT_FUNCTIONS) are the reference it is tested against.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from .configuration_iarc import IARCConfig


@dataclass
class IARCOutput(ModelOutput):
    """loss: cross-entropy over labelled positions, reduced as config.loss_reduction says (mean over
    positions, their sum averaged over windows, or the last position); logits: (batch, L, n_symbols);
    attentions: per layer (batch, heads, L, L) when asked for."""

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


# ----- attention weight functions: z = q.k / sqrt(d_head), bias = ALiBi with -inf above the diagonal


def dpa_weights(z: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    """Dot-product attention: softmax_j(z_ij + b_ij)."""
    return torch.softmax(z + bias, dim=-1)


def expressive_weights(z: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    """Expressive attention (Gros, arXiv:2407.18601): z^2/(1+z^2) * exp(b), normalised over j.
    Large for parallel and anti-parallel q, k; ALiBi enters as the same factor as in softmax."""
    z2 = z.square()
    w = z2 / (1 + z2) * bias.exp()
    return w / (w.sum(dim=-1, keepdim=True) + eps)


def expressive_additive_weights(z: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    """Expressive attention with ALiBi added to the score before squaring: s = z + b,
    s^2/(1+s^2) on the causal positions (b finite), normalised over j."""
    causal = torch.isfinite(bias)
    s = z + torch.where(causal, bias, 0.0)
    s2 = s.square()
    w = s2 / (1 + s2) * causal
    return w / (w.sum(dim=-1, keepdim=True) + eps)


def cog_weights(z: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    """Signed attention (Lv et al., arXiv:2411.07176): sign(z) * softmax_j(|z| + b)."""
    return torch.sign(z) * torch.softmax(z.abs() + bias, dim=-1)


WEIGHT_FUNCTIONS = {
    "dpa": dpa_weights,
    "expressive": expressive_weights,
    "expressive_additive": expressive_additive_weights,
    "cog": cog_weights,
}


# ----- the same weight functions, fused for training: forward and backward written out on scores
# laid out (problem, key j, query i), problem = (batch, head). In that layout every batched matmul
# of the attention has the sequence as its output width (a head width of 5 as the output width is
# 4x slower in MKL), reductions over keys run over a middle axis, and softmax uses exp2, which
# torch vectorises (exp runs ~4x slower on CPU). Each class is checked against the reference above
# (values and gradients) in tests/test_attention_core.py.

LOG2E = math.log2(math.e)


def max_over_keys(s: torch.Tensor) -> torch.Tensor:
    """Max over dim 1 by pairwise torch.maximum: torch's amax over a short middle axis runs
    scalar code (~15x slower for 24 keys)."""
    while s.shape[1] > 1:
        half = s.shape[1] // 2
        top = torch.maximum(s[:, :half], s[:, half : 2 * half])
        if s.shape[1] % 2:
            top[:, :1] = torch.maximum(top[:, :1], s[:, -1:])
        s = top
    return s


def exp2_softmax_(s: torch.Tensor) -> torch.Tensor:
    """In place: softmax over keys (dim 1) of base-2 scores."""
    s.sub_(max_over_keys(s)).exp2_()
    return s.div_(s.sum(1, keepdim=True))


class FusedDPA:
    """softmax_j(z + b): z scaled by log2(e) on the (small) queries, b as a base-2 bias."""

    query_factor = LOG2E
    grad_factor = 1 / LOG2E  # the scores were z * log2(e)

    @staticmethod
    def prepare_bias(bias: torch.Tensor) -> torch.Tensor:
        return bias * LOG2E

    @staticmethod
    def forward(z: torch.Tensor, bias: torch.Tensor, eps: float):
        return exp2_softmax_(z.view(-1, *bias.shape).add_(bias).view_as(z)), ()

    @staticmethod
    def backward(dw: torch.Tensor, dw_dot_w: torch.Tensor, w: torch.Tensor, saved: tuple):
        return dw.sub_(dw_dot_w).mul_(w)  # softmax: w (dw - sum_j w dw)


class FusedExpressive:
    """z^2/(1+z^2) e^b / (sum_j + eps); e^b is the prepared bias (0 above the diagonal)."""

    query_factor = 1.0
    grad_factor = 1.0

    @staticmethod
    def prepare_bias(bias: torch.Tensor) -> torch.Tensor:
        return bias.exp()

    @staticmethod
    def forward(z: torch.Tensor, bias: torch.Tensor, eps: float):
        g = z.square().add_(1).reciprocal_()  # 1 / (1 + z^2)
        u = torch.sub(1, g).view(-1, *bias.shape).mul_(bias).view_as(z)
        den = u.sum(1, keepdim=True).add_(eps)
        # d u / d z = 2 z / (1 + z^2)^2 e^b, over the normaliser: all the backward needs
        slope = g.square_().mul_(z).view(-1, *bias.shape).mul_(bias).view_as(z)
        slope.mul_(den.reciprocal().mul_(2))
        return u.div_(den), (slope,)

    @staticmethod
    def backward(dw: torch.Tensor, dw_dot_w: torch.Tensor, w: torch.Tensor, saved: tuple):
        (slope_over_den,) = saved
        return dw.sub_(dw_dot_w).mul_(slope_over_den)  # d(u / sum)/du, then du/dz


class FusedExpressiveAdditive:
    """s = z + b; s^2/(1+s^2) m / (sum_j + eps), m the causal mask; the prepared bias stacks
    (b with 0 above the diagonal, m)."""

    query_factor = 1.0
    grad_factor = 1.0

    @staticmethod
    def prepare_bias(bias: torch.Tensor) -> torch.Tensor:
        causal = torch.isfinite(bias)
        return torch.stack([torch.where(causal, bias, 0.0), causal.to(bias.dtype)])

    @staticmethod
    def forward(z: torch.Tensor, bias: torch.Tensor, eps: float):
        finite, mask = bias[0], bias[1]
        s = z.view(-1, *finite.shape).add(finite).view_as(z)
        g = s.square().add_(1).reciprocal_()  # 1 / (1 + s^2)
        u = torch.sub(1, g).view(-1, *mask.shape).mul_(mask).view_as(z)
        den = u.sum(1, keepdim=True).add_(eps)
        slope = g.square_().mul_(s).view(-1, *mask.shape).mul_(mask).view_as(z)
        slope.mul_(den.reciprocal().mul_(2))  # d u / d z = 2 s / (1 + s^2)^2 m, over den
        return u.div_(den), (slope,)

    backward = FusedExpressive.backward


class FusedCog:
    """sign(z) softmax_j(|z| + b)."""

    query_factor = 1.0
    grad_factor = 1.0

    @staticmethod
    def prepare_bias(bias: torch.Tensor) -> torch.Tensor:
        return bias * LOG2E

    @staticmethod
    def forward(z: torch.Tensor, bias: torch.Tensor, eps: float):
        sign = torch.sign(z)
        s = z.abs_().mul_(LOG2E).view(-1, *bias.shape).add_(bias).view_as(z)
        return exp2_softmax_(s).mul_(sign), (sign,)

    @staticmethod
    def backward(dw: torch.Tensor, dw_dot_w: torch.Tensor, w: torch.Tensor, saved: tuple):
        (sign,) = saved  # p = w sign; d|z| = p (dp - sum_j p dp), dp = dw sign, dz = d|z| sign
        return dw.mul_(sign).sub_(dw_dot_w).mul_(w)


FUSED_WEIGHT_FUNCTIONS = {
    "dpa": FusedDPA,
    "expressive": FusedExpressive,
    "expressive_additive": FusedExpressiveAdditive,
    "cog": FusedCog,
}


REFERENCE = "reference"  # a key of the biases dict: attention by `reference_attention`


class AttentionCore(torch.autograd.Function):
    """y = weights(q k^T * score_scale, bias) v for all heads, from the fused projection
    qkv (T, B, 3 * H * d_head) to y (T, B, H * d_head); also returns the weights
    (B * H, key, query), which carry no gradient (they are for plots). score_scale defaults to
    1 / sqrt(d_head)."""

    @staticmethod
    def forward(ctx, qkv, bias, name: str, num_heads: int, eps: float, score_scale=None):
        t, b, three_d = qkv.shape
        h, c = num_heads, three_d // (3 * num_heads)
        fn = FUSED_WEIGHT_FUNCTIONS[name]
        x = qkv.view(t, b, 3, h, c).permute(2, 1, 3, 4, 0).reshape(3, b * h, c, t)
        scale = (c**-0.5 if score_scale is None else score_scale) * fn.query_factor
        q, k, v = x[0] * scale, x[1], x[2]
        w, saved = fn.forward(torch.bmm(k.transpose(1, 2), q), bias, eps)
        y = torch.bmm(v, w)  # (B * H, d_head, T)
        ctx.save_for_backward(q, k, v, w, y, *saved)
        ctx.name, ctx.scale = name, scale
        ctx.mark_non_differentiable(w)
        ctx.set_materialize_grads(False)  # no zero gradient built for the weights
        return y.view(b, h * c, t).permute(2, 0, 1).contiguous(), w

    @staticmethod
    def backward(ctx, dy, _):
        if dy is None:  # the output was not used in the loss
            return None, None, None, None, None, None
        q, k, v, w, y, *saved = ctx.saved_tensors
        fn = FUSED_WEIGHT_FUNCTIONS[ctx.name]
        n, c, t = q.shape
        b = dy.shape[1]
        dy = dy.reshape(t, b, -1).permute(1, 2, 0).reshape(n, c, t)
        grads = dy.new_empty(3, n, c, t)
        torch.bmm(dy, w.transpose(1, 2), out=grads[2])  # dv
        # sum_j dw_ji w_ji = sum_c dy_ci y_ci (as in FlashAttention): no pass over the scores
        dw_dot_w = (dy * y).sum(1, keepdim=True)
        ds = fn.backward(torch.bmm(v.transpose(1, 2), dy), dw_dot_w, w, saved)
        torch.bmm(k, ds, out=grads[0]).mul_(ctx.scale * fn.grad_factor)  # dq
        torch.bmm(q, ds.transpose(1, 2), out=grads[1])  # dk
        if fn.grad_factor != 1:
            grads[1].mul_(fn.grad_factor)
        dqkv = grads.view(3, b, -1, c, t).permute(4, 1, 0, 2, 3).reshape(t, b, -1)
        return dqkv, None, None, None, None, None


def reference_attention(qkv, bias, name: str, num_heads: int, eps: float, score_scale=None):
    """The plain formulation of AttentionCore: plain autograd ops, so torch.func transforms (the
    vmap of packed runs) can batch it; bias (H, query, key) unprepared. Returns y (T, B, d) and
    the weights (B, H, query, key)."""
    t, b, three_d = qkv.shape
    c = three_d // (3 * num_heads)
    q, k, v = qkv.view(t, b, 3, num_heads, c).permute(2, 1, 3, 0, 4)
    z = torch.matmul(q, k.transpose(-1, -2)) * (c**-0.5 if score_scale is None else score_scale)
    w = WEIGHT_FUNCTIONS[name](z, bias, eps)
    return torch.matmul(w, v).permute(2, 0, 1, 3).reshape(t, b, num_heads * c), w


def alibi_slopes(num_heads: int, device=None) -> torch.Tensor:
    """The standard ALiBi slopes 2^(-8h/H), h = 1..H, made on `device` (no host-to-device copy,
    which a CUDA graph capture forbids)."""
    h = torch.arange(1, num_heads + 1, dtype=torch.float32, device=device)
    return torch.pow(2.0, -8.0 * h / num_heads)


def attention_bias(slopes: torch.Tensor, length: int) -> torch.Tensor:
    """(H, T, T) bias b_ij = -slope * (i - j) for j <= i and -inf for j > i (causality)."""
    pos = torch.arange(length, device=slopes.device)
    distance = (pos[:, None] - pos[None, :]).to(slopes.dtype)
    bias = -slopes[:, None, None] * distance
    return bias.masked_fill(distance < 0, float("-inf"))


# ----- shared vs position-wise layers: the block code is the same for both


class PositionWiseLinear(nn.Module):
    """A linear layer with its own weight and bias at each position, on (T, B, d_in) input."""

    def __init__(self, length: int, in_features: int, out_features: int):
        super().__init__()
        self.in_features = in_features
        self.weight = nn.Parameter(torch.empty(length, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(length, 1, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[0]
        return torch.baddbmm(self.bias[:t], x, self.weight[:t])


class PositionWiseLayerNorm(nn.Module):
    """LayerNorm with a gain per position, on (T, B, d) input."""

    def __init__(self, length: int, width: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(length, 1, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, x.shape[-1:]) * self.weight[: x.shape[0]]


def make_linear(config: IARCConfig, d_in: int, d_out: int) -> nn.Module:
    if config.position_wise:
        return PositionWiseLinear(config.context_length, d_in, d_out)
    return nn.Linear(d_in, d_out)


def make_norm(config: IARCConfig, width: int) -> nn.Module:
    if config.position_wise:
        return PositionWiseLayerNorm(config.context_length, width)
    return nn.LayerNorm(width, bias=False)


# ----- transformer blocks


class Attention(nn.Module):
    """Causal multi-head attention; the weight function is the only thing that varies."""

    def __init__(self, config: IARCConfig, weight_function: str):
        super().__init__()
        d = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.qkv = make_linear(config, d, 3 * d)  # Q, K, V in one contraction
        self.out = make_linear(config, d, d)
        self.out.is_residual_output = True
        self.weight_function = weight_function
        self.eps = config.expressive_eps
        d_head = d // self.num_heads
        self.score_scale = 1.0 if config.attention_scale == "none" else d_head**-0.5
        # "learned": a per-head temperature on the queries, starting at 1
        learned = config.attention_scale == "learned"
        self.temperature = nn.Parameter(torch.ones(self.num_heads)) if learned else None

    def projected_qkv(self, u: torch.Tensor) -> torch.Tensor:
        """Q, K, V (T, B, 3d) as the scores use them (the temperature applied): the score is
        z = q.k * score_scale."""
        qkv = self.qkv(u)
        if self.temperature is None:
            return qkv
        t, b, d = u.shape
        q, kv = qkv.split([d, 2 * d], dim=-1)
        q = (q.view(t, b, self.num_heads, -1) * self.temperature[:, None]).view(t, b, d)
        return torch.cat([q, kv], dim=-1)

    def forward(self, u: torch.Tensor, biases: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """u: (T, B, d); biases: the prepared bias of each weight function, (H, key, query).
        Returns the output (T, B, d) and the weights (B, H, query, key)."""
        t, b, d = u.shape
        if biases.get(REFERENCE):  # under torch.func transforms: the plain ops
            args = (biases[self.weight_function], self.weight_function, self.num_heads)
            y, w = reference_attention(self.projected_qkv(u), *args, self.eps, self.score_scale)
            return self.out(y), w
        y, w = AttentionCore.apply(
            self.projected_qkv(u),
            biases[self.weight_function],
            self.weight_function,
            self.num_heads,
            self.eps,
            self.score_scale,
        )
        return self.out(y), w.view(b, self.num_heads, t, t).transpose(-1, -2)


class PreProjection(nn.Module):
    """u = h + W2 SiLU(W1 h), expansion 1.25; W2 starts at zero so a fresh block is the plain one."""

    def __init__(self, config: IARCConfig):
        super().__init__()
        d = config.hidden_size
        inner = math.ceil(1.25 * d)
        self.up = make_linear(config, d, inner)
        self.down = make_linear(config, inner, d)
        self.down.is_zero_init = True

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.down(F.silu(self.up(h)))


class ContentSkip(nn.Module):
    """alpha * (Ws u), alpha a learned scalar starting at 0: content can bypass attention."""

    def __init__(self, config: IARCConfig):
        super().__init__()
        self.proj = make_linear(config, config.hidden_size, config.hidden_size)
        self.alpha = nn.Parameter(torch.zeros(()))

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return self.alpha * self.proj(u)


class FeedForward(nn.Module):
    def __init__(self, config: IARCConfig):
        super().__init__()
        d = config.hidden_size
        self.up = make_linear(config, d, config.ffn_expansion * d)
        self.down = make_linear(config, config.ffn_expansion * d, d)
        self.down.is_residual_output = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(F.gelu(self.up(x)))


class Block(nn.Module):
    """Pre-norm: x + attn(norm(x)) [+ content skip], then x + ffn(norm(x)).
    Post-norm (Vaswani et al. 2017): norm(x + attn(x) [+ skip]), then norm(x + ffn(x))."""

    def __init__(self, config: IARCConfig, weight_function: str):
        super().__init__()
        self.attn_norm = make_norm(config, config.hidden_size)
        self.pre_projection = PreProjection(config) if config.pre_projection else None
        self.attn = Attention(config, weight_function)
        self.content_skip = ContentSkip(config) if config.content_skip else None
        self.ffn_norm = make_norm(config, config.hidden_size)
        self.ffn = FeedForward(config)
        self.dropout = config.dropout
        self.post_norm = config.norm_position == "post"

    def forward(self, x: torch.Tensor, biases: dict) -> tuple[torch.Tensor, torch.Tensor]:
        u = x if self.post_norm else self.attn_norm(x)
        if self.pre_projection is not None:
            u = self.pre_projection(u)
        a, weights = self.attn(u, biases)
        if self.content_skip is not None:
            a = a + self.content_skip(u)
        x = x + F.dropout(a, self.dropout, self.training)
        if self.post_norm:
            x = self.attn_norm(x)
            return self.ffn_norm(x + F.dropout(self.ffn(x), self.dropout, self.training)), weights
        x = x + F.dropout(self.ffn(self.ffn_norm(x)), self.dropout, self.training)
        return x, weights


def layer_weight_functions(config: IARCConfig) -> list[str]:
    attention = config.attention
    if attention == "expressive" and config.expressive_alibi == "additive":
        attention = "expressive_additive"
    names = [attention] * config.num_hidden_layers
    if config.cog_softmax_edges:  # as in Lv et al.: plain softmax in the first and last layer
        names[0] = names[-1] = "dpa"
    return names


class TransformerStack(nn.Module):
    def __init__(self, config: IARCConfig):
        super().__init__()
        self.layers = nn.ModuleList(Block(config, f) for f in layer_weight_functions(config))
        self.num_heads = config.num_attention_heads
        self.alibi = config.positions == "alibi"
        self.expressive_alibi = config.expressive_alibi != "none"

    def forward(self, x: torch.Tensor, output_attentions: bool) -> tuple[torch.Tensor, tuple]:
        slopes = alibi_slopes(self.num_heads, x.device)
        reference = _is_transformed(x)  # AttentionCore cannot be vmapped: the plain ops
        biases = {REFERENCE: reference}
        for name in {layer.attn.weight_function for layer in self.layers}:
            alibi = self.alibi and (self.expressive_alibi or not name.startswith("expressive"))
            bias = attention_bias(slopes if alibi else torch.zeros_like(slopes), x.shape[1])
            if reference:
                biases[name] = bias.to(x.dtype)  # (H, query, key)
                continue
            bias = bias.to(x.dtype).transpose(-1, -2)  # (H, key, query)
            biases[name] = FUSED_WEIGHT_FUNCTIONS[name].prepare_bias(bias).contiguous()
        # time-major for the position-wise contractions; contiguous, or every layer copies
        x = x.transpose(0, 1).contiguous()
        maps = []
        for layer in self.layers:
            x, weights = layer(x, biases)
            if output_attentions:
                maps.append(weights)
        return x.transpose(0, 1), tuple(maps)


# ----- baselines


class CausalDense(nn.Module):
    """Position t mixes positions s <= t through its own d x d block W_ts: a block lower-triangular
    (L d) x (L d) matrix. Only the L(L+1)/2 lower blocks are stored, so they alone are counted."""

    def __init__(self, length: int, width: int):
        super().__init__()
        self.length, self.width = length, width
        self.blocks = nn.Parameter(torch.empty(length * (length + 1) // 2, width, width))
        self.bias = nn.Parameter(torch.empty(length, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        rows, cols = torch.tril_indices(t, t, device=x.device)  # row-major: a prefix for t < L
        full = x.new_zeros(t, t, d, d).index_put((rows, cols), self.blocks[: len(rows)])
        matrix = full.permute(0, 2, 1, 3).reshape(t * d, t * d)  # [t, out, s, in]
        return F.linear(x.reshape(b, t * d), matrix, self.bias[:t].reshape(-1)).view(b, t, d)


class CausalMLPLayer(nn.Module):
    """x + GELU(dense(norm(x)))."""

    def __init__(self, config: IARCConfig):
        super().__init__()
        self.norm = nn.LayerNorm(config.hidden_size, bias=False)
        self.dense = CausalDense(config.context_length, config.hidden_size)
        self.dense.is_residual_output = True
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + F.dropout(F.gelu(self.dense(self.norm(x))), self.dropout, self.training)


class CausalMLPStack(nn.Module):
    def __init__(self, config: IARCConfig):
        super().__init__()
        self.layers = nn.ModuleList(CausalMLPLayer(config) for _ in range(config.num_hidden_layers))

    def forward(self, x: torch.Tensor, output_attentions: bool) -> tuple[torch.Tensor, tuple]:
        for layer in self.layers:
            x = layer(x)
        return x, ()


class LSTMStack(nn.Module):
    def __init__(self, config: IARCConfig):
        super().__init__()
        self.lstm = nn.LSTM(
            config.hidden_size,
            config.lstm_hidden_size,
            num_layers=config.num_hidden_layers,
            batch_first=True,
            dropout=config.dropout,
        )

    def forward(self, x: torch.Tensor, output_attentions: bool) -> tuple[torch.Tensor, tuple]:
        return self.lstm(x)[0], ()


STACKS = {"transformer": TransformerStack, "mlp": CausalMLPStack, "lstm": LSTMStack}


# ----- embedding and the model


class Embedding(nn.Module):
    """onehot: [one_hot(symbol) | one_hot(control)] (inline: one_hot over symbols + controls);
    learned: a symbol table plus a control table, summed."""

    def __init__(self, config: IARCConfig):
        super().__init__()
        self.config = config
        self.learned = config.embedding == "learned"
        if self.learned:
            self.symbols = nn.Embedding(config.input_vocab_size, config.hidden_size)
            if config.encoding == "tape":
                self.controls = nn.Embedding(
                    config.n_controls + 1, config.hidden_size, padding_idx=0
                )

    def forward(
        self, input_ids: torch.Tensor, control_ids: torch.Tensor | None, dtype
    ) -> torch.Tensor:
        c = self.config
        tape = c.encoding == "tape" and control_ids is not None
        if c.encoding == "inline" and control_ids is not None and bool(control_ids.any()):
            raise ValueError(
                "encoding='inline' carries controls in input_ids; control_ids must be 0"
            )
        if self.learned:
            x = self.symbols(input_ids)
            return x + self.controls(control_ids) if tape else x
        if c.encoding == "inline":
            return F.one_hot(input_ids, c.input_vocab_size).to(dtype)
        symbols = F.one_hot(input_ids, c.n_symbols).to(dtype)
        if not tape:
            controls = symbols.new_zeros(*input_ids.shape, c.n_controls)
        else:
            controls = F.one_hot(control_ids, c.n_controls + 1)[..., 1:].to(dtype)
        return torch.cat([symbols, controls], dim=-1)


def _torch_default_init(module: nn.Module) -> None:
    """torch's nn.Linear default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias, for
    every dense layer (a causal dense block's fan-in is its mean over positions)."""
    if isinstance(module, CausalDense):
        bound = (module.width * (module.length + 1) / 2) ** -0.5
        weights = (module.blocks, module.bias)
    else:
        bound = module.in_features**-0.5
        weights = (module.weight, module.bias)
    for weight in weights:
        if weight is not None:
            init.uniform_(weight, -bound, bound)


def check_ids(name: str, ids: torch.Tensor, size: int, ignored: int | None = None) -> None:
    """ValueError naming the field unless `ids` are integers in [0, size) (or `ignored`).
    Values are checked on the CPU only: on an accelerator the check would wait for the device."""
    allowed = f"integers in [0, {size - 1}]" + (f" or {ignored}" if ignored is not None else "")
    if ids.dtype.is_floating_point or ids.dtype.is_complex or ids.dtype == torch.bool:
        raise ValueError(f"{name} must be {allowed}, got dtype {ids.dtype}")
    if ids.device.type != "cpu" or ids.numel() == 0 or _is_transformed(ids):
        return
    values = ids if ignored is None else ids[ids != ignored]
    if values.numel() and (values.min() < 0 or values.max() >= size):
        bad = values[(values < 0) | (values >= size)][0].item()
        raise ValueError(f"{name} must be {allowed}, got {bad}")


def _is_transformed(ids: torch.Tensor) -> bool:
    """Inside torch.func transforms (the vmap of packed runs) values cannot be read: the caller
    checked each run's ids before stacking them."""
    return torch._C._functorch.is_functorch_wrapped_tensor(ids)


def _shape(value) -> str:
    return str(tuple(value.shape)) if isinstance(value, torch.Tensor) else type(value).__name__


def checked_inputs(config: IARCConfig, input_ids, control_ids, labels) -> tuple:
    """The inputs as int64 tensors (int32 / uint8 ids are fine), after a one-line ValueError
    naming the first that is not a (batch, length) tensor of ids in range."""
    if not isinstance(input_ids, torch.Tensor) or input_ids.dim() != 2 or input_ids.shape[1] < 1:
        one_window = isinstance(input_ids, torch.Tensor) and input_ids.dim() == 1
        raise ValueError(
            f"input_ids must be a tensor of shape (batch, length) with length >= 1, "
            f"got {_shape(input_ids)}" + (" (one window: input_ids[None])" if one_window else "")
        )
    for name, ids in (("control_ids", control_ids), ("labels", labels)):
        if ids is not None and (not isinstance(ids, torch.Tensor) or ids.shape != input_ids.shape):
            raise ValueError(
                f"{name} must have the shape of input_ids {_shape(input_ids)}, got {_shape(ids)}"
            )
    positional = config.position_wise or config.architecture == "mlp"
    if positional and input_ids.shape[1] > config.context_length:
        raise ValueError(
            f"sequence length {input_ids.shape[1]} exceeds context_length={config.context_length}"
        )
    check_ids("input_ids", input_ids, config.input_vocab_size)
    if control_ids is not None:
        check_ids("control_ids", control_ids, config.n_controls + 1)
    if labels is not None:  # -100: the package's IGNORE_INDEX (this file imports none)
        check_ids("labels", labels, config.n_symbols, ignored=-100)
    return tuple(None if ids is None else ids.long() for ids in (input_ids, control_ids, labels))


def next_symbol_loss(logits: torch.Tensor, labels: torch.Tensor, reduction: str) -> torch.Tensor:
    """Cross-entropy with labels at their own positions (already next-symbol aligned: no shift):
    "mean" over positions, "sum" over positions averaged over windows, or the "last" position
    alone; labels of -100 are ignored."""
    if reduction == "last":
        return F.cross_entropy(logits[:, -1].float(), labels[:, -1], ignore_index=-100)
    loss = F.cross_entropy(
        logits.flatten(0, 1).float(),
        labels.flatten(),
        ignore_index=-100,
        reduction="mean" if reduction == "mean" else "sum",
    )
    return loss if reduction == "mean" else loss / labels.shape[0]


class IARCPreTrainedModel(PreTrainedModel):
    config_class = IARCConfig
    base_model_prefix = "iarc"
    main_input_name = "input_ids"

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        """Normal(0, 1/fan_in) weights, zero biases, unit gains; residual outputs scaled down by
        sqrt(2 * layers) (GPT-2) so deep stacks start near the identity."""
        config = self.config
        depth_scale = (2 * config.num_hidden_layers) ** -0.5
        if isinstance(module, Attention) and module.temperature is not None:
            init.ones_(module.temperature)
        if config.init_scheme == "torch" and isinstance(
            module, (nn.Linear, PositionWiseLinear, CausalDense)
        ):
            _torch_default_init(module)
        elif isinstance(module, (nn.Linear, PositionWiseLinear)):
            std = module.in_features**-0.5
            if getattr(module, "is_residual_output", False):
                std *= depth_scale
            if getattr(module, "is_zero_init", False):
                init.zeros_(module.weight)
            else:
                init.normal_(module.weight, std=std)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, CausalDense):
            mean_fan_in = module.width * (module.length + 1) / 2
            init.normal_(module.blocks, std=mean_fan_in**-0.5 * depth_scale)
            init.zeros_(module.bias)
        elif isinstance(module, (nn.LayerNorm, PositionWiseLayerNorm)):
            init.ones_(module.weight)
        elif isinstance(module, ContentSkip):
            init.zeros_(module.alpha)
        elif isinstance(module, nn.Embedding):
            init.normal_(module.weight, std=1.0)  # O(1) inputs, like the one-hot code
            if module.padding_idx is not None:
                init.zeros_(module.weight[module.padding_idx])
        elif isinstance(module, nn.LSTM):
            bound = module.hidden_size**-0.5  # torch's own LSTM init
            for param in module.parameters():
                init.uniform_(param, -bound, bound)


class IARCModel(IARCPreTrainedModel):
    """Next-symbol model: (input_ids, control_ids) -> logits over the N symbols at every position,
    each position seeing positions <= t only."""

    def __init__(self, config: IARCConfig):
        config.check()
        super().__init__(config)
        self.embedding = Embedding(config)
        self.stack = STACKS[config.architecture](config)
        width = config.lstm_hidden_size if config.architecture == "lstm" else config.hidden_size
        self.final_norm = nn.LayerNorm(width, bias=False)
        self.head = nn.Linear(width, config.n_symbols)
        self.post_init()

    def forward(
        self,
        input_ids: torch.LongTensor,
        control_ids: torch.LongTensor | None = None,
        labels: torch.LongTensor | None = None,
        output_attentions: bool = False,
        return_dict: bool = True,
    ) -> IARCOutput | tuple:
        """labels[t] is the target at position t (already next-symbol aligned, no shift);
        -100 is ignored."""
        input_ids, control_ids, labels = checked_inputs(self.config, input_ids, control_ids, labels)
        x = self.embedding(input_ids, control_ids, self.head.weight.dtype)
        x, attentions = self.stack(x, output_attentions)
        logits = self.head(self.final_norm(x))
        loss = None if labels is None else self.compute_loss(logits, labels.to(logits.device))
        output = IARCOutput(
            loss=loss, logits=logits, attentions=attentions if output_attentions else None
        )
        return output if return_dict else output.to_tuple()

    def compute_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return next_symbol_loss(logits, labels, self.config.loss_reduction)


IARCModel.register_for_auto_class("AutoModel")
