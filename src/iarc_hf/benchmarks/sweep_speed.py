"""Sweep throughput: runs per hour of one fixed small grid, one run after another on all the
threads vs side by side as Ray tasks, measured in alternating rounds of the same invocation.

Each mode is the command a user types (`scripts/reproduce.py run ...` in a fresh process, into
fresh results and runs folders), so process start, Ray's start, evaluation and the final test
evaluation all count: the wall time is what a researcher waits for.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from iarc_hf.files import write_json

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "reproduce.py"
# Two seeds of: the paper's 60-layer transformers (Table 1, most of the paper's compute), one
# of them alone (a 2-run grid, for longer runs at the same cost), its 12-layer cisformers (Fig. 1).
GRIDS = {
    "table1": ["table1", "--filter", "transformer-dpa_IARC", "transformer-ea_IARC"],
    "transformer-dpa": ["table1", "--filter", "transformer-dpa_IARC"],
    "fig1": ["fig1", "--filter", "cisformer-ea_IARC", "cisformer-dpa_IARC"],
}
SEEDS = ["--seeds", "0", "1"]


def modes(threads: int, workers: int) -> dict[str, list[str]]:
    return {
        f"sequential, {threads} threads": ["--threads", str(threads)],
        f"--workers {workers} --threads_per_run {threads // workers}": [
            "--workers",
            str(workers),
            "--threads_per_run",
            str(max(threads // workers, 1)),
        ],
    }


def time_mode(grid: list[str], extra: list[str], max_steps: int, runs: int) -> tuple[float, float]:
    """(wall seconds, summed training seconds of the runs) of one sweep into a fresh folder."""
    root = Path(tempfile.mkdtemp(prefix="iarc-bench-sweep-"))
    command = [sys.executable, str(SCRIPT), "run", *grid, *SEEDS, "--max_steps", str(max_steps), *extra,
               "--results_dir", str(root / "results"), "--runs_dir", str(root / "runs")]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    try:
        written = [json.loads(p.read_text()) for p in (root / "results").rglob("*.json")]
        if done.returncode != 0 or len(written) != runs:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return seconds, sum(record["train_seconds"] for record in written)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench.py sweep", description=__doc__)
    parser.add_argument("--grid", choices=sorted(GRIDS), default="table1")
    parser.add_argument("--max_steps", type=int, default=50, help="steps of each run")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (ABBA...)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--output", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    runs = 2 * (len(GRIDS[args.grid]) - 2)  # two seeds of each filtered run
    chosen = modes(args.threads, args.workers)
    seconds = {name: [] for name in chosen}
    training = {name: [] for name in chosen}  # the runs' own training seconds, summed
    order = list(chosen)
    for round_index in range(args.rounds):
        # ABBA: a drift in the machine's speed hits both modes alike
        for name in order if round_index % 2 == 0 else order[::-1]:
            wall, trained = time_mode(GRIDS[args.grid], chosen[name], args.max_steps, runs)
            seconds[name].append(wall)
            training[name].append(trained)
            print(f"round {round_index + 1}: {name}: {wall:.1f} s, runs trained {trained:.1f} s",
                  flush=True)  # fmt: skip
    base = sum(seconds[order[0]]) / len(seconds[order[0]])
    rows = []
    print(f"\ngrid: {runs} runs ({' '.join(GRIDS[args.grid] + SEEDS)}) x {args.max_steps} steps; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}")  # fmt: skip
    print(
        "| mode | wall s (mean of rounds) | runs / hour | speed-up | training share of run time |"
    )
    print("| --- | --- | --- | --- | --- |")
    for name in order:
        mean = sum(seconds[name]) / len(seconds[name])
        # training seconds over the runs' summed wall time (sequential: the sweep's own wall)
        share = sum(training[name]) / sum(seconds[name]) / (1 if name == order[0] else args.workers)
        rows.append({"mode": name, "seconds": seconds[name], "train_seconds": training[name],
                     "runs_per_hour": runs * 3600 / mean, "speedup": base / mean})  # fmt: skip
        print(
            f"| {name} | {mean:.1f} | {runs * 3600 / mean:.0f} | {base / mean:.2f}x | {share:.0%} |"
        )
    if args.output:
        record = {"grid": GRIDS[args.grid] + SEEDS, "max_steps": args.max_steps, "runs": runs, "rounds": args.rounds,
                  "cores": os.cpu_count(), "command": "python scripts/bench.py sweep " + " ".join(argv),
                  "modes": rows}  # fmt: skip
        write_json(args.output, record)


def _grid_name(record: dict) -> str:
    """The `--grid` a sweep JSON was made with (from its command), else its grid's arguments."""
    command = record.get("command", "").split()
    if "--grid" in command[:-1]:
        return command[command.index("--grid") + 1]
    return " ".join(record["grid"])


def sweep_markdown(records: list[tuple[str, dict]]) -> str:
    """(file name, JSON written by `--output`) pairs as one markdown table: per sweep and mode,
    the wall seconds (mean of rounds), runs per hour, the speed-up over the first mode and the
    training seconds per step of one run (the runs' own training time)."""
    lines = [
        "| JSON | grid | runs × steps | rounds | cores | mode | wall s (mean of rounds) "
        "| runs / hour | speed-up | training s / step of a run |",
        "| --- | --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for name, record in records:
        for i, mode in enumerate(record["modes"]):
            wall = sum(mode["seconds"]) / len(mode["seconds"])
            trained = mode.get("train_seconds")  # older JSONs lack it
            per_step = "–"
            if trained:
                per_step = (
                    f"{sum(trained) / len(trained) / (record['runs'] * record['max_steps']):.3f}"
                )
            head = (
                [f"`{name}`", f"`{_grid_name(record)}`",
                 f"{record['runs']} × {record['max_steps']}", str(record["rounds"]),
                 str(record["cores"])]
                if i == 0 else [""] * 5
            )  # fmt: skip
            cells = [*head, f"`{mode['mode']}`", f"{wall:.1f}", f"{mode['runs_per_hour']:.0f}",
                     f"{mode['speedup']:.2f}×", per_step]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
