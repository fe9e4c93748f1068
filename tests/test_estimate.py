"""`reproduce.py plan` says how long the runs left will take, at the finished runs' pace."""

import json
import sys
from pathlib import Path

import pytest

from iarc_hf.experiments.estimate import estimate
from iarc_hf.experiments.jobs import list_jobs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from reproduce import main  # noqa: E402


def finished(results, experiment, name, preset, seconds, steps=100, pack_size=None, seed=9):
    folder = results / experiment
    folder.mkdir(parents=True, exist_ok=True)
    record = {"experiment": experiment, "name": name, "preset": preset, "dataset_config": "IARC"}
    record |= {"seed": seed, "max_steps": steps, "train_seconds": seconds, "params": 1}
    record |= {"metrics": {"accuracy": 0.5}, "oracle": {}, "curve": []}
    record |= {"pack_size": pack_size} if pack_size else {}
    (folder / f"{name}_seed{seed}.json").write_text(json.dumps(record))


@pytest.fixture
def jobs(tmp_path):
    """fig1's MLP and LSTM on IARC, seeds 0-1, 50 steps each, nothing trained."""
    return list_jobs(
        "fig1", [0, 1], 50, tmp_path / "results", tmp_path / "runs", ["mlp_IARC", "lstm_IARC"]
    )


def test_a_run_is_timed_by_its_own_name_first_then_by_its_preset(tmp_path, jobs):
    results = tmp_path / "results"
    finished(results, "fig1", "mlp_IARC", "mlp", seconds=20)  # 0.2 s a step
    finished(results, "beyond", "mlp_IARC_x=1", "mlp", seconds=1000)  # same preset: not used
    finished(results, "speedrun", "lstm_IARC", "lstm", seconds=1000)  # not an experiment
    finished(results, "beyond", "lstm_IARC_adamw", "lstm", seconds=60, pack_size=3)  # 0.2 s
    got = estimate([(job, 50) for job in jobs], results)
    assert (got.timed, got.untimed) == (4, 0)
    assert got.seconds == pytest.approx(4 * 50 * 0.2)


def test_runs_with_nothing_to_time_them_are_counted_apart(tmp_path, jobs):
    results = tmp_path / "results"
    (results / "fig1").mkdir(parents=True)
    (results / "fig1" / "broken.json").write_text("{")
    finished(results, "fig1", "lstm_IARC", "lstm", seconds=0)  # hand-written: no training time
    finished(results, "fig1", "mlp_IARC", "mlp", seconds=36, steps=10)
    got = estimate([(job, 50) for job in jobs], results)
    assert (got.timed, got.untimed, got.seconds) == (2, 2, pytest.approx(360))
    assert got.text().startswith("about 0.1 h of training for 2 of them")
    assert got.text().endswith("; 2 with no such run to time them")
    assert "no finished run" in estimate([(jobs[0], 5)], tmp_path / "none").text()


def test_plan_prints_the_estimate(tmp_path, jobs, capsys):
    finished(tmp_path / "results", "fig1", "mlp_IARC", "mlp", seconds=7200, steps=50)
    folders = ["--results_dir", str(tmp_path / "results"), "--runs_dir", str(tmp_path / "runs")]
    main(["plan", "fig1", "--filter", "mlp_IARC", "--max_steps", "50", "--seeds", "0", *folders])
    assert "about 2.0 h of training for 1 of them" in capsys.readouterr().out
