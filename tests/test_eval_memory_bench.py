"""The evaluation-memory benchmark runs end to end (small sizes; its numbers are not checked)."""

import json

import pytest

from iarc_hf.benchmarks import eval_memory


@pytest.mark.integration
def test_eval_memory_writes_one_row_per_way_and_size(tmp_path):
    out = tmp_path / "bench" / "eval_memory.json"
    eval_memory.main(["--sizes", "50", "120", "--one_shot", "--out", str(out)])
    runs = json.loads(out.read_text())["runs"]
    assert [(r["way"], r["size"]) for r in runs] == [
        ("streamed", 50),
        ("streamed", 120),
        ("one_shot", 50),
        ("one_shot", 120),
    ]
    assert all(r["peak_rss_mib"] > 50 for r in runs)  # a Python with torch, not a parent's 0


def test_a_failing_run_names_its_command():
    with pytest.raises(RuntimeError, match="failed"):
        eval_memory.peak_rss_mib(["python3", "-c", "raise SystemExit(3)"])
