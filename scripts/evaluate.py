"""Evaluate a trained model (folder or Hub id) on any IARC config, beside the oracle.

    python scripts/evaluate.py runs/cisformer-ea
    python scripts/evaluate.py user/iarc-cisformer-ea --dataset_config IARC --size 10000 --json out.json

The model is loaded with `AutoModel.from_pretrained(..., trust_remote_code=True)`; the
windows are the dataset's split (same seed, same bytes as `load_dataset("iarc", ...)`).
"""

from __future__ import annotations

import argparse
import json

from iarc_hf.evaluation import evaluate_model, load_for_evaluation, task_for_model
from iarc_hf.generator import SPLITS, generate_split
from iarc_hf.metrics import METRIC_NAMES


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
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch_size", type=int, default=1000)
    parser.add_argument("--json", help="also write the metrics here")
    args = parser.parse_args(argv)

    model, trained_task = load_for_evaluation(args.model)
    knobs = {name: getattr(args, name) for name in ("min_gap", "max_gap")}
    try:
        task = task_for_model(model.config, trained_task, args.dataset_config, **knobs)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    batch = generate_split(task, args.split, args.size, args.seed)
    metrics = evaluate_model(model, task, batch, args.batch_size)
    print(
        f"{args.model} on {task.name}, {args.split} split ({args.size:,} windows, seed {args.seed})"
    )
    print(f"{'metric':<22} {'model':>8} {'oracle':>8}")
    for name in METRIC_NAMES:
        print(f"{name:<22} {metrics[name]:>8.4f} {metrics['oracle_' + name]:>8.4f}")
    print(f"{'random':<22} {1 / task.n_symbols:>8.4f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "model": args.model,
                    "task": task.to_dict(),
                    "split": args.split,
                    "metrics": metrics,
                },
                f,
                indent=2,
            )
    return metrics


if __name__ == "__main__":
    main()
