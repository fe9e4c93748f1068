"""Diagnose training: per-layer gradient and activation norms, attention entropy, score scale and
the saturation of z^2/(1+z^2), at initialisation and over a short run (JSON + plots).

    python scripts/diagnose.py --preset transformer-ea --max_steps 300 --every 25 --threads 1
    python scripts/diagnose.py --preset transformer-ea --model_config '{"qk_norm": true}'
    python scripts/diagnose.py --preset transformer-ea --recipe adamw \\
        --lr_scheduler_type constant_with_warmup --warmup_steps 50
    python scripts/diagnose.py --compare results/diagnosis/a.json results/diagnosis/b.json \\
        --output results/diagnosis/compare.png

Writes OUTPUT_DIR/NAME.json and OUTPUT_DIR/NAME.png (NAME from the preset, recipe, overrides
and the seed unless it is 0, or --name).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import torch

from iarc_hf.configuration_iarc import PRESETS, IARCConfig
from iarc_hf.eval.training_diagnosis import DiagnosisSetup, diagnose, summary, summary_table
from iarc_hf.experiments.registry import RECIPES
from iarc_hf.files import write_json
from iarc_hf.training.arguments import OPTIMIZERS, SCHEDULERS, DataArguments, RunArguments
from iarc_hf.viz.diagnosis_plots import plot_comparison, plot_diagnosis

RUN_FLAGS = {  # flag: type; each overrides the recipe's value
    "optimizer": str,
    "learning_rate": float,
    "momentum": float,
    "weight_decay": float,
    "lr_scheduler_type": str,
    "warmup_steps": int,
    "max_grad_norm": float,
    "per_device_train_batch_size": int,
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--preset", default="transformer-ea", choices=tuple(PRESETS))
    p.add_argument("--model_config", default="{}", help="IARCConfig overrides as a JSON object")
    p.add_argument("--dataset_config", default="IARC")
    p.add_argument("--recipe", default="sgd", choices=tuple(RECIPES))
    for flag, kind in RUN_FLAGS.items():
        p.add_argument(f"--{flag}", type=kind, help="overrides the recipe's value")
    p.add_argument("--max_steps", type=int, default=300)
    p.add_argument("--every", type=int, default=25, help="record every this many steps")
    p.add_argument("--eval_size", type=int, default=1000, help="validation windows")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--output_dir", default="results/diagnosis")
    p.add_argument(
        "--name", help="file name stem (default: preset, recipe, overrides, seed unless 0)"
    )
    p.add_argument("--compare", nargs="+", metavar="JSON", help="plot these diagnoses together")
    p.add_argument("--output", help="the comparison PNG (with --compare)")
    return p


def _setup(args) -> tuple[DiagnosisSetup, str]:
    overrides = json.loads(args.model_config)
    if not isinstance(overrides, dict):
        raise ValueError(f"--model_config must be a JSON object, got {args.model_config!r}")
    task = DataArguments(dataset_config=args.dataset_config).task()
    config = IARCConfig.from_preset(args.preset, **overrides)
    config = config.for_task(task.n_symbols, task.n_controls, task.context_length, task.encoding)
    given = {k: getattr(args, k) for k in RUN_FLAGS if getattr(args, k) is not None}
    run = RunArguments(
        output_dir=args.output_dir, seed=args.seed, **{**RECIPES[args.recipe], **given}
    )
    if run.optimizer not in OPTIMIZERS or run.lr_scheduler_type not in SCHEDULERS:
        raise ValueError(f"--optimizer in {OPTIMIZERS}, --lr_scheduler_type in {SCHEDULERS}")
    for name in ("max_steps", "every", "eval_size", "threads"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name} must be a positive integer, got {getattr(args, name)}")
    parts = [args.preset, args.recipe, *(f"{k}={v}" for k, v in {**overrides, **given}.items())]
    parts += [f"seed{args.seed}"] if args.seed else []  # seeds of one setup must not collide
    name = args.name or "_".join(parts).replace(" ", "")
    labels = dict(name=name, preset=args.preset, overrides=overrides, recipe=args.recipe)
    setup = DiagnosisSetup(
        config, task, run, args.max_steps, args.every, args.eval_size, labels=labels
    )
    return setup, name


def compare(paths: list[str], output: str) -> None:
    results = [(Path(p).stem, json.loads(Path(p).read_text())) for p in paths]
    plot_comparison(results, output, "per layer: initialisation (dashed) and end (solid)")
    print(summary_table(results), end="")
    print(f"wrote {output}")


def main(argv=None) -> None:
    args = parser().parse_args(argv)
    try:
        if args.compare:
            if not args.output:
                raise ValueError("--compare needs --output PNG")
            return compare(args.compare, args.output)
        setup, name = _setup(args)
    except (ValueError, json.JSONDecodeError) as error:
        raise SystemExit(f"error: {error}") from None
    torch.set_num_threads(args.threads)
    result = diagnose(setup)
    result["summary"] = summary(result)
    result["command"] = "python scripts/diagnose.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    out = Path(args.output_dir)
    write_json(out / f"{name}.json", result)
    plot_diagnosis(result, out / f"{name}.png", name)
    s = result["summary"]
    print(f"{name}: accuracy {s['final_accuracy']:.4f}, loss {s['final_loss_mean_last_25']:.4f}")
    print(f"wrote {out / name}.json and .png")


if __name__ == "__main__":
    main()
