"""The leaderboard's plan (grid at seed 0, then the seeds at the picked rate) and its table."""

import csv
import io
import json

import pytest
import torch

from iarc_hf.data.tasks import IARCTask
from iarc_hf.eval.flops import forward_flops_per_window, lstm_flops_per_window
from iarc_hf.experiments.headline import HEADLINES
from iarc_hf.experiments.leaderboard import (
    EXPERIMENT,
    GRID_EXTENSION,
    LEARNING_RATES,
    entries,
    entry_run,
    leaderboard_rows,
    leaderboard_runs,
    rows_csv,
    rows_json,
    rows_markdown,
)
from iarc_hf.experiments.registry import result_path
from iarc_hf.files import write_json
from iarc_hf.training.backbones import BACKBONE_PRESETS, track_of

STEPS = 2000


def fake_record(run, seed, validation, test, params=250_000):
    return {
        "experiment": EXPERIMENT,
        "name": run.name,
        "seed": seed,
        "max_steps": STEPS,
        "batch_size": 200,
        "params": params,
        "train_seconds": 100.0,
        "metrics": {"accuracy": test, **{f"accuracy_last_{t}": test for t in "IARC"}},
        "oracle": {"accuracy": 1.0},
        "curve": [{"windows": 400_000, "accuracy": validation, "accuracy_all": 0.5}],
        "flops_per_window": 1000,
        "provenance": {"cpu": "test CPU"},
    }


def write(results, run, seed, validation, test):
    write_json(
        result_path(results, EXPERIMENT, run, seed, STEPS), fake_record(run, seed, validation, test)
    )


def test_grid_first_then_the_other_seeds_at_the_best_validation_rate(tmp_path):
    entry = entries()[0]
    plan = [(run.name, seeds) for run, seeds in leaderboard_runs(tmp_path, [0, 1, 2], STEPS)]
    grid = [entry_run(entry, rate).name for rate in LEARNING_RATES]
    assert [(name, [0]) for name in grid] == plan[: len(grid)]
    assert all(seeds == [0] for _, seeds in plan)  # no grid finished: no seeds yet
    write(tmp_path, entry_run(entry, LEARNING_RATES[0]), 0, validation=0.7, test=0.1)
    write(tmp_path, entry_run(entry, LEARNING_RATES[1]), 0, validation=0.5, test=0.9)
    plan = leaderboard_runs(tmp_path, [0, 1, 2], STEPS)
    extra = [(run.name, seeds) for run, seeds in plan if seeds != [0]]
    # validation picks the rate; the test accuracy is never looked at
    assert extra == [(entry_run(entry, LEARNING_RATES[0]).name, [1, 2])]


def test_the_grid_grows_while_its_top_rate_wins_and_seeds_wait_for_it(tmp_path):
    entry = entries()[0]
    up, further = GRID_EXTENSION[0], GRID_EXTENSION[1]
    write(tmp_path, entry_run(entry, LEARNING_RATES[0]), 0, validation=0.5, test=0.9)
    write(tmp_path, entry_run(entry, LEARNING_RATES[1]), 0, validation=0.7, test=0.1)

    names = {entry_run(entry, rate).name for rate in (*LEARNING_RATES, *GRID_EXTENSION)}

    def planned():
        plan = leaderboard_runs(tmp_path, [0, 1, 2], STEPS)
        return [(run.name, seeds) for run, seeds in plan if run.name in names]

    # the top rate won: the next rate up is tried before any seed
    assert planned() == [(entry_run(entry, r).name, [0]) for r in (*LEARNING_RATES, up)]
    (row,) = [
        r for r in leaderboard_rows(tmp_path, STEPS) if r["architecture"] == entry.architecture
    ]
    assert row["learning_rate"] == LEARNING_RATES[1] and not row["lr_grid_final"]
    assert "grid growing" in rows_markdown([row])
    write(tmp_path, entry_run(entry, up), 0, validation=0.9, test=0.1)  # it wins again
    assert (entry_run(entry, further).name, [0]) in planned()
    write(tmp_path, entry_run(entry, further), 0, validation=0.8, test=0.1)  # it does not
    assert planned()[-1] == (entry_run(entry, up).name, [1, 2])


def test_rows_are_the_picked_rates_seeds_with_mean_and_spread(tmp_path):
    entry = entries()[0]
    best = entry_run(entry, LEARNING_RATES[1])
    write(tmp_path, entry_run(entry, LEARNING_RATES[0]), 0, validation=0.5, test=0.5)
    for seed, test in enumerate((0.80, 0.82, 0.84)):
        write(tmp_path, best, seed, validation=0.7, test=test)
    (row,) = leaderboard_rows(tmp_path, STEPS)
    assert row["architecture"] == entry.architecture and row["seeds"] == 3
    assert row["accuracy_mean"] == pytest.approx(0.82)
    assert row["accuracy_std"] == pytest.approx(0.02)
    assert row["learning_rate"] == LEARNING_RATES[1]
    assert row["windows_per_second"] == pytest.approx(2000 * 200 / 100)
    needed = {
        "architecture",
        "model_type",
        "track",
        "params",
        "seeds",
        "accuracy_mean",
        "accuracy_std",
    }
    assert needed <= set(json.loads(rows_json([row]))[0])
    assert next(csv.DictReader(io.StringIO(rows_csv([row]))))["architecture"] == entry.architecture
    table = rows_markdown([row])
    assert "0.8200 ± 0.0200" in table and "test CPU" in table


def test_every_entry_has_a_unique_run_name_and_a_known_track():
    names = [entry_run(e, rate).name for e in entries() for rate in LEARNING_RATES]
    assert len(names) == len(set(names))
    tracks = {e.track for e in entries()}
    assert tracks == {"small", "large"}
    hf_types = {e.model_type for e in entries() if e.track == "small"} - {"iarc"}
    assert len(hf_types) >= 8


@pytest.mark.parametrize("entry", entries(), ids=lambda e: f"{e.track}:{e.architecture}")
def test_every_entry_is_the_size_of_its_track(entry):
    from iarc_hf.memory import parameter_count
    from iarc_hf.training.arguments import ModelArguments, build_model_config

    task = IARCTask("IARC")
    model_args = ModelArguments(preset=entry.preset, **entry.model)
    params = parameter_count(build_model_config(model_args, task))
    assert track_of(params) == entry.track, params


def test_lstm_flops_are_counted_by_hand_beside_the_counter():
    from iarc_hf import IARCConfig, IARCModel

    task = IARCTask("IARC")
    config = IARCConfig.from_preset("lstm", lstm_hidden_size=8).for_task(16, 4, 24, "tape")
    model = IARCModel(config)
    by_hand = lstm_flops_per_window(model, 24)
    assert by_hand == 24 * 2 * 4 * 8 * ((20 + 8) + (8 + 8))
    assert forward_flops_per_window(model, task) > by_hand  # plus the head's product


def test_backbone_presets_are_in_the_leaderboard():
    assert {e.preset for e in entries()} >= set(BACKBONE_PRESETS)
    assert torch.get_num_threads() >= 1


def test_the_readmes_leaderboard_is_generated_from_the_committed_results():
    from pathlib import Path

    from iarc_hf.experiments.leaderboard import BLOCK_END, BLOCK_START, leaderboard_block

    root = Path(__file__).resolve().parents[1]
    text = (root / "README.md").read_text()
    block = text.split(BLOCK_START, 1)[1].split(BLOCK_END, 1)[0]
    assert block == "\n" + leaderboard_block(root / "results"), (
        "README.md's leaderboard is stale: python scripts/reproduce.py report"
    )


def test_replace_block_needs_the_markers():
    from iarc_hf.experiments.leaderboard import replace_block

    with pytest.raises(ValueError, match="markers"):
        replace_block("no markers here", "table")


def test_the_readmes_headline_table_is_generated_from_the_committed_results():
    from pathlib import Path

    from iarc_hf.experiments.headline import END, START, headline_table

    root = Path(__file__).resolve().parents[1]
    text = (root / "README.md").read_text()
    block = text.split(START, 1)[1].split(END, 1)[0]
    assert block == "\n" + headline_table(root / "results"), (
        "README.md's headline table is stale: python scripts/reproduce.py report"
    )


@pytest.mark.parametrize("row", HEADLINES, ids=lambda row: f"{row.experiment}:{row.run}")
def test_every_headline_row_names_a_run_of_its_experiment(row):
    # a run renamed in the registry would otherwise drop its row from the README without a word
    from iarc_hf.experiments.registry import EXPERIMENTS

    names = {run.name for run in EXPERIMENTS[row.experiment]()}
    assert row.run in names, f"{row.run!r} is not a run of {row.experiment!r}"


def test_the_docs_tables_page_is_the_generated_tables():
    from pathlib import Path

    from iarc_hf.experiments.report import DOCS_TABLES, START, docs_tables_page

    root = Path(__file__).resolve().parents[1]
    results = (root / "results" / "README.md").read_text()
    tables = results.split(START, 1)[1].split("<!-- tables:end -->", 1)[0].strip("\n")
    page = (root / "docs" / DOCS_TABLES).read_text()
    assert page.rstrip("\n") == docs_tables_page(tables).rstrip("\n")


def test_rows_table_keeps_numbers_as_numbers(tmp_path):
    from iarc_hf.experiments.leaderboard import TABLE_COLUMNS, rows_table

    entry = entries()[0]
    for seed in range(2):
        write(tmp_path, entry_run(entry, LEARNING_RATES[0]), seed, validation=0.5, test=0.81234)
    write(tmp_path, entry_run(entry, LEARNING_RATES[1]), 0, validation=0.1, test=0.1)
    headers, types, values = rows_table(leaderboard_rows(tmp_path, STEPS))
    assert headers == [key for key, _ in TABLE_COLUMNS] and len(types) == len(headers)
    row = dict(zip(headers, values[0], strict=True))
    assert row["accuracy_mean"] == 0.8123 and row["learning_rate"] == LEARNING_RATES[0]


def test_a_diverged_rate_loses_the_grid_and_an_all_diverged_grid_picks_nothing(tmp_path):
    from iarc_hf.experiments.leaderboard import picked_rate

    entry = entries()[0]
    low, high = (result_path(tmp_path, EXPERIMENT, entry_run(entry, rate), 0, STEPS) for rate in LEARNING_RATES[:2])  # fmt: skip
    write(tmp_path, entry_run(entry, LEARNING_RATES[0]), 0, validation=0.5, test=0.9)
    high.with_suffix(".diverged").write_text("the training loss became NaN at step 7\n")
    assert picked_rate(entry, tmp_path, 0, STEPS) == LEARNING_RATES[0]
    (row,) = [
        r for r in leaderboard_rows(tmp_path, STEPS) if r["architecture"] == entry.architecture
    ]
    assert row["lr_grid_validation"][f"{LEARNING_RATES[1]:g}"] == "diverged"
    assert row["lr_grid_final"] and "diverged" in rows_markdown([row])
    low.unlink()
    low.with_suffix(".diverged").write_text("the training loss became NaN at step 3\n")
    assert picked_rate(entry, tmp_path, 0, STEPS) is None


@pytest.mark.parametrize("name", list(BACKBONE_PRESETS))
def test_every_backbone_presets_flops_are_counted(name):
    """Every backbone's forward is countable (lfm2's and mamba2's hub-kernel convolutions broke
    the counter under no_grad) and costs at least its head's product per position."""
    from iarc_hf.modeling_iarc_backbone import IARCBackboneModel
    from iarc_hf.training.backbones import backbone_config, preset_backbone

    task = IARCTask("IARC")
    model_type, fields = preset_backbone(name)
    model = IARCBackboneModel(backbone_config(model_type, fields, task))
    head = 2 * model.config.n_symbols * 24  # at least one product onto the symbols per position
    assert forward_flops_per_window(model, task) > head
