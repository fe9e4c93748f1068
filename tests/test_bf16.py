"""--bf16 in train.py: every attention trains under it with float32 parameters, a bf16 run resumes
bit-identically, and a checkpoint resumes only under the precision it was trained with."""

import json
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import train as train_script  # noqa: E402

from iarc_hf.configuration_iarc import ATTENTIONS  # noqa: E402
from iarc_hf.training.loop import train  # noqa: E402

TINY = [
    "--preset", "transformer-dpa", "--num_hidden_layers", "1", "--max_steps", "8",
    "--per_device_train_batch_size", "16", "--per_device_eval_batch_size", "64",
    "--eval_size", "50", "--test_size", "100", "--logging_steps", "2", "--eval_steps", "4",
    "--save_steps", "4",
]  # fmt: skip


def run_train(out, *extra, stop_after=None):
    arguments = train_script.parse(["--output_dir", str(out), *TINY, *extra])
    return train(*arguments, command="test", stop_after=stop_after)


def losses(out) -> list[float]:
    lines = (Path(out) / "metrics.jsonl").read_text().splitlines()
    return [r["loss"] for r in map(json.loads, lines) if "loss" in r]


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_every_attention_trains_under_bf16_with_float32_parameters(tmp_path, attention):
    run_train(tmp_path, "--bf16", "--attention", attention)
    logged = losses(tmp_path)
    assert len(logged) == 4 and all(torch.isfinite(torch.tensor(logged)))
    saved = load_file(str(tmp_path / "model.safetensors"))
    assert {str(t.dtype) for t in saved.values()} == {"torch.float32"}


def test_a_bf16_run_resumes_bit_identically(tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    run_train(straight, "--bf16")
    assert run_train(resumed, "--bf16", stop_after=4) is None
    run_train(resumed, "--bf16", "--resume_from_checkpoint", "latest")
    a, b = (load_file(str(folder / "model.safetensors")) for folder in (straight, resumed))
    assert all(torch.equal(a[name], b[name]) for name in a)


@pytest.mark.parametrize("first, then", [([], ["--bf16"]), (["--bf16"], [])])
def test_a_checkpoint_resumes_only_under_its_own_precision(tmp_path, first, then):
    assert run_train(tmp_path, *first, stop_after=4) is None
    with pytest.raises(ValueError, match=r"that run trained with bf16=.*resume with the same"):
        run_train(tmp_path, *then, "--resume_from_checkpoint", "latest")
