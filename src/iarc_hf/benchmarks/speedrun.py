"""IARC speedrun: train a preset with a recipe on fresh windows, evaluate the headline accuracy
on the validation split every few steps, and stop at the first evaluation at or above the target.

Reports windows seen, steps, training seconds and wall seconds (evaluations included) to the
target, and the device. A benchmark, not a test: times depend on the machine.

    python scripts/bench.py speedrun --preset cisformer-dpa --recipe adamw --target 0.95
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch
from transformers import get_scheduler

from iarc_hf.configuration_iarc import PRESETS, IARCConfig
from iarc_hf.evaluation import evaluate_model, to_tensors
from iarc_hf.experiments import RECIPES
from iarc_hf.files import write_json
from iarc_hf.generator import generate_split, stream_batch
from iarc_hf.modeling_iarc import IARCModel
from iarc_hf.tasks import IARCTask
from iarc_hf.training import make_optimizer
from iarc_hf.training_args import RunArguments

VALIDATION_SEED = 0  # the validation split every training run evaluates on (data_seed 0)


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
    device: str = "cpu",
) -> dict:
    """Train until the validation accuracy reaches `target` or `run.max_steps` are done."""
    task = IARCTask(config)
    model_config = IARCConfig.from_preset(preset, **(model_overrides or {}))
    model_config = model_config.for_task(task.n_symbols, task.n_controls, task.context_length)
    torch.manual_seed(run.seed)
    model = IARCModel(model_config).to(device)
    optimizer = make_optimizer(model, run)
    scheduler = get_scheduler(
        run.lr_scheduler_type, optimizer, run.warmup_steps, num_training_steps=run.max_steps
    )
    validation = generate_split(task, "validation", eval_size, VALIDATION_SEED)
    size = run.per_device_train_batch_size
    curve, train_seconds, began = [], 0.0, time.perf_counter()
    accuracy, done = 0.0, 0
    model.train()
    while done < run.max_steps and accuracy < target:
        stop = min(done + eval_every, run.max_steps)
        tick = time.perf_counter()
        for step in range(done, stop):
            batch = to_tensors(stream_batch(task, size, run.seed, step), device)
            model(**batch).loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
        train_seconds += time.perf_counter() - tick
        done = stop
        accuracy = evaluate_model(model, task, validation, oracle=False)["accuracy"]
        curve.append({"step": done, "windows": done * size, "accuracy": accuracy})
    return {
        "preset": preset,
        "config": config,
        "model_overrides": model_overrides or {},
        "target": target,
        "reached": accuracy >= target,
        "steps": done,
        "windows": done * size,
        "accuracy": accuracy,
        "train_seconds": train_seconds,
        "wall_seconds": time.perf_counter() - began,
        "device": device,
        "threads": torch.get_num_threads(),
        "curve": curve,
    }


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="bench.py speedrun", description=__doc__)
    parser.add_argument("--preset", default="cisformer-dpa", choices=sorted(PRESETS))
    parser.add_argument("--config", default="IARC")
    parser.add_argument("--recipe", default="adamw", choices=sorted(RECIPES))
    parser.add_argument("--learning_rate", type=float)
    parser.add_argument("--warmup_steps", type=int)
    parser.add_argument("--batch_size", type=int, default=200)
    parser.add_argument("--max_steps", type=int, default=8000, help="the schedule's length")
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--eval_every", type=int, default=50)
    parser.add_argument("--eval_size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--output", help="also write the result to this JSON file")
    args = parser.parse_args(argv)
    if not 0 < args.target <= 1:
        raise SystemExit(f"--target must be in (0, 1], got {args.target}")
    if args.threads:
        torch.set_num_threads(args.threads)
    run = recipe_arguments(
        args.recipe,
        learning_rate=args.learning_rate,
        warmup_steps=args.warmup_steps,
        per_device_train_batch_size=args.batch_size,
        max_steps=args.max_steps,
        seed=args.seed,
    )
    result = speedrun(args.preset, run, args.target, args.eval_every, args.config, args.eval_size)
    result["command"] = "python scripts/bench.py speedrun " + " ".join(argv)
    result["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}"
    verdict = "reached" if result["reached"] else "NOT reached"
    print(
        f"{args.preset} {args.recipe} on {args.config}: target {args.target} {verdict} at step "
        f"{result['steps']} ({result['windows']:,} windows), accuracy {result['accuracy']:.4f}, "
        f"{result['wall_seconds']:.1f} s wall ({result['train_seconds']:.1f} s training) on "
        f"{result['device']}, {result['threads']} threads, {result['machine']}"
    )
    if args.output:
        write_json(args.output, result)
    return result
