"""Write the IARC dataset repository: parquet per config and split, and its README.md card.

    python scripts/build_dataset.py                                  # dataset_builders/iarc
    python scripts/build_dataset.py --configs IA IR --test_size 2000
    python scripts/build_dataset.py --push_to_hub user/iarc          # then push every config

Afterwards `load_dataset("dataset_builders/iarc", "IARC")` works without this package.
Configs already in the folder and not named in --configs stay, and the card lists them
(they must be of the same seed and sizes); --push_to_hub pushes every config of the card.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from iarc_hf.cli_checks import non_negative_int, positive_int, writable_path_problem
from iarc_hf.data.builder import all_control_sets
from iarc_hf.data.dataset_folder import DatasetFolderError
from iarc_hf.data.tasks import PUBLISHED_CONFIGS
from iarc_hf.hub.dataset_repo import build_dataset_repo, push_dataset_repo
from iarc_hf.hub.push import HubPushError


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output_dir", default="dataset_builders/iarc")
    parser.add_argument(
        "--configs", nargs="+", default=list(PUBLISHED_CONFIGS), choices=all_control_sets()
    )
    parser.add_argument("--train_size", type=positive_int, default=100_000)
    parser.add_argument("--validation_size", type=positive_int, default=10_000)
    parser.add_argument("--test_size", type=positive_int, default=10_000)
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument(
        "--repo_id", default="iarc-hf/iarc", help="the Hub id the card's examples name"
    )
    parser.add_argument(
        "--push_to_hub", metavar="REPO_ID", help="push every config and the card here"
    )
    parser.add_argument(
        "--private", action="store_true", help="create the Hub repository as private"
    )
    args = parser.parse_args(argv)
    if problem := writable_path_problem(args.output_dir, "folder"):
        parser.error(f"argument --output_dir: {problem}")
    args.configs = list(dict.fromkeys(args.configs))  # a config named twice is built once
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    command = "python scripts/build_dataset.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    try:
        repo, ceilings = build_dataset_repo(
            args.output_dir,
            configs=args.configs,
            sizes={
                "train": args.train_size,
                "validation": args.validation_size,
                "test": args.test_size,
            },
            seed=args.seed,
            repo_id=args.push_to_hub or args.repo_id,
            command=command.strip(),
        )
    except DatasetFolderError as error:
        raise SystemExit(f"error: argument --output_dir: {error}") from None
    print(f"wrote {repo}")
    if args.push_to_hub:
        configs = [row["config"] for row in ceilings]  # every config the card lists
        try:
            url = push_dataset_repo(repo, args.push_to_hub, configs=configs, private=args.private)
        except HubPushError as error:
            raise SystemExit(f"error: {error}") from None
        print(f"pushed to {url}")


if __name__ == "__main__":
    main()
