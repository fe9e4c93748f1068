"""`scripts/train.py --model_type llama --model_config '{...}'`: the trained checkpoint, its card,
and its logits again in a Python where iarc_hf cannot be imported."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from test_modeling import LOADER

from iarc_hf import IARCBackboneModel

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[1]
LLAMA = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 4}  # fmt: skip


def test_a_llama_trained_by_the_cli_loads_without_the_package(tmp_path):
    out = tmp_path / "models" / "llama"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, str(REPO / "scripts" / "train.py"), "--output_dir", str(out),
               "--model_type", "llama", "--model_config", json.dumps(LLAMA), "--max_steps", "6",
               "--optimizer", "adamw", "--learning_rate", "3e-3", "--eval_steps", "3",
               "--save_steps", "3", "--eval_size", "50", "--test_size", "100"]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "iarc_backbone" and config["backbone"]["model_type"] == "llama"
    card = (out / "README.md").read_text()
    assert "llama backbone" in card and '"hidden_size": 32' in card and "oracle" in card
    params = json.loads((out / "all_results.json").read_text())["params"]
    assert f"{params:,}" in card

    model = IARCBackboneModel.from_pretrained(out).eval()
    g = torch.Generator().manual_seed(0)
    batch = {"input_ids": torch.randint(0, 16, (2, 24), generator=g),
             "control_ids": torch.randint(0, 5, (2, 24), generator=g)}  # fmt: skip
    with torch.no_grad():
        expected = model(**batch).logits
    root = tmp_path / "models"
    save_file(batch, root / "llama.inputs.safetensors")
    loader_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    loader_env.update(
        HF_HOME=str(tmp_path / "hf_home"), OMP_NUM_THREADS=str(torch.get_num_threads())
    )
    loaded = subprocess.run([sys.executable, "-I", "-c", LOADER, str(root)], cwd=root,
                            env=loader_env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert "transformers_modules" in loaded.stdout
    logits = load_file(root / "llama.loaded.safetensors")["logits"]
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-5)
