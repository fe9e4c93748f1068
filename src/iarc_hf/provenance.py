"""Where and with what a result was made, so that it can be rerun exactly.

Results depend on more than the seed: on the torch thread count (the same AdamW run gave 0.9530
on 2 threads and 0.9549 on 1), on the CPU (BLAS kernels differ), on the package versions and on
the code. Every result JSON carries this record.
"""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
from pathlib import Path

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
