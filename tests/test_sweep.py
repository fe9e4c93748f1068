"""Sweeps: a grid on Ray equals the sequential path, a killed sweep resumes bit for bit, a failing
run is reported while the others finish, missing Ray is a clear error; `plan` and the status."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import torch
from safetensors.torch import load_file

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import reproduce  # noqa: E402

from iarc_hf.experiments.registry import EXPERIMENTS, Run  # noqa: E402
from iarc_hf.experiments.sweep_status import SweepStatus  # noqa: E402

ray = pytest.importorskip("ray")

TINY_DPA = "transformer-dpa_IARC_num_hidden_layers=1"

GRID = ["smoke", "--max_steps", "4"]  # 2 one-layer models


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray cluster for the in-process sweeps of this module."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def dirs(root: Path) -> list[str]:
    return ["--results_dir", str(root / "results"), "--runs_dir", str(root / "runs")]


def records(root: Path, experiment="smoke") -> dict[str, dict]:
    folder = root / "results" / experiment
    return {p.name: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


@pytest.mark.integration
def test_workers_give_the_sequential_results(tmp_path, local_ray):
    seeds = ["--seeds", "0", "1"]
    reproduce.main(["run", *GRID, *seeds, "--threads", "1", *dirs(tmp_path / "seq")])
    reproduce.main(
        ["run", *GRID, *seeds, "--workers", "2", "--threads_per_run", "1", *dirs(tmp_path / "ray")]
    )
    sequential, parallel = records(tmp_path / "seq"), records(tmp_path / "ray")
    assert len(sequential) == 4 and sequential.keys() == parallel.keys()
    for name, record in sequential.items():
        assert record.keys() == parallel[name].keys()
        assert json.dumps(record["metrics"]) == json.dumps(parallel[name]["metrics"]), name
        assert record["curve"] == parallel[name]["curve"], name


@pytest.mark.integration
def test_a_failing_run_is_reported_and_the_others_finish(tmp_path, local_ray, monkeypatch, capsys):
    tiny = {"num_hidden_layers": 1}
    grid = [Run("transformer-dpa", model=tiny), Run("mlp", model={"attention": "linear"})]
    monkeypatch.setitem(EXPERIMENTS, "broken", lambda: grid)
    args = ["run", "broken", "--max_steps", "2", "--seeds", "0", "--workers", "2"]
    with pytest.raises(SystemExit) as stopped:
        reproduce.main([*args, *dirs(tmp_path)])
    assert stopped.value.code == 1
    out = capsys.readouterr().out
    assert "FAILED mlp_IARC_attention=linear_seed0_steps2: ValueError" in out
    assert "model argument: attention='linear'" in out
    assert "1 runs finished, 0 done already, 1 failed" in out
    assert list(records(tmp_path, "broken")) == [
        "transformer-dpa_IARC_num_hidden_layers=1_seed0_steps2.json"
    ]


def test_missing_ray_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(SystemExit, match=r"not installed: pip install 'iarc-hf\[sweep\]'"):
        reproduce.main(["run", *GRID, "--seeds", "0", "--workers", "2", *dirs(tmp_path)])
    assert not (tmp_path / "runs").exists() and not (tmp_path / "results").exists()


def test_plan_lists_done_resumable_and_new_runs(tmp_path, capsys):
    from iarc_hf.experiments.jobs import execute, list_jobs

    done, partial, _ = list_jobs("smoke", [0, 1, 2], 8, tmp_path / "results", tmp_path / "runs",
                                 [TINY_DPA])  # fmt: skip
    done.result.parent.mkdir(parents=True)
    whole = {"experiment": "smoke", "name": TINY_DPA, "seed": 0, "max_steps": 8, "params": 1,
             "metrics": {"accuracy": 0.5}, "oracle": {}, "curve": []}  # fmt: skip
    done.result.write_text(json.dumps(whole))  # a JSON that parses with every field counts done
    from iarc_hf.experiments.registry import run_arguments
    from iarc_hf.training.loop import train

    train(*run_arguments(partial.spec, 1, 8, str(partial.output_dir)), stop_after=2,
          show_progress=False)  # fmt: skip
    reproduce.main(["plan", "smoke", "--filter", TINY_DPA, "--max_steps", "8", "--seeds", "0", "1", "2",
                    *dirs(tmp_path)])  # fmt: skip
    out = capsys.readouterr().out
    assert f"{TINY_DPA}_seed0_steps8  done" in out
    assert f"{TINY_DPA}_seed1_steps8  resumes at 2" in out and "6 steps left" in out
    assert f"{TINY_DPA}_seed2_steps8  new" in out
    assert "2 to run, 1 done already; 14 training steps (2,800 windows) left" in out
    # a run stopped after its last checkpoint but before its JSON is not trained again
    record = execute(partial, "test", show_progress=False)
    again = execute(partial, "test", show_progress=False)
    assert (
        again["train_seconds"] == record["train_seconds"] and again["metrics"] == record["metrics"]
    )


def _is_ray_worker(process: psutil.Process) -> bool:
    """Task workers and actors ("ray::IDLE", "ray::_run_job", ...), not Ray's own agents."""
    try:
        title = " ".join(process.cmdline()).strip()
    except psutil.NoSuchProcess:
        return False
    return title.startswith("ray::") and not title.endswith("Agent")


@pytest.mark.integration
def test_a_killed_sweep_resumes_bit_for_bit(tmp_path):
    """SIGKILL the driver once a run has a checkpoint; a new sweep finishes every run, and the
    interrupted run ends with the weights of an uninterrupted run of the same seed."""
    grid = ["smoke", "--filter", TINY_DPA, "--max_steps", "80", "--seeds", "0", "1"]
    command = [sys.executable, str(REPO / "scripts" / "reproduce.py"), "run", *grid,
               "--workers", "2", "--threads_per_run", "1", *dirs(tmp_path / "sweep")]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    driver = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    run0 = tmp_path / "sweep" / "runs" / "smoke" / f"{TINY_DPA}_seed0_steps80"
    deadline = time.monotonic() + 240
    while not (run0 / "checkpoint-20" / "trainer_state.json").exists():
        assert driver.poll() is None and time.monotonic() < deadline, driver.stdout.read()
        time.sleep(0.05)
    tree = psutil.Process(driver.pid).children(recursive=True)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    # Ray ends the tasks of a dead driver: no trainer may live on into the next sweep
    workers = [p for p in tree if _is_ray_worker(p)]
    assert workers
    _, alive = psutil.wait_procs(workers, timeout=60)
    assert not alive, alive
    for process in tree:  # Ray's agents may outlive the driver
        if process.is_running():
            process.kill()
    assert not (tmp_path / "sweep" / "results" / "smoke" / f"{run0.name}.json").exists()

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=400)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"start {run0.name} (resumes at step" in again.stdout
    assert len(records(tmp_path / "sweep")) == 2

    reproduce.main(["run", *grid[:-1], "--threads", "1", *dirs(tmp_path / "straight")])
    straight = tmp_path / "straight" / "runs" / "smoke" / run0.name
    resumed, reference = (
        load_file(run0 / "model.safetensors"),
        load_file(straight / "model.safetensors"),
    )
    assert resumed.keys() == reference.keys()
    for key in resumed:
        assert torch.equal(resumed[key], reference[key]), key


def test_status_lines_and_live_table():
    stream = io.StringIO()
    status = SweepStatus(total=2, steps_left=16, live=False, stream=stream)
    status.started("a", 10, 0)
    status.started("b", 10, 4)
    status.progress("a", {"step": 5, "loss": 1.0})
    status.progress("a", {"step": 5, "eval_accuracy": 0.5})
    status.finished("a", 0.75)
    status.failed_run("b", "ValueError: bad")
    lines = stream.getvalue().splitlines()
    assert "start b (resumes at step 4)" in lines[1] and "0 done, 2 running, 0 queued" in lines[1]
    assert "eval  a step 5/10 accuracy 0.5000" in lines[2]
    assert "done  a test accuracy 0.7500" in lines[3] and "1 done, 1 running" in lines[3]
    assert "FAILED b: ValueError: bad" in lines[4] and "1 failed" in lines[4]
    assert status.eta() == 0  # nothing left

    live = io.StringIO()
    status = SweepStatus(total=3, steps_left=30, live=True, stream=live)
    status.started("run-x", 10, 0)
    status.progress("run-x", {"step": 5, "eval_accuracy": 0.625})
    status.close()
    shown = live.getvalue()
    assert "run-x" in shown and "5/10" in shown and "0.6250" in shown and "2 queued" in shown


def test_a_run_finished_by_another_sweep_counts_as_done_and_leaves_the_eta():
    stream = io.StringIO()
    status = SweepStatus(total=2, steps_left=30, live=False, stream=stream)
    status.started("a", 10, 0)
    status.skipped("b", 20)
    assert status.steps_left == 10 and status.done == ["b"] and status.queued == 0
    assert "done  b already (by another sweep)" in stream.getvalue()
