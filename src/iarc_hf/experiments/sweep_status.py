"""The sweep driver's live status: runs done / running / queued, each running run's step and
latest validation accuracy, and an ETA from the sweep's own step rate.

On a terminal it is a `rich` live table; elsewhere (CI, a log file) one line per event.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field


@dataclass
class RunState:
    key: str
    max_steps: int
    start_step: int
    step: int = 0
    accuracy: float | None = None
    started: float = field(default_factory=time.monotonic)


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


class SweepStatus:
    """Counts and per-run state; `live=True` draws a rich table, else prints one line per event."""

    def __init__(self, total: int, steps_left: int, live: bool | None = None, stream=None):
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self.total, self.steps_left = total, steps_left
        self.done, self.failed = [], []
        self.running: dict[str, RunState] = {}
        self.steps_advanced, self.began = 0, time.monotonic()
        self._live = None
        if self.live:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(self._table(), console=Console(file=self.stream), auto_refresh=False)
            self._live.start()

    # events --------------------------------------------------------------------------------
    def started(self, key: str, max_steps: int, start_step: int) -> None:
        self.running[key] = RunState(key, max_steps, start_step, step=start_step)
        resumed = f" (resumes at step {start_step})" if start_step else ""
        self._event(f"start {key}{resumed}")

    def progress(self, key: str, record: dict) -> None:
        state = self.running.get(key)
        if state is None:
            return
        if record["step"] > state.step:
            self.steps_advanced += record["step"] - state.step
            self.steps_left -= record["step"] - state.step
            state.step = record["step"]
        if "eval_accuracy" in record:
            state.accuracy = record["eval_accuracy"]
        if "eval_accuracy" in record and not self.live:  # the live table shows it in place
            self._event(
                f"eval  {key} step {state.step}/{state.max_steps} accuracy {state.accuracy:.4f}"
            )
        else:
            self._refresh()

    def finished(self, key: str, accuracy: float) -> None:
        self._close_run(key)
        self.done.append(key)
        self._event(f"done  {key} test accuracy {accuracy:.4f}")

    def skipped(self, key: str, steps: int) -> None:
        """A queued run that another sweep finished meanwhile."""
        self.steps_left -= steps
        self.done.append(key)
        self._event(f"done  {key} already (by another sweep)")

    def failed_run(self, key: str, error: str) -> None:
        self._close_run(key)
        self.failed.append((key, error))
        self._event(f"FAILED {key}: {error}")

    def close(self) -> None:
        if self._live is not None:
            self._live.update(self._table(), refresh=True)
            self._live.stop()

    # views ---------------------------------------------------------------------------------
    @property
    def queued(self) -> int:
        return self.total - len(self.done) - len(self.failed) - len(self.running)

    def eta(self) -> float | None:
        """Seconds left at the sweep's step rate so far (None before any step is done)."""
        if not self.steps_advanced:
            return None
        rate = self.steps_advanced / (time.monotonic() - self.began)
        return max(self.steps_left, 0) / rate

    def counts(self) -> str:
        failed = f", {len(self.failed)} failed" if self.failed else ""
        return (
            f"{len(self.done)} done, {len(self.running)} running, {self.queued} queued{failed}; "
            f"ETA {format_seconds(self.eta())}"
        )

    def _close_run(self, key: str) -> None:
        state = self.running.pop(key, None)
        if state is not None:  # what it had left no longer counts towards the ETA
            self.steps_left -= state.max_steps - state.step

    def _event(self, message: str) -> None:
        if self.live:
            self._live.console.print(message)
            self._refresh()
        else:
            stamp = time.strftime("%H:%M:%S")
            print(f"[{stamp}] {message}  [{self.counts()}]", file=self.stream, flush=True)

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._table(), refresh=True)

    def _table(self):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        table = Table()
        for column in ("run", "step", "val accuracy", "running for"):
            table.add_column(column)
        now = time.monotonic()
        for state in self.running.values():
            accuracy = "–" if state.accuracy is None else f"{state.accuracy:.4f}"
            table.add_row(
                state.key,
                f"{state.step}/{state.max_steps}",
                accuracy,
                format_seconds(now - state.started),
            )
        return Group(Text(f"sweep: {self.counts()}"), table)
