"""The seeds' claims (experiment `claims`): tables and plots for `scripts/reproduce.py report`.

Three published claims, each under both recipes of `CLAIM_RECIPES` at that recipe's budget:

- the complexity ladder (Gros, arXiv:2407.18601): EA − DPA on the cisformers against the
  alphabet size N. The N = 16 rung is the plain cisformers, which `claims` does not train:
  they are fig1's runs (paper SGD, 8000 steps) and beyond's (AdamW + last-position loss, 2000
  steps), the same definitions, so they are looked up there;
- cog attention (Lv et al., arXiv:2411.07176), with and without softmax in the first and last
  layer, against DPA and EA on the cisformer and the 60-layer transformer;
- pre-projection and content skip (arXiv:2604.10791), and the learned skip weight α per layer,
  read from the saved models (safetensors only) the result JSONs point to;
- expressive and cog attention inside `transformers` decoders (llama, qwen3), against the same
  decoder with its own attention: the leaderboard's run at the same rate.

A cell is mean ± std over seeds with the seed count; a difference is paired by seed (the mean
and std of the per-seed differences over the seeds both sides have). A cell with no result
says so; nothing is filled in from elsewhere.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from iarc_hf.configuration_iarc import PRESETS
from iarc_hf.data.tasks import IARCTask
from iarc_hf.experiments.paper_report import FULL_SEEDS
from iarc_hf.experiments.readings_report import paired
from iarc_hf.experiments.registry import (
    CLAIM_RECIPES,
    DECODER_ATTENTION,
    EXPERIMENTS,
    SKIP_VARIANTS,
    Run,
)
from iarc_hf.experiments.stats import mean_std, mean_std_text
from iarc_hf.files import write_text_atomically
from iarc_hf.viz.plots import plt, save_figure

EXPERIMENT = "claims"
# Where a claim's cells are looked up; the first wins when two hold the same run and seed.
# table1: the 60-layer baselines at SGD; leaderboard: the decoders with their own attention
SOURCES = (EXPERIMENT, "fig1", "beyond", "table1", "leaderboard")
DEFAULT_N = IARCTask("IARC").n_symbols  # the paper's alphabet: the ladder's middle rung
NOT_RUN = "not run yet"
NOT_DEFINED = "–"  # the experiment has no such run under this recipe
ALPHA_KEY = re.compile(r"(?:^|\.)layers\.(\d+)\.content_skip\.alpha$")
SKIP_KEYS = sorted({key for extra in SKIP_VARIANTS.values() for key in extra})
LADDER_PNG, ALPHA_PNG, CLAIMS_MD = "claims_ladder.png", "claims_alpha.png", "claims.md"


def recipe_budgets() -> dict[str, int]:
    """Each claim recipe's budget in training steps (`CLAIM_RECIPES`)."""
    return {recipe: steps for recipe, _, steps, _ in CLAIM_RECIPES}


@dataclass
class Found:
    """The test accuracies of the claims' runs at their recipes' budgets.

    Attributes:
        seeds: run name -> {seed: test accuracy at the last position}.
        sources: run name -> the experiments its seeds came from.
        records: the `claims` records counted, for the α table and the status line.
        other_budgets: `claims` records at another budget (not in any table).
    """

    seeds: dict[str, dict[int, float]] = field(default_factory=dict)
    sources: dict[str, set[str]] = field(default_factory=dict)
    records: list[dict] = field(default_factory=list)
    other_budgets: int = 0

    def of(self, run: Run) -> dict[int, float]:
        """{seed: accuracy} of `run` (empty when not run yet)."""
        return self.seeds.get(run.name, {})


def find(records: list[dict], budgets: dict[str, int] | None = None) -> Found:
    """The claims' accuracies from every record of `SOURCES` at its recipe's budget.

    Args:
        records: result records (`results.load_results`).
        budgets: recipe -> training steps; default `recipe_budgets()` (tests pass tiny ones).
    """
    budgets = budgets or recipe_budgets()
    found, rank = Found(), {name: i for i, name in enumerate(SOURCES)}
    # lowest rank last, so `claims` overwrites a seed another experiment also holds
    for r in sorted(
        (r for r in records if r["experiment"] in rank), key=lambda r: -rank[r["experiment"]]
    ):
        if r["max_steps"] != budgets.get(r.get("recipe", "sgd")):
            found.other_budgets += r["experiment"] == EXPERIMENT
            continue
        found.seeds.setdefault(r["name"], {})[r["seed"]] = r["metrics"]["accuracy"]
        found.sources.setdefault(r["name"], set()).add(r["experiment"])
        if r["experiment"] == EXPERIMENT:
            found.records.append(r)
    return found


def plain(preset: str, recipe: str, model: dict, task: dict | None = None) -> Run:
    """A model with no claim's option under a recipe: the run every effect is measured from."""
    return Run(preset, recipe=recipe, model=dict(model), task=task or {})


def _recipe_runs(recipe: str) -> list[Run]:
    return [run for run in EXPERIMENTS[EXPERIMENT]() if run.recipe == recipe]


def cell(seeds: dict[int, float] | list[float], signed: bool = False) -> str:
    """mean ± std (seed count) of accuracies or paired differences; NOT_RUN when empty."""
    values = list(seeds.values()) if isinstance(seeds, dict) else list(seeds)
    if not values:
        return NOT_RUN
    return f"{mean_std_text(values, signed=signed)} ({len(values)})"


def difference(a: dict[int, float], b: dict[int, float]) -> str:
    """a − b paired by seed, or why there is none."""
    if a and b and not set(a) & set(b):
        return "no seed in common"
    return cell(paired(a, b), signed=True)


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| --- " * len(header) + "|"]
    return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in rows)])


# ----- the complexity ladder


def ladder_rows(found: Found) -> list[dict]:
    """One row per recipe and rung N: DPA and EA {seed: accuracy}, EA − DPA paired by seed.

    Args:
        found: the claims' accuracies (`find`).

    Returns:
        Rows with keys recipe (its description), n, dpa, ea, diff ({seed: EA − DPA}) and
        sources (the experiments the two cells came from).
    """
    rows = []
    for recipe, model, _, how in CLAIM_RECIPES:
        # the rungs the experiment defines, plus the paper's N, which fig1 / beyond hold
        runs = {
            (r.preset, r.task["n_symbols"]): r
            for r in _recipe_runs(recipe)
            if "n_symbols" in r.task
        }
        for attention in ("dpa", "ea"):
            runs[(f"cisformer-{attention}", DEFAULT_N)] = plain(
                f"cisformer-{attention}", recipe, model
            )
        for n in sorted({n for _, n in runs}):
            dpa, ea = (found.of(runs[(f"cisformer-{a}", n)]) for a in ("dpa", "ea"))
            names = [runs[(f"cisformer-{a}", n)].name for a in ("dpa", "ea")]
            sources = sorted(set().union(*(found.sources.get(name, set()) for name in names)))
            diff = {seed: ea[seed] - dpa[seed] for seed in sorted(set(ea) & set(dpa))}
            rows.append({"recipe": how, "n": n, "dpa": dpa, "ea": ea, "diff": diff,
                         "sources": sources})  # fmt: skip
    return rows


def ladder_table(rows: list[dict]) -> str:
    """Markdown: recipe | N | DPA | EA | EA − DPA (paired by seed) | from."""
    return _table(
        ["recipe", "N", "DPA", "EA", "EA − DPA (paired by seed)", "from"],
        [
            [row["recipe"], str(row["n"]), cell(row["dpa"]), cell(row["ea"]),
             difference(row["ea"], row["dpa"]), ", ".join(row["sources"]) or NOT_RUN]
            for row in rows
        ],
    )  # fmt: skip


def plot_ladder(rows: list[dict], png: Path) -> Path | None:
    """EA − DPA against N, one line per recipe: mean ± std over seeds, each seed a dot.

    Args:
        rows: `ladder_rows`.
        png: where the plot goes.

    Returns:
        The PNG, or None while no recipe has a difference at two rungs (no ladder to draw).
    """
    lines = defaultdict(list)
    for row in rows:
        if row["diff"]:
            lines[row["recipe"]].append(row)
    if not any(len(line) >= 2 for line in lines.values()):
        return None
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for i, (how, line) in enumerate(sorted(lines.items())):
        shift = 2 ** (0.04 * (i - (len(lines) - 1) / 2))  # recipes side by side, not on top
        xs = [row["n"] * shift for row in line]
        stats = [mean_std(list(row["diff"].values())) for row in line]
        errors = [
            std if len(row["diff"]) > 1 else 0.0 for (_, std), row in zip(stats, line, strict=True)
        ]
        seeds = min(len(row["diff"]) for row in line)
        drawn = ax.errorbar(xs, [mean for mean, _ in stats], yerr=errors, marker="o", capsize=3,
                            label=f"{how} (≥ {seeds} seed{'s' if seeds > 1 else ''} a rung)")  # fmt: skip
        for x, row in zip(xs, line, strict=True):
            diffs = list(row["diff"].values())
            ax.scatter([x] * len(diffs), diffs, s=12, alpha=0.5, color=drawn[0].get_color())
    rungs = sorted({row["n"] for line in lines.values() for row in line})
    ax.set_xscale("log", base=2)
    ax.set_xticks(rungs, [str(n) for n in rungs])
    ax.minorticks_off()
    ax.axhline(0, color="gray", lw=0.8)
    ax.set(xlabel="alphabet size N (complexity)", ylabel="EA − DPA, test accuracy (paired by seed)")
    ax.set_title("complexity ladder: EA − DPA on the cisformers")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, png)


# ----- cog attention; pre-projection and content skip


def _is_cog(run: Run) -> bool:
    """A cog run of our models (the decoders' cog runs have their own table)."""
    if run.preset not in PRESETS:
        return False
    return run.model.get("attention", PRESETS[run.preset].get("attention")) == "cog"


def _cog_variant(run: Run) -> str:
    edges = run.model.get("cog_softmax_edges", PRESETS[run.preset].get("cog_softmax_edges"))
    return "cog, softmax edges" if edges else "cog"


def _skip_variant(run: Run) -> str | None:
    """Which of `SKIP_VARIANTS` a run is (None: neither option, or a cog run)."""
    if _is_cog(run):
        return None
    for label, extra in SKIP_VARIANTS.items():
        if all(run.model.get(key, False) == extra.get(key, False) for key in SKIP_KEYS):
            return label
    return None


def _family(preset: str) -> str:
    """cisformer or transformer: the architecture a cog preset stands beside."""
    return preset.split("-")[0]


def comparison_table(cells: dict, rows: list[tuple[str, str]], baselines: tuple[str, ...]) -> str:
    """Markdown: one row per (model, variant); per recipe its accuracy and its differences from
    the baseline variants of the same model, paired by seed.

    Args:
        cells: (model, variant, recipe description) -> {seed: accuracy}; a key that is absent
            is a run the experiment does not define (shown as "–").
        rows: the (model, variant) rows in order.
        baselines: the variants every other variant is compared with (e.g. "DPA", "EA").
    """
    hows = [how for *_, how in CLAIM_RECIPES]
    header = ["model", "variant"]
    header += [col for how in hows for col in (f"{how}: accuracy", *(f"− {b}" for b in baselines))]
    lines = []
    for model, variant in rows:
        line = [model, variant]
        for how in hows:
            if (model, variant, how) not in cells:
                line += [NOT_DEFINED] * (1 + len(baselines))
                continue
            seeds = cells[(model, variant, how)]
            line.append(cell(seeds))
            line += [
                NOT_DEFINED if base == variant else difference(seeds, cells[(model, base, how)])
                for base in baselines
            ]
        lines.append(line)
    return _table(header, lines)


def cog_table(found: Found) -> str:
    """Cog and cog with softmax edges beside DPA and EA, on every architecture the experiment
    runs cog on (the cisformer; the 60-layer transformer under AdamW only).

    Args:
        found: the claims' accuracies (`find`).
    """
    cells, families = {}, []
    for recipe, model, _, how in CLAIM_RECIPES:
        for run in filter(_is_cog, _recipe_runs(recipe)):
            family = _family(run.preset)
            families += [family] if family not in families else []
            cells[(family, _cog_variant(run), how)] = found.of(run)
            for attention, variant in (("dpa", "DPA"), ("ea", "EA")):
                cells[(family, variant, how)] = found.of(
                    plain(f"{family}-{attention}", recipe, model)
                )
    variants = ("DPA", "EA", "cog", "cog, softmax edges")
    rows = [(family, variant) for family in families for variant in variants]
    return comparison_table(cells, rows, ("DPA", "EA"))


def skip_table(found: Found) -> str:
    """Pre-projection, content skip and both beside the plain model, per model and recipe.

    Args:
        found: the claims' accuracies (`find`).
    """
    cells, presets = {}, []
    for recipe, model, _, how in CLAIM_RECIPES:
        for run in _recipe_runs(recipe):
            variant = _skip_variant(run)
            if variant is None:  # a plain or a cog run
                continue
            presets += [run.preset] if run.preset not in presets else []
            cells[(run.preset, variant, how)] = found.of(run)
            cells[(run.preset, "plain", how)] = found.of(plain(run.preset, recipe, model))
    rows = [(preset, v) for preset in presets for v in ("plain", *SKIP_VARIANTS)]
    return comparison_table(cells, rows, ("plain",))


def ea_transformer_table(found: Found) -> str:
    """The 60-layer transformer: DPA, EA and EA with the diagnosis' fixes (a larger
    `expressive_eps`), per recipe; the SGD baselines are table1's paper-budget runs.

    Args:
        found: the claims' accuracies (`find`).
    """
    model_name, cells, variants = "60-layer transformer", {}, ["DPA", "EA"]
    for recipe, model, _, how in CLAIM_RECIPES:
        for run in _recipe_runs(recipe):
            eps = run.model.get("expressive_eps")
            if run.preset != "transformer-ea" or eps is None:
                continue
            variant = f"EA, expressive_eps {eps}"
            variants += [variant] if variant not in variants else []
            cells[(model_name, variant, how)] = found.of(run)
            for attention, base in (("dpa", "DPA"), ("ea", "EA")):
                cells[(model_name, base, how)] = found.of(plain(f"transformer-{attention}", recipe, model))  # fmt: skip
    return comparison_table(cells, [(model_name, v) for v in variants], ("DPA", "EA"))


def decoder_table(found: Found) -> str:
    """Expressive and cog attention inside `transformers` decoders, each beside the decoder's
    own attention at the same rate: the leaderboard's run (same recipe and budget).

    Args:
        found: the claims' accuracies (`find`).
    """
    from iarc_hf.experiments.leaderboard import entries, entry_run

    rows = []
    for preset in DECODER_ATTENTION:
        entry = next(e for e in entries() if e.preset == preset)
        runs = [r for r in _recipe_runs("adamw") if r.preset == preset and "attention" in r.model]
        main = DECODER_ATTENTION[preset]  # the leaderboard's pick first, then the other rates
        others = sorted({r.training["learning_rate"] for r in runs} - {main})
        for rate in [main, *others]:
            native = found.of(entry_run(entry, rate))
            rows.append([preset, f"{rate:g}", "own (leaderboard)", cell(native), NOT_DEFINED])
            for run in (r for r in runs if r.training["learning_rate"] == rate):
                seeds = found.of(run)
                rows.append([preset, f"{rate:g}", run.model["attention"], cell(seeds),
                             difference(seeds, native)])  # fmt: skip
    header = ["decoder", "learning rate", "attention", "accuracy", "− own"]
    return _table(header, rows)


# ----- the learned content-skip weight α


def read_alphas(folder: Path) -> list[float] | None:
    """The content skip's α of every layer, in layer order, from a saved model's safetensors.

    `ContentSkip` adds alpha * (W_s u) to the attention output, alpha a learned scalar that
    starts at 0; its state-dict key is `stack.layers.<i>.content_skip.alpha`.

    Args:
        folder: the model folder a result JSON's `checkpoint` names (its top-level
            `*.safetensors`; the `checkpoint-<step>` folders inside are not read).

    Returns:
        α per layer, or None when the folder or its weights are absent.
    """
    from safetensors import safe_open  # weights only: nothing in the folder is executed

    alphas = {}
    for path in sorted(Path(folder).glob("*.safetensors")):
        with safe_open(path, framework="np") as weights:
            for key in weights.keys():
                if match := ALPHA_KEY.search(key):
                    alphas[int(match.group(1))] = float(weights.get_tensor(key))
    return [alphas[i] for i in sorted(alphas)] if alphas else None


def _record_alphas(record: dict, root: Path) -> list[float] | None:
    """α per layer: recorded in the result JSON at run time (`content_skip_alpha`, so a clone
    without runs/ has it), else read from the model its `checkpoint` names (None: not there)."""
    if record.get("content_skip_alpha"):
        return record["content_skip_alpha"]
    if not record.get("checkpoint"):
        return None
    folder = Path(record["checkpoint"])
    return read_alphas(folder if folder.is_absolute() else root / folder)


def alpha_rows(found: Found, root: Path) -> list[dict]:
    """One row per content-skip run of the experiment: |α| per layer for every seed whose saved
    model is there, and the seeds whose folder is absent (runs/ is not committed).

    Args:
        found: the claims' accuracies (`find`), with the `claims` records.
        root: the folder relative `checkpoint` paths start from (the repository's root).
    """
    rows = []
    for recipe, _, _, how in CLAIM_RECIPES:
        for run in _recipe_runs(recipe):
            if not run.model.get("content_skip"):
                continue
            alphas, absent = {}, []
            for record in sorted(found.records, key=lambda r: r["seed"]):
                if record["name"] != run.name:
                    continue
                values = _record_alphas(record, root)
                # |α|: α W_s = (−α)(−W_s), so the sign of α means nothing
                if values is None:
                    absent.append(record["seed"])
                else:
                    alphas[record["seed"]] = [abs(a) for a in values]
            rows.append({"recipe": how, "preset": run.preset, "variant": _skip_variant(run),
                         "alphas": alphas, "absent": absent})  # fmt: skip
    return rows


def _deep_minus_shallow(alphas: list[float]) -> float:
    half = len(alphas) // 2  # an odd middle layer counts as deep
    return sum(alphas[half:]) / (len(alphas) - half) - sum(alphas[:half]) / max(half, 1)


def alpha_table(rows: list[dict]) -> str:
    """Markdown: per content-skip run, the seeds read, the absent checkpoints, |α| in the first
    and last layer and the deeper half's mean |α| minus the shallower half's (per seed)."""
    lines = []
    for row in rows:
        seeds = row["alphas"].values()
        absent = ", ".join(f"seed {s}" for s in row["absent"])
        lines.append(
            [row["recipe"], row["preset"], row["variant"], str(len(row["alphas"])),
             f"absent: {absent}" if absent else "–",
             cell([a[0] for a in seeds]), cell([a[-1] for a in seeds]),
             cell([_deep_minus_shallow(a) for a in seeds], signed=True)]
        )  # fmt: skip
    return _table(
        ["recipe", "model", "variant", "seeds read", "checkpoints", "α first layer",
         "α last layer", "α deeper half − shallower half"],
        lines,
    )  # fmt: skip


def plot_alphas(rows: list[dict], png: Path) -> Path | None:
    """|α| against the layer, one panel per depth, one line per run: mean ± std over seeds,
    each seed a dot.

    Args:
        rows: `alpha_rows`.
        png: where the plot goes.

    Returns:
        The PNG, or None while no saved model was read.
    """
    panels = defaultdict(list)  # layers -> rows: the cisformers and the 60-layer transformer
    for row in rows:
        if row["alphas"]:
            panels[len(next(iter(row["alphas"].values())))].append(row)
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4), squeeze=False)
    for ax, (layers, panel) in zip(axes[0], sorted(panels.items()), strict=True):
        xs = list(range(1, layers + 1))
        for row in panel:
            seeds = list(row["alphas"].values())
            stats = [mean_std([a[i] for a in seeds]) for i in range(layers)]
            label = f"{row['preset']}, {row['variant']}; {row['recipe']} ({len(seeds)} seeds)"
            drawn = ax.errorbar(xs, [m for m, _ in stats], yerr=[s if len(seeds) > 1 else 0.0 for _, s in stats],
                                marker="o", ms=3, capsize=2, label=label)  # fmt: skip
            for alphas in seeds:
                ax.scatter(xs, alphas, s=8, alpha=0.4, color=drawn[0].get_color())
        ax.set(xlabel="layer", ylabel="|α| (learned content-skip weight)", title=f"{layers} layers")
        ax.legend(fontsize=7)
    fig.suptitle("content skip: the learned |α| per layer")
    fig.tight_layout()
    return save_figure(fig, png)


# ----- the section


def status(found: Found) -> str:
    """How many `claims` JSONs exist of those the experiment defines (FULL_SEEDS seeds each)."""
    parts, done_all, total_all = [], 0, 0
    for recipe, _, steps, how in CLAIM_RECIPES:
        names = {run.name for run in _recipe_runs(recipe)}
        done = sum(r["name"] in names and r["recipe"] == recipe for r in found.records)
        total = len(names) * FULL_SEEDS
        parts.append(f"{how} ({steps} steps): {done} of {total}")
        done_all, total_all = done_all + done, total_all + total
    text = f"`claims` result JSONs: {done_all} of {total_all} ({'; '.join(parts)})"
    if done_all == 0:
        text += (
            ". **Not run yet**: every `claims` cell below says so; the N = 16 rung and the "
            "plain cisformers are fig1's and beyond's runs"
        )
    if found.other_budgets:
        text += f". {found.other_budgets} `claims` JSONs at other budgets are in no table"
    return text + "."


def commands() -> list[str]:
    """The commands that make every cell: `claims`, and the plain cisformers of fig1 (SGD) and
    beyond (AdamW) at the claim recipes' budgets."""
    baselines = defaultdict(list)  # (experiment, steps) -> run names
    for recipe, model, steps, _ in CLAIM_RECIPES:
        for attention in ("dpa", "ea"):
            name = plain(f"cisformer-{attention}", recipe, model).name
            source = next(e for e in SOURCES[1:] if name in {r.name for r in EXPERIMENTS[e]()})
            baselines[(source, steps)].append(name)
    return [
        "python scripts/reproduce.py run claims",
        *(
            f"python scripts/reproduce.py run {source} --filter {' '.join(names)} --max_steps {steps}"
            for (source, steps), names in sorted(baselines.items())
        ),
        "python scripts/reproduce.py run leaderboard  # the decoders' own attention",
        "python scripts/reproduce.py report",
    ]


def _ladder_plot(ladder: list[dict], results_dir: Path) -> str:
    """The ladder plot's markdown line, or why there is no plot yet."""
    png = plot_ladder(ladder, results_dir / LADDER_PNG)
    if png:
        return f"![claims ladder]({png.name})\n"
    return "*The plot of EA − DPA against N comes once a recipe has it at two rungs.*\n"


def _alpha_plot(alphas: list[dict], results_dir: Path) -> str:
    """The α plot's markdown line, or why there is no plot yet."""
    png = plot_alphas(alphas, results_dir / ALPHA_PNG)
    return f"![claims alpha]({png.name})\n" if png else "*No saved model read yet: no α plot.*\n"


def claims_section(
    records: list[dict], results_dir: str | Path, budgets: dict[str, int] | None = None
) -> str:
    """The claims' tables and plots as a markdown section; also written alone to
    `results_dir/claims.md`, with the plots beside it.

    Args:
        records: result records of every experiment (`results.load_results`).
        results_dir: the results folder; its parent is where relative checkpoint paths start.
        budgets: recipe -> training steps; default `recipe_budgets()`.

    Returns:
        The section's markdown (a level-3 heading and its subsections).
    """
    results_dir = Path(results_dir)
    found = find(records, budgets)
    ladder = ladder_rows(found)
    alphas = alpha_rows(found, results_dir.resolve().parent)
    parts = [
        "### The seeds' claims (experiment `claims`)\n",
        status(found) + "\n",
        "Each cell: test accuracy at the last position, mean ± std over seeds (seed count); a "
        "difference is paired by seed, over the seeds both sides have. "
        f'"{NOT_RUN}": no result JSON; "{NOT_DEFINED}": the experiment defines no such run.\n',
        "#### The complexity ladder: EA − DPA against the alphabet size N (cisformers)\n",
        ladder_table(ladder) + "\n",
    ]
    parts.append(_ladder_plot(ladder, results_dir))
    parts += ["#### Cog attention against DPA and EA\n", cog_table(found) + "\n"]
    parts += ["#### Pre-projection, content skip and both\n", skip_table(found) + "\n"]
    parts += [
        "#### The 60-layer EA transformer, with the diagnosis' fix (`results/diagnosis/`)\n",
        ea_transformer_table(found) + "\n",
    ]
    parts += [
        "#### Expressive and cog attention inside `transformers` decoders (AdamW + last-position "
        "loss, 2000 steps)\n",
        decoder_table(found) + "\n",
    ]
    parts += [
        "#### The learned content-skip weight α per layer\n",
        "The size of α (absolute value) in each run's saved model: α W_s is unchanged when both "
        "flip sign, so the sign is arbitrary; α's size trades with W_s's, so α alone is not the "
        "skip's whole gain.\n",
        alpha_table(alphas) + "\n",
    ]
    parts.append(_alpha_plot(alphas, results_dir))
    parts.append("Made by:\n\n```bash\n" + "\n".join(commands()) + "\n```\n")
    section = "\n".join(parts)
    write_text_atomically(
        results_dir / CLAIMS_MD,
        "# The seeds' claims (generated)\n\n*Written by `python scripts/reproduce.py report` "
        "from the result JSONs under `results/`; never edited by hand.*\n\n" + section,
    )
    return section
