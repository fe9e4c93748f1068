"""The readings screen's verdict tables and plot (`scripts/reproduce.py report`).

Effects are paired by seed: a reading's effect on a model is the mean over seeds of
accuracy(reading, seed) - accuracy(ours, seed), with the standard deviation of those differences
as its spread; `ours` itself is shown as mean ± std over seeds, the noise to judge effects by.
EA - DPA is paired the same way, per reading and architecture: the paper's claim is that it is
positive everywhere.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from iarc_hf.experiments.registry import (
    EXPRESSIVE_READINGS,
    PAPER_STEPS,
    READINGS_SCREEN,
    budget_label,
)
from iarc_hf.experiments.stats import mean_std, mean_std_text
from iarc_hf.viz.plots import plt, save_figure

READING_ORDER = list(READINGS_SCREEN) + list(EXPRESSIVE_READINGS)
OURS = "ours"


# The paper's own runs are the screen's `ours`: same preset, config, SGD recipe, no knob, so a
# full-budget reading is compared with Table 1 / Figure 1 instead of running `ours` twice.
PAPER_EXPERIMENTS = ("table1", "fig1")


def _reading_of(record: dict) -> str | None:
    if record["experiment"] == "readings":
        return record["label"]
    if (
        record["experiment"] in PAPER_EXPERIMENTS
        and not record["label"]
        and record.get("recipe", "sgd") == "sgd"
    ):
        return OURS
    return None


def accuracies(records: list[dict], steps: int) -> dict[tuple[str, str], dict[int, float]]:
    """(model, reading) -> {seed: headline accuracy}; a model is `preset config`. Only budgets at
    which the screen itself ran a reading are shown."""
    table = defaultdict(dict)
    for r in records:
        reading = _reading_of(r)
        if reading is not None and r["max_steps"] == steps:
            model = f"{r['preset']} {r['dataset_config']}"
            table[(model, reading)][r["seed"]] = r["metrics"]["accuracy"]
    screened = {model for model, reading in table if reading != OURS}
    return {key: seeds for key, seeds in table.items() if key[0] in screened}


def paired(a: dict[int, float], b: dict[int, float]) -> list[float]:
    """a - b for every seed both have."""
    return [a[seed] - b[seed] for seed in sorted(set(a) & set(b))]


def _cell(values: list[float], signed: bool = True) -> str:
    if not values:
        return "–"
    return f"{mean_std_text(values, signed=signed)} ({len(values)})"


def _models(acc) -> list[str]:
    return sorted({model for model, _ in acc}, key=lambda m: (m.split()[1] != "IARC", m))


def effects_table(records: list[dict], steps: int) -> str:
    """Rows: readings; columns: models. `ours` as accuracy, every other reading as its effect."""
    acc = accuracies(records, steps)
    models = _models(acc)
    rows = [
        "| reading | " + " | ".join(models) + " |",
        "| --- " * (len(models) + 1) + "|",
    ]
    for reading in READING_ORDER:
        cells = []
        for model in models:
            seeds = acc.get((model, reading), {})
            if reading == OURS:
                cells.append(_cell(list(seeds.values()), signed=False))
            elif seeds and not acc.get((model, OURS)):  # ours not run yet at this budget
                cells.append(_cell(list(seeds.values()), signed=False) + ", ours not run")
            else:
                cells.append(_cell(paired(seeds, acc.get((model, OURS), {}))))
        if any(cell != "–" for cell in cells):
            rows.append(f"| {reading} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def ea_minus_dpa_table(records: list[dict], steps: int) -> str:
    """Rows: readings shared by both attentions; columns: architecture and config."""
    acc = accuracies(records, steps)
    pairs = sorted(
        {
            (m.replace("-ea ", "-dpa "), m)
            for m in _models(acc)
            if "-ea " in m and m.replace("-ea ", "-dpa ") in _models(acc)
        }
    )
    names = [ea.replace("-ea", "") for _, ea in pairs]
    rows = ["| reading | " + " | ".join(names) + " |", "| --- " * (len(names) + 1) + "|"]
    for reading in READINGS_SCREEN:
        cells = [
            _cell(paired(acc.get((ea, reading), {}), acc.get((dpa, reading), {})))
            for dpa, ea in pairs
        ]
        if any(cell != "–" for cell in cells):
            rows.append(f"| {reading} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def plot_effects(records: list[dict], steps: int, png: Path) -> Path | None:
    """Each reading's effect (mean ± std of paired differences) per model, ours' spread shaded."""
    acc = accuracies(records, steps)
    models = _models(acc)
    readings = [r for r in READING_ORDER if r != OURS and any((m, r) in acc for m in models)]
    if not any(
        paired(acc.get((m, r), {}), acc.get((m, OURS), {})) for m in models for r in readings
    ):
        return None  # no effect to plot yet (ours not run at this budget)
    fig, ax = plt.subplots(figsize=(max(7, 0.8 * len(readings)), 4.2))
    width = 0.8 / len(models)
    for i, model in enumerate(models):
        xs, means, stds = [], [], []
        for j, reading in enumerate(readings):
            diffs = paired(acc.get((model, reading), {}), acc.get((model, OURS), {}))
            if diffs:
                mean, std = mean_std(diffs)
                xs.append(j - 0.4 + width * (i + 0.5))
                means.append(mean)
                stds.append(std if len(diffs) > 1 else 0.0)
        ax.errorbar(xs, means, yerr=stds, fmt="o", ms=4, capsize=2, label=model)
    ax.axhline(0, color="gray", lw=0.8)
    ax.set_xticks(range(len(readings)), readings, rotation=30, ha="right", fontsize=8)
    ax.set(ylabel="accuracy − ours (paired by seed)")
    budget = "the paper's budget" if steps == PAPER_STEPS else budget_label(steps)
    ax.set_title(f"readings screen: effect of each reading ({steps} steps, {budget})")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return save_figure(fig, png)


def readings_section(records: list[dict], results_dir: Path) -> str:
    """The verdict tables and plot for every budget the screen ran at."""
    parts = []
    for steps in sorted({r["max_steps"] for r in records if r["experiment"] == "readings"}):
        parts.append(
            f"#### Effects of each reading ({steps} steps; `ours`: accuracy; others: accuracy − "
            "ours, paired by seed; mean ± std (seeds))\n\n" + effects_table(records, steps) + "\n"
        )
        parts.append(
            "#### EA − DPA under each reading (paired by seed)\n\n"
            + ea_minus_dpa_table(records, steps)
            + "\n"
        )
        png = plot_effects(records, steps, results_dir / f"readings_effects_{steps}.png")
        if png is not None:
            parts.append(f"![readings effects]({png.name})\n")
    return "\n".join(parts)
