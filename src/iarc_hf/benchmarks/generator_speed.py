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
    parser.add_argument("--output", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    rows = []
    print(f"generator: {args.windows} windows per call, median of {args.repeats}, one process")
    print(f"{'config':<8} {'tokens/s':>14}")
    for config in args.configs:
        task = IARCTask(config, encoding=args.encoding)
        rate = tokens_per_second(task, args.windows, args.repeats)
        rows.append({"config": config, "tokens_per_second": rate})
        print(f"{config:<8} {rate / 1e6:>12.2f} M")
    if args.output:
        import platform

        from iarc_hf.files import write_json

        write_json(args.output, {
            "windows": args.windows, "repeats": args.repeats, "encoding": args.encoding,
            "machine": platform.processor() or platform.machine(),
            "command": "python scripts/bench.py generator " + " ".join(argv or []),
            "rows": rows,
        })  # fmt: skip
    return rows


def generator_markdown(record: dict, name: str = "") -> str:
    """A JSON written by `--output` as a markdown table (the docs' performance page)."""
    lines = [
        f"`{name}`: {record['windows']:,} windows per call, median of {record['repeats']}, "
        f"{record['encoding']} encoding, {record['machine']}; `{record['command']}`",
        "",
        "| config | window tokens/s |",
        "| --- | ---: |",
    ]
    lines += [f"| {r['config']} | {r['tokens_per_second'] / 1e6:.2f} M |" for r in record["rows"]]
    return "\n".join(lines) + "\n"
