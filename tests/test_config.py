"""IARCConfig: presets, paper-sized parameter counts, and ValueErrors that name the field."""

import pytest
from model_cases import OPTION_CASES, option_config
from transformers import AutoConfig, AutoModel

import iarc_hf  # noqa: F401  (registers the Auto classes)
from iarc_hf.configuration_iarc import ATTENTIONS, PRESETS, IARCConfig
from iarc_hf.modeling_iarc import IARCModel

# The paper's parameter counts (MODELS.md); presets must land within +-15%.
PAPER_PARAMS = {
    "transformer-dpa": 240_000,
    "transformer-ea": 240_000,
    "cisformer-dpa": 1_300_000,
    "cisformer-ea": 1_300_000,
    "cisformer-cog": 1_300_000,
    "mlp": 1_900_000,
    "lstm": 3_700_000,
}


FRONTIER = [p for p in PRESETS if p.endswith("-best")]  # the recipe search's winners


def test_every_paper_preset_has_a_paper_count():
    assert set(PAPER_PARAMS) == set(PRESETS) - set(FRONTIER)


@pytest.mark.parametrize("preset", FRONTIER)
def test_frontier_presets_fit_the_frontiers_size_limit(preset):
    assert IARCModel(IARCConfig.from_preset(preset)).num_parameters() <= 1_500_000


@pytest.mark.parametrize("preset", PAPER_PARAMS)
def test_preset_parameter_count_within_15_percent_of_paper(preset):
    model = AutoModel.from_config(IARCConfig.from_preset(preset))
    assert isinstance(model, IARCModel)
    count = model.num_parameters()
    assert count == sum(p.numel() for p in model.parameters())
    assert abs(count / PAPER_PARAMS[preset] - 1) <= 0.15, count


def test_cisformer_layer_is_one_transformer_layer_per_position():
    shared = IARCModel(IARCConfig.from_preset("transformer-dpa", num_hidden_layers=1))
    per_position = IARCModel(IARCConfig.from_preset("cisformer-dpa", num_hidden_layers=1))
    head_and_norm = (
        sum(p.numel() for p in shared.head.parameters()) + shared.final_norm.weight.numel()
    )
    L = shared.config.context_length
    # the cisformer preset has FFN expansion 4, the transformer 3: compare equal shapes
    shared4 = IARCModel(
        IARCConfig.from_preset("transformer-dpa", num_hidden_layers=1, ffn_expansion=4)
    )
    assert per_position.num_parameters() - head_and_norm == L * (
        shared4.num_parameters() - head_and_norm
    )
    assert shared.num_parameters() < shared4.num_parameters()


def test_mlp_counts_only_the_lower_triangular_blocks():
    config = IARCConfig.from_preset("mlp")
    L, d, layers = config.context_length, config.hidden_size, config.num_hidden_layers
    per_layer = L * (L + 1) // 2 * d * d + L * d + d  # blocks, bias, norm gain
    head = d * config.n_symbols + config.n_symbols + d
    assert IARCModel(config).num_parameters() == layers * per_layer + head


@pytest.mark.parametrize("case", OPTION_CASES)
def test_every_option_case_is_a_valid_config_and_round_trips_through_json(case):
    config = option_config(case)
    reloaded = AutoConfig.for_model("iarc").from_dict(config.to_dict())
    assert isinstance(reloaded, IARCConfig) and reloaded.to_dict() == config.to_dict()


def test_unknown_preset_lists_the_presets():
    with pytest.raises(ValueError, match="preset") as error:
        IARCConfig.from_preset("gpt-5")
    assert all(name in str(error.value) for name in PRESETS)


def test_from_preset_rejects_unknown_fields():
    with pytest.raises(ValueError, match="atention"):
        IARCConfig.from_preset("transformer-dpa", atention="dpa")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (dict(architecture="rnn"), "architecture"),
        (dict(attention="linear"), "attention"),
        (dict(embedding="sinusoidal"), "embedding"),
        (dict(encoding="interleaved"), "encoding"),
        (dict(positions="rope"), "positions"),
        (dict(num_attention_heads=3), "num_attention_heads"),
        (dict(num_attention_heads=0), "num_attention_heads"),
        (dict(hidden_size=21), "hidden_size"),
        (dict(num_hidden_layers=0), "num_hidden_layers"),
        (dict(context_length=0), "context_length"),
        (dict(n_symbols=0), "n_symbols"),
        (dict(n_controls=-1), "n_controls"),
        (dict(ffn_expansion=0), "ffn_expansion"),
        (dict(dropout=1.0), "dropout"),
        (dict(expressive_eps=0.0), "expressive_eps"),
        (dict(cog_softmax_edges=True, attention="dpa"), "cog_softmax_edges"),
        (dict(architecture="lstm", position_wise=True), "position_wise"),
        (dict(architecture="mlp", position_wise=True), "position_wise"),
        (dict(architecture="lstm", attention="expressive"), "attention"),
        (dict(architecture="mlp", positions="alibi"), "positions"),
        (dict(architecture="lstm", pre_projection=True), "pre_projection"),
        (dict(architecture="mlp", content_skip=True), "content_skip"),
        (dict(architecture="lstm", lstm_hidden_size=0), "lstm_hidden_size"),
    ],
)
def test_invalid_config_raises_value_error_naming_the_field(overrides, field):
    with pytest.raises(ValueError, match=field):
        IARCConfig(**overrides)


def test_invalid_values_list_the_allowed_ones():
    with pytest.raises(ValueError) as error:
        IARCConfig(attention="linear")
    assert all(name in str(error.value) for name in ATTENTIONS)


def test_onehot_width_is_derived_and_learned_width_is_free():
    assert IARCConfig(n_symbols=17, n_controls=3).hidden_size == 20
    assert IARCConfig(embedding="learned", hidden_size=32).hidden_size == 32


def test_for_task_resizes_and_keeps_the_architecture():
    config = IARCConfig.from_preset("cisformer-ea").for_task(
        n_symbols=18, n_controls=2, context_length=30, encoding="inline"
    )
    assert (config.n_symbols, config.n_controls, config.context_length) == (18, 2, 30)
    assert config.hidden_size == 20 and config.input_vocab_size == 20
    assert (
        config.position_wise and config.attention == "expressive" and config.num_hidden_layers == 12
    )


def test_transformer_defaults_and_baselines_leave_attention_unset():
    assert IARCConfig().attention == "dpa" and IARCConfig().positions == "alibi"
    lstm = IARCConfig.from_preset("lstm")
    assert lstm.attention is None and lstm.positions is None
