"""A run resumed under another thread count says so: each stretch of training is in its JSON's
`provenance.segments`, and `reproduce.py rerun` says what one rerun cannot repeat."""

import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import reproduce  # noqa: E402  (as tests/test_reproduce.py imports it)

from iarc_hf.experiments.jobs import execute, list_jobs  # noqa: E402
from iarc_hf.provenance import (  # noqa: E402
    SEGMENTS_LOG,
    mixed_conditions,
    read_segments,
    record_segment,
    resumed_segments,
)
from iarc_hf.training.loop import train  # noqa: E402


@pytest.fixture
def threads():
    """Set torch's thread count for one test, then put it back."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


def smoke_job(root):
    (job,) = list_jobs("smoke", [0], 4, root / "results", root / "runs",
                       ["transformer-dpa*"])  # fmt: skip
    return job


def resumed_on_other_threads(root, threads):
    """The smoke job stopped after step 2 on 2 threads, then finished on 1: (job, its record)."""
    job = smoke_job(root)
    model_args, data_args, run = job.arguments()
    run.save_steps = 2
    threads(2)
    stopped = train(model_args, data_args, run, command="test", stop_after=2, show_progress=False)
    assert stopped is None
    threads(1)
    return job, execute(job, "test", show_progress=False)


def test_a_run_in_one_stretch_adds_no_segments(tmp_path, threads):
    threads(1)
    job = smoke_job(tmp_path)
    record = execute(job, "test", show_progress=False)
    assert [s["start_step"] for s in read_segments(job.output_dir)] == [0]
    assert "segments" not in record["provenance"]  # its provenance says it all
    model_args, data_args, run = job.arguments()
    run.resume_from_checkpoint = "latest"  # a resume after the end trains nothing: no stretch
    train(model_args, data_args, run, command="test", show_progress=False)
    assert [s["start_step"] for s in read_segments(job.output_dir)] == [0]


def test_a_run_resumed_on_other_threads_lists_each_stretch(tmp_path, threads):
    job, record = resumed_on_other_threads(tmp_path, threads)
    segments = record["provenance"]["segments"]
    assert [(s["start_step"], s["torch_threads"]) for s in segments] == [(0, 2), (2, 1)]
    assert mixed_conditions(segments) == ["torch_threads"]
    assert record["provenance"]["torch_threads"] == 1  # the last stretch's, as before


def test_a_fresh_start_begins_the_log_anew_and_a_resume_drops_later_stretches(tmp_path):
    for step in (0, 4, 8):
        record_segment(tmp_path, step)
    record_segment(tmp_path, 4)  # resumed from checkpoint-4 again: the stretch from 8 is gone
    assert [s["start_step"] for s in read_segments(tmp_path)] == [0, 4]
    record_segment(tmp_path, 0)
    assert [s["start_step"] for s in read_segments(tmp_path)] == [0]
    assert resumed_segments(tmp_path) is None


def test_a_log_begun_mid_run_is_kept_as_it_is(tmp_path):
    # runs started before the log existed: the first stretch logged starts after step 0
    record_segment(tmp_path, 5500)
    (segment,) = resumed_segments(tmp_path)
    assert segment["start_step"] == 5500 and segment["torch_threads"] == torch.get_num_threads()
    assert json.loads((tmp_path / SEGMENTS_LOG).read_text())["cpu"]


def test_the_same_conditions_are_not_mixed():
    same = {"torch_threads": 2, "cpu": "x", "git_commit": "a", "versions": {"torch": "2"}}
    assert mixed_conditions([same, dict(same)]) == []
    assert mixed_conditions([same, {**same, "cpu": "y", "versions": {"torch": "3"}}]) == [
        "cpu",
        "versions",
    ]
    assert mixed_conditions(None) == []


def test_rerun_of_a_resumed_run_says_what_it_cannot_repeat(tmp_path, threads, capsys):
    job, record = resumed_on_other_threads(tmp_path, threads)
    job.result.parent.mkdir(parents=True, exist_ok=True)
    job.result.write_text(json.dumps(record))
    reproduce.main(["rerun", str(job.result), "--scratch", str(tmp_path / "scratch")])
    out = capsys.readouterr().out
    assert "was resumed with another torch_threads (provenance.segments)" in out
