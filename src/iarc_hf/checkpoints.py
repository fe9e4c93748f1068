"""Training-state checkpoints: written whole or not at all, found again by `latest`.

`accelerator.save_state` writes into `checkpoint-N.partial`; only when every process has
finished (and `trainer_state.json` is in) is the folder renamed to `checkpoint-N`. A run
killed mid-save leaves a `.partial` folder, which resume ignores and the next save removes.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

STATE_FILE = "trainer_state.json"
_NAME = re.compile(r"^checkpoint-(\d+)$")


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
    return sorted(found, key=lambda p: int(_NAME.match(p.name).group(1)))


def latest_checkpoint(output_dir) -> Path | None:
    found = checkpoint_dirs(output_dir)
    return found[-1] if found else None


def resolve_resume(resume: str | None, output_dir) -> Path | None:
    if resume is None:
        return None
    if resume == "latest":
        found = latest_checkpoint(output_dir)
        if found is None:
            raise ValueError(
                f"--resume_from_checkpoint latest: no complete checkpoint in {output_dir}"
            )
        return found
    path = Path(resume)
    if not (path / STATE_FILE).is_file():
        raise ValueError(
            f"--resume_from_checkpoint {resume}: not a complete checkpoint (no {STATE_FILE})"
        )
    return path


def save_checkpoint(accelerator, output_dir, step: int, state: dict, keep: int) -> Path:
    """Every process calls this; the main process renames the finished folder into place."""
    root = Path(output_dir)
    final = root / f"checkpoint-{step}"
    partial = root / f"checkpoint-{step}.partial"
    if accelerator.is_main_process:
        for stale in root.glob("checkpoint-*.partial"):
            shutil.rmtree(stale, ignore_errors=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(partial))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (partial / STATE_FILE).write_text(json.dumps({"step": step, **state}, indent=2))
        if final.exists():
            shutil.rmtree(final)
        partial.rename(final)
        for old in checkpoint_dirs(root)[:-keep] if keep > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def load_checkpoint(accelerator, path: Path) -> dict:
    accelerator.load_state(str(path))
    return json.loads((Path(path) / STATE_FILE).read_text())
