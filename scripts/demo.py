"""`make demo`: build the IARC dataset repository and show what is in it.

Writes dataset_builders/iarc (parquet + card), then prints split sizes, the oracle
ceilings per config and a few decoded windows.
"""

from __future__ import annotations

import argparse

from iarc_hf.dataset_repo import build_dataset_repo
from iarc_hf.generator import generate
from iarc_hf.tasks import PUBLISHED_CONFIGS, IARCTask, format_window


def show_dataset(output_dir: str, test_size: int) -> None:
    sizes = {"train": 100_000, "validation": 10_000, "test": test_size}
    repo, ceilings = build_dataset_repo(
        output_dir, PUBLISHED_CONFIGS, sizes, seed=0, repo_id="iarc-hf/iarc", command="make demo"
    )
    print(f"\nDataset repository: {repo} (card: {repo / 'README.md'})")
    print(f"\nOracle ceilings on the test splits ({test_size:,} windows each):")
    print(f"{'config':<6} {'N':>3} {'accuracy':>9} {'accuracy_all':>13} {'random':>7}")
    for row in ceilings:
        print(
            f"{row['config']:<6} {row['n_symbols']:>3} {row['oracle_accuracy']:>9.4f}"
            f" {row['oracle_accuracy_all']:>13.4f} {row['random']:>7.4f}"
        )
    task = IARCTask("IARC")
    windows = generate(task, 3, 0)
    print(
        "\nThree IARC windows (x^c: control c on symbol x; below: the task making the next symbol):"
    )
    for i in range(3):
        ids, controls, tasks = (windows[k][i] for k in ("input_ids", "control_ids", "task_ids"))
        print(format_window(task, ids, controls, tasks) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output_dir", default="dataset_builders/iarc")
    parser.add_argument("--test_size", type=int, default=10_000)
    args = parser.parse_args()
    show_dataset(args.output_dir, args.test_size)


if __name__ == "__main__":
    main()
