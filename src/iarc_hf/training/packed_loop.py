"""The training loop of a pack: K runs of one shape, each with its own folder, as if alone.

Each run keeps what the loop of `iarc_hf.training.loop` gives it: its own windows (its seed's
stream), `metrics.jsonl`, validation every `eval_steps`, a checkpoint every `save_steps`
(`packed-checkpoint-N`: its weights and optimizer state in safetensors), and at the end its test
metrics beside the oracle, `save_pretrained`, card and curve (`finalize_run`). A run whose loss
becomes NaN or infinite stops being logged, evaluated and saved; the others go on.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from accelerate.utils import set_seed
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm
from transformers import get_scheduler

from iarc_hf.data.generator import generate_split
from iarc_hf.eval.evaluation import evaluate_model, to_tensors
from iarc_hf.files import read_jsonl, write_jsonl
from iarc_hf.modeling_iarc import IARCModel
from iarc_hf.provenance import record_segment
from iarc_hf.training.arguments import build_model_config, check_arguments
from iarc_hf.training.finalize import METRICS_LOG, TrainingOutcome, finalize_run
from iarc_hf.training.loop import LossNotFinite, TrainBatches, make_optimizer
from iarc_hf.training.packed import PackedModel, why_not_packable

CHECKPOINT = re.compile(r"^packed-checkpoint-(\d+)$")
STATE_FILE = "trainer_state.json"
# fields that may differ between the runs of a pack; every other one must agree
PER_RUN_FIELDS = ("seed", "output_dir", "resume_from_checkpoint", "overwrite_output_dir")


@dataclass
class _Member:
    """One run of the pack."""

    model_args: object
    data_args: object
    run: object
    out: Path
    command: str
    batches: TrainBatches | None = None
    diverged: str | None = None


def check_pack(arguments: list[tuple]) -> None:
    """ValueError unless the runs share the model, the task and the recipe (seeds may differ)."""
    for model_args, data_args, run in arguments:
        check_arguments(model_args, data_args, run)
        if problem := why_not_packable(run):
            raise ValueError(f"{run.output_dir} cannot be packed: {problem}")
    first = _shared(*arguments[0])
    for args in arguments[1:]:
        if (other := _shared(*args)) != first:
            differ = sorted(k for k in first if first[k] != other.get(k))
            raise ValueError(f"the runs of a pack must agree on everything but the seed: {differ}")


def _shared(model_args, data_args, run) -> dict:
    from dataclasses import asdict

    fields = {f"model.{k}": v for k, v in asdict(model_args).items()}
    fields |= {f"data.{k}": v for k, v in asdict(data_args).items()}
    fields |= {f"run.{k}": v for k, v in asdict(run).items() if k not in PER_RUN_FIELDS}
    return fields


def latest_packed_step(out) -> int:
    """The step of the run's latest complete packed checkpoint (0: none)."""
    found = [CHECKPOINT.match(p.name) for p in Path(out).glob("packed-checkpoint-*")]
    steps = [
        int(m.group(1)) for m in found if m and (Path(out) / m.group(0) / STATE_FILE).is_file()
    ]
    return max(steps, default=0)


def train_pack(
    arguments: list[tuple],
    commands: list[str],
    device=None,
    show_progress=True,
    stop_after: int | None = None,
):
    """Train K runs ((model, data, run) arguments each) as one pack; resumes from their common
    latest packed checkpoint. Returns, per run, its test metrics or the LossNotFinite it hit;
    None when stopped right after the checkpoint of step `stop_after` (as a kill would)."""
    check_pack(arguments)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    members = [
        _Member(*args, Path(args[2].output_dir), cmd)
        for args, cmd in zip(arguments, commands, strict=True)
    ]
    first = members[0]
    task = first.data_args.task()
    packed = _build(members, task, device)
    start = min(latest_packed_step(m.out) for m in members)
    seconds = _restore(packed, members, start)
    if start < first.run.max_steps:  # a resume after the end trains no stretch
        for member in members:
            record_segment(member.out, start, str(device))
    validation = generate_split(
        task, "validation", first.data_args.eval_size, first.data_args.data_seed
    )
    for member in members:
        member.batches = TrainBatches(task, member.data_args, member.run, 0, 1)
    bar = tqdm(total=first.run.max_steps, initial=start, disable=not show_progress,
               desc=f"{first.model_args.preset} x{len(members)} on {task.name}", dynamic_ncols=True)  # fmt: skip
    loop = _PackLoop(packed, members, task, validation, device, bar)
    seconds = loop.train(start, seconds, stop_after)
    bar.close()
    if seconds is None:
        return None
    return [_finish(packed, k, m, task, device, seconds) for k, m in enumerate(members)]


def _build(members: list[_Member], task, device) -> PackedModel:
    """The K models, each initialised from its own seed as `train` would, stacked."""
    config = build_model_config(members[0].model_args, task)
    models = []
    for member in members:
        set_seed(member.run.seed)
        models.append(IARCModel(config))
    run = members[0].run

    def scheduler(optimizer):
        return get_scheduler(run.lr_scheduler_type, optimizer, num_warmup_steps=run.warmup_steps, num_training_steps=run.max_steps)  # fmt: skip

    return PackedModel(models, run, device, make_optimizer, scheduler)


def _restore(packed: PackedModel, members: list[_Member], step: int) -> float:
    """Training seconds so far: from the runs' packed checkpoints at `step`, or a fresh start."""
    for member in members:
        member.out.mkdir(parents=True, exist_ok=True)
        log = member.out / METRICS_LOG
        if step == 0:
            log.write_text("")
        else:  # drop log lines written after that checkpoint
            kept = [r for r in read_jsonl(log) if r["step"] <= step]
            write_jsonl(log, kept)
    if step == 0:
        return 0.0
    folders = [m.out / f"packed-checkpoint-{step}" for m in members]
    packed.load_run_states(
        [
            (load_file(f / "model.safetensors"), load_file(f / "optimizer.safetensors"))
            for f in folders
        ]
    )
    state = json.loads((folders[0] / STATE_FILE).read_text())
    packed.scheduler.load_state_dict(state["scheduler"])
    for group, lr in zip(
        packed.optimizer.param_groups, packed.scheduler.get_last_lr(), strict=True
    ):
        group["lr"] = lr  # the scheduler's state alone leaves the optimizer at its first rate
    return state["train_seconds"]


def save_packed_checkpoint(
    packed: PackedModel, k: int, out: Path, step: int, seconds: float
) -> None:
    """Run k's weights, optimizer and scheduler state, written whole or not at all."""
    final, partial = out / f"packed-checkpoint-{step}", out / f"packed-checkpoint-{step}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    weights, state = packed.run_state(k)
    save_file({n: t.cpu() for n, t in weights.items()}, str(partial / "model.safetensors"))
    save_file({n: t.cpu() for n, t in state.items()}, str(partial / "optimizer.safetensors"))
    saved = {"step": step, "train_seconds": seconds, "scheduler": packed.scheduler.state_dict()}
    (partial / STATE_FILE).write_text(json.dumps(saved, indent=2, default=str))
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)
    for old in out.glob("packed-checkpoint-*"):
        match = CHECKPOINT.match(old.name)
        if old != final and (match is None or int(match.group(1)) < step):
            shutil.rmtree(old, ignore_errors=True)


class _PackLoop:
    """Steps with each run's logging, validation and checkpoints (the solo loop's periods)."""

    NONE = 2**62

    def __init__(self, packed, members, task, validation, device, bar):
        self.packed, self.members, self.task = packed, members, task
        self.validation, self.device, self.bar = validation, device, bar
        self.run = members[0].run
        self.loss_sum, self.count = torch.zeros(packed.size, device=device), 0
        self.first_bad = torch.full((packed.size,), self.NONE, device=device)

    def inputs(self, step: int) -> dict:
        batches = [to_tensors(m.batches(step), "cpu") for m in self.members]
        return {
            key: torch.stack([b[key] for b in batches]).to(self.device, non_blocking=True)
            for key in batches[0]
        }

    def train(self, start: int, seconds: float, stop_after: int | None) -> float | None:
        run, tick = self.run, time.perf_counter()
        for step in range(start, run.max_steps):
            losses = self.packed.step(self.inputs(step))
            done = step + 1
            self.loss_sum += losses
            self.count += 1
            bad = torch.where(torch.isfinite(losses), self.NONE, done)
            self.first_bad = torch.minimum(self.first_bad, bad)
            self.bar.update(1)
            periods = (run.logging_steps, run.eval_steps, run.save_steps)
            if done == run.max_steps or any(done % p == 0 for p in periods):
                seconds += time.perf_counter() - tick
                self._checkpoint_work(done, seconds)
                tick = time.perf_counter()
                if done == stop_after and done % run.save_steps == 0:
                    return None
        return seconds

    def _checkpoint_work(self, done: int, seconds: float) -> None:
        """The logging, validation and saving due at step `done` (off the training clock)."""
        run = self.run
        self._check_finite()
        if done % run.logging_steps == 0 or done == run.max_steps:
            self._log_losses(done)
        if done % run.eval_steps == 0 or done == run.max_steps:
            self._validate(done)
        if done % run.save_steps == 0 or done == run.max_steps:
            for k, member in enumerate(self.members):
                if member.diverged is None:
                    save_packed_checkpoint(self.packed, k, member.out, done, seconds)

    def _check_finite(self) -> None:
        for member, first in zip(self.members, self.first_bad.tolist(), strict=True):
            if first != self.NONE and member.diverged is None:
                member.diverged = (
                    f"the training loss became NaN or infinite at step {first} "
                    f"(--learning_rate {self.run.learning_rate:g}); the run stopped without a "
                    "final model, card or results"
                )

    def _log_losses(self, done: int) -> None:
        means = (self.loss_sum / self.count).tolist()
        self.loss_sum.zero_()
        self.count = 0
        lr = self.packed.scheduler.get_last_lr()[0]
        windows = done * self.run.per_device_train_batch_size
        for member, loss in zip(self.members, means, strict=True):
            if member.diverged is None:
                _append(member.out, {"step": done, "windows": windows, "loss": loss, "lr": lr})
        self.bar.set_postfix(loss=f"{float(np.nanmean(means)):.3f}")

    def _validate(self, done: int) -> None:
        self.packed.sync_models()
        windows = done * self.run.per_device_train_batch_size
        accuracies = []
        for member, model in zip(self.members, self.packed.models, strict=True):
            if member.diverged is not None:
                continue
            metrics = evaluate_model(model, self.task, self.validation, self.run.per_device_eval_batch_size, oracle=False)  # fmt: skip
            _append(member.out, {"step": done, "windows": windows, **{f"eval_{k}": v for k, v in metrics.items()}})  # fmt: skip
            accuracies.append(metrics["accuracy"])
        if accuracies:
            self.bar.set_postfix(acc=f"{np.mean(accuracies):.3f}")


def _append(out: Path, record: dict) -> None:
    with (out / METRICS_LOG).open("a") as f:
        f.write(json.dumps(record) + "\n")


def _finish(packed: PackedModel, k: int, member: _Member, task, device, seconds: float):
    """Run k's test metrics, model, card and curve (`finalize_run`), or its LossNotFinite."""
    if member.diverged is not None:
        return LossNotFinite(member.diverged)
    packed.sync_models()
    model = packed.models[k]
    last = member.batches(member.run.max_steps - 1)
    crc = zlib.crc32(np.ascontiguousarray(last["input_ids"]).tobytes())
    outcome = TrainingOutcome(
        steps=member.run.max_steps,
        params=sum(p.numel() for p in model.parameters()),
        train_seconds=seconds,
        world_size=1,
        device=str(device),
        command=member.command,
        fingerprints=(crc,),
    )
    return finalize_run(model, task, member.model_args, member.data_args, member.run, member.out, outcome)  # fmt: skip
