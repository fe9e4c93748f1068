"""Plots of a training diagnosis (`iarc_hf.eval.training_diagnosis`): per-layer curves at
initialisation and over steps, and runs side by side."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from iarc_hf.viz.plots import save_figure  # noqa: E402

PANELS = (
    ("grad_norm", "gradient norm of the layer", "log"),
    ("attention_grad_norm", "gradient norm of its attention", "log"),
    ("stream_grad_norm", "|dL/dx|, residual stream after the block", "log"),
    ("activation_norm", "residual-stream norm after the block", "linear"),
    ("attention_entropy", "attention entropy (nats)", "linear"),
    ("score_std", "score scale std(z)", "log"),
    ("ea_saturated_high", "fraction z²/(1+z²) > 0.99", "linear"),
    ("ea_saturated_low", "fraction z²/(1+z²) < 0.01", "linear"),
    ("max_weight_slope", "max |dw_ij/dz_ij| (softmax: ≤ 1/4)", "log"),
)


def _layer_axes(title: str):
    fig, axes = plt.subplots(3, 4, figsize=(17, 10))
    fig.suptitle(title)
    axes = axes.ravel()
    axes[-1].axis("off")
    return fig, axes


def plot_diagnosis(result: dict, png, title: str) -> Path:
    """Per-layer curves, one line per recorded step (dark: initialisation, light: the end),
    plus loss and validation accuracy over steps."""
    fig, axes = _layer_axes(title)
    records = result["records"]
    colours = plt.cm.viridis([i / max(len(records) - 1, 1) for i in range(len(records))])
    for axis, (key, label, scale) in zip(axes, PANELS, strict=False):
        for record, colour in zip(records, colours, strict=False):
            values = record["layers"].get(key, [])  # a key older diagnoses did not record
            axis.plot(range(1, len(values) + 1), values, color=colour, lw=1)
        axis.set(xlabel="layer", title=label, yscale=scale)
    for record, colour in ((records[0], colours[0]), (records[-1], colours[-1])):
        axes[0].plot([], [], color=colour, label=f"step {record['step']}")
    axes[0].legend(fontsize=8)
    _plot_progress(axes[9], axes[10], [(result, title, "C0")])
    fig.tight_layout()
    return save_figure(fig, png)


def _plot_progress(loss_axis, acc_axis, runs) -> None:
    for result, label, colour in runs:
        losses = result["losses"]
        loss_axis.plot(range(len(losses)), losses, color=colour, lw=0.8, label=label)
        steps = [r["step"] for r in result["records"]]
        acc_axis.plot(steps, [r["accuracy"] for r in result["records"]], "o-", ms=3, color=colour)
    loss_axis.set(xlabel="step", title="training loss (all positions)")
    acc_axis.set(xlabel="step", title="validation accuracy (last position)", ylim=(0, 1))
    acc_axis.axhline(1 / 16, color="gray", ls="--", lw=1)


def plot_comparison(results: list[tuple[str, dict]], png, title: str) -> Path:
    """Runs side by side: each run's per-layer curves at initialisation (dashed) and at the
    end (solid), and their loss and accuracy over steps."""
    fig, axes = _layer_axes(title)
    runs = [(result, label, f"C{i}") for i, (label, result) in enumerate(results)]
    for axis, (key, label, scale) in zip(axes, PANELS, strict=False):
        for result, _name, colour in runs:
            for record, style in ((result["records"][0], "--"), (result["records"][-1], "-")):
                values = record["layers"].get(key, [])
                axis.plot(range(1, len(values) + 1), values, style, color=colour, lw=1)
        axis.set(xlabel="layer", title=label, yscale=scale)
    _plot_progress(axes[9], axes[10], runs)
    handles, labels = axes[9].get_legend_handles_labels()  # run names are long: the spare panel
    axes[-1].legend(handles, labels, loc="center left", fontsize=7, frameon=False)
    axes[0].plot([], [], "k--", lw=1, label="initialisation")
    axes[0].plot([], [], "k-", lw=1, label="end")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, png)
