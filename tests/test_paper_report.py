"""The paper's tables side by side with ours: every cell of the paper a row, the budget and seed
count in every cell, the command that completes what is not done; on hand-made records."""

import pytest

from iarc_hf.experiments.paper_report import (
    FULL_SEEDS,
    PAPER_TABLES,
    attention_gap,
    side_by_side,
)
from iarc_hf.experiments.registry import EXPERIMENTS, PAPER_STEPS


def record(experiment, name, seed, accuracy, steps=PAPER_STEPS, label=""):
    return {
        "experiment": experiment,
        "name": name,
        "label": label,
        "seed": seed,
        "max_steps": steps,
        "metrics": {"accuracy": accuracy},
    }


@pytest.mark.parametrize("experiment", PAPER_TABLES)
def test_every_cell_of_the_paper_is_a_row(experiment):
    rows = side_by_side([], experiment).splitlines()[2:]
    runs = EXPERIMENTS[experiment]()
    assert len(rows) == len(runs)
    for row, run in zip(rows, runs, strict=True):
        assert row.startswith(f"| {run.preset} | {run.dataset_config} |")
        assert "not run" in row and f"--filter {run.name} --seeds 0 1 2`" in row


def test_cells_show_budget_seeds_and_what_completes_them():
    records = [
        record("table1", "transformer-dpa_IARC", 0, 0.95),
        record("table1", "transformer-dpa_IARC", 1, 0.97),
        record("table1", "transformer-dpa_IARC", 0, 0.80, steps=300),
        record("table1", "transformer-dpa_IARC", 0, 0.90, steps=2000),
        record("table1", "transformer-ea_IA", 0, 0.20, steps=300),
        record("table1", "transformer-ea_IA", 1, 0.30, steps=300),
        record("table1", "transformer-ea_IR", 0, 0.5, label="a knob"),  # not the paper's cell
    ] + [record("table1", "transformer-dpa_IR", s, 0.9) for s in range(FULL_SEEDS)]
    rows = {tuple(r.split(" | ")[:2]): r for r in side_by_side(records, "table1").splitlines()}
    dpa = rows[("| transformer-dpa", "IARC")]
    assert "| 0.45 | 0.960 ± 0.014 (2 seeds) | 2000 steps: 0.900 (1 seed) |" in dpa
    assert dpa.endswith("--filter transformer-dpa_IARC --seeds 0 1 2` |")
    assert (
        "| 0.99 | not run | 300 steps: 0.250 ± 0.071 (2 seeds) |"
        in rows[("| transformer-ea", "IA")]
    )
    assert "| not run | – |" in rows[("| transformer-ea", "IR")]
    assert rows[("| transformer-dpa", "IR")].endswith("| 0.900 ± 0.000 (3 seeds) | – | done |")


def test_cells_the_paper_describes_in_words():
    rows = side_by_side([], "fig1").splitlines()
    mlp = next(r for r in rows if r.startswith("| mlp |"))
    assert mlp.split(" | ")[2] == "modest"


@pytest.mark.parametrize("experiment", PAPER_TABLES)
def test_attention_gap_has_a_row_for_every_cell_both_attentions_have(experiment):
    runs = {(run.preset, run.dataset_config) for run in EXPERIMENTS[experiment]()}
    both = {(p.removesuffix("-ea"), c) for p, c in runs if p.endswith("-ea")}
    both &= {(p.removesuffix("-dpa"), c) for p, c in runs if p.endswith("-dpa")}
    rows = attention_gap([], experiment).splitlines()[2:]
    assert both and {tuple(r.split(" | ")[:2]) for r in rows} == {
        (f"| {model}", config) for model, config in both
    }
    assert all(r.endswith("| – |") for r in rows)  # nothing run yet


def test_attention_gap_shows_the_papers_words_where_it_gave_no_number():
    rows = attention_gap([], "fig1").splitlines()
    assert "| cisformer | IARC | 0.95 vs modest | – |" in rows


def test_attention_gap_pairs_seeds_at_the_papers_budget_only():
    records = [
        record("table1", "transformer-ea_IR", 0, 0.90),
        record("table1", "transformer-ea_IR", 1, 0.80),
        record("table1", "transformer-ea_IR", 2, 0.99),  # no DPA seed 2: left out
        record("table1", "transformer-dpa_IR", 0, 0.95),
        record("table1", "transformer-dpa_IR", 1, 0.95),
        record("table1", "transformer-ea_IA", 0, 0.99, steps=300),  # scaled down: left out
        record("table1", "transformer-dpa_IA", 0, 0.10, steps=300),
    ]
    rows = {tuple(r.split(" | ")[:2]): r for r in attention_gap(records, "table1").splitlines()}
    assert (
        rows[("| transformer", "IR")] == "| transformer | IR | +0.08 | -0.100 ± 0.071 (2 seeds) |"
    )
    assert rows[("| transformer", "IA")] == "| transformer | IA | +0.19 | – |"
