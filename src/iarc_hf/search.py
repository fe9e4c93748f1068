"""Recipe search on IARC: an Optuna study whose every trial is a run like any other.

A trial draws a recipe (attention, learning rate, schedule, warm-up, batch size, weight decay,
dropout, the loss over positions, depth and FFN width of the cisformer) from `suggest`, trains
it for a fixed number of *windows* (so batch sizes compete on equal data), and is scored by its
final validation accuracy (last position); the test split is only reported. Each trial writes
a result JSON under `results/search/` and resumes from its checkpoints like every run.

The study lives in Optuna's storage, by default SQLite (`results/search/<study>.db`): a search
continues where it stopped, trials can be inspected with Optuna's own tools, and several
machines can share one study through an RDB URL (`--storage postgresql://...`). A trial that
was running when the process died is marked failed and its parameters are queued again, so
its run resumes from its latest checkpoint.
"""

from __future__ import annotations

from pathlib import Path

from iarc_hf.experiments import Run, mean_std
from iarc_hf.files import write_json
from iarc_hf.jobs import execute, job_for

EXPERIMENT = "search"
MAX_PARAMS = 1_500_000  # the frontier's size limit


def require_optuna():
    try:
        import optuna
    except ImportError:
        raise SystemExit("the recipe search needs Optuna: pip install 'iarc-hf[search]'") from None
    return optuna


def suggest(trial) -> tuple[Run, int]:
    """A run drawn from the search space, and its batch size."""
    attention = trial.suggest_categorical("attention", ["dpa", "ea"])
    batch = trial.suggest_categorical("batch_size", [100, 200, 400])
    training = {
        "learning_rate": trial.suggest_float("learning_rate", 5e-4, 1e-2, log=True),
        "lr_scheduler_type": trial.suggest_categorical(
            "lr_scheduler_type", ["cosine", "linear", "constant_with_warmup"]
        ),
        "warmup_steps": trial.suggest_categorical("warmup_steps", [0, 100, 200, 400]),
        "weight_decay": trial.suggest_categorical("weight_decay", [0.0, 0.01, 0.1]),
        "per_device_train_batch_size": batch,
    }
    model = {
        "loss_reduction": trial.suggest_categorical("loss_reduction", ["mean", "last"]),
        "dropout": trial.suggest_categorical("dropout", [0.0, 0.1]),
        "num_hidden_layers": trial.suggest_categorical("num_hidden_layers", [8, 12]),
        "ffn_expansion": trial.suggest_categorical("ffn_expansion", [2, 4]),
    }
    spec = Run(f"cisformer-{attention}", recipe="adamw", model=model, training=training,
               label=f"trial {trial.number}")  # fmt: skip
    return spec, batch


# The best recipe known before the search (results/beyond: AdamW, loss at the last position),
# queued as the first trials of a new study so every search is measured against it.
BASELINE = {
    "batch_size": 200,
    "learning_rate": 2e-3,
    "lr_scheduler_type": "cosine",
    "warmup_steps": 200,
    "weight_decay": 0.0,
    "loss_reduction": "last",
    "dropout": 0.0,
    "num_hidden_layers": 12,
    "ffn_expansion": 4,
}


def storage_url(study: str, results_dir) -> str:
    return f"sqlite:///{Path(results_dir) / EXPERIMENT / f'{study}.db'}"


def open_study(study: str, storage: str, seed: int = 0):
    """The study (created or loaded; a new one starts with the baseline recipe for each
    attention); trials left running by a dead process are failed and their parameters queued
    again (their runs resume from checkpoints)."""
    optuna = require_optuna()
    if storage.startswith("sqlite:///"):
        Path(storage.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    loaded = optuna.create_study(
        study_name=study,
        storage=storage,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        load_if_exists=True,
    )
    if not loaded.get_trials(deepcopy=False):
        for attention in ("dpa", "ea"):
            loaded.enqueue_trial({"attention": attention, **BASELINE})
    for stale in loaded.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        loaded._storage.set_trial_state_values(stale._trial_id, optuna.trial.TrialState.FAIL)
        loaded.enqueue_trial(stale.params, skip_if_exists=False)
    return loaded


def objective(windows: int, seed: int, results_dir, runs_dir, command: str):
    """The trial function: train the drawn run for `windows` windows; its validation accuracy."""

    def run_trial(trial) -> float:
        spec, batch = suggest(trial)
        max_steps = max(windows // batch, 1)
        job = job_for(EXPERIMENT, spec, seed, max_steps, results_dir, runs_dir)
        if job.is_done():
            import json

            record = json.loads(job.result.read_text())
        else:
            record = execute(job, command, show_progress=False)
            write_json(job.result, record)
        if record["params"] > MAX_PARAMS:
            trial.set_user_attr("over_size_limit", True)
        trial.set_user_attr("result", str(job.result))
        trial.set_user_attr("test_accuracy", record["metrics"]["accuracy"])
        trial.set_user_attr("params", record["params"])
        return record["curve"][-1]["accuracy"]

    return run_trial


def run_search(study: str, trials: int, windows: int, seed=0, results_dir="results",
               runs_dir="runs", storage=None, command="") -> object:  # fmt: skip
    """Run trials until the study holds `trials` finished ones."""
    optuna = require_optuna()
    loaded = open_study(study, storage or storage_url(study, results_dir), seed)
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    left = trials - len(loaded.get_trials(deepcopy=False, states=finished))
    if left > 0:
        loaded.optimize(objective(windows, seed, results_dir, runs_dir, command), n_trials=left)
    return loaded


def summary(loaded, top: int = 5) -> dict:
    """The best trials and, with two or more finished ones, Optuna's parameter importances."""
    optuna = require_optuna()
    done = loaded.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    best = sorted(done, key=lambda t: t.value, reverse=True)[:top]
    importances = {}
    if len(done) >= 2:
        importances = dict(optuna.importance.get_param_importances(loaded))
    values = [t.value for t in done]
    per_attention = {}
    for t in sorted(done, key=lambda t: t.value, reverse=True):
        per_attention.setdefault(t.params["attention"], _row(t))
    return {
        "study": loaded.study_name,
        "finished_trials": len(done),
        "validation_accuracy": dict(zip(("mean", "std"), mean_std(values), strict=True)),
        "best": [_row(t) for t in best],
        "best_per_attention": per_attention,
        "importances": importances,
    }


def _row(trial) -> dict:
    return {
        "trial": trial.number,
        "validation_accuracy": trial.value,
        "test_accuracy": trial.user_attrs.get("test_accuracy"),
        "params": trial.user_attrs.get("params"),
        "result": trial.user_attrs.get("result"),
        "recipe": trial.params,
    }
