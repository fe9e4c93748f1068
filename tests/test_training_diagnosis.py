"""The training diagnosis (iarc_hf.eval.training_diagnosis, scripts/diagnose.py): its measures
against hand computations, its records' shapes, its plots and its command line."""

import json
import math
import sys
from pathlib import Path

import pytest
import torch
from model_cases import random_inputs, small_config

from iarc_hf.data.tasks import IARCTask
from iarc_hf.eval.training_diagnosis import (
    LAYER_KEYS,
    DiagnosisSetup,
    LayerProbe,
    attention_entropy,
    diagnose,
    saturation,
    summary,
    summary_table,
    weight_slope,
)
from iarc_hf.experiments.registry import RECIPES
from iarc_hf.modeling_iarc import (
    FUSED_WEIGHT_FUNCTIONS,
    WEIGHT_FUNCTIONS,
    IARCModel,
    alibi_slopes,
    attention_bias,
    expressive_weights,
)
from iarc_hf.training.arguments import RunArguments
from iarc_hf.viz.diagnosis_plots import plot_comparison, plot_diagnosis


def test_saturation_matches_a_hand_computation():
    # causal scores 0.05, 1, 20: z^2/(1+z^2) = 0.0025 (< 0.01), 0.5, 0.9975 (> 0.99); the 100
    # above the diagonal is masked out
    z = torch.tensor([[[[0.05, 100.0], [1.0, 20.0]]]])
    mask = torch.tensor([[True, False], [True, True]])
    high, low = saturation(z, mask)
    assert high == pytest.approx(1 / 3) and low == pytest.approx(1 / 3)


def test_attention_entropy_of_uniform_and_one_hot_rows():
    uniform = torch.full((2, 3, 5, 4), 0.25)
    assert attention_entropy(uniform) == pytest.approx(math.log(4))
    one_hot = torch.zeros(1, 1, 4, 4)
    one_hot[..., 0] = 1.0
    assert attention_entropy(one_hot) == pytest.approx(0.0, abs=1e-6)
    assert attention_entropy(-uniform) == pytest.approx(math.log(4))  # cog: |w|


@pytest.mark.parametrize("overrides", [{}, {"attention_scale": "learned"}])
def test_probed_scores_give_the_models_own_attention_weights(overrides):
    """The probe's z, put through the expressive formula, is what the model attended with."""
    config = small_config("transformer-ea", num_hidden_layers=2, **overrides)
    torch.manual_seed(0)
    model = IARCModel(config).eval()
    if config.attention_scale == "learned":
        with torch.no_grad():
            model.stack.layers[0].attn.temperature.copy_(torch.tensor([0.5, 2.0, 1.0, 3.0]))
    probe = LayerProbe(model)
    probe.start()
    out = model(
        **random_inputs(config, 3, torch.Generator().manual_seed(0)), output_attentions=True
    )
    probe.stop()
    bias = attention_bias(alibi_slopes(config.num_attention_heads), config.context_length)
    assert len(probe.scores) == len(probe.activation_norm) == 2
    for z, weights in zip(probe.scores, out.attentions, strict=True):
        expected = expressive_weights(z, bias, config.expressive_eps)
        torch.testing.assert_close(weights, expected, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", ["expressive", "expressive_additive", "dpa", "cog"])
def test_weight_slope_is_the_diagonal_of_the_jacobian(name):
    """weight_slope against autograd on the reference weight function, with a near-zero score
    at the first query (one key): there the expressive weight is a steep step."""
    torch.manual_seed(0)
    z = torch.randn(1, 2, 4, 4, dtype=torch.float64)
    z[0, 0, 0, 0] = 1e-3
    bias = attention_bias(alibi_slopes(2), 4).double()
    fn = WEIGHT_FUNCTIONS[name]
    jacobian = torch.autograd.functional.jacobian(lambda s: fn(s, bias, 1e-6), z)
    diagonal = jacobian.reshape(z.numel(), z.numel()).diagonal().reshape(z.shape).abs()
    prepared = FUSED_WEIGHT_FUNCTIONS[name].prepare_bias(bias.transpose(-1, -2))
    slope = weight_slope(z, fn(z, bias, 1e-6), name, prepared, 1e-6)
    mask = torch.ones(4, 4, dtype=torch.bool).tril()
    torch.testing.assert_close(slope[..., mask], diagonal[..., mask])
    if name == "expressive":
        assert slope[0, 0, 0, 0] > 100  # the spike: 2 z eps / (z^2 + eps)^2 at z = 1e-3


def _tiny_setup(steps=3, every=2, **overrides) -> DiagnosisSetup:
    config = small_config("transformer-ea", num_hidden_layers=2, **overrides)
    run = RunArguments(output_dir="unused", per_device_train_batch_size=8, **RECIPES["sgd"])
    return DiagnosisSetup(config, IARCTask("IARC"), run, steps, every, eval_size=20)


def test_diagnose_records_every_layer_at_init_every_and_the_end():
    result = diagnose(_tiny_setup(steps=3, every=2), show_progress=False)
    assert [r["step"] for r in result["records"]] == [0, 2, 3]
    assert len(result["losses"]) == 3
    for record in result["records"]:
        assert set(record["layers"]) == {*LAYER_KEYS, "max_weight_slope_query"}
        assert all(0 <= q < 24 for q in record["layers"]["max_weight_slope_query"])
        assert all(len(values) == 2 for values in record["layers"].values())  # two layers
        assert all(math.isfinite(v) for values in record["layers"].values() for v in values)
        assert record["layers"]["grad_norm"][0] > 0 and 0 <= record["accuracy"] <= 1
    json.dumps(result)  # JSON-ready as it is
    s = summary(result)
    assert s["final_accuracy"] == result["records"][-1]["accuracy"]
    assert set(s["init"]) == set(LAYER_KEYS)
    table = summary_table([("tiny", result)]).splitlines()
    assert len(table) == 3 and table[2].startswith(f"| tiny | {s['final_accuracy']:.3f} |")


def test_diagnose_is_deterministic_and_refuses_other_architectures():
    first = diagnose(_tiny_setup(steps=2, every=1), show_progress=False)
    again = diagnose(_tiny_setup(steps=2, every=1), show_progress=False)
    assert first["losses"] == again["losses"]
    assert first["records"][-1]["layers"] == again["records"][-1]["layers"]
    setup = _tiny_setup()
    setup.config = small_config("mlp")
    with pytest.raises(ValueError, match="architecture='transformer'"):
        diagnose(setup, show_progress=False)


def test_stream_gradient_is_that_of_the_residual_stream():
    """The last block's |dL/dx| equals the gradient norm of the final norm's input."""
    config = small_config("transformer-ea", num_hidden_layers=2)
    torch.manual_seed(0)
    model = IARCModel(config)
    probe, seen = LayerProbe(model), {}

    def keep(module, args):
        args[0].register_hook(lambda grad: seen.setdefault("grad", grad))

    model.final_norm.register_forward_pre_hook(keep)
    inputs = random_inputs(config, 4, torch.Generator().manual_seed(1))
    probe.start()
    out = model(**inputs, labels=inputs["input_ids"], output_attentions=True)
    probe.stop()
    out.loss.backward()
    assert probe.stream_grad[1] == pytest.approx(seen["grad"].norm().item(), rel=1e-5)
    assert probe.stream_grad[0] > 0


@pytest.fixture(scope="module")
def tiny_result():
    return diagnose(_tiny_setup(steps=1, every=1), show_progress=False)


def test_diagnosis_plot_is_written(tmp_path, tiny_result):
    assert plot_diagnosis(tiny_result, tmp_path / "one.png", "tiny").stat().st_size > 0


def test_comparison_plot_is_written_and_older_results_without_a_key_plot_too(tmp_path, tiny_result):
    older = json.loads(json.dumps(tiny_result))
    for record in older["records"]:
        del record["layers"]["max_weight_slope"]
    png = plot_comparison([("a", tiny_result), ("b", older)], tmp_path / "two.png", "tiny")
    assert png.stat().st_size > 0
    assert "| b |" in summary_table([("b", older)])  # the missing column reads nan


@pytest.mark.integration
def test_script_writes_json_and_plots_and_compares(tmp_path):
    import subprocess
    import sys

    script = [sys.executable, "scripts/diagnose.py", "--output_dir", str(tmp_path)]
    tiny = ["--model_config", '{"num_hidden_layers": 2}', "--max_steps", "2", "--every", "1"]
    subprocess.run([*script, *tiny, "--eval_size", "20", "--name", "tiny"], check=True)
    result = json.loads((tmp_path / "tiny.json").read_text())
    assert result["summary"]["final_accuracy"] == result["records"][-1]["accuracy"]
    assert (tmp_path / "tiny.png").stat().st_size > 0
    assert "--max_steps 2" in result["command"]
    both = [str(tmp_path / "tiny.json")] * 2
    subprocess.run([*script, "--compare", *both, "--output", str(tmp_path / "c.png")], check=True)
    assert (tmp_path / "c.png").stat().st_size > 0
    bad = subprocess.run([*script, "--model_config", "[1]"], capture_output=True, text=True)
    assert bad.returncode != 0 and "--model_config must be a JSON object" in bad.stderr


def test_default_names_say_the_overrides_and_a_seed_other_than_0():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from diagnose import _setup, parser

    def name(*argv):
        return _setup(parser().parse_args(["--preset", "cisformer-ea", *argv]))[1]

    assert name() == "cisformer-ea_sgd"
    assert name("--seed", "2", "--model_config", '{"pre_projection": true}') == (
        "cisformer-ea_sgd_pre_projection=True_seed2"
    )
    assert name("--seed", "2", "--name", "mine") == "mine"
