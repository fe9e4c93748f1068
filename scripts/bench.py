"""Benchmarks (not tests): generator, training-step and sweep throughput.

    python scripts/bench.py generator                  # window tokens/s, one core
    python scripts/bench.py train-step --steps 5       # per preset: tokens/s, GFLOP/s vs matmul
    python scripts/bench.py sweep                      # runs/hour: sequential vs Ray workers
    python scripts/bench.py                            # all three

Pin one core with `taskset -c 0` for the generator's single-core figure.
"""

from __future__ import annotations

import sys

from iarc_hf.benchmarks import generator, sweep, train_step

BENCHES = {"generator": generator.main, "train-step": train_step.main, "sweep": sweep.main}


def main(argv: list[str]) -> None:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return
    if argv and argv[0] in BENCHES:
        BENCHES[argv[0]](argv[1:])
        return
    if argv:
        raise SystemExit(f"unknown benchmark {argv[0]!r}; choose from {sorted(BENCHES)}")
    for bench in BENCHES.values():
        bench([])


if __name__ == "__main__":
    main(sys.argv[1:])
