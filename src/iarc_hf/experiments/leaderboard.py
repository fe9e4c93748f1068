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
LEARNING_RATES = (1e-3, 3e-3)  # every entry's grid starts here (seed 0)
GRID_EXTENSION = (1e-2, 3e-2)  # then grows upward, a rate at a time, while its top rate wins
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


def _grid_score(entry: Entry, rate: float, results_dir, grid_seed: int, max_steps: int):
    """Seed-0 validation accuracy (last evaluation) at `rate`; -inf if it diverged
    (`jobs.Job.diverged_marker`); None while not finished."""
    from iarc_hf.experiments.registry import result_path

    path = result_path(results_dir, EXPERIMENT, entry_run(entry, rate), grid_seed, max_steps)
    record = finished_result(path)
    if record is not None:
        return record["curve"][-1]["accuracy"] if record.get("curve") else float("-inf")
    return float("-inf") if path.with_suffix(".diverged").exists() else None


def grid(entry: Entry, results_dir, grid_seed: int, max_steps: int) -> dict[float, float | None]:
    """The rates of the entry's grid so far and their scores (`_grid_score`): `LEARNING_RATES`,
    then each rate of `GRID_EXTENSION` in turn while the grid is finished and its top rate is
    the best, so a pick is never at the grid's upper edge unless the extension ran out."""
    scores = {rate: _grid_score(entry, rate, results_dir, grid_seed, max_steps) for rate in LEARNING_RATES}  # fmt: skip
    for rate in GRID_EXTENSION:
        if None in scores.values() or max(scores, key=scores.get) != max(scores):
            break
        scores[rate] = _grid_score(entry, rate, results_dir, grid_seed, max_steps)
    return scores


def _best(scores: dict[float, float | None]) -> float | None:
    finished = {rate: score for rate, score in scores.items() if score is not None}
    if not finished or max(finished.values()) == float("-inf"):
        return None  # nothing finished, or every rate diverged
    return max(finished, key=finished.get)


def grid_is_final(scores: dict[float, float | None]) -> bool:
    """Every rate finished, and the top one is not the best unless no larger rate is left."""
    if None in scores.values():
        return False
    return _best(scores) != max(scores) or max(scores) == max(GRID_EXTENSION)


def picked_rate(entry: Entry, results_dir, grid_seed: int, max_steps: int) -> float | None:
    """The grid's best rate by seed-0 validation accuracy once the grid is final
    (`grid_is_final`); None before, or when every rate diverged."""
    scores = grid(entry, results_dir, grid_seed, max_steps)
    return _best(scores) if grid_is_final(scores) else None


def leaderboard_runs(results_dir, seeds, max_steps: int) -> list[tuple]:
    """(run, seeds) pairs to train now: the grid at the first seed (growing while its top rate
    wins), the other seeds at the picked rate of each entry whose grid is final."""
    grid_seed, others = seeds[0], list(seeds[1:])
    plan = []
    for entry in entries():
        plan += [(entry_run(entry, rate), [grid_seed]) for rate in grid(entry, results_dir, grid_seed, max_steps)]  # fmt: skip
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
        scores = grid(entry, results_dir, 0, max_steps)
        if any(scores[rate] is None for rate in LEARNING_RATES):
            continue  # the starting grid is not finished
        rate = _best(scores)  # the best so far while the grid grows
        if rate is None:
            continue
        run = entry_run(entry, rate)
        records = []
        for seed in range(10):
            record = finished_result(result_path(results_dir, EXPERIMENT, run, seed, max_steps))
            if record is not None:
                records.append(record)
        rows.append(_row(entry, rate, records, scores))
    return sorted(rows, key=lambda r: (r["track"] != "small", -r["accuracy_mean"]))


def _row(entry: Entry, rate: float, records: list[dict], scores: dict) -> dict:
    first = records[0]
    mean, std = mean_std([r["metrics"]["accuracy"] for r in records])
    # None: still training; "diverged": its loss became NaN (JSON has no -inf)
    grid = {f"{r:g}": ("diverged" if s == float("-inf") else s) for r, s in scores.items()}
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
        "lr_grid_final": grid_is_final(scores),
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
            f"{rate}: {'to run' if acc is None else acc if isinstance(acc, str) else f'{acc:.3f}'}"
            for rate, acc in row["lr_grid_validation"].items()
        )
        growing = "" if row["lr_grid_final"] else "; grid growing"
        return f"{row['learning_rate']:g} ({grid}{growing})"
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
        f"{complete} of {len(entries())} entries have 3 seeds; rows with fewer, and rates marked "
        '"to run", are runs not made yet (`python scripts/reproduce.py plan leaderboard` lists '
        "them and the hours they need).\n" + rows_markdown(rows)
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
