"""The report's plots of one experiment: accuracy curves against training windows, and the
headline accuracy as bars beside the paper's.

An experiment of a few runs is one plot; one of many (the leaderboard's rate grids, the
readings) is a panel per preset, and its bars lie horizontally, one row a run, so every label
stays readable however many runs land.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path

from iarc_hf.experiments.registry import PAPER, PAPER_BATCH, PAPER_STEPS, budget_label
from iarc_hf.experiments.stats import mean_std
from iarc_hf.viz.plots import WINDOWS, plt, save_figure

# more curves than this in one plot are a tangle: one panel per preset instead
MAX_CURVES_PER_PLOT = 16
# the bar plots' label marks for budgets other than the paper's
BUDGET_MARKS = {"paper": "", "scaled down": "*", "extended": "+"}


def other_budget(steps: int, batch_size: int) -> str | None:
    """None for the paper's 8000 steps of 200; else the budget judged by windows against the
    paper's 1.6M: "scaled down: 2000", "extended: 16000", "paper: 16000 × 100" (steps × batch
    where the batch is not the paper's)."""
    if (steps, batch_size) == (PAPER_STEPS, PAPER_BATCH):
        return None
    return f"{budget_label(steps, batch_size)}: {steps_text(steps, batch_size)}"


def steps_text(steps: int, batch_size: int) -> str:
    """ "2000", or "16000 × 100" where the batch is not the paper's."""
    return f"{steps}" if batch_size == PAPER_BATCH else f"{steps} × {batch_size}"


def run_names(chosen: list, with_preset: bool = True) -> list[str]:
    """A name per group of runs: preset, label and config, with the learning rate (then the
    run's full name) added only where two groups would otherwise share a name; in a panel
    (`with_preset=False`) whose runs all share label and config, only what tells them apart."""
    names = []
    for _, runs in chosen:
        first = runs[0]
        parts = [first["preset"]] if with_preset else []
        names.append(" ".join(filter(None, [*parts, first["label"], first["dataset_config"]])))
    if not with_preset and len(chosen) > 1 and len(set(names)) == 1:
        names = [""] * len(names)
    # runs that differ in budget alone are told apart by their budget, which every plot shows
    budgets = [(steps, runs[0]["batch_size"]) for (_, _, steps), runs in chosen]
    for extra in (_rate, _full_name):
        counts = Counter(zip(names, budgets, strict=True))
        names = [
            ", ".join(filter(None, [name, extra(runs[0])])) if counts[name, budget] > 1 else name
            for name, budget, (_, runs) in zip(names, budgets, chosen, strict=True)
        ]
    return names


def _rate(record: dict) -> str:
    return f"lr {record['learning_rate']:g}"


def _full_name(record: dict) -> str:
    return record["name"]


def plot_curves(groups: dict, experiment: str, png: Path) -> Path | None:
    """Validation accuracy (last position) against training windows, mean over seeds: one plot,
    or a panel per preset and budget when the experiment has more than MAX_CURVES_PER_PLOT
    runs."""
    chosen = sorted(
        (k, v) for k, v in groups.items() if k[0] == experiment and all(r["curve"] for r in v)
    )
    if not chosen:
        return None
    if len(chosen) > MAX_CURVES_PER_PLOT:
        return _plot_curve_panels(chosen, experiment, png)
    fig, ax = plt.subplots(figsize=(7, 4))
    for item, name in zip(chosen, run_names(chosen), strict=True):
        (_, _, steps), runs = item
        _draw_curve(ax, item, name + _seeds(runs, other_budget(steps, runs[0]["batch_size"])))
    _curve_axes(ax)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(f"{experiment}: accuracy against training windows")
    fig.tight_layout()
    return save_figure(fig, png)


def _plot_curve_panels(chosen: list, experiment: str, png: Path) -> Path:
    """A panel per (preset, budget), its legend in a column of its own beside it: runs of one
    budget share an x axis, and no legend covers a curve."""
    panels = defaultdict(list)
    for item in chosen:
        first = item[1][0]
        panels[(first["preset"], item[0][2], first["batch_size"])].append(item)
    columns = 2
    rows = math.ceil(len(panels) / columns)
    longest = max(len(items) for items in panels.values())
    fig, axes = plt.subplots(
        rows,
        2 * columns,
        figsize=(16, rows * max(2.4, 0.5 + 0.12 * longest)),
        width_ratios=[3, 2] * columns,
        layout="constrained",
        squeeze=False,
    )
    cells = [(axes[r, 2 * c], axes[r, 2 * c + 1]) for r in range(rows) for c in range(columns)]
    for (ax, key_ax), ((preset, steps, batch), items) in zip(
        cells, sorted(panels.items()), strict=False
    ):
        for item, name in zip(items, run_names(items, with_preset=False), strict=True):
            _draw_curve(ax, item, (name + _seeds(item[1])).strip())
        _curve_axes(ax)
        other = other_budget(steps, batch)
        ax.set_title(preset + ("" if other is None else f" ({other} steps)"), fontsize=9)
        key_ax.legend(*ax.get_legend_handles_labels(), loc="center left", fontsize=6, frameon=False)
    for ax in axes.flat:
        if not ax.has_data():
            ax.set_axis_off()
    fig.suptitle(f"{experiment}: accuracy against training windows, a panel per preset and budget")
    return save_figure(fig, png)


def _draw_curve(ax, item: tuple, label: str) -> None:
    """One mean curve; past the colour cycle's ten colours the line style changes, so no two
    curves of a plot look alike."""
    runs = item[1]
    windows = [p["windows"] for p in runs[0]["curve"]]
    curves = [[p["accuracy"] for p in r["curve"]] for r in runs if len(r["curve"]) == len(windows)]
    means = [sum(c[i] for c in curves) / len(curves) for i in range(len(windows))]
    style = ("-", "--", ":")[len(ax.get_lines()) // 10 % 3]
    ax.plot(windows, means, marker="o", ms=2, ls=style, label=label)


def _seeds(runs: list, budget: str | None = None) -> str:
    """ " (3 seeds)", with the budget where one is given: " (1 seed, scaled down: 2000 steps)"."""
    seeds = f"{len(runs)} seed" + ("s" if len(runs) > 1 else "")
    return f" ({seeds}" + ("" if budget is None else f", {budget} steps") + ")"


def _curve_axes(ax) -> None:
    ax.set(xlabel="training windows", ylabel="validation accuracy (last)", ylim=(0, 1.02))
    ax.xaxis.set_major_formatter(WINDOWS)
    ax.axhline(1.0, color="gray", ls="--", lw=0.8)


def bars_title(experiment: str, labels: list[str]) -> str:
    """The bar plot's title: the experiment, and the meaning of each budget mark its labels use."""
    marked = [
        f"{mark} {budget} budget"
        for budget, mark in BUDGET_MARKS.items()
        if mark and any(label.endswith(mark) for label in labels)
    ]
    return experiment + (f" ({', '.join(marked)})" if marked else "")


def plot_bars(groups: dict, experiment: str, png: Path) -> Path | None:
    """Headline accuracy per run (mean ± std over seeds), beside the paper's where it has one:
    a row per run, so the figure grows in height, never in width."""
    chosen = sorted((k, v) for k, v in groups.items() if k[0] == experiment)
    if not chosen:
        return None
    labels, means, stds, papers = [], [], [], []
    for ((_, _, steps), runs), name in zip(chosen, run_names(chosen), strict=True):
        first = runs[0]
        budget = (steps, first["batch_size"])
        at = "" if budget == (PAPER_STEPS, PAPER_BATCH) else f" ({steps_text(*budget)} steps)"
        labels.append(name + at + BUDGET_MARKS[budget_label(*budget)])
        mean, std = mean_std([r["metrics"]["accuracy"] for r in runs])
        means.append(mean)
        stds.append(std if len(runs) > 1 else 0)
        papers.append(
            None if first["label"] else PAPER.get((first["preset"], first["dataset_config"]))
        )
    # wide enough for the longest label at 7 pt, tall enough for a row each
    width = 5 + 0.06 * max(len(label) for label in labels)
    fig, ax = plt.subplots(figsize=(width, 1.6 + 0.22 * len(labels)), layout="constrained")
    ys = range(len(labels))
    ax.barh(ys, means, xerr=stds, capsize=2, label="this repo (mean ± std over seeds)")
    paper_y = [y for y, p in zip(ys, papers, strict=True) if p is not None]
    if paper_y:
        ax.scatter(
            [p for p in papers if p is not None], paper_y, color="red", zorder=3, label="paper"
        )
    ax.set_yticks(list(ys), labels, fontsize=7)
    ax.set_ylim(len(labels) - 0.5, -0.5)  # the first run on top, as in the tables
    ax.set(xlabel="test accuracy (last position)", xlim=(0, 1.05))
    ax.set_title(bars_title(experiment, labels), fontsize=9)
    fig.legend(fontsize=7, loc="outside lower center", ncols=2, frameon=False)
    return save_figure(fig, png)
