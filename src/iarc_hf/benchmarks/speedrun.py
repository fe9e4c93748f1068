"""IARC speedrun: train a preset with a recipe on fresh windows, evaluate the headline accuracy
on the validation split every few steps, and stop at the first evaluation at or above the target.

It is `scripts/train.py`'s own loop (`train(..., stop_at_accuracy=target)`), so a speedrun
record is a training run like any other. Reports windows seen, steps, training seconds
(evaluations excluded) and wall seconds (everything, the final test evaluation included), the
test accuracy of the model it stopped with, and the device. A benchmark, not a test: times
depend on the machine.

    python scripts/bench.py speedrun --preset cisformer-dpa --recipe adamw --target 0.95
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import shlex
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from iarc_hf.benchmarks.speedrun_records import write_records
from iarc_hf.configuration_iarc import PRESETS
from iarc_hf.experiments.registry import RECIPES
from iarc_hf.files import read_jsonl, write_json
from iarc_hf.provenance import cpu_model, provenance
from iarc_hf.training.arguments import OPTIMIZERS, DataArguments, ModelArguments, RunArguments
from iarc_hf.training.finalize import METRICS_LOG
from iarc_hf.training.loop import train


def recipe_arguments(recipe: str, **overrides) -> RunArguments:
    """The recipe's optimizer and schedule as RunArguments (what make_optimizer reads)."""
    if recipe not in RECIPES:
        raise ValueError(f"--recipe must be one of {sorted(RECIPES)}, got {recipe!r}")
    values = {**RECIPES[recipe], **{k: v for k, v in overrides.items() if v is not None}}
    return RunArguments(output_dir="", **values)


def speedrun(
    preset: str,
    run: RunArguments,
    target: float,
    eval_every: int,
    config: str = "IARC",
    eval_size: int = 2000,
    model_overrides: dict | None = None,
    test_size: int = 10_000,
    output_dir=None,
) -> dict:
    """`train()` with `--stop_at_accuracy target`, evaluating every `eval_every` steps: it ends
    at the first evaluation at or above `target`, or after `run.max_steps`. The model folder
    goes to `output_dir` (a temporary folder by default)."""
    with tempfile.TemporaryDirectory(prefix="iarc-speedrun-") as scratch:
        out = Path(output_dir or scratch)
        run.output_dir, run.overwrite_output_dir = str(out), True
        run.stop_at_accuracy, run.eval_steps, run.logging_steps = target, eval_every, eval_every
        run.save_steps = run.max_steps  # no checkpoint but the final one
        data = DataArguments(dataset_config=config, eval_size=eval_size, test_size=test_size)
        allowed = {f.name for f in dataclasses.fields(ModelArguments)} - {"preset"}
        unknown = sorted(set(model_overrides or {}) - allowed)
        if unknown:
            raise ValueError(f"--model: unknown fields {unknown}; allowed: {sorted(allowed)}")
        model = ModelArguments(preset=preset, **(model_overrides or {}))
        began = time.perf_counter()
        test = train(model, data, run, command="bench.py speedrun", show_progress=False)
        wall = time.perf_counter() - began
        facts = json.loads((out / "all_results.json").read_text())
        curve = [
            {"step": r["step"], "windows": r["windows"], "accuracy": r["eval_accuracy"]}
            for r in read_jsonl(out / METRICS_LOG)
            if "eval_accuracy" in r
        ]
    accuracy = curve[-1]["accuracy"]
    return {
        "preset": preset,
        "config": config,
        "model_overrides": model_overrides or {},
        "target": target,
        "reached": accuracy >= target,
        "steps": facts["max_steps"],
        "windows": facts["windows"],
        "accuracy": accuracy,
        "test_accuracy": test["accuracy"],
        "params": facts["params"],
        "train_seconds": facts["train_seconds"],
        "wall_seconds": wall,
        "device": facts["device"],
        "threads": torch.get_num_threads(),
        "bf16": run.bf16,
        "curve": curve,
    }


def parse_overrides(items: list[str]) -> dict:
    """FIELD=VALUE pairs; values read as JSON where they can be (8, 0.1, true), else strings."""
    overrides = {}
    for item in items:
        field, sep, value = item.partition("=")
        if not sep or not field:
            raise SystemExit(f"--model takes FIELD=VALUE (e.g. loss_reduction=last), got {item!r}")
        try:
            overrides[field] = json.loads(value)
        except json.JSONDecodeError:
            overrides[field] = value
    return overrides


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.py speedrun", description=__doc__)
    parser.add_argument("--preset", default="cisformer-dpa", choices=sorted(PRESETS))
    parser.add_argument("--config", default="IARC")
    parser.add_argument("--recipe", default="adamw", choices=sorted(RECIPES))
    parser.add_argument(
        "--optimizer", choices=OPTIMIZERS, help="instead of the recipe's (muon: Muon + AdamW)"
    )
    parser.add_argument("--learning_rate", type=float)
    parser.add_argument("--warmup_steps", type=int)
    parser.add_argument("--batch_size", type=int, default=200)
    parser.add_argument("--max_steps", type=int, default=8000, help="the schedule's length")
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="an IARCConfig override, e.g. loss_reduction=last (repeatable)",
    )
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--eval_every", type=int, default=50)
    parser.add_argument("--eval_size", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="one run per seed")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (see train.py --bf16)")
    parser.add_argument("--test_size", type=int, default=10_000, help="test windows at the end")
    parser.add_argument("--output_dir", help="keep the trained model here (default: discarded)")
    parser.add_argument("--output", help="also write the result to this JSON file (one seed)")
    parser.add_argument(
        "--record",
        metavar="NAME",
        help="a record attempt: write RECORDS_DIR/NAME_seed{k}.json per seed, then RECORDS.md",
    )
    parser.add_argument("--records_dir", default="results/speedrun")
    parser.add_argument("--description", help="the recipe in words, for the records table")
    args = parser.parse_args(argv)
    if not 0 < args.target <= 1:
        raise SystemExit(f"--target must be in (0, 1], got {args.target}")
    if args.output and len(args.seeds) > 1:
        raise SystemExit("--output takes one seed; use --record NAME for several")
    if args.record and not re.fullmatch(r"[A-Za-z0-9._-]+", args.record):
        raise SystemExit(
            f"--record must be a file name (letters, digits, . _ -), got {args.record!r}"
        )
    return args


def run_seed(args, seed: int, argv: list[str]) -> dict:
    """One speedrun with `seed`, its provenance, date and the command that reruns it."""
    run = recipe_arguments(
        args.recipe,
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        warmup_steps=args.warmup_steps,
        per_device_train_batch_size=args.batch_size,
        max_steps=args.max_steps,
        seed=seed,
        bf16=args.bf16,
    )
    result = speedrun(
        args.preset,
        run,
        args.target,
        args.eval_every,
        args.config,
        args.eval_size,
        model_overrides=parse_overrides(args.model),
        test_size=args.test_size,
        output_dir=args.output_dir,
    )
    result["seed"] = seed
    result["command"] = "python scripts/bench.py speedrun " + shlex.join(argv)
    result["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}"
    result["cpu"] = cpu_model()
    result["date"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    result["description"] = args.description or f"{args.preset}, {args.recipe}"
    result["provenance"] = provenance(result["device"])
    return result


def main(argv: list[str]) -> dict | list[dict]:
    args = parse_arguments(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    results = []
    for seed in args.seeds:
        result = run_seed(args, seed, argv)
        verdict = "reached" if result["reached"] else "NOT reached"
        print(
            f"{args.preset} {args.recipe} on {args.config}, seed {seed}: target {args.target} "
            f"{verdict} at step {result['steps']} ({result['windows']:,} windows), validation "
            f"accuracy {result['accuracy']:.4f} (test {result['test_accuracy']:.4f}), "
            f"{result['wall_seconds']:.1f} s wall ({result['train_seconds']:.1f} s training) "
            f"on {result['device']}, {result['threads']} threads, {result['cpu']}"
        )
        if args.output:
            write_json(args.output, result)
        if args.record:
            write_json(Path(args.records_dir) / f"{args.record}_seed{seed}.json", result)
        results.append(result)
    if args.record:
        print(f"wrote {write_records(args.records_dir)}")
    return results[0] if len(results) == 1 else results
