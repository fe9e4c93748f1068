"""Whether the files of a checkpoint folder are all there and whole, read without unpickling.

`accelerator.save_state` writes model.safetensors, optimizer.bin, scheduler.bin and one
random_states_<process>.pkl per process (the last three are `torch.save` zip archives).
A file cut short (a full disk, an interrupted copy) would otherwise fail deep inside torch
with no file named, and a missing RNG file is skipped silently by `load_state`, so the
continuation would quietly drift from the uninterrupted run. The checks: the safetensors
header parses and the file is as long as it says; each zip archive opens and every member
matches its CRC.
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

MODEL_FILE = "model.safetensors"
TORCH_FILES = ("optimizer.bin", "scheduler.bin")


def rng_file(process: int) -> str:
    return f"random_states_{process}.pkl"


def safetensors_problem(path: Path) -> str | None:
    """What is wrong with a safetensors file (None: its size is the one its header gives)."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            return f"{path.name} is cut short ({size} bytes, no header)"
        (header_size,) = struct.unpack("<Q", head)
        if 8 + header_size > size:
            return (
                f"{path.name} is cut short ({size} bytes, its header alone needs {8 + header_size})"
            )
        try:
            header = json.loads(f.read(header_size))
            end = max(
                (t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"),
                default=0,
            )
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            return f"{path.name} has an unreadable safetensors header"
    expected = 8 + header_size + end
    if size < expected:
        return f"{path.name} is cut short ({size} of {expected} bytes)"
    if size > expected:
        return f"{path.name} is {size} bytes where its header says {expected}"
    return None


def torch_archive_problem(path: Path) -> str | None:
    """What is wrong with a `torch.save` zip archive (None: every member matches its CRC)."""
    try:
        with zipfile.ZipFile(path) as archive:
            corrupt = archive.testzip()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        return f"{path.name} is cut short or not a torch.save archive ({path.stat().st_size} bytes)"
    if corrupt is not None:
        return f"{path.name} is corrupt ({corrupt} fails its CRC check)"
    return None


def files_problem(folder: Path, world_size: int) -> str | None:
    """The first missing or broken file of the folder (None: all there and whole)."""
    for name in (MODEL_FILE, *TORCH_FILES, *(rng_file(p) for p in range(world_size))):
        path = folder / name
        if not path.is_file():
            if name.startswith("random_states_"):
                return f"{name} is missing, so the continuation would not be bit-exact"
            return f"{name} is missing"
        check = safetensors_problem if name == MODEL_FILE else torch_archive_problem
        if problem := check(path):
            return problem
    return None


def saved_world_size(folder: Path, state: dict) -> int:
    """Processes that wrote the checkpoint: recorded in its state since it was added; before,
    as many as there are RNG files (at least one)."""
    if "world_size" in state:
        return int(state["world_size"])
    return max(len(list(folder.glob("random_states_*.pkl"))), 1)
