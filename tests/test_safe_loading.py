"""Checkpoints load as IARC models by the package's own classes (iarc_hf.hub.safe_loading): a
folder's or Hub repo's code never runs; another model type is refused from config.json alone; a model
too large for the explorer is refused before a weight is fetched; pickles are never opened; a
broken safetensors file is one line naming it. The CLIs (evaluate, plot_attention, train) load
the same way."""

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from checkpoint_traps import FakeHub, run_trap_code, trap_folder, with_config
from safetensors.torch import load_file, save_file
from tiny_checkpoints import tiny_checkpoint

from iarc_hf import IARCConfig, IARCModel, IARCTask
from iarc_hf.data.generator import generate_split
from iarc_hf.eval.evaluation import load_for_evaluation, predict
from iarc_hf.hub.safe_loading import CheckpointError, SizeLimits, hub_source, load_checkpoint

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp("safe-loading") / "good")


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "remote-code-ran"


@pytest.fixture
def hub(tmp_path, monkeypatch):
    fake = FakeHub(tmp_path / "hub-cache", {})
    monkeypatch.setattr("huggingface_hub.hf_hub_download", fake.download)
    return fake


def assert_same_predictions(model, folder):
    batch = generate_split(IARCTask(), "validation", 8, seed=0)
    reference = IARCModel.from_pretrained(folder, use_safetensors=True)
    np.testing.assert_array_equal(predict(model, batch), predict(reference, batch))


def test_the_trap_is_real(good, tmp_path, marker):
    run_trap_code(trap_folder(good, tmp_path / "trap", marker))
    assert marker.read_text() == "remote code ran"


def test_a_trap_folder_loads_as_iarc_without_running_its_code(good, tmp_path, marker):
    trap = trap_folder(good, tmp_path / "trap", marker)
    model, task = load_for_evaluation(str(trap))
    assert type(model) is IARCModel and task == IARCTask()
    assert not marker.exists()
    assert_same_predictions(model, good)


@pytest.mark.parametrize("model_type", ["llama", "gpt2", None])
def test_another_model_type_is_refused(good, tmp_path, marker, model_type):
    trap = trap_folder(good, tmp_path / "trap", marker, model_type=model_type)
    only = r"\('iarc', 'iarc_backbone'\)"  # the wrapped transformers backbones load too
    message = rf"^trap: model_type {model_type!r} is not an IARC model; only {only} load$"
    with pytest.raises(CheckpointError, match=message):
        load_for_evaluation(str(trap))
    assert not marker.exists()


def test_a_hub_repo_of_another_type_is_refused_from_its_config_alone(good, tmp_path, marker, hub):
    hub.repos["someone/llama"] = trap_folder(good, tmp_path / "llama", marker, "llama")
    with pytest.raises(CheckpointError, match="someone/llama: model_type 'llama' is not an IARC"):
        load_checkpoint(hub_source("someone/llama", scratch=True), SizeLimits())
    assert hub.files() == ["config.json"] and not marker.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"num_hidden_layers": 10**6},
            r"num_hidden_layers=1000000 is above the most served \(64\)",
        ),
        ({"num_hidden_layers": "2"}, "num_hidden_layers must be an integer, got '2'"),
        (
            {"embedding": "learned", "hidden_size": 1024, "num_hidden_layers": 8},
            r"[\d,]+ parameters; at most 10,000,000 are served",
        ),
    ],
)
def test_an_oversized_hub_config_is_refused_before_its_weights(good, tmp_path, hub, changes,
                                                               message):  # fmt: skip
    hub.repos["someone/big"] = with_config(good, tmp_path / "big", **changes)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(hub_source("someone/big"), SizeLimits())
    assert hub.files() == ["config.json"]


def test_oversized_hub_weights_are_refused_before_download(good, hub, monkeypatch):
    hub.repos["someone/heavy"] = good
    sizes = {"config.json": 1_000, "model.safetensors": 10**12}
    monkeypatch.setattr("huggingface_hub.is_offline_mode", lambda: False)
    monkeypatch.setattr("huggingface_hub.hf_hub_url", lambda repo_id, filename: filename)
    monkeypatch.setattr(
        "huggingface_hub.get_hf_file_metadata", lambda url: SimpleNamespace(size=sizes[url])
    )
    with pytest.raises(CheckpointError, match="model.safetensors is 1,000,000,000,000 bytes"):
        load_checkpoint(hub_source("someone/heavy"), SizeLimits())
    assert hub.files() == ["config.json"]


def test_a_hub_iarc_model_loads_from_its_config_weights_and_args_alone(good, tmp_path, marker,
                                                                       hub, monkeypatch):  # fmt: skip
    hub.repos["someone/iarc"] = trap_folder(good, tmp_path / "repo", marker)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    model, task = load_checkpoint(hub_source("someone/iarc", scratch=True), SizeLimits())
    assert hub.files() == ["config.json", "model.safetensors", "training_args.json"]
    assert not marker.exists() and task == IARCTask()
    assert not list(scratch.iterdir())  # the downloads' temp folder is gone
    assert_same_predictions(model, good)


def test_broken_weights_are_one_line_naming_the_file(good, tmp_path):
    broken = with_config(good, tmp_path / "broken")
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(CheckpointError) as error:
        load_for_evaluation(str(broken))
    assert str(error.value).startswith("broken: model.safetensors is not a readable safetensors")
    assert "\n" not in str(error.value)

    partial = with_config(good, tmp_path / "partial")
    tensors = load_file(partial / "model.safetensors")
    dropped = sorted(tensors)[0]
    save_file({k: v for k, v in tensors.items() if k != dropped}, partial / "model.safetensors")
    with pytest.raises(CheckpointError, match=f"partial: model.safetensors lacks 1 of the model's tensors, e.g. {dropped}"):  # fmt: skip
        load_for_evaluation(str(partial))


def test_pickled_weights_are_never_loaded(good, tmp_path):
    pickled = with_config(good, tmp_path / "pickled")
    tensors = load_file(pickled / "model.safetensors")
    (pickled / "model.safetensors").unlink()
    torch.save(tensors, pickled / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match="^pickled: no model.safetensors in this folder$"):
        load_for_evaluation(str(pickled))


def test_evaluate_script_runs_a_trap_folder_without_its_code(good, tmp_path, marker):
    import evaluate as evaluate_script

    metrics = evaluate_script.main([str(trap_folder(good, tmp_path / "trap", marker)), "--size", "40"])  # fmt: skip
    assert 0 <= metrics["accuracy"] <= 1 and not marker.exists()
    llama = trap_folder(good, tmp_path / "llama", marker, "llama")
    with pytest.raises(SystemExit, match="model_type 'llama' is not an IARC model"):
        evaluate_script.main([str(llama), "--size", "40"])
    assert not marker.exists()


def test_plot_attention_script_runs_a_trap_folder_without_its_code(good, tmp_path, marker):
    import plot_attention

    trap = trap_folder(good, tmp_path / "trap", marker)
    output = plot_attention.main([str(trap), "--size", "5", "--output", str(tmp_path / "a.png")])
    assert output.is_file() and not marker.exists()
    llama = trap_folder(good, tmp_path / "llama", marker, "llama")
    with pytest.raises(SystemExit, match="model_type 'llama' is not an IARC model"):
        plot_attention.main([str(llama), "--size", "5", "--output", str(tmp_path / "b.png")])
    assert not marker.exists()


def test_training_from_a_trap_folder_uses_the_package_classes(good, tmp_path, marker):
    import train as train_script

    from iarc_hf.training.arguments import build_model_config
    from iarc_hf.training.loop import train

    trap = trap_folder(good, tmp_path / "trap", marker)
    args = ["--model_name_or_path", str(trap), "--output_dir", str(tmp_path / "out"),
            "--max_steps", "1", "--per_device_train_batch_size", "4", "--eval_size", "8",
            "--test_size", "8", "--eval_steps", "1"]  # fmt: skip
    model_args, data_args, run_args = train_script.parse(args)
    assert type(build_model_config(model_args, data_args.task())) is IARCConfig
    train(model_args, data_args, run_args, command="test", show_progress=False)
    assert (tmp_path / "out" / "model.safetensors").is_file() and not marker.exists()

    model_args.model_name_or_path = str(trap_folder(good, tmp_path / "llama", marker, "llama"))
    with pytest.raises(ValueError, match=r"^--model_name_or_path .*llama: model_type 'llama' is"):
        build_model_config(model_args, data_args.task())
    assert not marker.exists()


def test_a_missing_folder_is_named(tmp_path):
    missing = str(tmp_path / "no-such-model")
    with pytest.raises(CheckpointError, match="no such folder, and not a Hub id"):
        load_for_evaluation(missing)
