"""Where a model's remaining errors are: accuracy at the last position of each window, sliced by
the task that makes the label, by the distance from the last control to the label, and by the
number of C steps since the last I / A / R (`scripts/analyze_errors.py`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from iarc_hf.data.tasks import TASKS
from iarc_hf.eval.evaluation import predict
from iarc_hf.viz.plots import plt, save_figure

SLICES = ("task", "distance", "context_steps")


def last_position_frame(model, batch: dict) -> dict[str, np.ndarray]:
    """Per window: whether the model is right at the last position, and what that label is."""
    predictions = predict(model, batch)[:, -1]
    labels = np.asarray(batch["labels"])[:, -1]
    controls = np.asarray(batch["control_ids"]) != 0
    length = controls.shape[1]
    # distance from the last control in the window to the label's position (L); -1: none in it
    last = np.where(controls.any(axis=1), length - 1 - np.argmax(controls[:, ::-1], axis=1), -1)
    return {
        "correct": predictions == labels,
        "task": np.asarray(batch["task_ids"])[:, -1],
        "distance": np.where(last >= 0, length - last, -1),
        "context_steps": np.asarray(batch["context_steps"])[:, -1],
        "determined": np.asarray(batch["determined"])[:, -1],
    }


def sliced_accuracy(frame: dict, by: str) -> list[dict]:
    """Accuracy and window count for each value of `by`, in order (task: I, A, R)."""
    if by not in SLICES:
        raise ValueError(f"by must be one of {SLICES}, got {by!r}")
    rows = []
    for value in np.unique(frame[by]):
        where = frame[by] == value
        name = TASKS[value] if by == "task" else ("none in window" if value < 0 else int(value))
        rows.append(
            {
                by: name,
                "windows": int(where.sum()),
                "accuracy": float(frame["correct"][where].mean()),
                "errors": int((~frame["correct"][where]).sum()),
            }
        )
    return rows


def analyse(model, batch: dict) -> dict:
    frame = last_position_frame(model, batch)
    return {
        "accuracy": float(frame["correct"].mean()),
        "errors": int((~frame["correct"]).sum()),
        "windows": len(frame["correct"]),
        **{f"by_{by}": sliced_accuracy(frame, by) for by in SLICES},
    }


def plot_errors(analyses: dict[str, dict], png, title: str) -> Path:
    """Three panels (task, distance, C steps): accuracy at the last position, one line per
    model; window counts as grey bars on a second axis of the middle and right panels."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, by in zip(axes, SLICES, strict=True):
        first = next(iter(analyses.values()))[f"by_{by}"]
        labels = [str(row[by]).replace("none in window", "none") for row in first]
        xs = np.arange(len(labels))
        counts = ax.twinx()
        counts.bar(xs, [row["windows"] for row in first], color="#dddddd", zorder=0)
        counts.set_ylabel("windows", color="#999999", fontsize=8)
        ax.set_zorder(counts.get_zorder() + 1)
        ax.patch.set_visible(False)
        for name, analysis in analyses.items():
            rows = {str(r[by]).replace("none in window", "none"): r for r in analysis[f"by_{by}"]}
            ax.plot(xs, [rows[label]["accuracy"] if label in rows else np.nan for label in labels],
                    marker="o", ms=3, label=name)  # fmt: skip
        ax.set_xticks(xs, labels, fontsize=8)
        ax.set(ylim=(0, 1.02), ylabel="accuracy (last position)")
        ax.set_xlabel({"task": "task of the label", "distance": "steps since the last control",
                       "context_steps": "C steps since the last I / A / R"}[by])  # fmt: skip
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, png)
