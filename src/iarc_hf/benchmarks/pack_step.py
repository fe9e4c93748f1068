"""Runs per hour: one run's eager step against K runs packed into one stacked model, eager and as
one CUDA graph (`iarc_hf.training.packed`), timed side by side on one device.

    python scripts/bench.py pack-step --device cuda --presets cisformer-ea transformer-ea --packs 1 8 32

Each row: the milliseconds of one step of the pack and the runs it advances per second, and the
ratio to one eager run at a time (the issue's goal: >= 10x runs per GPU-hour). The SGD recipe
with a constant rate (the paper's), batch 200, fresh random windows per run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from transformers import get_scheduler

from iarc_hf.benchmarks.train_step import interleaved_seconds
from iarc_hf.configuration_iarc import IARCConfig
from iarc_hf.modeling_iarc import IARCModel
from iarc_hf.training.arguments import RunArguments
from iarc_hf.training.loop import make_optimizer
from iarc_hf.training.packed import PackedModel


def _batch(config: IARCConfig, size: int, device, packs: int | None = None) -> dict:
    shape = (size, config.context_length) if packs is None else (packs, size, config.context_length)
    return {
        "input_ids": torch.randint(0, config.n_symbols, shape, device=device),
        "control_ids": torch.randint(0, config.n_controls + 1, shape, device=device),
        "labels": torch.randint(0, config.n_symbols, shape, device=device),
    }


def _run_args(graphs: bool) -> RunArguments:
    # a warm-up step keeps the packed step eager; constant makes it one CUDA graph on CUDA
    return RunArguments(output_dir="unused", optimizer="sgd", learning_rate=0.02, momentum=0.8,
                        lr_scheduler_type="constant" if graphs else "constant_with_warmup",
                        warmup_steps=0 if graphs else 1)  # fmt: skip


def solo_step(config: IARCConfig, batch_size: int, device):
    model = IARCModel(config).to(device).train()
    optimizer = make_optimizer(model, _run_args(False))
    batch = _batch(config, batch_size, device)

    def step():
        model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    return step


def packed_step(config: IARCConfig, batch_size: int, device, packs: int, graphs: bool):
    run = _run_args(graphs)

    def scheduler(optimizer):
        return get_scheduler(run.lr_scheduler_type, optimizer, num_warmup_steps=run.warmup_steps)

    packed = PackedModel([IARCModel(config) for _ in range(packs)], run, device, make_optimizer, scheduler)  # fmt: skip
    batch = _batch(config, batch_size, device, packs)
    return lambda: packed.step(batch)


def measure(presets, packs, batch_size: int, steps: int, device: str) -> list[dict]:
    rows = []
    for preset in presets:
        config = IARCConfig.from_preset(preset)
        cases = [("one run, eager", 1, solo_step(config, batch_size, device))]
        for k in packs:
            cases.append(
                (f"pack of {k}, eager", k, packed_step(config, batch_size, device, k, False))
            )
            if device.startswith("cuda"):
                cases.append((f"pack of {k}, CUDA graph", k, packed_step(config, batch_size, device, k, True)))  # fmt: skip
        seconds = interleaved_seconds([fn for _, _, fn in cases], steps, warmup=5, device=device)
        base = 1 / seconds[0]
        for (name, k, _), s in zip(cases, seconds, strict=True):
            rows.append({"preset": preset, "device": device, "case": name, "runs": k,
                         "ms_per_step": 1e3 * s, "run_steps_per_s": k / s,
                         "runs_per_hour_vs_one_eager": k / s / base})  # fmt: skip
            print(f"{preset:16s} {name:24s} {1e3 * s:8.2f} ms/step  {k / s / base:6.2f}x runs/hour")
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--presets", nargs="+", default=["cisformer-ea", "transformer-ea"])
    parser.add_argument("--packs", type=int, nargs="+", default=[8])
    parser.add_argument("--batch_size", type=int, default=200)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args(argv)
    rows = measure(args.presets, args.packs, args.batch_size, args.steps, args.device)
    if args.json:
        name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
        Path(args.json).write_text(json.dumps({"device_name": name, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
