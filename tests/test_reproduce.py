"""scripts/reproduce.py: one JSON per finished run, skipped when done, and the report."""

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import reproduce  # noqa: E402

from iarc_hf.experiments.registry import EXPERIMENTS  # noqa: E402

REQUIRED = {
    "preset",
    "dataset_config",
    "seed",
    "max_steps",
    "optimizer",
    "params",
    "train_seconds",
    "metrics",
    "oracle",
}


def test_experiments_cover_the_paper():
    names = {e: {r.name for r in make()} for e, make in EXPERIMENTS.items()}
    assert {
        f"transformer-{a}_{c}" for a in ("dpa", "ea") for c in ("IARC", "IAR", "IA", "IR")
    } <= names["table1"]
    assert {"cisformer-ea_IARC", "cisformer-dpa_IARC", "mlp_IARC", "lstm_IARC"} <= names["fig1"]
    assert any("cog" in n for n in names["beyond"]) and any("adamw" in n for n in names["beyond"])


@pytest.mark.integration
def test_runs_are_written_skipped_and_reported(tmp_path, capsys):
    args = ["run", "fig1", "--filter", "mlp_IARC", "--max_steps", "2", "--seeds", "0", "1",
            "--results_dir", str(tmp_path / "results"), "--runs_dir", str(tmp_path / "runs")]  # fmt: skip
    reproduce.main(args)
    files = sorted((tmp_path / "results" / "fig1").glob("*.json"))
    assert [f.name for f in files] == ["mlp_IARC_seed0_steps2.json", "mlp_IARC_seed1_steps2.json"]
    record = json.loads(files[0].read_text())
    assert REQUIRED <= set(record)
    assert record["scaled_down"] and record["max_steps"] == 2 and record["preset"] == "mlp"
    assert set(record["metrics"]) == set(record["oracle"]) and record["oracle"]["accuracy"] > 0.99
    capsys.readouterr()
    reproduce.main(args)  # resumable: nothing is trained twice
    again = capsys.readouterr().out
    assert "2 of 2 runs done already" in again and "wrote" not in again
    reproduce.main(["report", "--results_dir", str(tmp_path / "results")])
    readme = (tmp_path / "results" / "README.md").read_text()
    assert "| mlp | IARC | **scaled down: 2** | 2 |" in readme
    assert "#### fig1, side by side with the paper" in readme
    assert "| mlp | IARC | modest | not run | 2 steps: " in readme
    assert (tmp_path / "results" / "fig1_curves.png").exists()
    assert (tmp_path / "results" / "fig1_bars.png").exists()
    # the hand-written account around the tables survives a new report
    (tmp_path / "results" / "README.md").write_text(
        "# Mine\n\nkept\n" + readme[readme.index("<!--") :]
    )
    reproduce.main(["report", "--results_dir", str(tmp_path / "results")])
    assert "kept" in (tmp_path / "results" / "README.md").read_text()


def _reading_cases():
    from iarc_hf.configuration_iarc import READINGS

    return [(field, value) for field, values in READINGS.items() for value in values[1:]]


@pytest.mark.parametrize(("field", "value"), _reading_cases())
def test_the_readings_screen_covers_every_reading_on_every_ea_model(field, value):
    runs = EXPERIMENTS["readings"]()
    ea_models = {(r.preset, r.dataset_config) for r in runs if r.preset.endswith("-ea")}
    assert len(ea_models) == 3
    covered = {(r.preset, r.dataset_config) for r in runs if r.model == {field: value}}
    assert ea_models <= covered
    assert all(r.preset.endswith("-ea") for r in runs if "expressive_alibi" in r.model)


def _grid(tmp_path, *extra) -> list[str]:
    return ["fig1", "--filter", "mlp_IARC", "--max_steps", "2", "--seeds", "0",
            "--results_dir", str(tmp_path / "results"), "--runs_dir", str(tmp_path / "runs"), *extra]  # fmt: skip


def _job(tmp_path):
    from iarc_hf.experiments.jobs import list_jobs

    (job,) = list_jobs("fig1", [0], 2, tmp_path / "results", tmp_path / "runs", ["mlp_IARC"])
    return job


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "--max_steps", "-5"], "--max_steps must be a positive integer, got -5"),
        (["run", "--max_steps", "0"], "--max_steps must be a positive integer, got 0"),
        (["run", "--threads", "0"], "--threads must be a positive integer, got 0"),
        (["run", "--workers", "0"], "--workers must be a positive integer, got 0"),
        (["plan", "--seeds", "0", "-1"], "--seeds must be integers >= 0, got 0 -1"),
    ],
)
def test_bad_numbers_are_one_line_errors(tmp_path, argv, message):
    command, *extra = argv
    # the later flag wins: the grid's --max_steps 2 / --seeds 0 are overridden by extra
    with pytest.raises(SystemExit) as stop:
        reproduce.main([command, *_grid(tmp_path, *extra)])
    assert stop.value.code == message
    assert not (tmp_path / "runs").exists()


def test_ctrl_c_on_the_sequential_path_is_one_line_and_exit_130(tmp_path, monkeypatch, capsys):
    def interrupted(job, command):
        raise KeyboardInterrupt

    monkeypatch.setattr(reproduce, "execute", interrupted)
    with pytest.raises(SystemExit) as stop:
        reproduce.main(["run", *_grid(tmp_path)])
    assert stop.value.code == 130
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == reproduce.INTERRUPTED
    assert not (tmp_path / "results").exists()


@pytest.mark.integration
def test_a_result_json_cut_short_is_not_done_and_is_named(tmp_path, capsys):
    reproduce.main(["run", *_grid(tmp_path)])
    job = _job(tmp_path)
    whole = job.result.read_text()
    assert job.is_done()
    job.result.write_text(whole[: len(whole) // 2])
    assert not job.is_done() and str(job.result) in job.result_problem()
    capsys.readouterr()
    reproduce.main(["plan", *_grid(tmp_path)])
    out = capsys.readouterr().out
    assert "broken JSON: will rerun" in out and f"{job.result}: broken JSON" in out
    assert "1 to run, 0 done already" in out
    reproduce.main(["report", "--results_dir", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert f"warning: skipped {job.result}: broken JSON" in err
    reproduce.main(["run", *_grid(tmp_path)])  # rewritten from the finished folder
    assert "redoing" in capsys.readouterr().out
    assert job.is_done() and json.loads(job.result.read_text())["metrics"]["accuracy"] > 0


def test_a_result_without_its_accuracy_is_not_done(tmp_path):
    job = _job(tmp_path)
    job.result.parent.mkdir(parents=True)
    job.result.write_text(json.dumps({"experiment": "fig1", "metrics": {}}))
    assert not job.is_done()
    assert job.result_problem().endswith(
        "lacks name, seed, max_steps, params, oracle, curve, metrics.accuracy"
    )


def test_a_damaged_checkpoint_shows_in_the_plan_and_stops_run_with_the_fix(tmp_path, capsys):
    from iarc_hf.training.loop import train

    job = _job(tmp_path)
    train(*job.arguments(), command="test", stop_after=1, show_progress=False)
    model = job.output_dir / "checkpoint-1" / "model.safetensors"
    model.write_bytes(model.read_bytes()[:100])
    capsys.readouterr()
    reproduce.main(["plan", *_grid(tmp_path)])
    out = capsys.readouterr().out
    assert "broken checkpoint-1" in out and "model.safetensors is cut short" in out
    with pytest.raises(SystemExit) as stop:
        reproduce.main(["run", *_grid(tmp_path)])
    message = stop.value.code
    assert message.startswith(f"error: checkpoint {job.output_dir / 'checkpoint-1'}")
    assert "start the run afresh" in message and "\n" not in message


def test_a_diverged_run_is_recorded_and_the_queue_goes_on(tmp_path, monkeypatch, capsys):
    """A NaN loss (LossNotFinite) marks its run diverged beside the JSON it never writes, and
    `run` goes on with the next run instead of stopping the whole queue."""
    from iarc_hf.experiments.jobs import list_jobs
    from iarc_hf.training import loop

    def nan_at_step_1(*args, **kwargs):
        raise loop.LossNotFinite("the training loss became NaN or infinite at step 1")

    monkeypatch.setattr(loop, "train", nan_at_step_1)
    where = ["--results_dir", str(tmp_path / "results"), "--runs_dir", str(tmp_path / "runs")]
    argv = ["fig1", "--filter", "mlp_IARC", "lstm_IARC", "--max_steps", "2", "--seeds", "0", *where]
    reproduce.main(["run", *argv])
    out = capsys.readouterr().out
    assert out.count(" diverged: the training loss became NaN") == 2 and "going on" in out
    jobs = list_jobs("fig1", [0], 2, tmp_path / "results", tmp_path / "runs", ["mlp_IARC", "lstm_IARC"])  # fmt: skip
    assert all(job.is_done() and not job.result.exists() for job in jobs)
    assert all(job.diverged().startswith("the training loss became NaN") for job in jobs)
    reproduce.main(["plan", *argv])
    assert capsys.readouterr().out.count("diverged") == 2


@pytest.mark.parametrize(
    "steps, label",
    [(2000, "**scaled down: 2000**"), (8000, "paper (8000)"), (16000, "**extended: 16000**")],
)
def test_the_report_labels_budgets_against_the_papers(steps, label):
    """More than the paper's 8000 steps is extended, not scaled down."""
    from iarc_hf.experiments.registry import budget_label
    from iarc_hf.experiments.report import _budget
    from iarc_hf.experiments.report_plots import BUDGET_MARKS, bars_title

    assert _budget(steps) == label
    mark = BUDGET_MARKS[budget_label(steps)]
    title = bars_title("frontier", ["cisformer-dpa\nIARC", "cisformer-ea\nIARC" + mark])
    expected = {2000: "frontier (* scaled down budget)", 8000: "frontier"}
    assert title == expected.get(steps, "frontier (+ extended budget)")


@pytest.mark.parametrize(
    "steps, batch, label",
    [(8000, 100, "**scaled down: 8000 × 100**"), (16000, 100, "**paper: 16000 × 100**"),
     (4000, 400, "**paper: 4000 × 400**"), (8000, 400, "**extended: 8000 × 400**")],
)  # fmt: skip
def test_budgets_are_judged_by_windows_not_steps(steps, batch, label):
    """The paper's budget is 1.6M windows: 8000 steps of a smaller batch are fewer."""
    from iarc_hf.experiments.registry import budget_label
    from iarc_hf.experiments.report import _budget

    assert _budget(steps, batch) == label
    assert budget_label(steps, batch) == label.strip("*").split(":")[0]
