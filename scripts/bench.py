"""Benchmarks (not tests): generator, training-step and sweep throughput, speedruns.

    python scripts/bench.py generator                  # window tokens/s, one core
    python scripts/bench.py train-step --steps 5       # per preset: tokens/s, GFLOP/s vs matmul
    python scripts/bench.py pack-step --device cuda --packs 8 32   # K runs as one stacked model
    python scripts/bench.py sweep                      # runs/hour: sequential vs Ray workers
    python scripts/bench.py speedrun --target 0.95     # windows and seconds to a target accuracy
    python scripts/bench.py speedrun --seeds 0 1 2 --record NAME   # a record attempt, 3 seeds
    python scripts/bench.py records                    # rewrite results/speedrun/RECORDS.md
    python scripts/bench.py eval-memory --one_shot     # evaluate.py peak RSS at two --size values
    python scripts/bench.py                            # generator and train-step (the quick ones)

Pin one core with `taskset -c 0` for the generator's single-core figure.
"""

from __future__ import annotations

import sys

from iarc_hf.benchmarks import (
    eval_memory,
    generator_speed,
    pack_step,
    speedrun,
    sweep_speed,
    train_step,
)
from iarc_hf.benchmarks.speedrun_records import write_records


def records(argv: list[str]) -> None:
    """Rewrite RECORDS.md of the speedrun folder (results/speedrun, or the one named)."""
    print(f"wrote {write_records(argv[0] if argv else 'results/speedrun')}")


BENCHES = {
    "generator": generator_speed.main,
    "train-step": train_step.main,
    "pack-step": pack_step.main,
    "sweep": sweep_speed.main,
    "speedrun": speedrun.main,
    "records": records,
    "eval-memory": eval_memory.main,
}

QUICK = ("generator", "train-step")  # sweeps and speedruns take many minutes: name them


def main(argv: list[str]) -> None:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return
    if argv and argv[0] in BENCHES:
        BENCHES[argv[0]](argv[1:])
        return
    if argv:
        raise SystemExit(f"unknown benchmark {argv[0]!r}; choose from {sorted(BENCHES)}")
    for name in QUICK:
        BENCHES[name]([])


if __name__ == "__main__":
    main(sys.argv[1:])
