"""The paper's Table 1 and Figure 1, side by side with ours: one row per cell of the paper.

Every cell the experiment defines gets a row, run or not: the paper's figure, ours at the paper's
budget (8000 steps; mean ± std over seeds and the seed count), the longest scaled-down budget we
ran instead, and, until the cell has FULL_SEEDS seeds at the paper's budget, the command that
completes it (runs resume, so the same command continues a stopped one).
"""

from __future__ import annotations

from collections import defaultdict

from iarc_hf.experiments.readings_report import paired
from iarc_hf.experiments.registry import EXPERIMENTS, PAPER, PAPER_STEPS
from iarc_hf.experiments.stats import mean_std_text

PAPER_TABLES = ("table1", "fig1")
FULL_SEEDS = 3
# Cells the paper describes without a number (Figure 1: "similar, modest levels").
PAPER_WORDS = {(p, "IARC"): "modest" for p in ("cisformer-dpa", "mlp", "lstm")}


def _accuracy(values: list[float], signed: bool = False) -> str:
    """mean ± std (N seeds) of accuracies, or of differences (`signed`)."""
    return f"{mean_std_text(values, signed=signed)} ({len(values)} seed{'s' if len(values) > 1 else ''})"


def completing_command(experiment: str, name: str) -> str:
    seeds = " ".join(str(s) for s in range(FULL_SEEDS))
    return f"`python scripts/reproduce.py run {experiment} --filter {name} --seeds {seeds}`"


def _seeds(records: list[dict], experiment: str) -> dict[tuple[str, int], dict[int, float]]:
    """(name, steps) -> {seed: accuracy} of the experiment's own cells (no knob turned)."""
    seeds = defaultdict(dict)
    for r in records:
        if r["experiment"] == experiment and not r["label"]:
            seeds[(r["name"], r["max_steps"])][r["seed"]] = r["metrics"]["accuracy"]
    return seeds


def side_by_side(records: list[dict], experiment: str) -> str:
    """Markdown: paper | ours at 8000 steps | ours scaled down | what completes the cell."""
    seeds = _seeds(records, experiment)
    rows = [
        "| model | config | paper | ours, paper's budget (8000 steps) | ours, scaled down "
        "(longest run) | to complete |",
        "| --- " * 6 + "|",
    ]
    for run in EXPERIMENTS[experiment]():
        cell = (run.preset, run.dataset_config)
        paper = PAPER.get(cell)
        full = list(seeds.get((run.name, PAPER_STEPS), {}).values())
        shorter = [s for name, s in seeds if name == run.name and s < PAPER_STEPS]
        scaled = "–"
        if shorter:
            steps = max(shorter)
            scaled = f"{steps} steps: " + _accuracy(list(seeds[(run.name, steps)].values()))
        cells = [
            run.preset,
            run.dataset_config,
            f"{paper:.2f}" if paper is not None else PAPER_WORDS.get(cell, "–"),
            _accuracy(full) if full else "not run",
            scaled,
            "done" if len(full) >= FULL_SEEDS else completing_command(experiment, run.name),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def attention_gap(records: list[dict], experiment: str) -> str:
    """Markdown: expressive minus dot-product attention, the paper's and ours paired by seed.

    One row per cell both attentions of a model have in the experiment; ours is at the paper's
    budget only (the paper's claim is about trained models), "–" until both have a seed.
    """
    seeds = _seeds(records, experiment)
    runs = {(run.preset, run.dataset_config): run.name for run in EXPERIMENTS[experiment]()}
    rows = [
        "| model | config | paper: EA − DPA | ours: EA − DPA, paper's budget (paired by seed) |",
        "| --- " * 4 + "|",
    ]
    for (preset, config), ea_name in runs.items():
        dpa_preset = preset.removesuffix("-ea") + "-dpa"
        if not preset.endswith("-ea") or (dpa_preset, config) not in runs:
            continue
        ea, dpa = PAPER.get((preset, config)), PAPER.get((dpa_preset, config))
        ours = paired(
            seeds.get((ea_name, PAPER_STEPS), {}),
            seeds.get((runs[(dpa_preset, config)], PAPER_STEPS), {}),
        )
        cells = [
            preset.removesuffix("-ea"),
            config,
            _paper_gap(ea, dpa, PAPER_WORDS.get((dpa_preset, config))),
            _accuracy(ours, signed=True) if ours else "–",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _paper_gap(ea: float | None, dpa: float | None, dpa_words: str | None) -> str:
    """The paper's EA − DPA; its two words where it gave DPA no number ("0.95 vs modest")."""
    if ea is not None and dpa is not None:
        return f"{ea - dpa:+.2f}"
    if ea is not None and dpa_words:
        return f"{ea:.2f} vs {dpa_words}"
    return "–"
