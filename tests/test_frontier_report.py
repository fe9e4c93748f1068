"""The frontier table: rows grouped over seeds, goals judged on the mean of >= 3 seeds."""

import pytest

from iarc_hf.experiments.frontier_report import (
    frontier_rows,
    frontier_table,
    goals_met,
    plot_size,
)


def record(name, seed, accuracy, steps=2000, batch=200, params=1_446_116, experiment="frontier",
           overrides=None, dataset="IARC"):  # fmt: skip
    return {
        "experiment": experiment,
        "dataset_config": dataset,
        "model_overrides": overrides or {},
        "task_knobs": {},
        "name": name,
        "preset": name.split("_")[0],
        "recipe": "best-dpa",
        "seed": seed,
        "max_steps": steps,
        "batch_size": batch,
        "params": params,
        "train_seconds": 100.0 + seed,
        "device": "cpu",
        "metrics": {"accuracy": accuracy},
    }


@pytest.mark.parametrize(
    "accuracy, windows, params, expected",
    [
        (0.951, 400_000, 1_446_116, ["≥ 0.95 in 400K"]),
        (0.951, 400_200, 1_446_116, []),  # one step over the budget
        (0.995, 1_600_000, 1_446_116, ["≥ 0.99 in 1.6M", "≥ 0.99"]),
        (0.995, 1_600_200, 1_446_116, ["≥ 0.99"]),  # past the paper's budget: any budget only
        (0.995, 400_000, 1_446_116, ["≥ 0.95 in 400K", "≥ 0.99 in 1.6M", "≥ 0.99"]),
        (0.9899, 1_600_000, 361_796, []),
        (0.995, 400_000, 1_500_001, []),  # over the size limit
        (0.9499, 400_000, 1_000, []),
    ],
)
def test_goals(accuracy, windows, params, expected):
    assert goals_met(accuracy, windows, params) == expected


@pytest.mark.parametrize("accuracy, expected", [(0.99, ["≥ 0.99", "EA ≥ 0.99"]), (0.9899, [])])
def test_expressive_attention_has_its_own_goal_at_any_size(accuracy, expected):
    assert goals_met(accuracy, 3_200_000, 2_000_000, expressive=True) == expected[1:]
    assert goals_met(accuracy, 3_200_000, 1_000_000, expressive=True) == expected


def test_other_experiments_join_with_a_099_goal_on_iarc_with_three_seeds():
    """The leaderboard's qwen3 at 0.991 within 400K joins; the same on IA, with two seeds or at
    0.98 (a goal of 0.95 only) does not; a decoder with expressive attention meets the EA goal."""
    qwen = "qwen3-large_IARC_learning_rate=0.003"
    records = [record(qwen, s, 0.991, params=1_319_248, experiment="leaderboard") for s in range(3)]
    records += [record("x_IA", s, 0.999, experiment="table1", dataset="IA") for s in range(3)]
    records += [record("y_IARC", s, 0.995, experiment="leaderboard") for s in range(2)]
    records += [record("z_IARC", s, 0.98, experiment="leaderboard") for s in range(3)]
    ea = "qwen3-large_IARC_attention=expressive"
    records += [record(ea, s, 0.992, params=1_319_248, experiment="claims",
                       overrides={"attention": "expressive"}) for s in range(3)]  # fmt: skip
    # over the size limit: only the EA goal lets a run join
    big, big_ea = "big_IARC", "big_IARC_attention=expressive"
    records += [record(big, s, 0.995, params=2_000_000, experiment="claims") for s in range(3)]
    records += [record(big_ea, s, 0.995, params=2_000_000, experiment="claims",
                       overrides={"attention": "expressive"}) for s in range(3)]  # fmt: skip
    rows = {r["name"]: r for r in frontier_rows(records)}
    assert set(rows) == {qwen, ea, big_ea}
    assert rows[big_ea]["goals"] == ["EA ≥ 0.99"]
    assert rows[qwen]["goals"] == ["≥ 0.95 in 400K", "≥ 0.99 in 1.6M", "≥ 0.99"]
    assert rows[ea]["goals"][-1] == "EA ≥ 0.99" and "EA" not in " ".join(rows[qwen]["goals"])
    assert "| qwen3-large [leaderboard] | best-dpa |" in frontier_table(records)


@pytest.mark.parametrize(
    "preset, overrides, expressive",
    [("cisformer-ea-best", {}, True), ("transformer-ea", {"attention": "dpa"}, False),
     ("cisformer-dpa", {}, False), ("llama-small", {"attention": "expressive"}, True),
     ("qwen3-large", {}, False)],
)  # fmt: skip
def test_expressive_runs_are_told_by_preset_and_overrides(preset, overrides, expressive):
    from iarc_hf.experiments.frontier_report import is_expressive

    assert is_expressive({"preset": preset, "model_overrides": overrides}) is expressive


def test_rows_group_seeds_and_rank_by_mean():
    records = [record("a_IARC", s, acc) for s, acc in enumerate((0.965, 0.955, 0.945))]
    records += [record("b_IARC", s, 0.97, steps=8000) for s in (0, 1)]
    records.append(record("c_IARC", 0, 0.99, experiment="beyond"))  # not a frontier run
    rows = frontier_rows(records)
    assert [r["name"] for r in rows] == ["b_IARC", "a_IARC"]
    a = rows[1]
    assert a["seeds"] == [0, 1, 2] and a["accuracy"] == pytest.approx(0.955)
    assert a["std"] == pytest.approx(0.01) and a["worst"] == 0.945
    assert a["windows"] == 400_000 and a["train_seconds"] == pytest.approx(101.0)
    assert a["goals"] == ["≥ 0.95 in 400K"]
    assert rows[0]["goals"] == []  # two seeds do not make a record


def test_table_has_a_row_per_run():
    records = [record("a_IARC", s, 0.96) | {"label": "search winner"} for s in range(3)]
    table = frontier_table(records).splitlines()
    assert table[2].startswith("| a (search winner) | best-dpa |")
    assert len(table) == 3 and "0.9600 ± 0.0000" in table[2] and "400,000" in table[2]


def test_size_plot_has_a_point_per_row(tmp_path):
    records = [record("a_IARC", s, 0.96) for s in range(3)]
    records += [record("b_IARC", 0, 0.991, steps=8000) | {"params": 361_796}]
    png = plot_size(frontier_rows(records), tmp_path / "size.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot_size([], tmp_path / "none.png") is None and not (tmp_path / "none.png").exists()
