"""The README's headline table: a few runs that tell the story, generated from the result JSONs.

Each row names an experiment's run and budget; its seeds are read from `results/`, so the table
is never copied by hand (`scripts/reproduce.py report` writes it between the README's markers,
and a test fails when the README's copy is stale).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from iarc_hf.experiments.registry import PAPER, PAPER_STEPS, result_path
from iarc_hf.experiments.stats import mean_std_text

SGD = "SGD 0.02, momentum 0.8 (paper)"
ADAMW = "AdamW 2e-3, cosine"
LAST = "AdamW 2e-3, cosine, loss at the last position"


@dataclass(frozen=True)
class Headline:
    model: str
    recipe: str
    experiment: str
    run: str  # the run's name in its experiment
    max_steps: int = PAPER_STEPS
    paper: str = "–"


HEADLINES = (
    Headline("cisformer, expressive attention", SGD, "fig1", "cisformer-ea_IARC", paper="≈ 0.95"),
    Headline(
        "cisformer, dot-product attention", SGD, "fig1", "cisformer-dpa_IARC", paper='"modest"'
    ),
    Headline("MLP", SGD, "fig1", "mlp_IARC", paper='"modest"'),
    Headline("LSTM", SGD, "fig1", "lstm_IARC", paper='"modest"'),
    Headline(
        "60-layer transformer, dot-product",
        SGD,
        "table1",
        "transformer-dpa_IARC",
        paper=f"{PAPER[('transformer-dpa', 'IARC')]}",
    ),  # fmt: skip
    Headline(
        "60-layer transformer, expressive",
        SGD,
        "table1",
        "transformer-ea_IARC",
        paper=f"{PAPER[('transformer-ea', 'IARC')]}",
    ),  # fmt: skip
    # the same model with the EA normaliser's epsilon at 0.1 (results/diagnosis: the 1e-6 step)
    Headline(
        "60-layer transformer, expressive, ε = 0.1",
        SGD,
        "claims",
        "transformer-ea_IARC_expressive_eps=0.1",
        paper=f"{PAPER[('transformer-ea', 'IARC')]}",
    ),  # fmt: skip
    Headline("cisformer, expressive attention", ADAMW, "beyond", "cisformer-ea_IARC_adamw"),
    Headline("cisformer, dot-product attention", ADAMW, "beyond", "cisformer-dpa_IARC_adamw"),
    Headline(
        "cisformer, expressive attention",
        LAST,
        "beyond",
        "cisformer-ea_IARC_loss_reduction=last_adamw",
        2000,
    ),  # fmt: skip
    Headline(
        "cisformer, dot-product attention",
        LAST,
        "beyond",
        "cisformer-dpa_IARC_loss_reduction=last_adamw",
        2000,
    ),  # fmt: skip
    Headline(
        "cisformer, dot-product attention",
        LAST,
        "frontier",
        "cisformer-dpa_IARC_loss_reduction=last_adamw",
        16000,
    ),  # fmt: skip
)
START, END = "<!-- headline:start -->", "<!-- headline:end -->"


class _Named:
    """What `result_path` needs of a run: its name."""

    def __init__(self, name: str):
        self.name = name


def headline_records(row: Headline, results_dir) -> list[dict]:
    from iarc_hf.experiments.leaderboard import finished_result

    found = []
    for seed in range(10):
        path = result_path(results_dir, row.experiment, _Named(row.run), seed, row.max_steps)
        record = finished_result(path)
        if record is not None:
            found.append(record)
    return found


def _windows(record: dict) -> str:
    windows = record["max_steps"] * record["batch_size"]
    return f"{windows / 1e6:g}M" if windows >= 1e6 else f"{windows // 1000}K"


def headline_table(results_dir="results") -> str:
    """Markdown: model, recipe, windows, seeds, accuracy (mean ± std; one seed: the value)."""
    lines = [
        "| model | recipe | windows | seeds | accuracy | paper |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in HEADLINES:
        records = headline_records(row, results_dir)
        if not records:
            continue
        accuracy = mean_std_text([r["metrics"]["accuracy"] for r in records])
        lines.append(f"| {row.model} | {row.recipe} | {_windows(records[0])} | {len(records)} | "
                     f"{accuracy} | {row.paper} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def write_headline(readme, results_dir="results") -> None:
    from iarc_hf.experiments.leaderboard import replace_block
    from iarc_hf.files import write_text_atomically

    readme = Path(readme)
    text = replace_block(readme.read_text(), headline_table(results_dir), START, END)
    write_text_atomically(readme, text)
