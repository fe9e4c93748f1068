"""The readings verdict: effects paired by seed, EA - DPA per reading, the plot; on hand-made
records whose numbers are known."""

import pytest

from iarc_hf.experiments.readings_report import (
    accuracies,
    ea_minus_dpa_table,
    effects_table,
    paired,
    plot_effects,
)
from iarc_hf.experiments.report import write_report


def record(preset, label, seed, accuracy, config="IARC", steps=500):
    return {
        "experiment": "readings",
        "preset": preset,
        "dataset_config": config,
        "label": label,
        "seed": seed,
        "max_steps": steps,
        "metrics": {"accuracy": accuracy},
    }


RECORDS = [
    record("cisformer-dpa", "ours", 0, 0.40),
    record("cisformer-dpa", "ours", 1, 0.42),
    record("cisformer-dpa", "post-norm", 0, 0.30),
    record("cisformer-dpa", "post-norm", 1, 0.36),
    record("cisformer-ea", "ours", 0, 0.50),
    record("cisformer-ea", "ours", 1, 0.40),
    record("cisformer-ea", "no ALiBi in EA", 0, 0.55),
    record("cisformer-ea", "post-norm", 0, 0.20),  # seed 1 missing: paired on seed 0 only
    record("cisformer-ea", "ours", 0, 0.9, steps=100),  # another budget: not mixed in
]


def test_effects_are_paired_by_seed():
    assert paired({0: 0.3, 1: 0.36, 2: 0.5}, {0: 0.4, 1: 0.42}) == pytest.approx([-0.1, -0.06])
    assert accuracies(RECORDS, 500)[("cisformer-ea IARC", "ours")] == {0: 0.50, 1: 0.40}
    table = effects_table(RECORDS, 500).splitlines()
    assert table[0] == "| reading | cisformer-dpa IARC | cisformer-ea IARC |"
    assert table[2] == "| ours | 0.410 ± 0.014 (2) | 0.450 ± 0.071 (2) |"
    assert table[3] == "| post-norm | -0.080 ± 0.028 (2) | -0.300 (1) |"
    assert table[4] == "| no ALiBi in EA | – | +0.050 (1) |"  # an EA-only reading


def paper_run(experiment, preset, seed, accuracy, steps=8000, label="", recipe="sgd"):
    return {**record(preset, label, seed, accuracy, steps=steps), "experiment": experiment,
            "recipe": recipe}  # fmt: skip


def test_the_paper_runs_are_ours_at_their_budget(tmp_path):
    records = [
        record("transformer-dpa", "post-norm + torch init", 0, 0.50, steps=8000),
        paper_run("table1", "transformer-dpa", 0, 0.95),
        paper_run("table1", "transformer-dpa", 1, 0.97),
        paper_run("beyond", "transformer-dpa", 0, 0.10, label="AdamW", recipe="adamw"),  # not ours
        paper_run("table1", "transformer-ea", 0, 0.30),  # no reading screened at 8000: left out
        paper_run("table1", "transformer-dpa", 0, 0.80, steps=2000),  # another budget
    ]
    acc = accuracies(records, 8000)
    assert acc == {
        ("transformer-dpa IARC", "ours"): {0: 0.95, 1: 0.97},
        ("transformer-dpa IARC", "post-norm + torch init"): {0: 0.50},
    }
    assert effects_table(records, 8000).splitlines()[3] == (
        "| post-norm + torch init | -0.450 (1) |"
    )
    assert accuracies(records, 2000) == {}
    # before the paper's run has landed, the reading shows its accuracy, not an effect
    alone = effects_table(records[:1], 8000).splitlines()
    assert alone[2] == "| post-norm + torch init | 0.500 (1), ours not run |"
    assert plot_effects(records[:1], 8000, tmp_path / "none.png") is None


def test_ea_minus_dpa_per_reading():
    table = ea_minus_dpa_table(RECORDS, 500).splitlines()
    assert table[0] == "| reading | cisformer IARC |"
    assert table[2] == "| ours | +0.040 ± 0.085 (2) |"
    assert table[3] == "| post-norm | -0.100 (1) |"


def test_plot_and_report(tmp_path):
    png = plot_effects(RECORDS, 500, tmp_path / "effects.png")
    assert png.stat().st_size > 1000
    assert plot_effects(RECORDS, 100, tmp_path / "none.png") is None  # only `ours` at 100 steps


def test_report_skips_benchmark_files(tmp_path):
    import json

    (tmp_path / "readings").mkdir()
    (tmp_path / "bench").mkdir()
    for r in RECORDS[:4]:
        full = r | {"name": f"{r['preset']}_{r['label']}", "recipe": "sgd", "params": 1, "batch_size": 200,
                    "curve": [], "oracle": {"accuracy_all": 1.0}, "train_seconds": 1.0}  # fmt: skip
        full["metrics"] |= {m: 0.5 for m in ("accuracy_all", "accuracy_I", "accuracy_A",
                                             "accuracy_R", "accuracy_C")}  # fmt: skip
        (tmp_path / "readings" / f"{full['name']}_{r['seed']}.json").write_text(json.dumps(full))
    (tmp_path / "bench" / "sweep.json").write_text(json.dumps({"grid": "x"}))
    # analyses beside the runs of an experiment (as results/frontier/errors.json) are not runs
    (tmp_path / "readings" / "errors.json").write_text(json.dumps({"by_task": {}}))
    (tmp_path / "readings" / "list.json").write_text(json.dumps([1, 2]))
    text = write_report(tmp_path).read_text()
    assert "| post-norm | -0.080 ± 0.028 (2) |" in text
    assert (tmp_path / "readings_effects_500.png").exists()
