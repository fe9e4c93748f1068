"""The accelerate training loop behind `scripts/train.py`.

One step = one batch per process (fresh windows from the generator, deterministic in
(seed, step, process), or a shuffled pass over the train split), a backward pass, an
optimizer and a scheduler step. Every `eval_steps` the model is evaluated on a fixed
validation split; every `save_steps` the full training state is checkpointed. At the end
(`iarc_hf.training.finalize`) the model is evaluated on the test split beside the oracle,
saved with `save_pretrained`, and given a model card and a training curve; `--push_to_hub`
uploads that folder.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
import zlib
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from tqdm.auto import tqdm
from transformers import get_scheduler

from iarc_hf.data.generator import generate_split, stream_batch
from iarc_hf.data.tasks import IGNORE_INDEX, IARCTask
from iarc_hf.eval.evaluation import evaluate_model, to_tensors
from iarc_hf.files import read_jsonl, write_jsonl
from iarc_hf.modeling_iarc import IARCModel
from iarc_hf.modeling_iarc_backbone import IARCBackboneModel
from iarc_hf.provenance import record_segment
from iarc_hf.training.arguments import build_model_config, check_arguments
from iarc_hf.training.checkpoints import load_checkpoint, resolve_resume, save_checkpoint
from iarc_hf.training.finalize import FINAL_FILES, METRICS_LOG, TrainingOutcome, finalize_run
from iarc_hf.training.muon import MuonAdamW, muon_param_groups


class TrainBatches:
    """The batch of (step, process): fresh windows, or a seeded shuffle of the train split.

    The train split stays in its memory-mapped Arrow file; each step reads only its rows, so
    memory does not grow with --train_size (beyond the epoch's shuffle, 8 bytes a window)."""

    def __init__(self, task: IARCTask, data_args, run, process: int, world: int):
        self.task, self.run, self.process, self.world = task, run, process, world
        self.split = None
        self._order = (None, None)  # (epoch, its permutation): computed once per epoch
        if data_args.data_source == "dataset":
            from iarc_hf.data.builder import load_iarc

            train = load_iarc(
                task.controls,
                split="train",
                seed=data_args.data_seed,
                train_size=data_args.train_size,
                validation_size=0,
                test_size=0,
                **task.other_knobs(),
            )
            self.split = train.with_format("numpy")

    def __call__(self, step: int) -> dict:
        batch = self._windows(step)
        if self.run.train_labels == "determined":
            batch = only_determined_labels(batch)
        return batch

    def _windows(self, step: int) -> dict:
        size = self.run.per_device_train_batch_size
        if self.split is None:
            return stream_batch(self.task, size, self.run.seed, step, self.process)
        n = len(self.split)
        per_epoch = max(n // (size * self.world), 1)
        epoch, index = divmod(step, per_epoch)
        start = (index * self.world + self.process) * size
        rows = self._epoch_order(epoch, n)[np.arange(start, start + size) % n]
        return self.split[rows]

    def _epoch_order(self, epoch: int, n: int) -> np.ndarray:
        if self._order[0] != epoch:
            self._order = (epoch, np.random.default_rng([self.run.seed, epoch]).permutation(n))
        return self._order[1]


def only_determined_labels(batch: dict) -> dict:
    """The batch with labels the window cannot determine set to -100 (ignored by the loss):
    the loss then trains only on what an ideal reader of the window could know."""
    labels = np.where(batch["determined"], batch["labels"], IGNORE_INDEX)
    return {**batch, "labels": labels}


def make_optimizer(model, run, capturable: bool = False):
    """The run's optimizer; `capturable` (AdamW): its step count on the device, for CUDA graphs."""
    if run.optimizer == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=run.learning_rate,
            momentum=run.momentum,
            weight_decay=run.weight_decay,
        )
    if run.optimizer == "muon":
        return MuonAdamW(
            muon_param_groups(model),
            lr=run.learning_rate,
            betas=(run.adam_beta1, run.adam_beta2),
            weight_decay=run.weight_decay,
        )
    return torch.optim.AdamW(
        model.parameters(),
        lr=run.learning_rate,
        betas=(run.adam_beta1, run.adam_beta2),
        weight_decay=run.weight_decay,
        **({"capturable": True} if capturable else {}),
    )


def _check_tracker(report_to: str) -> None:
    import importlib.util

    if report_to != "none" and importlib.util.find_spec(report_to) is None:
        raise ValueError(
            f"--report_to {report_to} needs the {report_to} package: pip install {report_to}"
        )


def _prepare_output_dir(run) -> Path:
    out = Path(run.output_dir)
    finished = [name for name in FINAL_FILES if (out / name).exists()]
    if finished and run.resume_from_checkpoint is None and not run.overwrite_output_dir:
        raise ValueError(
            f"--output_dir {out} already holds a trained model ({', '.join(finished)}); "
            "pass --overwrite_output_dir or --resume_from_checkpoint latest"
        )
    return out


@dataclass
class _Session:
    """Everything one training run holds, built once by `_start`."""

    accelerator: Accelerator
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: object
    task: IARCTask
    validation: dict
    batches: TrainBatches
    out: Path
    params: int

    @property
    def windows_per_step(self) -> int:
        return self.batches.run.per_device_train_batch_size * self.accelerator.num_processes


def _start(model_args, data_args, run, out: Path) -> _Session:
    task = data_args.task()
    config = build_model_config(model_args, task)
    accelerator = Accelerator(
        log_with=None if run.report_to == "none" else run.report_to, project_dir=str(out)
    )
    if run.bf16 and accelerator.device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(
            f"--bf16: {torch.cuda.get_device_name()} has no bfloat16; leave --bf16 off"
        )
    set_seed(run.seed)
    if model_args.model_name_or_path is not None:
        model = IARCModel.from_pretrained(model_args.model_name_or_path, config=config, use_safetensors=True)  # fmt: skip
    elif config.model_type == "iarc_backbone":
        model = IARCBackboneModel(config)
    else:
        model = IARCModel(config)
    params = sum(p.numel() for p in model.parameters())
    optimizer = make_optimizer(model, run)
    scheduler = get_scheduler(
        run.lr_scheduler_type,
        optimizer,
        num_warmup_steps=run.warmup_steps,
        num_training_steps=run.max_steps,
    )
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
    validation = generate_split(task, "validation", data_args.eval_size, data_args.data_seed)
    batches = TrainBatches(
        task, data_args, run, accelerator.process_index, accelerator.num_processes
    )
    return _Session(
        accelerator, model, optimizer, scheduler, task, validation, batches, out, params
    )


def _state(run, train_seconds: float) -> dict:
    """What a checkpoint records beside its files: the training seconds so far, and the
    precision that `_restore` holds a resume to."""
    return {"train_seconds": train_seconds, "bf16": run.bf16}


def _restore(session: _Session, run, resume: Path | None) -> tuple[int, float]:
    """(first step, train seconds so far): from a checkpoint, or a fresh log. A checkpoint saved
    under the other precision (`--bf16` or not) is refused: a run is one precision throughout."""
    log_path = session.out / METRICS_LOG
    if resume is None:
        if session.accelerator.is_main_process:
            log_path.write_text("")
        return 0, 0.0
    state = load_checkpoint(session.accelerator, resume)
    saved_bf16 = state.get("bf16", False)  # checkpoints from before the field: float32
    if saved_bf16 != run.bf16:
        raise ValueError(
            f"--resume_from_checkpoint {resume}: that run trained with bf16={saved_bf16}, this "
            f"one asks for bf16={run.bf16}; resume with the same --bf16, or start afresh in "
            "another --output_dir"
        )
    if session.accelerator.is_main_process:  # drop log lines written after that checkpoint
        kept = [r for r in read_jsonl(log_path) if r["step"] <= state["step"]]
        write_jsonl(log_path, kept)
    return state["step"], state["train_seconds"]


class _Log:
    """metrics.jsonl, the tracker and an optional `progress` callback, on the main process."""

    def __init__(self, session: _Session, run, progress):
        self.accelerator, self.path = session.accelerator, session.out / METRICS_LOG
        self.tracked = run.report_to != "none"
        self.progress = progress

    def __call__(self, record: dict) -> None:
        if not self.accelerator.is_main_process:
            return
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        if self.tracked:
            self.accelerator.log(
                {k: v for k, v in record.items() if k != "step"}, step=record["step"]
            )
        if self.progress is not None:
            self.progress(record)


def train(
    model_args,
    data_args,
    run,
    command: str | None = None,
    stop_after: int | None = None,
    progress=None,
    show_progress: bool = True,
) -> dict:
    """Train, evaluate, save and (optionally) push; returns the final test metrics.

    `stop_after` ends the run right after that step's checkpoint, as an interruption would
    (tests use it to check that resuming continues bit for bit). `progress`, if given, is
    called with every record written to metrics.jsonl (sweeps show them live);
    `show_progress=False` hides the tqdm bar.
    """
    check_arguments(model_args, data_args, run)
    _check_tracker(run.report_to)
    out = _prepare_output_dir(run)
    resume = resolve_resume(run.resume_from_checkpoint, out)
    command = command or "accelerate launch scripts/train.py " + shlex.join(sys.argv[1:])

    session = _start(model_args, data_args, run, out)
    accelerator = session.accelerator
    start_step, train_seconds = _restore(session, run, resume)
    if accelerator.is_main_process and start_step < run.max_steps:  # after the end: no stretch
        record_segment(out, start_step, str(accelerator.device))
    if accelerator.is_main_process and run.report_to != "none":
        accelerator.init_trackers(out.name, config={**asdict(data_args), **asdict(run)})
    log = _Log(session, run, progress)
    bar = tqdm(
        total=run.max_steps,
        initial=start_step,
        disable=not accelerator.is_main_process or not show_progress,
        desc=f"{model_args.preset or 'model'} on {session.task.name}",
        dynamic_ncols=True,
    )
    stopped = _train_steps(session, run, start_step, train_seconds, log, bar, stop_after)
    bar.close()
    if stopped is None:  # stopped after a checkpoint, as an interruption would
        return None
    results = _end(session, model_args, data_args, run, command, *stopped)
    accelerator.wait_for_everyone()
    accelerator.end_training()
    if run.push_to_hub and accelerator.is_main_process:
        from iarc_hf.hub.push import push_model_folder

        url = push_model_folder(out, run.hub_model_id, private=run.hub_private_repo)
        print(f"pushed {out} to {url}")
    return results


def _end(session, model_args, data_args, run, command: str, steps: int, train_seconds: float):
    """The last state checkpointed, then (main process) `finalize_run`: its test metrics."""
    accelerator, out = session.accelerator, session.out
    # which windows each process trained on last: distinct streams give distinct fingerprints
    last = session.batches(steps - 1)
    crc = zlib.crc32(np.ascontiguousarray(last["input_ids"]).tobytes())
    fingerprints = accelerator.gather(torch.tensor([crc], device=accelerator.device)).tolist()
    # the last state too, so that `--resume_from_checkpoint latest` after the end is a no-op
    save_checkpoint(accelerator, out, steps, _state(run, train_seconds), run.save_total_limit)
    if not accelerator.is_main_process:
        return None
    outcome = TrainingOutcome(
        steps=steps,
        params=session.params,
        train_seconds=train_seconds,
        world_size=accelerator.num_processes,
        device=str(accelerator.device),
        command=command,
        fingerprints=tuple(fingerprints),
    )
    model = accelerator.unwrap_model(session.model)
    return finalize_run(model, session.task, model_args, data_args, run, out, outcome)


class LossNotFinite(ValueError):
    """The training loss became NaN or infinite: the run stops before anything claims results."""


class _FiniteLossGuard:
    """The first step whose loss was NaN or infinite, kept on the device (no sync per step), and
    checked, agreed on by every process, before anything is logged, evaluated or saved: so no
    checkpoint after it, and no final model, card or all_results.json."""

    NONE = 2**62  # no bad step yet

    def __init__(self, accelerator):
        self.accelerator = accelerator
        self.first_bad = torch.tensor(self.NONE, device=accelerator.device)

    def record(self, step: int, loss: torch.Tensor) -> None:
        bad_at = torch.where(torch.isfinite(loss.detach()), self.NONE, step)
        self.first_bad = torch.minimum(self.first_bad, bad_at)

    def check(self, run) -> None:
        first = self.accelerator.gather(self.first_bad.reshape(1)).min().item()
        if first != self.NONE:
            clipping = (
                "a smaller --max_grad_norm"
                if run.max_grad_norm
                else "gradient clipping (--max_grad_norm 1.0)"
            )
            raise LossNotFinite(
                f"the training loss became NaN or infinite at step {first} "
                f"(--learning_rate {run.learning_rate:g}); the run stopped without a final "
                f"model, card or results (checkpoints saved before that step are kept): try a "
                f"lower --learning_rate or {clipping}"
            )


def _train_steps(session, run, start_step, train_seconds, log, bar, stop_after):
    """Steps start_step..max_steps with logging, evaluation and checkpoints.

    Returns (steps done, training seconds with evaluation excluded): all steps, or fewer when
    an evaluation reached `run.stop_at_accuracy`; None when stopped at `stop_after`. Raises
    LossNotFinite, before logging, evaluating or saving, once the loss was NaN or infinite.
    """
    accelerator = session.accelerator
    session.model.train()
    clock, progress = _Clock(train_seconds), _Progress(accelerator, log, bar)
    guard = _FiniteLossGuard(accelerator)
    for step in range(start_step, run.max_steps):
        loss = _optimizer_step(session, run, step)
        progress.add(loss)
        done = step + 1
        guard.record(done, loss)
        bar.update(1)
        windows = done * session.windows_per_step
        periods = (run.logging_steps, run.eval_steps, run.save_steps)
        if done == run.max_steps or any(done % period == 0 for period in periods):
            guard.check(run)
        if done % run.logging_steps == 0 or done == run.max_steps:
            progress.log_loss(done, windows, session.scheduler.get_last_lr()[0])
        if done % run.eval_steps == 0 or done == run.max_steps:
            clock.pause()
            metrics = _validate(session, run, done, windows, log)
            if metrics is not None:
                progress.show("acc", f"{metrics['accuracy']:.3f}")
            accelerator.wait_for_everyone()
            clock.restart()
            if _reached(accelerator, run.stop_at_accuracy, metrics):
                return done, clock.seconds
        if done % run.save_steps == 0 and done < run.max_steps:
            state = _state(run, clock.pause())
            save_checkpoint(accelerator, session.out, done, state, run.save_total_limit)
            clock.restart()
            if done == stop_after:
                return None
    return run.max_steps, clock.pause()


def _optimizer_step(session, run, step: int) -> torch.Tensor:
    """One batch forward and backward, clipped, and the optimizer and scheduler stepped."""
    accelerator, model, optimizer = session.accelerator, session.model, session.optimizer
    inputs = to_tensors(session.batches(step), accelerator.device)
    # --bf16: the forward in autocast (accelerate's mixed_precision is fixed per process, and
    # one process trains many runs); backward outside it, as torch recommends. Without the flag
    # no autocast object at all: some devices refuse one even when it is disabled.
    precision = (
        torch.autocast(accelerator.device.type, dtype=torch.bfloat16) if run.bf16 else nullcontext()
    )
    with precision:
        loss = model(**inputs).loss
    accelerator.backward(loss)
    if run.max_grad_norm:
        accelerator.clip_grad_norm_(model.parameters(), run.max_grad_norm)
    optimizer.step()
    session.scheduler.step()
    optimizer.zero_grad()
    return loss


class _Clock:
    """Training seconds: paused while the run evaluates or saves a checkpoint."""

    def __init__(self, seconds: float):
        self.seconds, self.tick = seconds, time.perf_counter()

    def pause(self) -> float:
        """The seconds so far, the time since the last restart included."""
        self.seconds += time.perf_counter() - self.tick
        return self.seconds

    def restart(self) -> None:
        self.tick = time.perf_counter()


class _Progress:
    """The running training loss between log lines, and the progress bar's latest numbers."""

    def __init__(self, accelerator, log, bar):
        self.accelerator, self.log, self.bar = accelerator, log, bar
        self.loss, self.count = 0.0, 0
        self.shown = {}  # the bar's postfix: latest loss and validation accuracy

    def add(self, loss: torch.Tensor) -> None:
        self.loss += loss.detach().float()  # stays on the device: no sync per step
        self.count += 1

    def log_loss(self, step: int, windows: int, lr: float) -> None:
        mean_loss = self.accelerator.reduce(self.loss / self.count, reduction="mean").item()
        self.loss, self.count = 0.0, 0
        self.log({"step": step, "windows": windows, "loss": mean_loss, "lr": lr})
        self.show("loss", f"{mean_loss:.3f}")

    def show(self, key: str, text: str) -> None:
        self.shown[key] = text
        self.bar.set_postfix(self.shown)


def _validate(session, run, done: int, windows: int, log) -> dict | None:
    """Validation metrics, logged, on the main process (None on the others)."""
    accelerator = session.accelerator
    if not accelerator.is_main_process:
        return None
    metrics = evaluate_model(
        accelerator.unwrap_model(session.model),
        session.task,
        session.validation,
        run.per_device_eval_batch_size,
        oracle=False,
    )
    log({"step": done, "windows": windows, **{f"eval_{k}": v for k, v in metrics.items()}})
    return metrics


def _reached(accelerator, target: float | None, metrics: dict | None) -> bool:
    """Whether the main process's evaluation reached `target`, agreed on by every process."""
    if target is None:
        return False
    hit = float(metrics is not None and metrics["accuracy"] >= target)
    flags = accelerator.gather(torch.tensor([hit], device=accelerator.device))
    return bool(flags.max().item())
