"""The frontier table: how far each best recipe gets, on how many windows, at what size and cost.

One row per (run, budget): test accuracy at the last position over seeds (mean ± std, and the
worst seed, since a record should hold for every seed), the training windows, parameters,
training seconds and the device, beside the goals (0.95 within 400K windows; 0.99 within the
paper's budget of 1.6M windows, and at any budget; each with at most 1.5M parameters). The size
plot puts every row's parameters against its accuracy: the smallest model at 0.99 is the
leftmost point above the line.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from iarc_hf.experiments.stats import mean_std, plus_minus
from iarc_hf.viz.plots import WINDOWS, plt, save_figure

EXPERIMENT = "frontier"
# (accuracy, within windows; None: any budget); 1.6M windows are the paper's 8000 steps of 200
GOALS = ((0.95, 400_000), (0.99, 1_600_000), (0.99, None))
MAX_PARAMS = 1_500_000  # the second goal's size limit; the recipe search prunes above it


def budget_label(windows: int) -> str:
    """400K, 1.6M: the budgets as the issues write them."""
    return f"{windows / 1e6:g}M" if windows >= 1_000_000 else f"{windows // 1000}K"


def goals_met(accuracy: float, windows: int, params: int) -> list[str]:
    """Which goals a mean accuracy meets at this budget and size."""
    met = []
    for target, budget in GOALS:
        if accuracy >= target and params <= MAX_PARAMS and (budget is None or windows <= budget):
            met.append(f"≥ {target}" + (f" in {budget_label(budget)}" if budget else ""))
    return met


def frontier_rows(records: list[dict]) -> list[dict]:
    """The frontier runs grouped over seeds, best mean accuracy first."""
    groups = defaultdict(list)
    for r in records:
        if r["experiment"] == EXPERIMENT:
            groups[(r["name"], r["max_steps"])].append(r)
    rows = []
    for (name, steps), runs in groups.items():
        accuracies = [r["metrics"]["accuracy"] for r in runs]
        mean, std = mean_std(accuracies)
        first = runs[0]
        windows = first["batch_size"] * steps
        rows.append(
            {
                "name": name,
                "preset": first["preset"],
                "label": first.get("label", ""),
                "recipe": first["recipe"],
                "seeds": sorted(r["seed"] for r in runs),
                "accuracy": mean,
                "std": std if len(runs) > 1 else None,
                "worst": min(accuracies),
                "windows": windows,
                "params": first["params"],
                "train_seconds": sum(r["train_seconds"] for r in runs) / len(runs),
                "device": first["device"],
                "goals": goals_met(mean, windows, first["params"]) if len(runs) >= 3 else [],
            }
        )
    return sorted(rows, key=lambda row: (-row["accuracy"], row["windows"]))


def frontier_table(records: list[dict]) -> str:
    """A markdown table of `frontier_rows`; goals count only with three or more seeds."""
    lines = [
        "| preset | recipe | windows | seeds | params | test accuracy (last) | worst seed "
        "| train s (mean) | device | goals met (≥ 3 seeds) |",
        "| --- " * 10 + "|",
    ]
    for row in frontier_rows(records):
        cells = [
            row["preset"] + (f" ({row['label']})" if row["label"] else ""),
            row["recipe"],
            f"{row['windows']:,}",
            str(len(row["seeds"])),
            f"{row['params']:,}",
            plus_minus(row["accuracy"], row["std"], digits=4),
            f"{row['worst']:.4f}",
            f"{row['train_seconds']:.0f}",
            row["device"],
            ", ".join(row["goals"]) or "–",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


SIZE_PNG = "frontier_size.png"


def plot_size(rows: list[dict], png: Path, target: float = 0.99) -> Path | None:
    """Parameters against test accuracy, one point per frontier row (error bar: the seeds'
    spread), coloured by training windows; the line is the `target`."""
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.2))
    budgets = sorted({row["windows"] for row in rows})
    colours = dict(zip(budgets, plt.cm.viridis([i / max(len(budgets) - 1, 1)
                                                for i in range(len(budgets))]), strict=True))  # fmt: skip
    for budget in budgets:
        mine = [row for row in rows if row["windows"] == budget]
        ax.errorbar(
            [row["params"] for row in mine],
            [row["accuracy"] for row in mine],
            yerr=[row["std"] or 0.0 for row in mine],
            fmt="o",
            ms=5,
            capsize=3,
            color=colours[budget],
            label=f"{WINDOWS(budget)} windows",
        )
        for row in mine:
            name = row["preset"].replace("cisformer-", "") + (
                f", {row['label']}" if row["label"] else ""
            )
            ax.annotate(name, (row["params"], row["accuracy"]), fontsize=6, xytext=(4, -3),
                        textcoords="offset points")  # fmt: skip
    ax.axhline(target, color="gray", ls="--", lw=1)
    ax.set(xscale="log", xlabel="parameters", ylabel="test accuracy (last position)",
           title=f"The frontier by size: the smallest model at {target}")  # fmt: skip
    ax.xaxis.set_major_formatter(WINDOWS)
    ax.xaxis.set_minor_formatter(WINDOWS)
    ax.margins(x=0.2)  # room for the labels
    ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return save_figure(fig, png)
