"""Readings of the paper as config fields (READINGS): each on values worked out by hand, each
validated, and each a model option that the registry-driven model tests cover (model_cases)."""

import math

import pytest
import torch
import torch.nn.functional as F
from model_cases import random_inputs, small_config

from iarc_hf.configuration_iarc import READINGS, IARCConfig
from iarc_hf.modeling_iarc import WEIGHT_FUNCTIONS, IARCModel, layer_weight_functions

INF = float("inf")


def model(preset="transformer-ea", seed=0, **overrides) -> IARCModel:
    torch.manual_seed(seed)
    return IARCModel(small_config(preset, **overrides)).eval()


def test_readings_default_to_ours():
    config = IARCConfig()
    assert {field: getattr(config, field) for field in READINGS} == {
        field: values[0] for field, values in READINGS.items()
    }
    assert READINGS["norm_position"][0] == "pre" and READINGS["loss_reduction"][0] == "mean"


@pytest.mark.parametrize("field", READINGS)
def test_an_unknown_reading_names_the_field_and_the_allowed_values(field):
    with pytest.raises(ValueError, match=field) as error:
        IARCConfig.from_preset("transformer-ea", **{field: "neither"})
    assert all(value in str(error.value) for value in READINGS[field])


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (dict(architecture="mlp", norm_position="post"), "norm_position"),
        (dict(architecture="lstm", attention_scale="none"), "attention_scale"),
        (dict(attention="dpa", expressive_alibi="additive"), "expressive_alibi"),
        (dict(architecture="mlp", expressive_alibi="none"), "expressive_alibi"),
    ],
)
def test_readings_that_do_not_apply_are_rejected(overrides, field):
    with pytest.raises(ValueError, match=field):
        IARCConfig(**overrides)


# ----- expressive attention: how ALiBi enters


def test_additive_alibi_is_added_to_z_before_squaring():
    z = torch.tensor([[2.0, 1.0, 5.0]])
    bias = torch.tensor([[-1.0, 0.0, -INF]])
    w = WEIGHT_FUNCTIONS["expressive_additive"](z, bias, 0.0)
    # s = z + b = [1, 1, masked]: raw weights 1/2, 1/2, 0
    assert w.tolist()[0] == pytest.approx([0.5, 0.5, 0.0], abs=1e-7)
    z = torch.tensor([[1.0, 2.0, 3.0]])
    bias = torch.tensor([[-1.0, -0.5, 0.0]])
    w = WEIGHT_FUNCTIONS["expressive_additive"](z, bias, 0.0)
    # s = [0, 1.5, 3]: raw 0, 2.25/3.25, 9/10
    raw = [0.0, 2.25 / 3.25, 0.9]
    assert w.tolist()[0] == pytest.approx([r / sum(raw) for r in raw], abs=1e-7)


def test_additive_alibi_selects_its_weight_function():
    config = small_config("transformer-ea", expressive_alibi="additive")
    assert set(layer_weight_functions(config)) == {"expressive_additive"}
    assert set(layer_weight_functions(small_config("transformer-ea"))) == {"expressive"}


def test_expressive_alibi_none_attends_as_without_positions():
    inputs = random_inputs(small_config("transformer-ea"), 2, torch.Generator().manual_seed(1))
    without_alibi = model(expressive_alibi="none")(**inputs, output_attentions=True)
    without_positions = model(positions="none")(**inputs, output_attentions=True)
    with_alibi = model()(**inputs, output_attentions=True)
    assert torch.equal(without_alibi.logits, without_positions.logits)
    assert not torch.allclose(without_alibi.logits, with_alibi.logits)


# ----- the attention score's scale


def _scale_queries(source: IARCModel, target: IARCModel, factor: float) -> None:
    """Copy source's weights into target with every layer's query projection times factor."""
    state = source.state_dict()
    d = source.config.hidden_size
    for name in state:
        if name.endswith("attn.qkv.weight"):
            state[name] = state[name].clone()
            state[name][:d] *= factor
        if name.endswith("attn.qkv.bias"):
            state[name] = state[name].clone()
            state[name][:d] *= factor
    target.load_state_dict(state, strict=False)


@pytest.mark.parametrize("attention", ["dpa", "expressive", "cog"])
def test_unscaled_scores_equal_scaled_scores_with_queries_times_sqrt_d_head(attention):
    preset = {"dpa": "transformer-dpa", "expressive": "transformer-ea", "cog": "transformer-dpa"}
    kwargs = dict(preset=preset[attention], attention=attention)
    unscaled, scaled = model(attention_scale="none", **kwargs), model(**kwargs)
    d_head = scaled.config.hidden_size // scaled.config.num_attention_heads
    _scale_queries(unscaled, scaled, math.sqrt(d_head))
    inputs = random_inputs(scaled.config, 2, torch.Generator().manual_seed(3))
    torch.testing.assert_close(unscaled(**inputs).logits, scaled(**inputs).logits)


def test_learned_temperature_starts_at_one_and_multiplies_the_queries():
    learned = model(attention_scale="learned")
    temperatures = [p for n, p in learned.named_parameters() if n.endswith("temperature")]
    assert len(temperatures) == learned.config.num_hidden_layers
    assert all(torch.equal(t, torch.ones(learned.config.num_attention_heads)) for t in temperatures)
    plain = model()
    inputs = random_inputs(plain.config, 2, torch.Generator().manual_seed(4))
    torch.testing.assert_close(learned(**inputs).logits, plain(**inputs).logits)
    with torch.no_grad():
        for t in temperatures:
            t.fill_(2.0)
    _scale_queries(learned, plain, 2.0)
    torch.testing.assert_close(learned(**inputs).logits, plain(**inputs).logits)
    learned.train()
    learned(**inputs, labels=inputs["input_ids"]).loss.backward()
    assert all(t.grad is not None and t.grad.abs().sum() > 0 for t in temperatures)


# ----- block layout


@pytest.mark.parametrize("position_wise", [False, True])
def test_post_norm_block_is_norm_of_the_residual_sums(position_wise):
    m = model(norm_position="post", num_hidden_layers=1, position_wise=position_wise)
    block = m.stack.layers[0]
    x = torch.randn(24, 3, m.config.hidden_size)  # (T, B, d), as blocks see it
    biases = _biases(m, x)
    attended, _ = block.attn(x, biases)  # no norm before attention
    h = block.attn_norm(x + attended)
    expected = block.ffn_norm(h + block.ffn(h))
    actual, _ = block(x, biases)
    torch.testing.assert_close(actual, expected)
    pre = model(num_hidden_layers=1, position_wise=position_wise).stack.layers[0]
    pre.load_state_dict(block.state_dict())
    a, _ = pre.attn(pre.attn_norm(x), biases)
    h = x + a
    torch.testing.assert_close(pre(x, biases)[0], h + pre.ffn(pre.ffn_norm(h)))


def _biases(m: IARCModel, x: torch.Tensor) -> dict:
    """The prepared biases the stack hands its blocks, captured from a forward pass."""
    captured = {}
    block = m.stack.layers[0]
    original = block.forward

    def spy(h, biases):
        captured.update(biases)
        return original(h, biases)

    block.forward = spy
    try:
        m(input_ids=torch.zeros(1, x.shape[0], dtype=torch.long))
    finally:
        block.forward = original
    return captured


# ----- initialisation


def test_torch_init_is_uniform_within_one_over_sqrt_fan_in_with_biases():
    m = model(init_scheme="torch", preset="transformer-dpa", num_hidden_layers=2)
    for layer in m.stack.layers:
        for linear in (layer.attn.qkv, layer.attn.out, layer.ffn.up, layer.ffn.down):
            bound = linear.in_features**-0.5
            assert linear.weight.abs().max() <= bound and linear.bias.abs().max() <= bound
            # U(-a, a) has std a / sqrt(3); ours (N(0, 1/fan_in)) would be sqrt(3) times wider
            assert linear.weight.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.15)
            assert linear.bias.abs().sum() > 0
    ours = model(preset="transformer-dpa", num_hidden_layers=2)
    assert torch.count_nonzero(ours.stack.layers[0].attn.qkv.bias) == 0


def test_torch_init_covers_the_causal_mlp():
    m = model(preset="mlp", init_scheme="torch")
    dense = m.stack.layers[0].dense
    bound = (dense.width * (dense.length + 1) / 2) ** -0.5
    assert dense.blocks.abs().max() <= bound and dense.bias.abs().sum() > 0


# ----- the loss over positions


def test_loss_reductions_on_a_hand_made_batch():
    logits = torch.log(
        torch.tensor(
            [
                [[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25], [0.1, 0.6, 0.2, 0.1]],
                [[0.4, 0.2, 0.2, 0.2], [0.1, 0.1, 0.1, 0.7], [0.5, 0.3, 0.1, 0.1]],
            ]
        )
    )
    labels = torch.tensor([[0, 2, 1], [1, 3, -100]])
    nll = [-math.log(p) for p in (0.7, 0.25, 0.6, 0.2, 0.7)]  # the -100 position is ignored
    expected = {
        "mean": sum(nll) / 5,
        "sum": sum(nll) / 2,  # summed over positions, averaged over the 2 windows
        "last": -math.log(0.6),  # window 2's last label is ignored
    }
    for reduction, value in expected.items():
        m = IARCModel(
            small_config("transformer-dpa", context_length=3, n_symbols=4, n_controls=0,
                         loss_reduction=reduction)
        )  # fmt: skip
        assert m.compute_loss(logits, labels).item() == pytest.approx(value, rel=1e-6), reduction
        assert F.cross_entropy(logits.flatten(0, 1), labels.flatten()).item() == pytest.approx(
            expected["mean"], rel=1e-6
        )
