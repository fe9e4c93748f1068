"""The IARC leaderboard: every architecture under one recipe, from the committed result JSONs.

    python scripts/reproduce.py run leaderboard --threads 1      # train (resumes; grid, then seeds)
    python scripts/leaderboard.py                                 # markdown table
    python scripts/leaderboard.py --format json                   # a list of rows
    python scripts/leaderboard.py --format csv > leaderboard.csv

Every entry is trained with AdamW + cosine + the loss at the last position for 400K windows, at
the best learning rate of a small grid (seed 0, validation accuracy), then with 3 seeds at that
rate. Accuracy is the test accuracy at the last position (mean ± std over seeds); per-task
columns are at the last position too; FLOPs are one forward pass per window (torch's counter);
windows/s is training throughput on the machine named in the row.
"""

from __future__ import annotations

import argparse
import sys

from iarc_hf.cli_checks import require_positive_int
from iarc_hf.experiments.leaderboard import (
    LEADERBOARD_STEPS,
    leaderboard_rows,
    rows_csv,
    rows_json,
    rows_markdown,
)

FORMATS = {"markdown": rows_markdown, "json": rows_json, "csv": rows_csv}


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--format", choices=sorted(FORMATS), default="markdown")
    parser.add_argument("--results_dir", default="results")
    parser.add_argument("--max_steps", type=int, default=LEADERBOARD_STEPS)
    args = parser.parse_args(argv)
    try:
        require_positive_int("max_steps", args.max_steps)
    except ValueError as error:
        parser.error(str(error))
    rows = leaderboard_rows(args.results_dir, args.max_steps)
    if not rows:
        print(
            f"no finished leaderboard runs under {args.results_dir}/leaderboard: "
            "python scripts/reproduce.py run leaderboard",
            file=sys.stderr,
        )
    sys.stdout.write(FORMATS[args.format](rows))
    return rows


if __name__ == "__main__":
    main()
