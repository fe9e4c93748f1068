"""Training-state checkpoints: written whole or not at all, checked before a resume.

`accelerator.save_state` writes into `checkpoint-N.partial`; only when every process has
finished (and `trainer_state.json` is in) is the folder renamed to `checkpoint-N`. A run
killed mid-save leaves a `.partial` folder, which resume ignores and the next save removes.
A folder damaged later (a file cut short or deleted) is not resumed from: `verify_checkpoint`
names the file and the fix, which is to delete that folder, so `latest` falls back to the
checkpoint before it (or, with none, the run starts afresh).
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from pathlib import Path

import torch

from iarc_hf.training.checkpoint_checks import files_problem, rng_file, saved_world_size

STATE_FILE = "trainer_state.json"
_NAME = re.compile(r"^checkpoint-(\d+)$")


class BrokenCheckpoint(ValueError):
    """A checkpoint folder that cannot be resumed from; the message says why and what to do."""


def checkpoint_step(path) -> int:
    """The step a checkpoint folder holds, from its name."""
    return int(_NAME.match(Path(path).name).group(1))


def checkpoint_dirs(output_dir) -> list[Path]:
    """Complete checkpoints, oldest first."""
    root = Path(output_dir)
    if not root.is_dir():
        return []
    found = [
        p
        for p in root.iterdir()
        if p.is_dir() and _NAME.match(p.name) and (p / STATE_FILE).is_file()
    ]
    return sorted(found, key=checkpoint_step)


def latest_checkpoint(output_dir) -> Path | None:
    found = checkpoint_dirs(output_dir)
    return found[-1] if found else None


def _broken(folder: Path, problem: str) -> BrokenCheckpoint:
    """The one-line error for a damaged checkpoint, with the fix."""
    earlier = []
    if _NAME.match(folder.name):
        step = checkpoint_step(folder)
        earlier = [p for p in checkpoint_dirs(folder.parent) if checkpoint_step(p) < step]
    fix = (
        f"delete that folder to resume from {earlier[-1].name} instead"
        if earlier
        else "delete that folder to start the run afresh (there is no earlier checkpoint)"
    )
    return BrokenCheckpoint(f"checkpoint {folder} cannot be resumed from: {problem}; {fix}")


def verify_checkpoint(path) -> dict:
    """The training state of a checkpoint whose files are all there and whole;
    `BrokenCheckpoint` (naming the file and the fix) otherwise."""
    folder = Path(path)
    try:
        state = json.loads((folder / STATE_FILE).read_text())
    except FileNotFoundError:
        raise _broken(folder, f"{STATE_FILE} is missing") from None
    except ValueError:
        raise _broken(folder, f"{STATE_FILE} is cut short (not JSON)") from None
    if not isinstance(state, dict) or not {"step", "train_seconds"} <= set(state):
        raise _broken(folder, f"{STATE_FILE} lacks step or train_seconds")
    if problem := files_problem(folder, saved_world_size(folder, state)):
        raise _broken(folder, problem)
    return state


def resolve_resume(resume: str | None, output_dir) -> Path | None:
    """The checkpoint folder to resume from (checked whole), or None for a fresh start."""
    if resume is None:
        return None
    if resume == "latest":
        found = latest_checkpoint(output_dir)
        if found is None:
            raise ValueError(
                f"--resume_from_checkpoint latest: no complete checkpoint in {output_dir}"
            )
    else:
        found = Path(resume)
        if not (found / STATE_FILE).is_file():
            raise ValueError(
                f"--resume_from_checkpoint {resume}: not a complete checkpoint (no {STATE_FILE})"
            )
    verify_checkpoint(found)
    return found


def save_checkpoint(accelerator, output_dir, step: int, state: dict, keep: int) -> Path:
    """Every process calls this; the main process renames the finished folder into place."""
    root = Path(output_dir)
    final = root / f"checkpoint-{step}"
    partial = root / f"checkpoint-{step}.partial"
    if accelerator.is_main_process:
        for stale in root.glob("checkpoint-*.partial"):
            shutil.rmtree(stale, ignore_errors=True)
    accelerator.wait_for_everyone()
    with _rnn_weights_apart(accelerator):  # else save_state drops all but one of them
        accelerator.save_state(str(partial))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        # world_size: how many RNG files a whole checkpoint holds (one per process)
        saved = {"step": step, **state, "world_size": accelerator.num_processes}
        (partial / STATE_FILE).write_text(json.dumps(saved, indent=2))
        if final.exists():
            shutil.rmtree(final)
        partial.rename(final)
        for old in checkpoint_dirs(root)[:-keep] if keep > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


@contextlib.contextmanager
def _rnn_weights_apart(accelerator):
    """On CUDA, cuDNN keeps an RNN's weights as views of one flat buffer: accelerate's saver
    keeps only one of tensors that share storage, and safetensors' loader refuses them. Give
    each weight its own storage while saving or loading, then flatten again."""
    rnns = [
        module
        for model in accelerator._models
        for module in model.modules()
        if isinstance(module, torch.nn.RNNBase)
    ]
    for rnn in rnns:
        for parameter in rnn.parameters():
            parameter.data = parameter.data.clone()
    try:
        yield
    finally:
        for rnn in rnns:
            rnn.flatten_parameters()


def load_checkpoint(accelerator, path: Path) -> dict:
    """Restore model, optimizer, scheduler and RNG from a checkpoint; its training state."""
    folder = Path(path)
    state = verify_checkpoint(folder)
    mine = rng_file(accelerator.process_index)  # load_state would skip a missing one silently
    if not (folder / mine).is_file():
        raise _broken(folder, f"{mine} is missing, so the continuation would not be bit-exact")
    try:
        with _rnn_weights_apart(accelerator):
            accelerator.load_state(str(folder))
    except (RuntimeError, OSError, EOFError, ValueError) as error:  # e.g. another model's shapes
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ValueError(
            f"checkpoint {folder} does not load into this run: {type(error).__name__}: {first}"
        ) from None
    return state
