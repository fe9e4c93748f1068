"""Recipe search on IARC: an Optuna study whose every trial is a run like any other.

A trial draws a recipe (attention, learning rate, schedule, warm-up, batch size, weight decay,
dropout, the loss over positions, depth and FFN width of the cisformer) from `suggest`, trains
it for a fixed number of *windows* (so batch sizes compete on equal data), and is scored by its
final validation accuracy (last position); the test split is only reported. Each trial writes
a result JSON under `results/search/` and resumes from its checkpoints like every run.

The study lives in Optuna's storage, by default SQLite (`results/search/<study>.db`): a search
continues where it stopped, trials can be inspected with Optuna's own tools, and several
machines can share one study through an RDB URL (`--storage postgresql://...`). A running
trial records a heartbeat every minute (Optuna's heartbeat); one whose heartbeat is ten minutes
old (its process died) is failed by the next trial to start and retried with the same
parameters, so its run resumes from its latest checkpoint. A trial stopped by Ctrl-C or by a
damaged checkpoint is queued again the same way.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from iarc_hf.experiments.frontier_report import MAX_PARAMS
from iarc_hf.experiments.jobs import execute, job_for
from iarc_hf.experiments.registry import Run
from iarc_hf.experiments.results import read_result
from iarc_hf.experiments.stats import mean_std
from iarc_hf.files import write_json
from iarc_hf.training.checkpoints import BrokenCheckpoint
from iarc_hf.training.loop import LossNotFinite

EXPERIMENT = "search"
HEARTBEAT_SECONDS = 60
# Generous: a trial whose process is alive but stalled (a suspended laptop) and is retried
# elsewhere would have two processes training in one folder.
GRACE_SECONDS = 600
MAX_RETRIES = 3  # a trial whose process keeps dying is given up after this many retries


def require_optuna():
    try:
        import optuna
    except ImportError:
        raise SystemExit("the recipe search needs Optuna: pip install 'iarc-hf[search]'") from None
    if not hasattr(optuna.storages, "RetryHeartbeatStaleTrialCallback"):  # added in 4.9
        raise SystemExit(
            f"the recipe search needs Optuna 4.9 or later (found {optuna.__version__}): "
            "pip install -U 'optuna>=4.9'"
        )
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


def heartbeat_storage(url: str):
    """The study's storage with Optuna's heartbeat: a trial whose process died is failed once
    its heartbeat is GRACE_SECONDS old and retried with the same parameters."""
    optuna = require_optuna()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # the heartbeat is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRIES)
        return optuna.storages.RDBStorage(
            url,
            heartbeat_interval=HEARTBEAT_SECONDS,
            grace_period=GRACE_SECONDS,
            heartbeat_stale_trial_callback=retry,
        )


def open_study(study: str, storage: str, seed: int = 0):
    """The study to run trials in, created or loaded; a new one starts with the baseline
    recipe for each attention."""
    optuna = require_optuna()
    loaded = optuna.create_study(
        study_name=study,
        storage=heartbeat_storage(storage),
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        load_if_exists=True,
    )
    if not loaded.get_trials(deepcopy=False):
        for attention in ("dpa", "ea"):
            loaded.enqueue_trial({"attention": attention, **BASELINE})
    return loaded


def load_existing_study(study: str, storage: str):
    """The study, read only: never created, no trial's state touched. A one-line error naming
    the studies there when `study` is not one of them."""
    optuna = require_optuna()
    if storage.startswith("sqlite:///"):
        path = Path(storage.removeprefix("sqlite:///"))
        if not path.is_file():  # opening it would create an empty database
            known = ", ".join(sorted(p.stem for p in path.parent.glob("*.db"))) or "none"
            raise SystemExit(
                f"--study {study}: no study database {path} (databases in {path.parent}: {known})"
            )
    names = optuna.study.get_all_study_names(storage)
    if study not in names:
        raise SystemExit(
            f"--study {study}: no such study in {storage} "
            f"(studies there: {', '.join(sorted(names)) or 'none'})"
        )
    return optuna.load_study(study_name=study, storage=storage)


def objective(windows: int, seed: int, results_dir, runs_dir, command: str):
    """The trial function: train the drawn run for `windows` windows; its validation accuracy."""

    def run_trial(trial) -> float:
        spec, batch = suggest(trial)
        max_steps = max(windows // batch, 1)
        job = job_for(EXPERIMENT, spec, seed, max_steps, results_dir, runs_dir)
        if job.is_done():
            record = read_result(job.result)
        else:
            try:
                record = execute(job, command, show_progress=False)
            except (KeyboardInterrupt, BrokenCheckpoint):
                # Optuna fails the trial; its recipe is queued again, so the next `run`
                # resumes its run from the checkpoint (once a damaged one is deleted)
                trial.study.enqueue_trial(trial.params, skip_if_exists=False)
                raise
            except LossNotFinite as error:  # a recipe that diverges is a finished answer
                trial.set_user_attr("diverged", str(error))
                raise require_optuna().TrialPruned(str(error)) from None
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
        quiet, log = _QuietStops(), logging.getLogger("optuna.study._optimize")
        log.addFilter(quiet)
        try:
            loaded.optimize(objective(windows, seed, results_dir, runs_dir, command), n_trials=left)
        finally:
            log.removeFilter(quiet)
    return loaded


class _QuietStops(logging.Filter):
    """Optuna logs a failed trial with its traceback; for Ctrl-C and a damaged checkpoint
    (trial queued again) the CLI says it in one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, (KeyboardInterrupt, BrokenCheckpoint)):
            return False
        return not record.getMessage().endswith("failed with value None.")  # said just before


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
