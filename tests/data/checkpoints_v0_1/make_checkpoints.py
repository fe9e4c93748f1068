"""How the checkpoints in this folder were made: run once with iarc-hf 0.1.0, before the package
was split into subpackages, and never again (they stand for checkpoints published by that
release; tests/test_old_checkpoints.py loads them with the current package).

    python tests/data/checkpoints_v0_1/make_checkpoints.py

Each folder holds what `save_pretrained` wrote (config.json with its `auto_map`, and
model.safetensors; the remote-code copies are dropped to keep the fixtures small: loading with
the package never reads them), a training_args.json with the task, and expected.safetensors:
a fixed batch (`input_ids`, `control_ids`) and the logits the model gave for it.
"""

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from iarc_hf import (
    IARCBackboneConfig,
    IARCBackboneModel,
    IARCConfig,
    IARCModel,
    IARCTask,
    generate_split,
)

HERE = Path(__file__).resolve().parent
# A small alphabet and short windows keep each folder at a few KB.
TASK = IARCTask("IARC", n_symbols=4, max_gap=3, context_length=6)
SIZES = dict(n_symbols=TASK.n_symbols, n_controls=TASK.n_controls, context_length=6)


def models() -> dict:
    return {
        "cisformer-ea": IARCModel(
            IARCConfig.from_preset(
                "cisformer-ea",
                num_hidden_layers=1,
                num_attention_heads=2,
                ffn_expansion=1,
                **SIZES,
            )
        ),
        "lstm": IARCModel(
            IARCConfig.from_preset("lstm", num_hidden_layers=1, lstm_hidden_size=16, **SIZES)
        ),
        "llama-backbone": IARCBackboneModel(
            IARCBackboneConfig(
                backbone={
                    "model_type": "llama",
                    "hidden_size": 8,
                    "intermediate_size": 16,
                    "num_hidden_layers": 1,
                    "num_attention_heads": 2,
                    "num_key_value_heads": 2,
                    "max_position_embeddings": 8,
                },
                **SIZES,
            )
        ),
    }


def main() -> None:
    torch.manual_seed(0)
    batch = generate_split(TASK, "validation", 4, seed=0)
    inputs = {
        "input_ids": torch.as_tensor(batch["input_ids"], dtype=torch.int64),
        "control_ids": torch.as_tensor(batch["control_ids"], dtype=torch.int64),
    }
    for name, model in models().items():
        folder = HERE / name
        model.eval().save_pretrained(folder)
        for code in folder.glob("*.py"):
            code.unlink()
        (folder / "training_args.json").write_text(json.dumps({"task": TASK.to_dict()}) + "\n")
        with torch.no_grad():
            logits = model(**inputs).logits
        save_file({**inputs, "logits": logits.contiguous()}, str(folder / "expected.safetensors"))
        print(f"{folder}: {sum(f.stat().st_size for f in folder.iterdir()):,} bytes")


if __name__ == "__main__":
    main()
