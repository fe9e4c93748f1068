"""Packed runs (K seeds as one stacked model) on the CPU: each run equals the run trained alone,
a stopped pack resumes to the same weights, packs form from the seeds of one run only, and
`reproduce.py run --pack` writes every run's own JSON."""

import json

import pytest
import torch
from safetensors.torch import load_file

from iarc_hf.experiments.jobs import list_jobs, packs_of
from iarc_hf.provenance import read_segments
from iarc_hf.training.arguments import DataArguments, ModelArguments, RunArguments
from iarc_hf.training.loop import train
from iarc_hf.training.packed import why_not_packable
from iarc_hf.training.packed_loop import check_pack, train_pack

RECIPES = {
    "sgd": dict(optimizer="sgd", learning_rate=0.02, momentum=0.8, lr_scheduler_type="constant"),
    "adamw": dict(
        optimizer="adamw", learning_rate=1e-2, lr_scheduler_type="cosine", warmup_steps=2
    ),
}


def arguments(out, seed=0, preset="cisformer-dpa", steps=6, **run):
    return (
        ModelArguments(preset=preset, num_hidden_layers=2),
        DataArguments(dataset_config="IARC", eval_size=100, test_size=100),
        RunArguments(
            output_dir=str(out),
            max_steps=steps,
            seed=seed,
            eval_steps=3,
            save_steps=3,
            logging_steps=1,
            per_device_train_batch_size=16,
            max_grad_norm=0.5,
            **{**RECIPES["sgd"], **run},
        ),
    )


def losses(folder) -> list[float]:
    lines = (folder / "metrics.jsonl").read_text().splitlines()
    return [r["loss"] for r in map(json.loads, lines) if "loss" in r]


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_each_run_of_a_pack_equals_the_run_alone(tmp_path, recipe):
    alone = []
    for seed in (0, 1):
        args = arguments(tmp_path / f"alone{seed}", seed, **RECIPES[recipe])
        alone.append(train(*args, command="test", show_progress=False))
    packed_args = [arguments(tmp_path / f"pack{s}", s, **RECIPES[recipe]) for s in (0, 1)]
    packed = train_pack(packed_args, ["test"] * 2, device="cpu", show_progress=False)
    for seed, (one, two) in enumerate(zip(alone, packed, strict=True)):
        assert one["accuracy"] == pytest.approx(two["accuracy"], abs=0.011)  # 1 of 100 windows
        assert losses(tmp_path / f"pack{seed}") == pytest.approx(
            losses(tmp_path / f"alone{seed}"), abs=1e-5
        )
        if recipe == "sgd":  # AdamW divides by tiny second moments: weights agree less closely
            first = load_file(str(tmp_path / f"alone{seed}" / "model.safetensors"))
            second = load_file(str(tmp_path / f"pack{seed}" / "model.safetensors"))
            for name in first:
                torch.testing.assert_close(second[name], first[name], rtol=1e-4, atol=1e-5)


def test_the_two_runs_of_a_pack_learn_different_things(tmp_path):
    packed_args = [arguments(tmp_path / f"pack{s}", s) for s in (0, 1)]
    train_pack(packed_args, ["test"] * 2, device="cpu", show_progress=False)
    assert losses(tmp_path / "pack0") != losses(tmp_path / "pack1")


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_a_stopped_pack_resumes_to_the_same_weights(tmp_path, recipe):
    straight = [arguments(tmp_path / f"a{s}", s, **RECIPES[recipe]) for s in (0, 1)]
    train_pack(straight, ["test"] * 2, device="cpu", show_progress=False)
    stopped = [arguments(tmp_path / f"b{s}", s, **RECIPES[recipe]) for s in (0, 1)]
    assert train_pack(stopped, ["test"] * 2, "cpu", False, stop_after=3) is None
    assert not (tmp_path / "b0" / "model.safetensors").exists()
    train_pack(stopped, ["test"] * 2, device="cpu", show_progress=False)
    for seed in (0, 1):
        first = load_file(str(tmp_path / f"a{seed}" / "model.safetensors"))
        second = load_file(str(tmp_path / f"b{seed}" / "model.safetensors"))
        assert all(torch.equal(first[name], second[name]) for name in first)
        assert losses(tmp_path / f"a{seed}") == losses(tmp_path / f"b{seed}")
        # each run of the pack logs its two stretches, as a run alone would
        assert [x["start_step"] for x in read_segments(tmp_path / f"b{seed}")] == [0, 3]


def test_a_pack_refuses_runs_that_differ_in_more_than_the_seed(tmp_path):
    runs = [arguments(tmp_path / "a", 0), arguments(tmp_path / "b", 1, learning_rate=0.01)]
    with pytest.raises(ValueError, match="learning_rate"):
        check_pack(runs)


def test_muon_and_early_stopping_are_not_packable(tmp_path):
    assert "muon" in why_not_packable(arguments(tmp_path, optimizer="muon")[2])
    assert why_not_packable(arguments(tmp_path, stop_at_accuracy=0.9)[2]) is not None
    assert why_not_packable(arguments(tmp_path)[2]) is None


def test_packs_hold_the_seeds_of_one_run(tmp_path):
    jobs = list_jobs("table1", [0, 1, 2], 4, tmp_path / "results", tmp_path / "runs", ["*_IA*"])
    packs = packs_of(jobs, 2)
    for pack in packs:
        assert len({job.spec.name for job in pack}) == 1
    names = sorted((pack[0].spec.name, len(pack)) for pack in packs)
    assert names == sorted((name, n) for name in {j.spec.name for j in jobs} for n in (2, 1))


@pytest.mark.integration
def test_reproduce_run_pack_writes_each_runs_json(tmp_path):
    import subprocess
    import sys

    command = [sys.executable, "scripts/reproduce.py", "run", "fig1", "--filter", "cisformer-dpa_IA",
               "--seeds", "0", "1", "--max_steps", "2", "--pack", "2", "--threads", "1",
               "--results_dir", str(tmp_path / "results"), "--runs_dir", str(tmp_path / "runs")]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    for seed in (0, 1):
        record = json.loads((tmp_path / f"results/fig1/cisformer-dpa_IA_seed{seed}_steps2.json").read_text())  # fmt: skip
        assert record["seed"] == seed and record["pack_size"] == 2
        assert record["provenance"]["device"] == "cpu"
