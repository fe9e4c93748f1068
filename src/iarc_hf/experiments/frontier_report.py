"""The frontier table: how far each best recipe gets, on how many windows, at what size and cost.

One row per (run, budget): test accuracy at the last position over seeds (mean ± std, and the
worst seed, since a record should hold for every seed), the training windows, parameters,
training seconds and the device, beside the issue's goals (0.95 within 400K windows, 0.99
with at most 1.5M parameters).
"""

from __future__ import annotations

from collections import defaultdict

from iarc_hf.experiments.stats import mean_std, plus_minus

EXPERIMENT = "frontier"
GOALS = ((0.95, 400_000), (0.99, None))  # (accuracy, within windows; None: any budget)
MAX_PARAMS = 1_500_000  # the second goal's size limit; the recipe search prunes above it


def goals_met(accuracy: float, windows: int, params: int) -> list[str]:
    """Which goals a mean accuracy meets at this budget and size."""
    met = []
    for target, budget in GOALS:
        if accuracy >= target and params <= MAX_PARAMS and (budget is None or windows <= budget):
            met.append(f"≥ {target}" + (f" in {budget // 1000}K" if budget else ""))
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
