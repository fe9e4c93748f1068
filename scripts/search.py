"""Recipe search on IARC (Optuna): every trial is a run with its own result JSON.

    python scripts/search.py run --study frontier-400k --trials 40 --windows 400000
    python scripts/search.py summary --study frontier-400k      # best trials, importances

The study is stored in `results/search/<study>.db` (SQLite) unless `--storage` names another
Optuna storage (an RDB URL lets several machines share one study). Running `run` again
continues the study until it holds `--trials` finished trials; a run stopped midway resumes
from its checkpoint. A trial whose process died (its heartbeat ten minutes old) is retried
with the same recipe when the next trial starts. `summary` only reads the study. Scores are
validation accuracies; the test accuracy is only reported.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from iarc_hf.cli_checks import exit_unless_positive
from iarc_hf.experiments.search import (
    EXPERIMENT,
    load_existing_study,
    run_search,
    storage_url,
    summary,
)
from iarc_hf.files import write_json
from iarc_hf.training.checkpoints import BrokenCheckpoint


def run(args, storage: str, command: str):
    exit_unless_positive(args, "trials", "windows", "threads")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    try:
        return run_search(args.study, args.trials, args.windows, args.seed, args.results_dir,
                          args.runs_dir, storage, command)  # fmt: skip
    except KeyboardInterrupt:
        print(
            "interrupted: the same command retries the trial, resuming its run from its checkpoint"
        )
        raise SystemExit(130) from None
    except BrokenCheckpoint as error:  # the trial is queued again; the message says the fix
        raise SystemExit(f"error: {error}") from None


def main(argv=None) -> dict | None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "summary"):
        p = sub.add_parser(name)
        p.add_argument("--study", required=True)
        p.add_argument("--storage", help="an Optuna storage URL (default: SQLite in results/)")
        p.add_argument("--results_dir", default="results")
        p.add_argument("--seed", type=int, default=0, help="training seed and sampler seed")
        if name == "run":
            p.add_argument("--trials", type=int, required=True, help="finished trials wanted")
            p.add_argument("--windows", type=int, default=400_000, help="training windows")
            p.add_argument("--runs_dir", default="runs")
            p.add_argument("--threads", type=int, help="torch threads")
    args = parser.parse_args(argv)
    storage = args.storage or storage_url(args.study, args.results_dir)
    if args.command == "run":
        command = "python scripts/search.py " + shlex.join(
            argv if argv is not None else sys.argv[1:]
        )
        study = run(args, storage, command)
    else:
        study = load_existing_study(args.study, storage)
    result = summary(study)
    path = f"{args.results_dir}/{EXPERIMENT}/{args.study}_summary.json"
    write_json(path, result)
    for row in result["best"]:
        print(f"trial {row['trial']}: validation {row['validation_accuracy']:.4f}, "
              f"test {row['test_accuracy']:.4f}, {row['params']:,} parameters, {row['recipe']}")  # fmt: skip
    print(f"wrote {path}")
    return result


if __name__ == "__main__":
    main()
