"""The recipe search: trials are runs with result JSONs, the SQLite study continues where it
stopped, a trial left running by a dead process is queued again, the summary ranks trials."""

import json
import sys
from pathlib import Path

import optuna
import pytest

from iarc_hf.search import BASELINE, open_study, run_search, storage_url, suggest, summary

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


def test_the_study_continues_and_queues_a_dead_trial_again(searched):
    study, results, runs = searched
    storage = storage_url("t", results)
    dead = open_study("t", storage).ask()  # left RUNNING, as a killed process leaves it
    suggest(dead)
    reopened = open_study("t", storage)
    states = [t.state for t in reopened.get_trials()]
    assert states.count(optuna.trial.TrialState.FAIL) == 1
    assert states.count(optuna.trial.TrialState.WAITING) == 1
    again = run_search("t", 3, WINDOWS, results_dir=results, runs_dir=runs, command="test")
    complete = again.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(complete) == 3 and complete[-1].params == dead.params  # the dead one, rerun


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
    from iarc_hf.experiments import RECIPES

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
