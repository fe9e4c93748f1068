"""Tables and plots from the finished runs under results/: `scripts/reproduce.py report`.

The tables go between markers in results/README.md, so the hand-written account around
them survives a rerun; the plots are PNG files beside it.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from iarc_hf.experiments.claims_report import claims_section
from iarc_hf.experiments.frontier_report import SIZE_PNG, frontier_rows, frontier_table, plot_size
from iarc_hf.experiments.paper_report import PAPER_TABLES, attention_gap, side_by_side
from iarc_hf.experiments.readings_report import readings_section
from iarc_hf.experiments.registry import PAPER, PAPER_BATCH
from iarc_hf.experiments.report_plots import other_budget, plot_bars, plot_curves
from iarc_hf.experiments.results import load_results
from iarc_hf.experiments.stats import mean_std, mean_std_text
from iarc_hf.files import write_text_atomically

START, END = "<!-- tables:start -->", "<!-- tables:end -->"
TASK_METRICS = ("accuracy_I", "accuracy_A", "accuracy_R", "accuracy_C")


def group(records: list[dict]) -> dict[tuple, list[dict]]:
    """Seeds of the same run (experiment, name, steps) together."""
    groups = defaultdict(list)
    for r in records:
        groups[(r["experiment"], r["name"], r["max_steps"])].append(r)
    return dict(groups)


def _fmt(values: list[float]) -> str:
    mean, _ = mean_std(values)
    if mean != mean:  # nan: the slice is empty for this config
        return "–"
    return mean_std_text(values)


def _budget(steps: int, batch_size: int = PAPER_BATCH) -> str:
    """ "paper (8000)", or the other budget in bold (`other_budget`)."""
    other = other_budget(steps, batch_size)
    return "paper (8000)" if other is None else f"**{other}**"


def run_table(groups: dict, experiment: str) -> str:
    rows = [
        "| run | config | steps | seeds | params | accuracy (last) | paper | accuracy_all | oracle all | "
        + " | ".join(m.removeprefix("accuracy_") for m in TASK_METRICS)
        + " | train s |",
        "| --- " * (10 + len(TASK_METRICS)) + "|",
    ]
    for (exp, _name, steps), runs in sorted(groups.items(), key=lambda kv: (kv[0][2], kv[0][1])):
        if exp != experiment:
            continue
        first = runs[0]
        what = first["preset"] + (f": {first['label']}" if first["label"] else "")
        if first["recipe"] != "sgd" and first["recipe"].lower() not in what.lower():
            what += f" ({first['recipe']})"
        paper = (
            PAPER.get((first["preset"], first["dataset_config"])) if not first["label"] else None
        )
        cells = [
            what,
            first["dataset_config"],
            _budget(steps, first["batch_size"]),
            str(len(runs)),
            f"{first['params']:,}",
            _fmt([r["metrics"]["accuracy"] for r in runs]),
            f"{paper:.2f}" if paper is not None else "–",
            _fmt([r["metrics"]["accuracy_all"] for r in runs]),
            f"{first['oracle']['accuracy_all']:.3f}",
            *[_fmt([r["metrics"][m] for r in runs]) for m in TASK_METRICS],
            f"{sum(r['train_seconds'] for r in runs) / len(runs):.0f}",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def write_report(results_dir) -> Path:
    results_dir = Path(results_dir)
    records = load_results(results_dir)
    groups = group(records)
    experiments = sorted({k[0] for k in groups})
    parts = []
    for experiment in experiments:
        if experiment == "claims":  # its own section below: 90 runs in one table say nothing
            continue
        parts.append(f"### {experiment}\n\n{run_table(groups, experiment)}\n")
        if experiment == "readings":
            parts.append(readings_section(records, results_dir))
        if experiment in PAPER_TABLES:
            parts.append(
                f"#### {experiment}, side by side with the paper\n\n"
                f"{side_by_side(records, experiment)}\n\n"
                f"#### {experiment}: expressive minus dot-product attention\n\n"
                f"{attention_gap(records, experiment)}\n"
            )
        if experiment == "frontier":
            parts.append(f"#### The frontier, best first\n\n{frontier_table(records)}\n")
            png = plot_size(frontier_rows(records), results_dir / SIZE_PNG)
            if png is not None:
                parts.append(f"![the frontier by size]({png.name})\n")
        for kind, plot in (("curves", plot_curves), ("bars", plot_bars)):
            png = plot(groups, experiment, results_dir / f"{experiment}_{kind}.png")
            if png is not None:
                parts.append(f"![{experiment} {kind}]({png.name})\n")
        # what was invoked (each JSON also records the command that reruns exactly its run)
        commands = sorted(
            {
                r.get("invoked_by") or r.get("command", "")
                for runs in groups.values()
                for r in runs
                if r["experiment"] == experiment
            }
        )
        parts.append(
            "Made by:\n\n```bash\n"
            + "\n".join(c for c in commands if c)
            + "\npython scripts/reproduce.py report\n```\n"
        )
    # always, so the claims not run yet say so (their N = 16 rung is fig1's and beyond's)
    parts.append(claims_section(records, results_dir))
    tables = "\n".join(parts)
    readme = results_dir / "README.md"
    text = readme.read_text() if readme.exists() else f"# Results\n\n{START}\n{END}\n"
    if START not in text:
        text += f"\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    write_text_atomically(readme, f"{head}{START}\n{tables}\n{END}{tail}")
    docs = results_dir.resolve().parent / "docs"
    if docs.is_dir():  # the documentation site's copy, figures addressed from the site's root
        write_text_atomically(docs / DOCS_TABLES, docs_tables_page(tables))
    return readme


DOCS_TABLES = "results-tables.md"


def docs_tables_page(tables: str) -> str:
    """The generated tables as a page of the docs: plots are served at results/<name>.png."""
    import re

    tables = re.sub(r"\]\(([^)/]+\.png)\)", r"](results/\1)", tables)
    return (
        "# Results tables (generated)\n\n*Written by `python scripts/reproduce.py report` from the "
        "result JSONs under `results/`; never edited by hand.*\n\n" + tables
    )
