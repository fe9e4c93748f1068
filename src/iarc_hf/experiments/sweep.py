"""Run a grid of jobs as Ray tasks: on this machine by default, or on a Ray cluster.

Each job is one task asking for `threads_per_run` CPUs (torch threads are set to match inside
it) and `gpus_per_run` GPUs (a fraction packs several runs on one GPU). At most `workers` jobs
are in flight; the driver writes each finished job's result JSON and shows a live status fed by
the tasks through a Ray queue. A failing job is reported and the others go on. Jobs resume from
their checkpoints, so a sweep that is killed continues where it stopped when started again.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from iarc_hf.cli_checks import require_positive_int
from iarc_hf.experiments.jobs import Job, execute
from iarc_hf.experiments.sweep_status import SweepStatus
from iarc_hf.files import write_json

INSTALL_HINT = "pip install 'iarc-hf[sweep]'  (or: pip install ray rich)"
POLL_SECONDS = 0.5


def require_ray():
    """Import ray, or fail at once with the command that installs it."""
    try:
        import ray
    except ImportError:
        raise ImportError(
            f"--workers runs the grid on Ray, which is not installed: {INSTALL_HINT}"
        ) from None
    return ray


@dataclass
class SweepSummary:
    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # finished before this sweep
    seconds: float = 0.0


def _run_job(job: Job, command: str, threads: int, queue) -> dict:
    """The Ray task: one job, its progress records pushed to the driver's queue."""
    import torch

    torch.set_num_threads(threads)

    def progress(record: dict) -> None:
        queue.put_nowait((job.key, record))

    return execute(job, command, progress=progress, show_progress=False)


def run_sweep(
    jobs: list[Job],
    command: str,
    workers: int,
    threads_per_run: int = 1,
    gpus_per_run: float = 0.0,
    address: str | None = None,
    live: bool | None = None,
    stream=None,
) -> SweepSummary:
    """Run `jobs` on Ray (starting a local cluster unless `address` names one)."""
    require_positive_int("workers", workers)
    require_positive_int("threads_per_run", threads_per_run)
    if gpus_per_run < 0:
        raise ValueError(f"--gpus_per_run must be >= 0, got {gpus_per_run!r}")
    ray = require_ray()
    from ray.util.queue import Queue

    finished = {job.key for job in jobs if job.is_done()}
    summary = SweepSummary(skipped=[job.key for job in jobs if job.key in finished])
    pending = deque(job for job in jobs if job.key not in finished)
    if not pending:
        return summary
    if not ray.is_initialized():
        # log_to_driver off: the live status is the driver's output; task logs stay in Ray's
        # session folder, and a failing task's traceback comes back with its error.
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    queue = Queue(actor_options={"num_cpus": 0})
    task = ray.remote(_run_job).options(
        num_cpus=threads_per_run,
        num_gpus=gpus_per_run,
        max_retries=2,  # a lost worker or node: the retry resumes from the job's checkpoint
    )
    steps_left = {job.key: job.steps_left() for job in pending}
    status = SweepStatus(len(pending), sum(steps_left.values()), live=live, stream=stream)
    began, running = time.monotonic(), {}
    try:
        while pending or running:
            while pending and len(running) < workers:
                job = pending.popleft()
                if job.is_done():  # finished meanwhile, by another sweep over the same folders
                    status.skipped(job.key, steps_left[job.key])
                    summary.skipped.append(job.key)
                    continue
                status.started(job.key, job.max_steps, job.resume_step())
                running[task.remote(job, command, threads_per_run, queue)] = job
            ready, _ = ray.wait(list(running), num_returns=1, timeout=POLL_SECONDS)
            for key, record in queue.get_nowait_batch(queue.qsize()):
                status.progress(key, record)
            for ref in ready:
                _collect(ray, ref, running.pop(ref), status, summary)
    finally:
        status.close()
        summary.seconds = time.monotonic() - began
    return summary


def _collect(ray, ref, job: Job, status: SweepStatus, summary: SweepSummary) -> None:
    try:
        record = ray.get(ref)
    except Exception as error:  # a failed run is reported; the sweep goes on
        cause = getattr(error, "cause", None) or error
        message = f"{type(cause).__name__}: {cause}".splitlines()[0]
        status.failed_run(job.key, message)
        summary.failed.append((job.key, message))
        return
    write_json(job.result, record)
    status.finished(job.key, record["metrics"]["accuracy"])
    summary.done.append(job.key)
