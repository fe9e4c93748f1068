"""Reproduce the paper's Table 1 and Figure 1, and go beyond them.

    python scripts/reproduce.py run fig1                         # paper recipe, seeds 0 1 2
    python scripts/reproduce.py run fig1 --filter cisformer-ea_IARC "*_IA" --seeds 0 1 2
    python scripts/reproduce.py run table1 --max_steps 1000      # a scaled-down budget
    python scripts/reproduce.py run table1 --workers 2 --threads_per_run 1   # in parallel, on Ray
    python scripts/reproduce.py run table1 --workers 16 --address auto --gpus_per_run 0.125
    python scripts/reproduce.py plan table1                      # what would run, what is done
    python scripts/reproduce.py report                           # tables + plots -> results/

Each finished run writes results/<experiment>/<run>_seed<k>[_steps<n>].json and is skipped
when run again; checkpoints go to runs/ (git-ignored), and a run that was stopped resumes from
its latest checkpoint. Runs with fewer than the paper's 8000 steps are labelled scaled-down
wherever they are shown.
"""

from __future__ import annotations

import argparse
import shlex
import sys

import torch

from iarc_hf.cli_checks import exit_unless_positive
from iarc_hf.experiments.jobs import RunDiverged, execute, execute_pack, list_jobs, packs_of
from iarc_hf.experiments.registry import DEFAULT_STEPS, EXPERIMENTS, PAPER_STEPS
from iarc_hf.files import write_json
from iarc_hf.training.checkpoints import BrokenCheckpoint

INTERRUPTED = "interrupted: the same command resumes every unfinished run from its checkpoint"


def check_numbers(args) -> None:
    """Counts and budgets must be positive and seeds non-negative: a one-line error if not."""
    exit_unless_positive(args, "max_steps", "threads", "workers", "threads_per_run", "pack")
    if any(seed < 0 for seed in args.seeds):
        raise SystemExit(f"--seeds must be integers >= 0, got {' '.join(map(str, args.seeds))}")


def jobs_of(args):
    if getattr(args, "max_steps", None) is None:  # the experiment's own budget
        args.max_steps = DEFAULT_STEPS.get(args.experiment, PAPER_STEPS)
    check_numbers(args)
    try:
        return list_jobs(
            args.experiment,
            args.seeds,
            args.max_steps,
            args.results_dir,
            args.runs_dir,
            args.filter,
        )
    except ValueError as error:
        raise SystemExit(str(error)) from None


def run(args) -> None:
    """Train every run of the experiment not done yet. A planned experiment (the leaderboard)
    is listed again after each pass: its grid's results decide which runs come next."""
    command = "python scripts/reproduce.py " + shlex.join(sys.argv[1:])
    torch.set_num_threads(args.threads) if args.threads else None
    jobs = jobs_of(args)
    done = [job for job in jobs if job.is_done()]
    if done:
        print(f"{len(done)} of {len(jobs)} runs done already")
    while pending := [job for job in jobs if not job.is_done()]:
        if args.workers is not None:
            run_on_ray(args, pending, command)
        elif args.pack > 1:
            run_packed(pending, command, args.pack)
        else:
            run_sequentially(pending, command)
        jobs = jobs_of(args)


def run_sequentially(jobs, command: str) -> None:
    try:
        for job in jobs:
            try:
                run_one(job, command)
            except RunDiverged as error:  # recorded: the queue goes on with the next run
                print(f"{error}; going on")
    except KeyboardInterrupt:
        print(INTERRUPTED)
        raise SystemExit(130) from None
    except BrokenCheckpoint as error:  # says which folder and the fix
        raise SystemExit(f"error: {error}") from None


def run_one(job, command: str) -> None:
    if job.is_done():
        print(f"done already: {job.result}")
        return
    if problem := job.result_problem():
        print(f"redoing {job.key}: {problem}")
    if step := job.resume_step():
        print(f"resuming {job.key} from step {step}")
    write_json(job.result, execute(job, command))
    print(f"wrote {job.result}")


def run_packed(jobs, command: str, size: int) -> None:
    """Runs of one shape (seeds of a run) in packs of up to `size`, one stacked model each."""
    try:
        for pack in packs_of(jobs, size):
            if len(pack) == 1:
                run_sequentially(pack, command)
                continue
            print(f"packing {len(pack)} runs: {', '.join(job.key for job in pack)}")
            for job, record in zip(pack, execute_pack(pack, command), strict=True):
                if isinstance(record, RunDiverged):
                    print(f"{record}; going on")
                    continue
                write_json(job.result, record)
                print(f"wrote {job.result}")
    except KeyboardInterrupt:
        print(INTERRUPTED)
        raise SystemExit(130) from None


def run_on_ray(args, jobs, command: str) -> None:
    from iarc_hf.experiments.sweep import run_sweep

    try:
        summary = run_sweep(
            jobs,
            command,
            workers=args.workers,
            threads_per_run=args.threads_per_run,
            gpus_per_run=args.gpus_per_run,
            address=args.address,
        )
    except (ImportError, ValueError) as error:  # no Ray (with the pip command), a bad option
        raise SystemExit(str(error)) from None
    except KeyboardInterrupt:
        print(INTERRUPTED)
        raise SystemExit(130) from None
    print(
        f"sweep: {len(summary.done)} runs finished, {len(summary.skipped)} done already, "
        f"{len(summary.failed)} failed, in {summary.seconds:.0f} s"
    )
    for key, error in summary.failed:
        print(f"  FAILED {key}: {error}")
    if summary.failed:
        raise SystemExit(1)


def plan(args) -> None:
    """Which runs would train, which are done, and what is left of each in training steps."""
    from iarc_hf.experiments.estimate import estimate

    jobs = jobs_of(args)
    width = max(len(job.key) for job in jobs)
    pending, steps, windows, problems = [], 0, 0, []
    for job in jobs:
        done, step = job.is_done(), job.resume_step()
        left = 0 if done else job.max_steps - step
        state = plan_state(job, done, step, problems)
        print(f"{job.key:<{width}}  {state:<24} {left:>6} steps left")
        if not done:
            pending.append((job, left))
        steps, windows = steps + left, windows + left * job.batch_size
    print(
        f"\n{len(pending)} to run, {len(jobs) - len(pending)} done already; "
        f"{steps:,} training steps ({windows:,} windows) left"
    )
    if pending:
        print(estimate(pending, args.results_dir).text())
    for problem in problems:
        print(problem)


def plan_state(job, done: bool, step: int, problems: list[str]) -> str:
    """A job's state in the plan; what is broken (with the fix) goes to `problems`."""
    if job.diverged() is not None:
        return "diverged"
    if done:
        return "done"
    if problem := job.checkpoint_problem():
        problems.append(problem)
        return f"broken checkpoint-{step}"
    if problem := job.result_problem():
        problems.append(problem)
        return "broken JSON: will rerun"
    return f"resumes at {step}" if step else "new"


def rerun_command(args) -> dict:
    from iarc_hf.experiments.rerun import rerun
    from iarc_hf.experiments.results import BrokenResult

    exit_unless_positive(args, "threads")
    try:
        done = rerun(args.result, args.scratch, args.threads)
    except FileNotFoundError:
        raise SystemExit(f"error: {args.result} does not exist") from None
    except (BrokenResult, ValueError) as error:
        raise SystemExit(f"error: {error}") from None
    except KeyboardInterrupt:
        print(INTERRUPTED.replace("the same command resumes every unfinished run", "rerun again"))
        raise SystemExit(130) from None
    print(f"rerun of {args.result} ({done['threads']} threads) in {done['scratch']}")
    if done["mixed"]:
        print(
            f"note: {args.result} was resumed with another {', '.join(done['mixed'])} "
            "(provenance.segments); this rerun trains in one stretch, so it need not be bit-exact"
        )
    print(f"{'metric':<22} {'difference (rerun - result)':>28}")
    for name, difference in done["differences"].items():
        shown = "–" if difference is None else f"{difference:+.6f}"
        print(f"{name:<22} {shown:>28}")
    exact = all(d in (0, None) for d in done["differences"].values())
    print(
        "bit-exact: every metric equal" if exact else "not bit-exact (see provenance: CPU, threads)"
    )
    return done


def _add_grid_arguments(parser) -> None:
    parser.add_argument("experiment", choices=sorted(EXPERIMENTS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--max_steps",
        type=int,
        help=f"training steps of every run (default: the paper's {PAPER_STEPS}; leaderboard 2000)",
    )
    parser.add_argument(
        "--filter",
        nargs="+",
        help="only runs whose name matches one of these (shell patterns: *, ?)",
    )
    parser.add_argument("--results_dir", default="results")
    parser.add_argument(
        "--runs_dir", default="runs", help="checkpoints (on a cluster: a shared filesystem)"
    )


def _add_sweep_arguments(parser) -> None:
    sweep = parser.add_argument_group("parallel runs on Ray (pip install 'iarc-hf[sweep]')")
    sweep.add_argument(
        "--workers", type=int, help="run up to N runs at once as Ray tasks (default: one by one)"
    )
    sweep.add_argument(
        "--threads_per_run", type=int, default=1, help="CPU threads each run asks for and uses"
    )
    sweep.add_argument(
        "--gpus_per_run", type=float, default=0.0, help="GPUs each run asks for (0.125: 8 per GPU)"
    )
    sweep.add_argument(
        "--address", help="join a running Ray cluster (auto, or HOST:PORT); default: start one here"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="train and evaluate the runs of an experiment")
    _add_grid_arguments(run_parser)
    run_parser.add_argument(
        "--threads", type=int, help="torch threads of the sequential path (for jobs side by side)"
    )
    run_parser.add_argument(
        "--pack",
        type=int,
        default=1,
        help="train up to K seeds of a run as one stacked model (a GPU lever: K runs for about "
        "the launches of one); SGD and AdamW runs only",
    )
    _add_sweep_arguments(run_parser)
    plan_parser = sub.add_parser("plan", help="list the runs that would execute and their cost")
    _add_grid_arguments(plan_parser)
    report_parser = sub.add_parser("report", help="tables and plots from the finished runs")
    report_parser.add_argument("--results_dir", default="results")
    rerun_parser = sub.add_parser(
        "rerun",
        help="train a result JSON's run again into a scratch folder; print the metric differences",
    )
    rerun_parser.add_argument("result", help="a result JSON, e.g. results/fig1/mlp_IARC_seed0.json")
    rerun_parser.add_argument("--scratch", help="where the rerun trains (default: a temp folder)")
    rerun_parser.add_argument("--threads", type=int, help="torch threads (default: the JSON's)")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args)
    elif args.command == "plan":
        plan(args)
    elif args.command == "rerun":
        rerun_command(args)
    else:
        from pathlib import Path

        from iarc_hf.experiments.claims_report import CLAIMS_MD
        from iarc_hf.experiments.headline import write_headline
        from iarc_hf.experiments.leaderboard import write_readme_block
        from iarc_hf.experiments.report import write_report

        print(f"wrote {write_report(args.results_dir)}")
        print(f"wrote {Path(args.results_dir) / CLAIMS_MD} (the seeds' claims)")
        readme = Path(args.results_dir).resolve().parent / "README.md"
        if readme.is_file():  # the project's README, beside results/
            write_readme_block(readme, args.results_dir)
            write_headline(readme, args.results_dir)
            print(f"wrote the headline table and the leaderboard into {readme}")


if __name__ == "__main__":
    main()
