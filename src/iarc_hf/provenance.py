"""Where and with what a result was made, so that it can be rerun exactly.

Results depend on more than the seed: on the torch thread count (the same AdamW run gave 0.9530
on 2 threads and 0.9549 on 1), on the CPU (BLAS kernels differ), on the package versions and on
the code. Every result JSON carries this record.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import subprocess
from pathlib import Path

from iarc_hf.files import read_jsonl, write_jsonl

# One line per stretch of training (a start, then each resume): where and with what it ran. A run
# resumed on another thread count or CPU cannot be rerun bit for bit with one command, and its
# JSON says so (`provenance.segments`).
SEGMENTS_LOG = "provenance_segments.jsonl"

PACKAGES = ("torch", "transformers", "datasets", "accelerate", "numpy", "iarc-hf")


def package_versions() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what `platform` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def git_state(where=None) -> dict:
    """The commit of the checkout holding this package (or `where`), and whether it was dirty.

    Installed from a wheel there is no checkout: both are null.
    """
    where = Path(where) if where is not None else Path(__file__).resolve().parent

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=where, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"git_commit": None, "git_dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": commit, "git_dirty": bool(status) if status is not None else None}


# Read once, when the process imports the package: the code a long run trains with is what was
# checked out when it started, whatever the tree holds by the time it ends.
_GIT_AT_START = git_state()


def provenance(device: str = "cpu") -> dict:
    """The record every result JSON carries: threads, versions, the commit (and whether the tree
    was dirty) when this process started, CPU, device, Python."""
    import torch

    gpu = {}
    if str(device).startswith("cuda") and torch.cuda.is_available():
        gpu = {"gpu": torch.cuda.get_device_name(), "cuda": torch.version.cuda}
    return {
        **gpu,
        "torch_threads": torch.get_num_threads(),
        "versions": package_versions(),
        **_GIT_AT_START,
        "cpu": cpu_model(),
        "device": device,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def record_segment(out, start_step: int, device: str = "cpu") -> None:
    """Note in run folder `out` that training (re)starts at `start_step` here and now; a fresh
    start (step 0) begins the log anew, a resume drops stretches at or after its step."""
    path = Path(out) / SEGMENTS_LOG
    earlier = [] if start_step == 0 else read_segments(out)
    kept = [s for s in earlier if s["start_step"] < start_step]
    lines = [*kept, {"start_step": start_step, **provenance(device)}]
    write_jsonl(path, lines)


def read_segments(out) -> list[dict]:
    """The stretches logged in run folder `out` (empty if none were: runs from before the log)."""
    return read_jsonl(Path(out) / SEGMENTS_LOG)


def resumed_segments(out) -> list[dict] | None:
    """The stretches of a run trained in more than one (None for one stretch from step 0, which
    the JSON's own provenance describes). A first stretch after step 0 means the steps before it
    ran before the log existed: where is not known."""
    segments = read_segments(out)
    if not segments or (len(segments) == 1 and segments[0]["start_step"] == 0):
        return None
    return segments


def mixed_conditions(segments: list[dict] | None) -> list[str]:
    """What changed between stretches (torch threads, CPU, commit, versions): what keeps one
    rerun command from being bit-exact."""
    changed = []
    for field in ("torch_threads", "cpu", "git_commit", "versions", "device"):
        if len({json.dumps(s.get(field), sort_keys=True) for s in segments or []}) > 1:
            changed.append(field)
    return changed
