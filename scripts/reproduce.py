"""Reproduce the paper's Table 1 and Figure 1, and go beyond them.

    python scripts/reproduce.py run fig1                         # paper recipe, seeds 0 1 2
    python scripts/reproduce.py run fig1 --filter cisformer-ea_IARC "*_IA" --seeds 0 1 2
    python scripts/reproduce.py run table1 --max_steps 1000      # a scaled-down budget
    python scripts/reproduce.py report                           # tables + plots -> results/

Each finished run writes results/<experiment>/<run>_seed<k>[_steps<n>].json and is skipped
when run again; checkpoints go to runs/ (git-ignored). Runs with fewer than the paper's 8000
steps are labelled scaled-down wherever they are shown.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import shlex
import sys
from pathlib import Path

import torch

from iarc_hf.experiments import EXPERIMENTS, PAPER_STEPS, result_path, result_record, run_arguments


def run(args) -> None:
    torch.set_num_threads(args.threads) if args.threads else None
    from iarc_hf.training import train

    runs = [
        r
        for r in EXPERIMENTS[args.experiment]()
        if not args.filter or any(fnmatch.fnmatchcase(r.name, pattern) for pattern in args.filter)
    ]
    if not runs:
        raise SystemExit(f"no run of {args.experiment} matches --filter {args.filter}")
    for spec in runs:
        for seed in args.seeds:
            path = result_path(args.results_dir, args.experiment, spec, seed, args.max_steps)
            if path.exists():
                print(f"done already: {path}")
                continue
            out = Path(args.runs_dir) / args.experiment / path.stem
            command = "python scripts/reproduce.py " + shlex.join(sys.argv[1:])
            train(*run_arguments(spec, seed, args.max_steps, str(out)), command=command)
            record = result_record(args.experiment, spec, seed, args.max_steps, out)
            record["command"] = command
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.partial")
            partial.write_text(json.dumps(record, indent=2) + "\n")
            partial.replace(path)
            print(f"wrote {path}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="train and evaluate the runs of an experiment")
    run_parser.add_argument("experiment", choices=sorted(EXPERIMENTS))
    run_parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    run_parser.add_argument("--max_steps", type=int, default=PAPER_STEPS)
    run_parser.add_argument(
        "--filter",
        nargs="+",
        help="only runs whose name matches one of these (shell patterns: *, ?)",
    )
    run_parser.add_argument(
        "--threads", type=int, help="torch threads (for running jobs side by side)"
    )
    run_parser.add_argument("--results_dir", default="results")
    run_parser.add_argument("--runs_dir", default="runs")
    report_parser = sub.add_parser("report", help="tables and plots from the finished runs")
    report_parser.add_argument("--results_dir", default="results")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args)
    else:
        from iarc_hf.report import write_report

        print(f"wrote {write_report(args.results_dir)}")


if __name__ == "__main__":
    main()
