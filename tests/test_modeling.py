"""IARCModel over every preset and option: shapes, causality, learning, checkpoints."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from model_cases import (
    OPTION_CASES,
    assert_overfits,
    option_config,
    random_inputs,
    small_config,
)
from safetensors.torch import load_file, save_file
from transformers import AutoModel

import iarc_hf  # noqa: F401  (registers the Auto classes)
from iarc_hf.configuration_iarc import PRESETS, READINGS
from iarc_hf.modeling_iarc import IARCModel, IARCOutput


def make_model(config, seed=0):
    torch.manual_seed(seed)
    return AutoModel.from_config(config)


@pytest.mark.parametrize("case", OPTION_CASES)
def test_forward_backward_shapes(case):
    config = option_config(case)
    model = make_model(config)
    inputs = random_inputs(config, 3, torch.Generator().manual_seed(0))
    labels = torch.randint(0, config.n_symbols, (3, config.context_length))
    labels[:, :2] = -100
    out = model(**inputs, labels=labels)
    assert isinstance(out, IARCOutput)
    assert out.logits.shape == (3, config.context_length, config.n_symbols)
    per_position = torch.nn.functional.cross_entropy(
        out.logits.flatten(0, 1), labels.flatten(), reduction="none"
    ).view(3, -1)  # 0 where the label is -100
    expected = {
        "mean": per_position[:, 2:].mean(),
        "sum": per_position.sum() / 3,
        "last": per_position[:, -1].mean(),
    }[config.loss_reduction]
    torch.testing.assert_close(out.loss, expected)  # -100 ignored, no shift
    out.loss.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.shape == param.shape, name
        assert torch.isfinite(param.grad).all(), name
    assert any(p.grad.abs().sum() > 0 for p in model.parameters())


@pytest.mark.parametrize("case", OPTION_CASES)
def test_causality(case):
    """Changing positions >= t leaves the outputs at positions < t unchanged."""
    config = option_config(case)
    model = make_model(config).eval()
    generator = torch.Generator().manual_seed(1)
    inputs = random_inputs(config, 2, generator)
    with torch.no_grad():
        before = model(**inputs).logits
        for t in (1, config.context_length // 2, config.context_length - 1):
            changed = {k: v.clone() for k, v in inputs.items()}
            changed["input_ids"][:, t:] = (
                changed["input_ids"][:, t:] + 1
            ) % config.input_vocab_size
            if "control_ids" in changed:
                changed["control_ids"][:, t:] = (changed["control_ids"][:, t:] + 1) % (
                    config.n_controls + 1
                )
            after = model(**changed).logits
            torch.testing.assert_close(after[:, :t], before[:, :t], atol=1e-6, rtol=0)
            assert not torch.allclose(after[:, t], before[:, t])  # position t does see its input


@pytest.mark.parametrize("preset", PRESETS)
def test_tiny_batch_is_overfit(preset):
    config = small_config(preset)
    model = make_model(config).train()
    generator = torch.Generator().manual_seed(2)
    inputs = random_inputs(config, 8, generator)
    inputs["input_ids"][:, 0] = torch.arange(8)  # every prefix tells the window apart
    labels = torch.randint(0, config.n_symbols, (8, config.context_length), generator=generator)
    assert_overfits(model, inputs, labels)


def test_pre_projection_and_content_skip_start_as_the_plain_block():
    config = small_config("transformer-ea", pre_projection=True, content_skip=True)
    model = make_model(config).eval()
    inputs = random_inputs(config, 2, torch.Generator().manual_seed(3))
    with torch.no_grad():
        with_extras = model(**inputs).logits
        for layer in model.stack.layers:
            layer.pre_projection = layer.content_skip = None
        plain = model(**inputs).logits
    torch.testing.assert_close(with_extras, plain)


def test_content_skip_gate_learns_from_zero():
    config = small_config("cisformer-ea", content_skip=True)
    model = make_model(config)
    inputs = random_inputs(config, 2, torch.Generator().manual_seed(4))
    model(**inputs, labels=inputs["input_ids"] % config.n_symbols).loss.backward()
    for layer in model.stack.layers:
        assert layer.content_skip.alpha.item() == 0 and layer.content_skip.alpha.grad != 0


def test_cisformer_weights_are_per_position_and_batched():
    model = make_model(small_config("cisformer-dpa"))
    L = model.config.context_length
    qkv = model.stack.layers[0].attn.qkv
    assert qkv.weight.shape == (L, 20, 60) and qkv.bias.shape == (L, 1, 60)
    # changing position 5's query/key/value weights changes outputs at 5 and later only
    inputs = random_inputs(model.config, 2, torch.Generator().manual_seed(5))
    with torch.no_grad():
        before = model(**inputs).logits
        qkv.weight[5] += torch.randn(
            qkv.weight[5].shape
        )  # (not a constant: LayerNorm output sums to 0)
        after = model(**inputs).logits
    torch.testing.assert_close(after[:, :5], before[:, :5])
    assert not torch.allclose(after[:, 5], before[:, 5])


@pytest.mark.parametrize("preset", PRESETS)
def test_bfloat16_forward_runs(preset):
    config = small_config(preset)
    model = make_model(config).to(torch.bfloat16)
    inputs = random_inputs(config, 2, torch.Generator().manual_seed(6))
    out = model(**inputs, labels=inputs["input_ids"], output_attentions=True)
    assert out.logits.dtype == torch.bfloat16 and torch.isfinite(out.logits).all()
    assert torch.isfinite(out.loss)


def test_inline_encoding_rejects_tape_controls():
    config = small_config("transformer-dpa", encoding="inline")
    inputs = random_inputs(config, 2, torch.Generator().manual_seed(7))
    with pytest.raises(ValueError, match="control_ids"):
        make_model(config)(**inputs, control_ids=torch.ones_like(inputs["input_ids"]))


def test_position_wise_models_reject_windows_longer_than_context():
    config = small_config("mlp", context_length=8)
    with pytest.raises(ValueError, match="context_length"):
        make_model(config)(input_ids=torch.zeros(1, 9, dtype=torch.long))


def test_return_dict_false_gives_a_tuple():
    config = small_config("lstm")
    inputs = random_inputs(config, 2, torch.Generator().manual_seed(8))
    loss, logits = make_model(config)(**inputs, labels=inputs["input_ids"], return_dict=False)
    assert loss.ndim == 0 and logits.shape == (2, config.context_length, config.n_symbols)


# ----- checkpoints: saved by each preset, loaded where iarc_hf cannot be imported

LOADER = """
import sys
sys.modules["iarc_hf"] = None  # the package is installed (editable) here: make it unimportable
import json, pathlib
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel

torch.set_num_threads(1)
root = pathlib.Path(sys.argv[1])
for folder in sorted(p for p in root.iterdir() if p.is_dir()):
    model = AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
    assert "iarc_hf" not in type(model).__module__, type(model).__module__
    inputs = load_file(root / f"{folder.name}.inputs.safetensors")
    with torch.no_grad():
        logits = model(**inputs).logits
    save_file({"logits": logits.contiguous()}, root / f"{folder.name}.loaded.safetensors")
    print(folder.name, type(model).__module__, model.num_parameters())
"""


def load_without_package(root, threads: int, timeout: int = 600) -> str:
    """LOADER on every saved folder under `root`, in one fresh Python in which iarc_hf cannot be
    imported (offline, its own HF_HOME, `threads` OpenMP threads); its stdout."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(root / "hf_home"), OMP_NUM_THREADS=str(threads))
    result = subprocess.run([sys.executable, "-I", "-c", LOADER, str(root)], cwd=root, env=env,
                            capture_output=True, text=True, timeout=timeout)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


# every preset, and every non-default reading of the paper (on the EA transformer)
SAVED = {preset: (preset, {}) for preset in PRESETS} | {
    f"reading-{field}={value}": ("transformer-ea", {field: value})
    for field, values in READINGS.items()
    for value in values[1:]
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Every SAVED case (small) saved with save_pretrained, and its logits before saving."""
    root = tmp_path_factory.mktemp("checkpoints")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread on both sides: BLAS then reduces in the same order
    try:
        return root, _save_every_case(root)
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def checkpoints(saved):
    """The saved cases loaded by one fresh Python in which iarc_hf cannot be imported."""
    root, expected = saved
    return root, expected, load_without_package(root, threads=1, timeout=300)


def _save_every_case(root):
    expected = {}
    for preset, (base, overrides) in SAVED.items():
        config = small_config(base, **overrides)
        model = make_model(config).eval()
        inputs = random_inputs(config, 2, torch.Generator().manual_seed(9))
        with torch.no_grad():
            expected[preset] = model(**inputs).logits
        model.save_pretrained(root / preset)
        save_file(inputs, root / f"{preset}.inputs.safetensors")
    return expected


@pytest.mark.parametrize("preset", PRESETS)
def test_checkpoint_is_safetensors_config_and_code_only(saved, preset):
    root, _ = saved
    folder = root / preset
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "configuration_iarc.py",
        "model.safetensors",
        "modeling_iarc.py",
    ]
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "iarc"
    assert config["auto_map"] == {
        "AutoConfig": "configuration_iarc.IARCConfig",
        "AutoModel": "modeling_iarc.IARCModel",
    }
    code = (folder / "modeling_iarc.py").read_text()
    assert "iarc_hf" not in code and "iarc_hf" not in (folder / "configuration_iarc.py").read_text()
    assert set(load_file(folder / "model.safetensors")) == set(
        make_model(small_config(preset)).state_dict()
    )


@pytest.mark.integration
@pytest.mark.parametrize("preset", SAVED)
def test_checkpoint_loads_without_iarc_hf_with_the_same_logits(checkpoints, preset):
    root, expected, stdout = checkpoints
    line = next(line for line in stdout.splitlines() if line.startswith(preset + " "))
    assert "transformers_modules" in line  # the remote code copied into the folder, not the package
    loaded = load_file(root / f"{preset}.loaded.safetensors")["logits"]
    # Across processes BLAS may still pick other kernels (memory alignment), and 12 position-wise
    # EA layers amplify the last bits: CI saw up to 2e-4 with two threads on each side. A wrong
    # weight, buffer or code path moves these logits (of order 1) by 1e-2 and more.
    torch.testing.assert_close(loaded, expected[preset], rtol=1e-3, atol=1e-3)


def test_checkpoint_reloads_in_process(tmp_path):
    config = small_config("cisformer-cog", num_hidden_layers=3)
    model = make_model(config).eval()
    model.save_pretrained(tmp_path)
    reloaded = IARCModel.from_pretrained(tmp_path).eval()
    inputs = random_inputs(config, 2, torch.Generator().manual_seed(10))
    with torch.no_grad():
        assert torch.equal(model(**inputs).logits, reloaded(**inputs).logits)
    assert Path(tmp_path, "model.safetensors").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("input_ids", 16, r"input_ids must be integers in \[0, 15\], got 16"),
        ("input_ids", -1, r"input_ids must be integers in \[0, 15\], got -1"),
        ("control_ids", 5, r"control_ids must be integers in \[0, 4\], got 5"),
        ("labels", 16, r"labels must be integers in \[0, 15\] or -100, got 16"),
        ("input_ids", 1.0, r"input_ids must be integers in \[0, 15\], got dtype torch.float32"),
        ("control_ids", 1.0, r"control_ids must be .* got dtype torch.float32"),
    ],
)
def test_bad_ids_name_the_field_and_the_allowed_range(field, value, message):
    config = small_config("transformer-dpa")
    model = make_model(config)
    inputs = random_inputs(config, 2, torch.Generator().manual_seed(5))
    inputs["labels"] = inputs["input_ids"].clone()
    inputs["labels"][:, 0] = -100  # ignored labels are allowed
    if isinstance(value, float):
        inputs[field] = inputs[field].float()
    else:
        inputs[field][1, 3] = value
    with pytest.raises(ValueError, match=message):
        model(**inputs)


def bad_shape_inputs(inputs: dict, case: str) -> dict:
    ids, controls = inputs["input_ids"], inputs["control_ids"]
    return {
        "1-D": {"input_ids": ids[0]},
        "3-D": {"input_ids": ids[None]},
        "empty window": {"input_ids": ids[:, :0]},
        "a list": {"input_ids": ids.tolist()},
        "shorter controls": {"input_ids": ids, "control_ids": controls[:, :-1]},
        "fewer control rows": {"input_ids": ids, "control_ids": controls[:1]},
        "labels of another shape": {"input_ids": ids, "labels": ids[:, :-1]},
    }[case]


@pytest.mark.parametrize(
    "case, message",
    [
        ("1-D", r"input_ids must be a tensor of shape \(batch, length\).*got \(8,\).*input_ids\[None\]"),
        ("3-D", r"input_ids must be a tensor of shape \(batch, length\).*got \(1, 2, 8\)"),
        ("empty window", r"input_ids .* length >= 1, got \(2, 0\)"),
        ("a list", r"input_ids must be a tensor .*got list"),
        ("shorter controls", r"control_ids must have the shape of input_ids \(2, 8\), got \(2, 7\)"),
        ("fewer control rows", r"control_ids must have the shape of input_ids \(2, 8\), got \(1, 8\)"),
        ("labels of another shape", r"labels must have the shape of input_ids \(2, 8\), got \(2, 7\)"),
    ],
)  # fmt: skip
def test_inputs_of_the_wrong_shape_get_a_one_line_error(case, message):
    config = small_config("transformer-dpa", context_length=8)
    inputs = random_inputs(config, 2, torch.Generator().manual_seed(3))
    with pytest.raises(ValueError, match=message):
        make_model(config)(**bad_shape_inputs(inputs, case))


@pytest.mark.parametrize("dtype", [torch.int32, torch.int16, torch.uint8])
@pytest.mark.parametrize("preset", ["transformer-dpa", "cisformer-ea", "mlp", "lstm"])
def test_narrow_integer_ids_give_the_int64_result(preset, dtype):
    config = small_config(preset)
    model = make_model(config).eval()
    inputs = random_inputs(config, 2, torch.Generator().manual_seed(4))
    inputs["labels"] = inputs["input_ids"].roll(-1, dims=1)
    expected = model(**inputs)
    narrow = model(**{key: value.to(dtype) for key, value in inputs.items()})
    assert torch.equal(narrow.logits, expected.logits) and torch.equal(narrow.loss, expected.loss)
