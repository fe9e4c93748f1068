"""Attention weight functions, ALiBi, and the attention maps models return — on values worked
out by hand."""

import math

import pytest
import torch
from model_cases import random_inputs, small_config

from iarc_hf.configuration_iarc import ATTENTIONS
from iarc_hf.modeling_iarc import (
    WEIGHT_FUNCTIONS,
    IARCModel,
    alibi_slopes,
    attention_bias,
    layer_weight_functions,
)

INF = float("inf")


def test_every_registered_attention_has_a_weight_function():
    # plus the reading of expressive attention with ALiBi added to z (expressive_alibi="additive")
    assert set(WEIGHT_FUNCTIONS) == set(ATTENTIONS) | {"expressive_additive"}


def test_alibi_slopes_are_2_to_the_minus_8h_over_H():
    assert alibi_slopes(4).tolist() == [0.25, 0.0625, 0.015625, 0.00390625]
    assert alibi_slopes(8).tolist() == [2.0**-h for h in range(1, 9)]


def test_attention_bias_is_minus_slope_times_distance_and_causal():
    bias = attention_bias(alibi_slopes(4), 3)
    assert bias.shape == (4, 3, 3)
    assert bias[0].tolist() == [[0.0, -INF, -INF], [-0.25, 0.0, -INF], [-0.5, -0.25, 0.0]]
    assert bias[3, 2, 0].item() == -2 * 2.0**-8


def test_dpa_is_softmax_of_score_plus_bias():
    z = torch.tensor([[1.0, 0.0, 5.0]])
    bias = torch.tensor([[-0.25, 0.0, -INF]])
    w = WEIGHT_FUNCTIONS["dpa"](z, bias, 1e-6)
    # softmax([0.75, 0]) = [e^.75, 1] / (e^.75 + 1)
    assert w.tolist()[0] == pytest.approx([0.679178699, 0.320821301, 0.0], abs=1e-6)


def test_expressive_is_z2_over_1_plus_z2_times_exp_bias_normalised():
    z = torch.tensor([[1.0, 2.0, 0.0, 3.0]])
    bias = torch.tensor([[-1.0, -0.5, 0.0, -INF]])
    w = WEIGHT_FUNCTIONS["expressive"](z, bias, 0.0)
    # raw weights: 1/2 * e^-1 = 0.18394, 4/5 * e^-0.5 = 0.48522, 0 (orthogonal), 0 (masked)
    assert w.tolist()[0] == pytest.approx([0.27487978, 0.72512022, 0.0, 0.0], abs=1e-6)


def test_expressive_weights_parallel_and_antiparallel_alike():
    z = torch.tensor([[2.0, -2.0, 0.0]])
    w = WEIGHT_FUNCTIONS["expressive"](z, torch.zeros(1, 3), 1e-6)
    assert w[0, 0] == w[0, 1] and w[0, 2] == 0


def test_expressive_eps_keeps_an_all_orthogonal_row_finite():
    w = WEIGHT_FUNCTIONS["expressive"](torch.zeros(1, 3), torch.zeros(1, 3), 1e-6)
    assert torch.equal(w, torch.zeros(1, 3))


def test_cog_is_sign_times_softmax_of_absolute_score():
    z = torch.tensor([[1.0, -2.0, 0.5, 7.0]])
    bias = torch.tensor([[0.0, 0.0, 0.0, -INF]])
    w = WEIGHT_FUNCTIONS["cog"](z, bias, 1e-6)
    # softmax([1, 2, 0.5]) = [0.231224, 0.628532, 0.140244], signs (+, -, +), masked 0
    assert w.tolist()[0] == pytest.approx([0.23122390, -0.62853172, 0.14024438, 0.0], abs=1e-6)


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_alibi_enters_every_variant_as_the_factor_exp_minus_slope_per_step(attention):
    # equal |z| everywhere: the weights then differ only through ALiBi, by e^-slope per step back
    slopes = alibi_slopes(4)
    bias = attention_bias(slopes, 5)
    z = torch.full((4, 5, 5), 1.5)
    w = WEIGHT_FUNCTIONS[attention](z, bias, 0.0)
    ratios = w[:, 4, :-1] / w[:, 4, 1:]  # weight of j over weight of j+1, last query
    expected = torch.exp(-slopes)[:, None].expand_as(ratios)
    torch.testing.assert_close(ratios, expected)
    assert torch.all(w.triu(1) == 0)  # causal


def test_cog_softmax_edges_uses_softmax_in_first_and_last_layer():
    config = small_config("cisformer-cog", num_hidden_layers=4)
    assert layer_weight_functions(config) == ["dpa", "cog", "cog", "dpa"]
    model = IARCModel(config)
    used = [layer.attn.weight_function for layer in model.stack.layers]
    assert used == ["dpa", "cog", "cog", "dpa"]
    assert (
        layer_weight_functions(small_config("cisformer-cog", cog_softmax_edges=False))
        == ["cog"] * 3
    )


@pytest.mark.parametrize("position_wise", [False, True])
@pytest.mark.parametrize("attention", ATTENTIONS)
def test_attention_maps_are_causal_and_normalised(attention, position_wise):
    # expressive rows sum to S / (S + eps): a tiny eps, so that nearly orthogonal rows sum to 1 too
    config = small_config(
        "transformer-dpa", attention=attention, position_wise=position_wise, expressive_eps=1e-12
    )
    torch.manual_seed(0)  # an unlucky draw can make a lone key orthogonal: S << eps
    model = IARCModel(config).eval()
    inputs = random_inputs(config, 3, torch.Generator().manual_seed(0))
    with torch.no_grad():
        maps = model(**inputs, output_attentions=True).attentions
    L = config.context_length
    assert len(maps) == config.num_hidden_layers
    for w in maps:
        assert w.shape == (3, config.num_attention_heads, L, L)
        assert torch.all(w.triu(1) == 0)
        row_sums = (w.abs() if attention == "cog" else w).sum(-1)  # cog: |w| sums to 1
        torch.testing.assert_close(row_sums, torch.ones_like(row_sums), atol=1e-5, rtol=0)


def test_no_attention_maps_unless_asked():
    config = small_config("transformer-dpa")
    inputs = random_inputs(config, 2, torch.Generator().manual_seed(0))
    assert IARCModel(config)(**inputs).attentions is None


def test_positions_none_attends_without_distance_penalty():
    config = small_config("transformer-dpa", positions="none")
    model = IARCModel(config).eval()
    inputs = random_inputs(config, 1, torch.Generator().manual_seed(1))
    inputs["input_ids"][:] = 3  # identical tokens: equal scores, so weights uniform over j <= i
    inputs["control_ids"][:] = 0
    with torch.no_grad():
        w = model(**inputs, output_attentions=True).attentions[0][0, 0]
    expected = torch.tril(torch.ones_like(w)) / torch.arange(1, w.shape[0] + 1)[:, None]
    torch.testing.assert_close(w, expected)
    assert math.isclose(w[5, 0].item(), 1 / 6, rel_tol=1e-5)
