"""Generator throughput: window tokens per second on one core, per published config."""

from __future__ import annotations

import argparse
import time

import numpy as np

from iarc_hf.data.generator import CHUNK_SIZE, generate
from iarc_hf.data.tasks import PUBLISHED_CONFIGS, IARCTask


def tokens_per_second(task: IARCTask, windows: int, repeats: int) -> float:
    """Median over `repeats` calls of `generate` (all fields, `determined` included)."""
    generate(task, windows, 0)  # warm up: first-touch page faults are not the generator's
    rates = []
    for seed in range(1, repeats + 1):
        start = time.perf_counter()
        generate(task, windows, seed)
        rates.append(windows * task.context_length / (time.perf_counter() - start))
    return float(np.median(rates))


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--configs", nargs="+", default=list(PUBLISHED_CONFIGS))
    parser.add_argument("--windows", type=int, default=CHUNK_SIZE, help="windows per call")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--encoding", default="tape", choices=("tape", "inline"))
    args = parser.parse_args(argv)
    rows = []
    print(f"generator: {args.windows} windows per call, median of {args.repeats}, one process")
    print(f"{'config':<8} {'tokens/s':>14}")
    for config in args.configs:
        task = IARCTask(config, encoding=args.encoding)
        rate = tokens_per_second(task, args.windows, args.repeats)
        rows.append({"config": config, "tokens_per_second": rate})
        print(f"{config:<8} {rate / 1e6:>12.2f} M")
    return rows
