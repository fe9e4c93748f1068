"""One job = one (experiment run, seed, budget): where it trains, where its result goes, its state.

The sequential path of `scripts/reproduce.py` and the Ray sweep (`iarc_hf.experiments.sweep`)
both run jobs with `execute` and write its record with `iarc_hf.files.write_json`, so a result
JSON is the same whichever ran it. A job resumes from the latest
complete checkpoint in its output folder, so a killed run continues where it stopped.
"""

from __future__ import annotations

import fnmatch
import glob
import json
import shlex
from dataclasses import dataclass
from pathlib import Path

import torch

from iarc_hf.eval.flops import checkpoint_flops_per_window
from iarc_hf.experiments.registry import (
    EXPERIMENTS,
    PAPER_STEPS,
    PLANNED_EXPERIMENTS,
    Run,
    result_path,
    result_record,
    run_arguments,
)
from iarc_hf.experiments.results import BrokenResult, read_result
from iarc_hf.files import write_text_atomically
from iarc_hf.provenance import provenance, resumed_segments
from iarc_hf.training.checkpoints import (
    BrokenCheckpoint,
    checkpoint_step,
    latest_checkpoint,
    verify_checkpoint,
)


class RunDiverged(RuntimeError):
    """A job's training loss became NaN or infinite; the job is recorded as diverged."""


@dataclass(frozen=True)
class Job:
    experiment: str
    spec: Run
    seed: int
    max_steps: int
    result: Path  # results/<experiment>/<run>_seed<k>[_steps<n>].json
    output_dir: Path  # runs/<experiment>/<same stem>: checkpoints and the final model

    @property
    def key(self) -> str:
        return self.result.stem

    def is_done(self) -> bool:
        """Whether its result JSON is there and whole (one cut short is redone), or it diverged
        (recorded beside the JSON, so a queue goes on past it)."""
        if self.diverged() is not None:
            return True
        return self.result.exists() and self.result_problem() is None

    @property
    def diverged_marker(self) -> Path:
        """Where a run whose loss became NaN or infinite says so (not a .json: no report reads
        it as a result); delete it to train the run again."""
        return self.result.with_suffix(".diverged")

    def diverged(self) -> str | None:
        """The message of the divergence, if the run diverged."""
        return self.diverged_marker.read_text() if self.diverged_marker.exists() else None

    def result_problem(self) -> str | None:
        """Why its result JSON does not count (None: it is whole, or not written yet)."""
        try:
            read_result(self.result)
        except FileNotFoundError:
            return None
        except BrokenResult as error:
            return str(error)
        return None

    def resume_step(self) -> int:
        """The step its latest complete checkpoint holds (0: starts afresh)."""
        found = latest_checkpoint(self.output_dir)
        return checkpoint_step(found) if found else 0

    def checkpoint_problem(self) -> str | None:
        """Why its latest checkpoint cannot be resumed from, with the fix (None: it can)."""
        found = latest_checkpoint(self.output_dir)
        if found is None:
            return None
        try:
            verify_checkpoint(found)
        except BrokenCheckpoint as error:
            return str(error)
        return None

    @property
    def batch_size(self) -> int:
        """Windows per training step."""
        return self.arguments()[2].per_device_train_batch_size

    def arguments(self):
        """The (model, data, run) arguments of `scripts/train.py` that train this job."""
        return run_arguments(self.spec, self.seed, self.max_steps, str(self.output_dir))

    def steps_left(self) -> int:
        return 0 if self.is_done() else self.max_steps - self.resume_step()


def list_jobs(
    experiment: str,
    seeds,
    max_steps: int,
    results_dir="results",
    runs_dir="runs",
    patterns=None,
) -> list[Job]:
    """The jobs of an experiment (runs matching any of `patterns`, shell style), in run order."""
    if experiment not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {sorted(EXPERIMENTS)}, got {experiment!r}")
    if experiment in PLANNED_EXPERIMENTS:  # which seeds a run gets depends on finished results
        pairs = PLANNED_EXPERIMENTS[experiment](results_dir, list(seeds), max_steps)
    else:
        pairs = [(spec, list(seeds)) for spec in EXPERIMENTS[experiment]()]
    pairs = [
        (spec, spec_seeds)
        for spec, spec_seeds in pairs
        if not patterns or any(fnmatch.fnmatchcase(spec.name, p) for p in patterns)
    ]
    if not pairs:
        raise ValueError(f"no run of {experiment} matches --filter {' '.join(patterns)}")
    jobs = {}  # by result: two definitions that --max_steps gives one budget are one run
    for spec, spec_seeds in pairs:
        for seed in spec_seeds:
            job = job_for(
                experiment, spec, seed, run_budget(spec, max_steps), results_dir, runs_dir
            )
            kept = jobs.setdefault(job.result, job)
            if kept is not job and kept.arguments() != job.arguments():
                raise ValueError(
                    f"two definitions of {experiment} write {job.result} but train differently "
                    f"({kept.spec.label!r}, {job.spec.label!r}): give them distinct names"
                )
    return list(jobs.values())


def run_budget(spec: Run, max_steps: int | None) -> int:
    """--max_steps when given; else the run's own budget; else the paper's."""
    if max_steps is not None:
        return max_steps
    return spec.max_steps or PAPER_STEPS


def job_for(experiment: str, spec: Run, seed: int, max_steps: int, results_dir, runs_dir) -> Job:
    """The job of one run: its JSON under results_dir, its folder under runs_dir."""
    result = result_path(results_dir, experiment, spec, seed, max_steps)
    output_dir = Path(runs_dir) / experiment / result.stem
    return Job(experiment, spec, seed, max_steps, result, output_dir)


def execute(job: Job, command: str, progress=None, show_progress: bool = True) -> dict:
    """Train the job (resuming from its latest checkpoint) and return its result record.

    A run that finished training but was stopped before its JSON was written is not trained
    again: its record is read from the output folder.
    """
    from iarc_hf.training.loop import LossNotFinite, train

    model_args, data_args, run_args = job.arguments()
    step = job.resume_step()
    results = job.output_dir / "all_results.json"
    finished = results.exists() and (
        step == job.max_steps or json.loads(results.read_text()).get("stopped_early", False)
    )
    if not finished:
        if step:
            run_args.resume_from_checkpoint = "latest"
        try:
            train(
                model_args,
                data_args,
                run_args,
                command=command,
                progress=progress,
                show_progress=show_progress,
            )
        except LossNotFinite as error:
            write_text_atomically(job.diverged_marker, f"{error}\n")
            raise RunDiverged(
                f"{job.key} diverged: {error} (recorded in {job.diverged_marker})"
            ) from error
    return finished_record(job, command)


def finished_record(job: Job, command: str, pack_size: int = 1) -> dict:
    """The result JSON of a job whose folder holds its final model and all_results.json."""
    record = result_record(job.experiment, job.spec, job.seed, job.max_steps, job.output_dir)
    if pack_size > 1:  # train_seconds is the pack's: K runs trained in that time together
        record["pack_size"] = pack_size
    record["command"] = rerun_command(job, torch.get_num_threads())
    record["invoked_by"] = command
    record["provenance"] = provenance(record["device"])
    if segments := resumed_segments(job.output_dir):
        record["provenance"]["segments"] = segments  # where each stretch of a resumed run ran
    record["flops_per_window"] = checkpoint_flops_per_window(job.output_dir)
    from iarc_hf.experiments.claims_report import read_alphas  # the report's reader, one home

    if (alphas := read_alphas(job.output_dir)) is not None:
        record["content_skip_alpha"] = alphas  # runs/ is not committed: the JSON carries α
    return record


def rerun_command(job: Job, threads: int) -> str:
    """The command that trains exactly this job again: its run alone, its seed, its budget and
    the thread count it ran with (results depend on it)."""
    pattern = glob.escape(job.spec.name)  # --filter takes shell patterns; the name is literal
    return "python scripts/reproduce.py " + shlex.join(
        [
            "run",
            job.experiment,
            "--filter",
            pattern,
            "--seeds",
            str(job.seed),
            "--max_steps",
            str(job.max_steps),
            "--threads",
            str(threads),
        ]
    )


def packs_of(jobs: list[Job], size: int) -> list[list[Job]]:
    """The jobs in packs of at most `size` that can train as one stacked model: the same run
    (all but the seed), budget and resume step; a job that cannot be packed is a pack of one."""
    from iarc_hf.training.packed import why_not_packable
    from iarc_hf.training.packed_loop import latest_packed_step

    groups: dict[tuple, list[Job]] = {}
    for job in jobs:
        alone = why_not_packable(job.arguments()[2]) is not None or job.resume_step() > 0
        key = (
            (job.key,)
            if alone
            else (job.spec.name, job.max_steps, latest_packed_step(job.output_dir))
        )
        groups.setdefault(key, []).append(job)
    return [group[i : i + size] for group in groups.values() for i in range(0, len(group), size)]


def execute_pack(
    jobs: list[Job], command: str, show_progress: bool = True
) -> list[dict | Exception]:
    """Train the jobs as one pack (`iarc_hf.training.packed_loop`); per job its result record,
    or the RunDiverged it hit (recorded beside its JSON, as `execute` does)."""
    from iarc_hf.training.packed_loop import train_pack

    outcomes = train_pack(
        [job.arguments() for job in jobs], [command] * len(jobs), show_progress=show_progress
    )
    records = []
    for job, outcome in zip(jobs, outcomes, strict=True):
        if isinstance(outcome, Exception):
            write_text_atomically(job.diverged_marker, f"{outcome}\n")
            records.append(
                RunDiverged(f"{job.key} diverged: {outcome} (recorded in {job.diverged_marker})")
            )
        else:
            records.append(finished_record(job, command, pack_size=len(jobs)))
    return records
