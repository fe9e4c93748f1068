"""Speedrun records: an attempt counts only with >= 3 seeds that all reach the target."""

import json

import pytest

from iarc_hf.benchmarks import speedrun
from iarc_hf.benchmarks.speedrun_records import MIN_SEEDS, record_rows, records_markdown

TINY = ["--preset", "cisformer-dpa", "--model", "num_hidden_layers=1", "--batch_size", "8",
        "--max_steps", "4", "--eval_every", "2", "--eval_size", "200", "--test_size", "20",
        "--threads", "1"]  # fmt: skip


@pytest.fixture(scope="module")
def records_dir(tmp_path_factory):
    """Real tiny speedruns: a 3-seed attempt that reaches a low target, a 2-seed attempt, and
    a 3-seed attempt at a target no 4-step model reaches."""
    folder = tmp_path_factory.mktemp("speedrun")
    where = ["--records_dir", str(folder)]
    speedrun.main(TINY + where + ["--target", "0.01", "--seeds", "0", "1", "2", "--record", "easy"])
    speedrun.main(TINY + where + ["--target", "0.01", "--seeds", "0", "1", "--record", "two"])
    speedrun.main(TINY + where + ["--target", "1.0", "--seeds", "0", "1", "2", "--record", "hard"])
    return folder


@pytest.mark.integration  # eight tiny trainings
def test_each_seed_writes_a_json_with_its_provenance_and_command(records_dir):
    saved = json.loads((records_dir / "easy_seed1.json").read_text())
    assert saved["seed"] == 1 and saved["reached"] and saved["target"] == 0.01
    assert saved["provenance"]["torch_threads"] == 1 and saved["cpu"]
    assert "--record easy" in saved["command"] and saved["date"].startswith("20")


@pytest.mark.integration  # eight tiny trainings
def test_only_an_attempt_whose_seeds_all_reach_the_target_is_a_record(records_dir):
    rows = {row["attempt"]: row for row in record_rows(records_dir)}
    assert rows["easy"]["record"] and rows["easy"]["seeds"] == MIN_SEEDS
    assert not rows["two"]["record"] and "2 seed(s)" in rows["two"]["why_not"]
    assert (
        not rows["hard"]["record"] and rows["hard"]["why_not"] == "3 of 3 seeds missed the target"
    )
    seconds = [json.loads((records_dir / f"easy_seed{k}.json").read_text())["train_seconds"] for k in range(3)]  # fmt: skip
    assert rows["easy"]["train_seconds"] == pytest.approx(sum(seconds) / 3)
    assert [row["attempt"] for row in record_rows(records_dir)][0] == "easy"  # records first


@pytest.mark.integration  # eight tiny trainings
def test_the_table_is_written_and_names_what_is_not_a_record(records_dir):
    text = (records_dir / "RECORDS.md").read_text()
    assert text == records_markdown(records_dir)
    assert "## Target 0.01" in text and "## Target 1.0" in text and "No record yet." in text
    assert "3 of 3 seeds missed the target" in text and "easy_seed0.json" in text
    assert ", 1 threads, float32 |" in text


def test_the_precision_comes_from_the_json_or_its_command():
    from iarc_hf.benchmarks.speedrun_records import precision

    assert precision({"bf16": True, "command": "bench.py speedrun"}) == "bf16 autocast"
    assert (
        precision({"command": "python scripts/bench.py speedrun --bf16 --seeds 0"})
        == "bf16 autocast"
    )
    assert precision({"command": "python scripts/bench.py speedrun --seeds 0"}) == "float32"


def test_an_empty_folder_says_so(tmp_path):
    assert "No speedrun results yet." in records_markdown(tmp_path)


def test_bad_record_names_and_output_with_seeds_are_clear_errors():
    with pytest.raises(SystemExit, match="--record must be a file name"):
        speedrun.main(["--record", "../x"])
    with pytest.raises(SystemExit, match="--output takes one seed"):
        speedrun.main(["--output", "x.json", "--seeds", "0", "1"])
