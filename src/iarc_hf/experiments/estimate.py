"""How long the runs left of a plan will take, at the pace the finished runs went.

A run's pace is its seconds of training per step (`train_seconds / max_steps`, a pack's time
shared among its runs), as its result JSON records them on the machine and threads it ran on.
A pending run is timed by the finished runs of the same name (its other seeds, in any
experiment), else by those of the same preset and config; a run with neither is counted apart.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass

from iarc_hf.experiments.results import load_results


@dataclass
class Estimate:
    seconds: float  # of the runs that could be timed
    timed: int
    untimed: int

    def text(self) -> str:
        """One line for `reproduce.py plan`."""
        if not self.timed:
            return f"no finished run to time the {self.untimed} left by"
        line = (
            f"about {self.seconds / 3600:.1f} h of training for {self.timed} of them, at the pace "
            "of finished runs of the same name (or preset and config), one after another"
        )
        return line + (f"; {self.untimed} with no such run to time them" if self.untimed else "")


def paces(results_dir) -> tuple[dict, dict]:
    """Seconds per step of every finished run of an experiment (`load_results`: not the
    speedrun's or the benchmarks' JSONs beside them, nor broken ones): by run name, and by
    (preset, config). A record with no training time (a hand-written one) times nothing."""
    by_name, by_preset = defaultdict(list), defaultdict(list)
    for record in load_results(results_dir):
        if not record.get("train_seconds") or "preset" not in record:
            continue
        pace = record["train_seconds"] / record.get("pack_size", 1) / record["max_steps"]
        by_name[record["name"]].append(pace)
        by_preset[record["preset"], record["dataset_config"]].append(pace)
    return by_name, by_preset


def estimate(left: list[tuple], results_dir) -> Estimate:
    """`left`: (job, steps left) of every pending job; the median pace of its kind times its
    steps."""
    by_name, by_preset = paces(results_dir)
    seconds, timed, untimed = 0.0, 0, 0
    for job, steps in left:
        known = by_name.get(job.spec.name) or by_preset.get(
            (job.spec.preset, job.spec.dataset_config)
        )
        if known:
            seconds, timed = seconds + steps * statistics.median(known), timed + 1
        else:
            untimed += 1
    return Estimate(seconds, timed, untimed)
