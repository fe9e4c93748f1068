"""Train a committed result again, exactly as it ran, and say how far the rerun lands from it.

`rerun(path)` reads a result JSON, finds its run by name in its experiment, trains it with the
same seed, budget and torch thread count into a scratch folder, and returns the difference in
every test metric. On the same machine and threads a rerun is bit-exact; another CPU or thread
count may move the last digits (the JSON's `provenance` says where it ran; a run resumed under
another thread count, CPU or commit lists each stretch in `provenance.segments`, and the rerun,
which trains in one stretch, says what it cannot repeat).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import torch

from iarc_hf.experiments.jobs import execute, job_for
from iarc_hf.experiments.registry import EXPERIMENTS
from iarc_hf.experiments.results import read_result
from iarc_hf.provenance import mixed_conditions


def find_run(record: dict):
    """The experiment's run whose name the record holds (ValueError if it no longer exists)."""
    experiment, name = record["experiment"], record["name"]
    if experiment not in EXPERIMENTS:
        raise ValueError(
            f"experiment {experiment!r} no longer exists; it has {sorted(EXPERIMENTS)}"
        )
    for spec in EXPERIMENTS[experiment]():
        if spec.name == name:
            return spec
    raise ValueError(f"no run named {name!r} in experiment {experiment!r} any more")


def metric_differences(old: dict, new: dict) -> dict[str, float | None]:
    """new - old for every metric of `old` (None where either is missing or NaN)."""
    differences = {}
    for key, before in old.items():
        after = new.get(key)
        valid = all(isinstance(v, (int, float)) and not math.isnan(v) for v in (before, after))
        differences[key] = after - before if valid else None
    return differences


def rerun(path, scratch=None, threads: int | None = None) -> dict:
    """Train the run of result JSON `path` again into `scratch`; returns the new record and the
    metric differences (new - old)."""
    record = read_result(path)
    spec = find_run(record)
    threads = threads or (record.get("provenance") or {}).get("torch_threads")
    if threads:
        torch.set_num_threads(threads)
    scratch = Path(scratch or tempfile.mkdtemp(prefix="iarc-rerun-"))
    job = job_for(record["experiment"], spec, record["seed"], record["max_steps"],
                  scratch / "results", scratch / "runs")  # fmt: skip
    new = execute(job, f"python scripts/reproduce.py rerun {path}", show_progress=True)
    return {
        "record": new,
        "differences": metric_differences(record["metrics"], new["metrics"]),
        "scratch": str(scratch),
        "threads": torch.get_num_threads(),
        # a run resumed under other threads/CPU/code: one rerun cannot repeat that bit for bit
        "mixed": mixed_conditions((record.get("provenance") or {}).get("segments")),
    }
