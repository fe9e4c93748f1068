"""The leaderboard: every architecture on IARC under one strong recipe at one budget.

Each entry is trained with AdamW + cosine + the loss at the last position for 400K windows
(2000 steps of 200), first at every learning rate of a small grid with seed 0, then with the
other seeds at the rate whose seed-0 validation accuracy was best. Entries are sized into two
tracks (`iarc_hf.training.backbones.TRACKS`): the paper's transformer (~250K parameters) and its
cisformer (~1.45M).

`leaderboard_runs(results_dir, seeds)` lists the runs to train now: the grid, and the seeds at
the picked rate for entries whose grid is finished (`scripts/reproduce.py run leaderboard`
lists again after each pass, so one command does both). `leaderboard_rows` reads the finished
JSONs into the table `scripts/leaderboard.py` prints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from iarc_hf.experiments.stats import mean_std, plus_minus
from iarc_hf.training.backbones import BACKBONE_PRESETS, TRACKS

EXPERIMENT = "leaderboard"
LEADERBOARD_STEPS = 2000  # 400K windows of batch 200
LEARNING_RATES = (1e-3, 3e-3)
RECIPE_MODEL = {"loss_reduction": "last"}  # with the recipe "adamw" (cosine, warm-up 200)


@dataclass(frozen=True)
class Entry:
    """One row of the leaderboard: a preset (ours or a backbone's) with model overrides."""

    architecture: str
    track: str
    preset: str
    model: dict = field(default_factory=dict)

    @property
    def model_type(self) -> str:
        if self.preset in BACKBONE_PRESETS:
            return BACKBONE_PRESETS[self.preset][1]["model_type"]
        return "iarc"


def _ours(track: str, layers_2: dict | None = None) -> list[Entry]:
    """The paper's models and our options; the small track shrinks the cisformers to 2 layers,
    the MLP to 2 and the LSTM to 140 units (each ~250K), the large keeps the paper's sizes."""
    small = track == "small"
    two = {"num_hidden_layers": 2} if small else {}
    entries = [
        Entry("cisformer DPA", track, "cisformer-dpa", two),
        Entry("cisformer EA", track, "cisformer-ea", two),
        # with 2 layers softmax at the edges would leave no cog layer
        Entry(
            "cisformer cog",
            track,
            "cisformer-cog",
            {**two, "cog_softmax_edges": False} if small else {},
        ),  # fmt: skip
        Entry(
            "cisformer EA + pre-projection + content skip",
            track,
            "cisformer-ea",
            {"pre_projection": True, "content_skip": True}
            | ({"num_hidden_layers": 2, "ffn_expansion": 3} if small else {"num_hidden_layers": 9}),
        ),
    ]
    if small:
        entries += [
            Entry("transformer DPA (60 layers)", track, "transformer-dpa"),
            Entry("transformer EA (60 layers)", track, "transformer-ea"),
            Entry("causal MLP", track, "mlp", {"num_hidden_layers": 2}),
            Entry("LSTM", track, "lstm", {"lstm_hidden_size": 140}),
        ]
    return entries


def _backbones(track: str) -> list[Entry]:
    return [
        Entry(name.rsplit("-", 1)[0], preset_track, name)
        for name, (preset_track, _) in BACKBONE_PRESETS.items()
        if preset_track == track
    ]


def entries() -> list[Entry]:
    """Every row, the small track first (the one every architecture is in)."""
    small = _ours("small") + _backbones("small")
    large = _ours("large")[:2] + _backbones("large")  # the cisformers DPA / EA and backbones
    return small + large


def finished_result(path) -> dict | None:
    """The checked record of a finished run, None while it is missing or broken."""
    from iarc_hf.experiments.results import BrokenResult, read_result

    try:
        return read_result(path)
    except (FileNotFoundError, BrokenResult):
        return None


def entry_run(entry: Entry, learning_rate: float):
    from iarc_hf.experiments.registry import Run

    return Run(
        entry.preset,
        recipe="adamw",
        model={**RECIPE_MODEL, **entry.model},
        training={"learning_rate": learning_rate},
        label=f"{entry.track}: {entry.architecture}",
    )


def picked_rate(entry: Entry, results_dir, grid_seed: int, max_steps: int) -> float | None:
    """The grid's best rate by seed-0 validation accuracy (last evaluation), once the whole grid
    of this entry is finished; None before."""
    from iarc_hf.experiments.registry import result_path

    best = None
    for rate in LEARNING_RATES:
        path = result_path(results_dir, EXPERIMENT, entry_run(entry, rate), grid_seed, max_steps)
        record = finished_result(path)
        if record is None and not path.with_suffix(".diverged").exists():
            return None
        # a rate whose loss became NaN (jobs.Job.diverged_marker) is the worst of the grid
        score = record["curve"][-1]["accuracy"] if record and record.get("curve") else float("-inf")
        if best is None or score > best[0]:
            best = (score, rate)
    return best[1] if best[0] > float("-inf") else None  # every rate diverged: no pick


def leaderboard_runs(results_dir, seeds, max_steps: int) -> list[tuple]:
    """(run, seeds) pairs to train now: the grid at the first seed, the other seeds at the
    picked rate of each entry whose grid is done."""
    grid_seed, others = seeds[0], list(seeds[1:])
    plan = []
    for entry in entries():
        plan += [(entry_run(entry, rate), [grid_seed]) for rate in LEARNING_RATES]
        rate = picked_rate(entry, results_dir, grid_seed, max_steps)
        if rate is not None and others:
            plan.append((entry_run(entry, rate), others))
    return plan


def leaderboard_rows(results_dir="results", max_steps: int = LEADERBOARD_STEPS) -> list[dict]:
    """One row per entry with at least its grid done: the picked rate's seeds, mean ± std of the
    last-position accuracy, per-task accuracy at the last position, size, cost and speed."""
    from iarc_hf.experiments.registry import result_path

    rows = []
    for entry in entries():
        rate = picked_rate(entry, results_dir, 0, max_steps)
        if rate is None:
            continue
        run = entry_run(entry, rate)
        records = []
        for seed in range(10):
            record = finished_result(result_path(results_dir, EXPERIMENT, run, seed, max_steps))
            if record is not None:
                records.append(record)
        rows.append(_row(entry, rate, records, results_dir, max_steps))
    return sorted(rows, key=lambda r: (r["track"] != "small", -r["accuracy_mean"]))


def _row(entry: Entry, rate: float, records: list[dict], results_dir, max_steps) -> dict:
    from iarc_hf.experiments.registry import result_path

    first = records[0]
    mean, std = mean_std([r["metrics"]["accuracy"] for r in records])
    grid = {}
    for other in LEARNING_RATES:
        record = finished_result(
            result_path(results_dir, EXPERIMENT, entry_run(entry, other), 0, max_steps)
        )
        grid[f"{other:g}"] = record["curve"][-1]["accuracy"] if record else None
    per_task = {
        task: mean_std([r["metrics"][f"accuracy_last_{task}"] for r in records])[0]
        for task in "IARC"
    }
    windows = first["max_steps"] * first["batch_size"]
    return {
        "architecture": entry.architecture,
        "model_type": entry.model_type,
        "preset": entry.preset,
        "track": entry.track,
        "params": first["params"],
        "seeds": len(records),
        "accuracy_mean": mean,
        "accuracy_std": std if len(records) > 1 else None,  # one seed has no spread
        **{f"accuracy_last_{task}": value for task, value in per_task.items()},
        "learning_rate": rate,
        "lr_grid_validation": grid,
        "flops_per_window": first.get("flops_per_window"),
        "windows_per_second": windows / first["train_seconds"] if first["train_seconds"] else None,
        "machine": (first.get("provenance") or {}).get("cpu"),
        "results": [str(Path(r["name"]).name) + f"_seed{r['seed']}" for r in records],
    }


def rows_json(rows: list[dict]) -> str:
    return json.dumps(rows, indent=2) + "\n"


COLUMNS = (
    ("architecture", "architecture"),
    ("model_type", "model type"),
    ("params", "params"),
    ("seeds", "seeds"),
    ("accuracy", "accuracy (last)"),
    ("accuracy_last_I", "I"),
    ("accuracy_last_A", "A"),
    ("accuracy_last_R", "R"),
    ("accuracy_last_C", "C"),
    ("learning_rate", "lr (grid: seed-0 validation)"),
    ("flops_per_window", "forward FLOPs / window"),
    ("windows_per_second", "windows/s"),
)


def _cell(row: dict, key: str) -> str:
    if key == "accuracy":
        return plus_minus(row["accuracy_mean"], row["accuracy_std"], digits=4)
    if key == "learning_rate":
        grid = ", ".join(
            f"{rate}: {'–' if acc is None else f'{acc:.3f}'}"
            for rate, acc in row["lr_grid_validation"].items()
        )
        return f"{row['learning_rate']:g} ({grid})"
    value = row.get(key)
    if value is None:
        return "–"
    if key.startswith("accuracy_last_"):
        return f"{value:.3f}"
    if key in ("params", "flops_per_window"):
        return f"{value:,}"
    if key == "windows_per_second":
        return f"{value:,.0f}"
    return str(value)


def rows_markdown(rows: list[dict]) -> str:
    """One table per track, best first; the machine each row's speed was measured on below."""
    out = []
    for track in dict.fromkeys(row["track"] for row in rows):
        out.append(f"\n**{track} track** (about {TRACKS[track]:,} parameters, ± 15 %)\n\n")
        out.append("| " + " | ".join(title for _, title in COLUMNS) + " |\n")
        out.append("|" + "---|" * len(COLUMNS) + "\n")
        for row in (r for r in rows if r["track"] == track):
            out.append("| " + " | ".join(_cell(row, key) for key, _ in COLUMNS) + " |\n")
    machines = sorted({row["machine"] for row in rows if row.get("machine")})
    if machines:
        out.append(f"\nwindows/s measured on: {'; '.join(machines)}\n")
    return "".join(out)


def rows_csv(rows: list[dict]) -> str:
    import csv
    import io

    keys = [k for k in (rows[0] if rows else {}) if k not in ("lr_grid_validation", "results")]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=keys, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


BLOCK_START, BLOCK_END = "<!-- leaderboard:start -->", "<!-- leaderboard:end -->"


def leaderboard_block(results_dir="results") -> str:
    """The README's leaderboard, generated from the result JSONs (never copied by hand)."""
    rows = leaderboard_rows(results_dir)
    if not rows:
        return (
            "*No leaderboard run has finished its grid yet: "
            "`python scripts/reproduce.py run leaderboard` trains them.*\n"
        )
    complete = sum(row["seeds"] >= 3 for row in rows)
    return (
        f"{complete} of {len(entries())} entries have 3 seeds; rows with fewer are still "
        "running (`python scripts/reproduce.py plan leaderboard`).\n" + rows_markdown(rows)
    )


def replace_block(text: str, block: str, start: str = BLOCK_START, end: str = BLOCK_END) -> str:
    """`text` with the part between the markers `start` and `end` replaced by `block`."""
    if start not in text or end not in text:
        raise ValueError(f"the README has no {start} ... {end} markers")
    head, rest = text.split(start, 1)
    return f"{head}{start}\n{block}{end}{rest.split(end, 1)[1]}"


def write_readme_block(readme, results_dir="results") -> None:
    from iarc_hf.files import write_text_atomically

    readme = Path(readme)
    write_text_atomically(readme, replace_block(readme.read_text(), leaderboard_block(results_dir)))


# The explorer's leaderboard tab: one sortable table of both tracks, numbers as numbers.
TABLE_COLUMNS = (
    ("track", "str"),
    ("architecture", "str"),
    ("model_type", "str"),
    ("params", "number"),
    ("seeds", "number"),
    ("accuracy_mean", "number"),
    ("accuracy_std", "number"),
    ("accuracy_last_I", "number"),
    ("accuracy_last_A", "number"),
    ("accuracy_last_R", "number"),
    ("accuracy_last_C", "number"),
    ("learning_rate", "number"),
    ("flops_per_window", "number"),
    ("windows_per_second", "number"),
)


def rows_table(rows: list[dict]) -> tuple[list[str], list[str], list[list]]:
    """(headers, datatypes, values) of `rows` for a sortable table; accuracies rounded to 4."""
    values = []
    for row in rows:
        line = []
        for key, _ in TABLE_COLUMNS:
            value = row.get(key)
            if isinstance(value, float) and key.startswith("accuracy"):
                value = round(value, 4)
            elif isinstance(value, float) and key == "windows_per_second":
                value = round(value, 1)
            line.append(value)
        values.append(line)
    return [key for key, _ in TABLE_COLUMNS], [kind for _, kind in TABLE_COLUMNS], values
