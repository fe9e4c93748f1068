"""The fused attention (AttentionCore with its per-variant forward and backward) against the
reference weight functions run through autograd: outputs, weights and gradients agree."""

import pytest
import torch

from iarc_hf.configuration_iarc import ATTENTIONS
from iarc_hf.modeling_iarc import (
    FUSED_WEIGHT_FUNCTIONS,
    WEIGHT_FUNCTIONS,
    AttentionCore,
    alibi_slopes,
    attention_bias,
)
from iarc_hf.modeling_iarc import reference_attention as reference  # the plain formulation


def test_every_weight_function_has_a_fused_form():
    assert set(FUSED_WEIGHT_FUNCTIONS) == set(WEIGHT_FUNCTIONS) >= set(ATTENTIONS)


NAMES = list(FUSED_WEIGHT_FUNCTIONS)  # the attentions and the readings' variants


def fused(qkv, bias, name, heads, eps, score_scale=None):
    prepared = FUSED_WEIGHT_FUNCTIONS[name].prepare_bias(bias.transpose(-1, -2)).contiguous()
    y, w = AttentionCore.apply(qkv, prepared, name, heads, eps, score_scale)
    t, b = qkv.shape[:2]
    return y, w.view(b, heads, t, t).transpose(-1, -2)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("heads", [1, 4])
@pytest.mark.parametrize("length", [1, 7, 24])
@pytest.mark.parametrize("alibi", [True, False])
@pytest.mark.parametrize("magnitude", [1.0, 30.0])  # 30: scores in the hundreds, softmax saturates
@pytest.mark.parametrize("score_scale", [None, 1.0])  # attention_scale "sqrt" and "none"
def test_fused_attention_matches_reference(name, heads, length, alibi, magnitude, score_scale):
    g = torch.Generator().manual_seed(length * 10 + heads)
    batch, d_head = 3, 5
    qkv = magnitude * torch.randn(
        length, batch, 3 * heads * d_head, generator=g, dtype=torch.float64
    )
    slopes = alibi_slopes(heads).double() * alibi
    bias = attention_bias(slopes, length)
    upstream = torch.randn(length, batch, heads * d_head, generator=g, dtype=torch.float64)
    results = []
    for attend in (reference, fused):
        x = qkv.clone().requires_grad_()
        y, w = attend(x, bias, name, heads, 1e-6, score_scale)
        (grad,) = torch.autograd.grad(y, x, upstream)
        results.append((y, w, grad))
    for expected, actual in zip(results[0], results[1], strict=True):
        assert torch.isfinite(actual).all()
        torch.testing.assert_close(actual, expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_fused_attention_passes_gradcheck(name):
    g = torch.Generator().manual_seed(0)
    qkv = torch.randn(5, 2, 3 * 2 * 3, generator=g, dtype=torch.float64, requires_grad=True)
    bias = attention_bias(alibi_slopes(2).double(), 5)
    assert torch.autograd.gradcheck(lambda x: fused(x, bias, name, 2, 1e-6)[0], (qkv,))


@pytest.mark.parametrize("name", NAMES)
def test_fused_attention_weights_carry_no_gradient(name):
    qkv = torch.randn(4, 2, 12, requires_grad=True)
    y, w = fused(qkv, attention_bias(alibi_slopes(2), 4), name, 2, 1e-6)
    assert y.requires_grad and not w.requires_grad
