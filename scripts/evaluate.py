"""Evaluate a trained model (folder or Hub id) on any IARC config, beside the oracle.

    python scripts/evaluate.py runs/cisformer-ea
    python scripts/evaluate.py user/iarc-cisformer-ea --dataset_config IARC --size 10000 --json out.json

The model is loaded with `AutoModel.from_pretrained(..., trust_remote_code=True)`; the
windows are the dataset's split (same seed, same bytes as `load_dataset("iarc", ...)`),
generated and scored chunk by chunk, so memory stays flat at any --size.
"""

from __future__ import annotations

import argparse

from iarc_hf.cli_checks import (
    model_folder_problem,
    non_negative_int,
    positive_int,
    writable_path_problem,
)
from iarc_hf.data.generator import SPLITS
from iarc_hf.eval.evaluation import evaluate_split, load_for_evaluation, task_for_model
from iarc_hf.eval.metrics import METRIC_NAMES
from iarc_hf.files import write_json


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", help="a saved model folder or a Hub id")
    parser.add_argument(
        "--dataset_config", default=None, help="control set (default: the model's training config)"
    )
    parser.add_argument("--min_gap", type=int, default=None)
    parser.add_argument("--max_gap", type=int, default=None)
    parser.add_argument("--split", default="test", choices=SPLITS)
    parser.add_argument("--size", type=positive_int, default=10_000, help="windows to score")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument("--batch_size", type=positive_int, default=1000)
    parser.add_argument("--json", help="also write the metrics here")
    args = parser.parse_args(argv)
    if problem := model_folder_problem(args.model):
        parser.error(f"argument model: {problem}")
    if args.json and (problem := writable_path_problem(args.json, "file")):
        parser.error(f"argument --json: {problem}")

    try:
        model, trained_task = load_for_evaluation(args.model)
    except (OSError, ValueError) as error:  # a broken folder, or a Hub id not found / offline
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise SystemExit(
            f"error: argument model: cannot load {args.model!r}: {first_line}"
        ) from None
    knobs = {name: getattr(args, name) for name in ("min_gap", "max_gap")}
    try:
        task = task_for_model(model.config, trained_task, args.dataset_config, **knobs)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    metrics = evaluate_split(model, task, args.split, args.size, args.seed, args.batch_size)
    print(
        f"{args.model} on {task.name}, {args.split} split ({args.size:,} windows, seed {args.seed})"
    )
    print(f"{'metric':<22} {'model':>8} {'oracle':>8}")
    for name in METRIC_NAMES:
        print(f"{name:<22} {metrics[name]:>8.4f} {metrics['oracle_' + name]:>8.4f}")
    print(f"{'random':<22} {1 / task.n_symbols:>8.4f}")
    if args.json:
        record = {"model": args.model, "task": task.to_dict(), "split": args.split}
        write_json(args.json, {**record, "metrics": metrics})
    return metrics


if __name__ == "__main__":
    main()
