"""The recipe search: trials are runs with result JSONs, the SQLite study continues where it
stopped, a trial whose heartbeat stopped is retried and resumes its run, the summary ranks
trials and only reads the study."""

import json
import sqlite3
import sys
from pathlib import Path

import optuna
import pytest

import iarc_hf.training.loop as training
from iarc_hf.experiments.jobs import job_for
from iarc_hf.experiments.search import (
    BASELINE,
    EXPERIMENT,
    GRACE_SECONDS,
    open_study,
    run_search,
    storage_url,
    suggest,
    summary,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import search as search_script  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)
WINDOWS = 400  # one to four steps per trial: the machinery, not the accuracy


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    root = tmp_path_factory.mktemp("search")
    results, runs = root / "results", root / "runs"
    study = run_search("t", 2, WINDOWS, results_dir=results, runs_dir=runs, command="test")
    return study, results, runs


@pytest.mark.integration
def test_trials_are_runs_with_result_jsons(searched):
    study, results, _ = searched
    trials = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(trials) == 2
    for trial in trials:
        record = json.loads(Path(trial.user_attrs["result"]).read_text())
        assert record["experiment"] == "search" and record["label"] == f"trial {trial.number}"
        assert trial.value == record["curve"][-1]["accuracy"]  # scored on validation
        assert record["batch_size"] * record["max_steps"] == WINDOWS
        assert record["preset"] == f"cisformer-{trial.params['attention']}"
        assert record["learning_rate"] == pytest.approx(trial.params["learning_rate"])
        assert record["model_overrides"]["num_hidden_layers"] == trial.params["num_hidden_layers"]
    assert (results / "search" / "t.db").is_file()
    # a new study starts from the known recipe, once per attention
    assert [t.params for t in trials] == [{"attention": a, **BASELINE} for a in ("dpa", "ea")]


def _age_heartbeat(results: Path, trial_id: int, seconds: int) -> None:
    """Date the trial's last heartbeat `seconds` back, as if its process died that long ago."""
    with sqlite3.connect(results / "search" / "t.db") as db:
        db.execute(
            "UPDATE trial_heartbeats SET heartbeat = datetime('now', ?) WHERE trial_id = ?",
            (f"-{seconds} seconds", trial_id),
        )


def _states(storage: str) -> list:
    return [t.state for t in optuna.load_study(study_name="t", storage=storage).get_trials()]


@pytest.mark.integration
@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")  # ask() outside optimize
def test_a_dead_trial_is_retried_by_its_heartbeat_and_resumes_its_run(
    searched, monkeypatch, capsys
):
    study, results, runs = searched
    storage = storage_url("t", results)
    recipe = {"attention": "ea", **BASELINE, "batch_size": 100, "num_hidden_layers": 8}
    worker = open_study("t", storage)
    worker.enqueue_trial(recipe)
    dead = worker.ask()  # RUNNING, its heartbeat recorded, then its process "dies" at step 2
    spec, batch = suggest(dead)
    worker._storage.record_heartbeat(dead._trial_id)
    job = job_for(EXPERIMENT, spec, 0, WINDOWS // batch, results, runs)
    real_train = training.train
    real_train(*job.arguments(), command="test", stop_after=2, show_progress=False)
    before = _states(storage)
    # neither a second worker opening the study nor a summary touches a live trial
    open_study("t", storage)
    search_script.main(["summary", "--study", "t", "--results_dir", str(results)])
    capsys.readouterr()
    assert _states(storage) == before and before[-1] == optuna.trial.TrialState.RUNNING
    _age_heartbeat(results, dead._trial_id, GRACE_SECONDS + 60)
    resumes = []

    def spy(model_args, data_args, run_args, **kw):
        resumes.append(run_args.resume_from_checkpoint)
        return real_train(model_args, data_args, run_args, **kw)

    monkeypatch.setattr("iarc_hf.training.loop.train", spy)
    again = run_search("t", 3, WINDOWS, results_dir=results, runs_dir=runs, command="test")
    failed = again.trials[dead.number]
    retried = again.trials[-1]
    assert failed.state == optuna.trial.TrialState.FAIL
    assert retried.state == optuna.trial.TrialState.COMPLETE and retried.params == dead.params
    assert retried.system_attrs["failed_trial"] == dead.number
    assert retried.user_attrs["result"] == str(job.result)  # the same run, resumed
    assert resumes == ["latest"]
    assert json.loads(job.result.read_text())["max_steps"] == WINDOWS // batch


def test_ctrl_c_queues_the_trial_again_and_exits_130(tmp_path, monkeypatch, capsys, caplog):
    def interrupted(job, command, show_progress=True):
        raise KeyboardInterrupt

    monkeypatch.setattr("iarc_hf.experiments.search.execute", interrupted)
    with pytest.raises(SystemExit) as stop:
        search_script.main(["run", "--study", "c", "--trials", "1", "--windows", str(WINDOWS),
                            "--results_dir", str(tmp_path)])  # fmt: skip
    assert stop.value.code == 130
    assert capsys.readouterr().out.startswith("interrupted: the same command retries the trial")
    assert not [r for r in caplog.records if "failed" in r.getMessage()]  # no Optuna traceback
    trials = optuna.load_study(study_name="c", storage=storage_url("c", tmp_path)).trials
    failed = [t for t in trials if t.state == optuna.trial.TrialState.FAIL]
    waiting = [  # an enqueued trial holds its recipe as fixed_params until it runs
        t.system_attrs["fixed_params"] for t in trials if t.state == optuna.trial.TrialState.WAITING
    ]
    assert len(failed) == 1 and waiting[-1] == failed[0].params  # queued again, same recipe


def test_a_diverging_trial_is_pruned_and_the_search_goes_on(tmp_path, monkeypatch):
    from iarc_hf.training.loop import LossNotFinite

    def diverges(job, command, show_progress=True):
        raise LossNotFinite("the training loss became nan at step 3")

    monkeypatch.setattr("iarc_hf.experiments.search.execute", diverges)
    study = run_search("d", 2, WINDOWS, results_dir=tmp_path, runs_dir=tmp_path / "runs")
    states = [t.state for t in study.trials]
    assert states == [optuna.trial.TrialState.PRUNED] * 2
    assert "nan at step 3" in study.trials[0].user_attrs["diverged"]


@pytest.mark.integration
def test_summary_of_an_unknown_study_lists_the_studies(searched):
    _, results, _ = searched
    with pytest.raises(SystemExit) as stop:
        search_script.main(["summary", "--study", "nope", "--results_dir", str(results)])
    db = results / "search" / "nope.db"
    assert stop.value.code == f"--study nope: no study database {db} (databases in {db.parent}: t)"
    assert not db.exists()
    storage = storage_url("t", results)
    with pytest.raises(SystemExit) as stop:
        search_script.main(["summary", "--study", "nope", "--storage", storage])
    assert stop.value.code == f"--study nope: no such study in {storage} (studies there: t)"
    assert optuna.study.get_all_study_names(storage) == ["t"]


@pytest.mark.integration
def test_summary_and_script(searched, capsys):
    study, results, runs = searched
    result = summary(study)
    values = [row["validation_accuracy"] for row in result["best"]]
    assert values == sorted(values, reverse=True) and result["finished_trials"] >= 2
    assert set(result["importances"]) <= set(result["best"][0]["recipe"])
    for attention, row in result["best_per_attention"].items():
        same = [
            r for r in study.trials if r.value is not None and r.params["attention"] == attention
        ]
        assert row["validation_accuracy"] == max(r.value for r in same)
    assert set(result["best_per_attention"]) == {"dpa", "ea"}  # the two baselines at least
    search_script.main(["summary", "--study", "t", "--results_dir", str(results)])
    saved = json.loads((results / "search" / "t_summary.json").read_text())
    assert saved["best"][0]["trial"] == result["best"][0]["trial"]
    assert "trial " in capsys.readouterr().out


def test_search_space_fits_the_size_limit():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    from iarc_hf.configuration_iarc import IARCConfig
    from iarc_hf.modeling_iarc import IARCModel

    for _ in range(4):
        spec, _ = suggest(study.ask())
        config = IARCConfig.from_preset(spec.preset, **spec.model)
        params = sum(p.numel() for p in IARCModel(config).parameters())
        assert params <= 1_500_000, (spec.model, params)


SUMMARY = Path(__file__).resolve().parents[1] / "results" / "search" / "frontier-400k_summary.json"


@pytest.mark.parametrize("attention", ["dpa", "ea"])
def test_best_presets_are_the_committed_searchs_winners(attention):
    """`cisformer-*-best` + the `best-*` recipe are the best trial of each attention."""
    from iarc_hf.configuration_iarc import IARCConfig
    from iarc_hf.experiments.registry import RECIPES

    winner = json.loads(SUMMARY.read_text())["best_per_attention"][attention]["recipe"]
    base = "cisformer-dpa" if attention == "dpa" else "cisformer-ea"
    model = {
        k: winner[k] for k in ("loss_reduction", "dropout", "num_hidden_layers", "ffn_expansion")
    }
    best = IARCConfig.from_preset(f"{base}-best").to_dict()
    assert best == IARCConfig.from_preset(base, **model).to_dict()
    recipe = RECIPES[f"best-{attention}"]
    for key in ("learning_rate", "lr_scheduler_type", "warmup_steps", "weight_decay"):
        assert recipe[key] == winner[key], key
    assert recipe["per_device_train_batch_size"] == winner["batch_size"]
