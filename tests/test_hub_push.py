"""`push_model_folder` uploads the model's files only: never checkpoints, logs or stray files."""

import json

import torch
from huggingface_hub.utils import filter_repo_objects

from iarc_hf.configuration_iarc import IARCConfig
from iarc_hf.hub.push import publishable_files, push_model_folder
from iarc_hf.modeling_iarc import IARCModel

FINISH_FILES = ["README.md", "all_results.json", "metrics.jsonl", "training_args.json"]
MODEL_FILES = ["config.json", "configuration_iarc.py", "model.safetensors", "modeling_iarc.py"]


def saved_run(folder):
    """A training folder as `finalize_run` leaves it, plus what else a run folder may hold."""
    torch.manual_seed(0)
    IARCModel(IARCConfig.from_preset("transformer-dpa", num_hidden_layers=1)).save_pretrained(
        folder
    )
    for name in [*FINISH_FILES, "training_curve.png"]:
        (folder / name).write_text("{}")
    checkpoint = folder / "checkpoint-2"
    checkpoint.mkdir()
    for name in ("model.safetensors", "config.json", "optimizer.pt"):
        (checkpoint / name).write_text("x")
    (folder / "tracker").mkdir()  # an accelerate tracker's project folder
    (folder / "tracker" / "events.out").write_text("x")
    for stray in ("train.log", "notes.txt", "scratch.py", ".README.md.partial", "stdout.txt"):
        (folder / stray).write_text("x")
    return folder


def uploaded(folder, patterns) -> list[str]:
    """The paths `upload_folder(allow_patterns=patterns)` sends: it filters the same way."""
    paths = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    return sorted(filter_repo_objects(paths, allow_patterns=patterns))


def test_push_uploads_only_the_model_files(tmp_path, hub_calls):
    folder = saved_run(tmp_path / "run")
    push_model_folder(folder, "someone/iarc-tiny")
    (_, repo_id, _), (_, upload) = hub_calls
    assert repo_id == "someone/iarc-tiny" and upload["folder_path"] == str(folder)
    expected = sorted([*FINISH_FILES, *MODEL_FILES, "training_curve.png"])
    assert upload["allow_patterns"] == expected
    assert uploaded(folder, upload["allow_patterns"]) == expected


def test_remote_code_follows_the_auto_map_and_its_imports(tmp_path):
    """A model whose auto_map names another module (a zoo adapter, say) ships that module and
    what it imports; sharded weights ship whole."""
    folder = tmp_path / "zoo"
    folder.mkdir()
    config = {"auto_map": {"AutoConfig": "configuration_zoo.ZooConfig", "AutoModel": "adapter.Zoo"}}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "configuration_zoo.py").write_text("class ZooConfig: ...\n")
    (folder / "adapter.py").write_text("from .configuration_zoo import ZooConfig\nfrom .heads import H\n")  # fmt: skip
    (folder / "heads.py").write_text("H = 1\n")
    (folder / "unused.py").write_text("x = 1\n")
    for name in ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                 "model.safetensors.index.json", "optimizer.safetensors"):  # fmt: skip
        (folder / name).write_text("x")
    assert publishable_files(folder) == [
        "adapter.py",
        "config.json",
        "configuration_zoo.py",
        "heads.py",
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
        "model.safetensors.index.json",
    ]
