"""The docs site's tables, generated when the site is built: never copied into docs/*.md by hand.

A page writes a placeholder, `<!-- generated:NAME -->`, on a line of its own; the site's hook
(`docs/hooks.py`) replaces it with `TABLES[NAME](root)`, computed from the package (parameter
counts, oracle ceilings) and from the committed JSONs under `results/` by the functions that
write the README's blocks and the results tables. An unknown name raises, so a typo fails the
strict build.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

PLACEHOLDER = re.compile(r"^<!-- generated:([a-z0-9-]+) -->$", re.MULTILINE)

# The paper's parameter counts (for comparison; the paper gives them rounded).
PAPER_PARAMS = {"transformer": "~240K", "cisformer": "~1.3M", "mlp": "~1.9M", "lstm": "~3.7M"}


def preset_params() -> dict[str, int]:
    """Every preset of `IARCConfig` with its exact parameter count (built on the meta device:
    shapes only, no memory, no initialisation)."""
    import torch

    from iarc_hf.configuration_iarc import PRESETS, IARCConfig
    from iarc_hf.modeling_iarc import IARCModel

    counts = {}
    for name in PRESETS:
        with torch.device("meta"):
            model = IARCModel(IARCConfig.from_preset(name))
        counts[name] = sum(p.numel() for p in model.parameters())
    return counts


def _preset_what(config) -> tuple[str, str]:
    """(family, description) of a preset's config, read from its fields."""
    if config.architecture == "mlp":
        return "mlp", f"{config.num_hidden_layers} causal dense layers over the window"
    if config.architecture == "lstm":
        return "lstm", f"{config.num_hidden_layers} layers, hidden {config.lstm_hidden_size}"
    family = "cisformer" if config.position_wise else "transformer"
    weights = "position-wise weights" if config.position_wise else "shared weights"
    what = (
        f"{config.num_hidden_layers} layers, {weights}, FFN expansion {config.ffn_expansion}, "
        f"attention `{config.attention}`"
    )
    if config.cog_softmax_edges:
        what += " (softmax in the first and last layer)"
    if config.loss_reduction != "mean":
        what += f", loss `{config.loss_reduction}`"
    return family, what


def presets_table(root=".") -> str:
    """One row per preset of `iarc_hf.configuration_iarc.PRESETS`: what it is, its exact
    parameter count (for N = 16, IARC) and the paper's count."""
    from iarc_hf.configuration_iarc import IARCConfig

    lines = ["| preset | what | parameters (exact) | paper |", "| --- | --- | ---: | --- |"]
    for name, params in preset_params().items():
        family, what = _preset_what(IARCConfig.from_preset(name))
        lines.append(f"| `{name}` | {what} | {params:,} | {PAPER_PARAMS[family]} |")
    return "\n".join(lines) + "\n"


def oracle_table(root=".") -> str:
    """The oracle's ceilings on each published config's test split (10,000 windows, seed 0),
    beside chance (1/N): what `make demo` prints."""
    from iarc_hf.eval.metrics import oracle_ceilings

    lines = [
        "| config | N | oracle `accuracy` | oracle `accuracy_all` | random |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in oracle_ceilings():
        lines.append(
            f"| {row['config']} | {row['n_symbols']} | {row['accuracy']:.4f} | "
            f"{row['accuracy_all']:.4f} | {row['random']:.4f} |"
        )
    return "\n".join(lines) + "\n"


def leaderboard(root=".") -> str:
    """The leaderboard, as the README's block (`leaderboard.leaderboard_block`)."""
    from iarc_hf.experiments.leaderboard import leaderboard_block

    return leaderboard_block(Path(root) / "results")


def headline(root=".") -> str:
    """The headline table, as the README's block (`headline.headline_table`)."""
    from iarc_hf.experiments.headline import headline_table

    return headline_table(Path(root) / "results")


def frontier(root=".") -> str:
    """The frontier table of results/README.md (`frontier_report.frontier_table`)."""
    from iarc_hf.experiments.frontier_report import frontier_table
    from iarc_hf.experiments.report import load_results

    return frontier_table(load_results(Path(root) / "results"))


def _bench_jsons(root, pattern: str) -> list[tuple[str, dict]]:
    return [(p.name, json.loads(p.read_text())) for p in sorted(Path(root).glob(pattern))]


def _not_recorded(command: str) -> str:
    return f"*Not recorded yet: `{command}` writes the JSON this table is made from.*\n"


def bench_generator(root=".") -> str:
    """The generator's tokens/s from results/bench/generator*.json."""
    from iarc_hf.benchmarks.generator_speed import generator_markdown

    records = _bench_jsons(root, "results/bench/generator*.json")
    if not records:
        return _not_recorded(
            "taskset -c 0 python scripts/bench.py generator --output results/bench/generator.json"
        )
    return "\n".join(generator_markdown(record, name) for name, record in records)


def bench_train_step(root=".") -> str:
    """The training-step figures from results/bench/train_step*.json."""
    from iarc_hf.benchmarks.train_step import train_step_markdown

    records = _bench_jsons(root, "results/bench/train_step*.json")
    if not records:
        return _not_recorded(
            "python scripts/bench.py train-step --threads 1 "
            "--output results/bench/train_step_1thread.json"
        )
    return "\n".join(train_step_markdown(record, name) for name, record in records)


def bench_sweep(root=".") -> str:
    """Sweep throughput from results/bench/sweep_*.json."""
    from iarc_hf.benchmarks.sweep_speed import sweep_markdown

    records = _bench_jsons(root, "results/bench/sweep_*.json")
    if not records:
        return _not_recorded("python scripts/bench.py sweep --output results/bench/sweep.json")
    return sweep_markdown(records)


def speedrun(root=".") -> str:
    """The speedruns of results/frontier/speedrun_*.json (written by `bench.py speedrun
    --output`): where each reached its target, at what cost."""
    lines = [
        "| JSON | preset | model overrides | target (validation, last position) | reached at "
        "| validation | test | training s | wall s | device, threads | machine |",
        "| --- " * 11 + "|",
    ]
    for name, r in _bench_jsons(root, "results/frontier/speedrun_*.json"):
        overrides = ", ".join(f"`{k}={v}`" for k, v in r.get("model_overrides", {}).items())
        reached = f"step {r['steps']}, {r['windows']:,} windows" if r["reached"] else "not reached"
        lines.append(
            f"| `{name}` | `{r['preset']}` | {overrides or '–'} | {r['target']} | {reached} | "
            f"{r['accuracy']:.4f} | {r['test_accuracy']:.4f} | {r['train_seconds']:.1f} | "
            f"{r['wall_seconds']:.1f} | {r['device']}, {r['threads']} | {r.get('machine', '–')} |"
        )
    return "\n".join(lines) + "\n"


def speedrun_records(root=".") -> str:
    """The record table (results/speedrun/RECORDS.md's body, by the function that writes it)."""
    from iarc_hf.benchmarks.speedrun_records import records_markdown

    body = records_markdown(Path(root) / "results" / "speedrun").split("\n", 1)[1]
    return body.replace("\n## ", "\n### ")  # its sections under the page's heading


TABLES = {
    "presets": presets_table,
    "oracle": oracle_table,
    "leaderboard": leaderboard,
    "headline": headline,
    "frontier": frontier,
    "bench-generator": bench_generator,
    "bench-train-step": bench_train_step,
    "bench-sweep": bench_sweep,
    "speedrun": speedrun,
    "speedrun-records": speedrun_records,
}


def render(markdown: str, root=".") -> str:
    """`markdown` with every `<!-- generated:NAME -->` line replaced by its table."""

    def table(match: re.Match) -> str:
        name = match.group(1)
        if name not in TABLES:
            raise ValueError(f"unknown generated table {name!r}; choose one of {tuple(TABLES)}")
        return TABLES[name](root).rstrip("\n")

    return PLACEHOLDER.sub(table, markdown)
