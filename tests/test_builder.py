"""`load_dataset("iarc", ...)`, `load_iarc`, and the published dataset folder."""

import json
import subprocess
import sys
from pathlib import Path

import datasets
import numpy as np
import pytest
from datasets import load_dataset

import iarc_hf  # noqa: F401 - registers "iarc" with datasets
from iarc_hf.data.builder import all_control_sets, load_iarc
from iarc_hf.data.generator import FIELDS, generate_split
from iarc_hf.data.tasks import PUBLISHED_CONFIGS, IARCTask
from iarc_hf.hub.dataset_repo import build_dataset_repo, push_dataset_repo
from iarc_hf.hub.push import HubPushError

SMALL = {"train_size": 300, "validation_size": 100, "test_size": 200}


def test_the_name_hook_is_registered():
    # guards the one datasets internal we rely on (see register_with_datasets)
    assert getattr(datasets.load.dataset_module_factory, "_iarc_registered", False)


@pytest.mark.parametrize("config", PUBLISHED_CONFIGS)
def test_load_dataset_by_name(config, tmp_path):
    ds = load_dataset("iarc", config, cache_dir=str(tmp_path), **SMALL)
    assert {split: len(d) for split, d in ds.items()} == {
        "train": 300,
        "validation": 100,
        "test": 200,
    }
    assert ds["train"].column_names == list(FIELDS)
    test = ds["test"].with_format("numpy")[:]
    expected = generate_split(IARCTask(config), "test", 200, seed=0)
    for key in FIELDS:
        np.testing.assert_array_equal(test[key], expected[key], err_msg=key)


def test_every_control_set_is_a_config():
    assert set(all_control_sets()) >= set(PUBLISHED_CONFIGS)
    assert "C" not in all_control_sets()
    assert len(all_control_sets()) == 14


def test_knobs_and_seed_are_keywords(tmp_path):
    ds = load_iarc("IA", max_gap=5, context_length=12, seed=3, cache_dir=str(tmp_path), **SMALL)
    assert len(ds["test"][0]["input_ids"]) == 12
    expected = generate_split(IARCTask("IA", max_gap=5, context_length=12), "test", 200, seed=3)
    np.testing.assert_array_equal(
        ds["test"].with_format("numpy")[:]["input_ids"], expected["input_ids"]
    )


def test_inline_config(tmp_path):
    ds = load_iarc("IARC", encoding="inline", cache_dir=str(tmp_path), **SMALL)
    ids = ds["test"].with_format("numpy")[:]["input_ids"]
    assert ids.max() >= 16  # control tokens are in the token stream


@pytest.mark.parametrize(
    "knobs, field",
    [
        ({"max_gap": 0}, "max_gap"),
        ({"min_gap": 4, "max_gap": 3}, "min_gap"),
        ({"encoding": "bytes"}, "encoding"),
        ({"context_length": 1}, "context_length"),
        ({"n_symbols": 1}, "n_symbols"),
        ({"test_size": -1}, "test_size"),
        ({"seed": -2}, "seed"),
        ({"max_gap": 10**9}, "max_gap=1000000000 .*would need about"),
    ],
)
def test_bad_knobs_fail_naming_the_knob(knobs, field, tmp_path):
    with pytest.raises(ValueError, match=field):
        load_dataset("iarc", "IARC", cache_dir=str(tmp_path), **knobs)


def test_unknown_config_lists_the_configs(tmp_path):
    with pytest.raises(ValueError, match="IARC"):
        load_dataset("iarc", "IAX", cache_dir=str(tmp_path))


@pytest.mark.parametrize(
    "load",
    [
        lambda cache: load_dataset("iarc", "", cache_dir=cache),
        lambda cache: load_dataset("iarc", name="", cache_dir=cache, **SMALL),
        lambda cache: datasets.load_dataset_builder("iarc", "", cache_dir=cache),
        lambda cache: load_iarc("", cache_dir=cache),
    ],
    ids=["load_dataset", "load_dataset-name", "load_dataset_builder", "load_iarc"],
)
def test_an_empty_config_name_lists_the_published_configs(load, tmp_path):
    # datasets reads "" as no name (the default config): it must not silently mean IARC
    with pytest.raises(ValueError, match="config name '' is empty.*IARC, IAR, IA, IR"):
        load(str(tmp_path))


def test_no_config_name_is_iarc(tmp_path):
    assert datasets.load_dataset_builder("iarc", cache_dir=str(tmp_path)).config.name == "IARC"


@pytest.fixture(scope="module")
def dataset_repo(tmp_path_factory):
    out = tmp_path_factory.mktemp("repo") / "iarc"
    cache = tmp_path_factory.mktemp("cache")
    sizes = {"train": 200, "validation": 100, "test": 2000}
    build_dataset_repo(
        out,
        ["IARC", "IA"],
        sizes,
        seed=0,
        repo_id="someone/iarc",
        command="test",
        cache_dir=str(cache),
    )
    return out


def test_published_folder_loads_without_the_package(dataset_repo):
    code = (
        "import sys, json; sys.modules['iarc_hf'] = None\n"
        "from datasets import load_dataset\n"
        f"ds = load_dataset({str(dataset_repo)!r}, 'IA')\n"
        "print(json.dumps({s: len(d) for s, d in ds.items()}))\n"
        "print(json.dumps(ds['test'][0]['input_ids']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert result.returncode == 0, result.stderr
    sizes, first = result.stdout.strip().splitlines()[-2:]
    assert json.loads(sizes) == {"train": 200, "validation": 100, "test": 2000}
    assert (
        json.loads(first)
        == generate_split(IARCTask("IA"), "test", 1, seed=0)["input_ids"][0].tolist()
    )


def test_card_has_configs_ceilings_and_citation(dataset_repo):
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(dataset_repo / "README.md")
    configs = {c["config_name"]: c for c in card.data.configs}
    assert set(configs) == {"IARC", "IA"} and configs["IARC"].get("default")
    assert {info["config_name"] for info in card.data.dataset_info} == {"IARC", "IA"}
    assert "| IARC | 16 | 1.0000 |" in card.text
    assert "7^I 8 9^C 11 13^C 0 3" in card.text
    assert "arXiv:2508.04461" in card.text
    assert not list(dataset_repo.glob(".*partial*"))


def test_push_records_the_calls(dataset_repo, monkeypatch):
    calls = []
    monkeypatch.setattr("huggingface_hub.get_token", lambda: "hf_fake")
    monkeypatch.setattr(
        datasets.DatasetDict,
        "push_to_hub",
        lambda self, repo_id, **kw: calls.append(
            ("push_to_hub", repo_id, kw["config_name"], sorted(self))
        ),
    )
    monkeypatch.setattr(
        "huggingface_hub.HfApi.upload_file",
        lambda self, **kw: calls.append(
            ("upload_file", kw["repo_id"], kw["path_in_repo"], kw["repo_type"])
        ),
    )
    url = push_dataset_repo(dataset_repo, "someone/iarc", configs=["IARC", "IA"])
    assert url.endswith("datasets/someone/iarc")
    splits = ["test", "train", "validation"]
    assert calls == [
        ("push_to_hub", "someone/iarc", "IARC", splits),
        ("push_to_hub", "someone/iarc", "IA", splits),
        ("upload_file", "someone/iarc", "README.md", "dataset"),
    ]


def test_push_without_token_is_a_clear_error(dataset_repo, monkeypatch):
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    with pytest.raises(HubPushError, match="no Hugging Face token"):
        push_dataset_repo(dataset_repo, "someone/iarc", configs=["IA"])


def test_push_to_unreachable_endpoint_keeps_the_folder(dataset_repo, monkeypatch):
    monkeypatch.setattr("huggingface_hub.get_token", lambda: "hf_fake")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    before = sorted(p.name for p in dataset_repo.rglob("*"))
    with pytest.raises(HubPushError, match="intact"):
        push_dataset_repo(dataset_repo, "someone/iarc", configs=["IA"])
    assert sorted(p.name for p in dataset_repo.rglob("*")) == before


def _copy_of(dataset_repo, tmp_path):
    import shutil

    copy = tmp_path / "iarc"
    shutil.copytree(dataset_repo, copy)
    return copy


def test_a_partial_build_keeps_the_other_configs_in_the_card(dataset_repo, tmp_path):
    copy = _copy_of(dataset_repo, tmp_path)
    iarc_parquet = (copy / "IARC" / "test-00000-of-00001.parquet").read_bytes()
    sizes = {"train": 200, "validation": 100, "test": 2000}
    _, ceilings = build_dataset_repo(
        copy, ["IA"], sizes, seed=0, repo_id="someone/iarc", command="test"
    )
    assert [row["config"] for row in ceilings] == ["IARC", "IA"]
    # the card is the one the full build wrote: every config, IARC the default, its ceilings
    assert (copy / "README.md").read_text() == (dataset_repo / "README.md").read_text()
    assert (copy / "IARC" / "test-00000-of-00001.parquet").read_bytes() == iarc_parquet
    assert len(load_dataset(str(copy), "IARC")["test"]) == 2000


@pytest.mark.parametrize(
    "extra, reason",
    [
        (["--test_size", "1000"], "IARC has split sizes"),
        (["--test_size", "2000", "--seed", "1"], "IARC was not built with seed 1"),
    ],
)
def test_a_partial_build_of_another_seed_or_size_writes_nothing(
    dataset_repo, tmp_path, extra, reason
):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import build_dataset

    copy = _copy_of(dataset_repo, tmp_path)
    before = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    argv = ["--output_dir", str(copy), "--configs", "IA", "--train_size", "200"]
    with pytest.raises(SystemExit) as exit_info:
        build_dataset.main([*argv, "--validation_size", "100", *extra])
    message = str(exit_info.value.code)
    assert message.startswith("error: argument --output_dir:") and reason in message
    assert "--configs IA IARC" in message  # how to go on
    assert {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()} == before
