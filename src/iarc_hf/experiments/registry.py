"""The named experiments of `scripts/reproduce.py`: the paper's Table 1 and Figure 1, and beyond.

A run is (preset, dataset config, model overrides, task knobs, recipe, seed). Each finished
run is one JSON file under `results/<experiment>/`; a run whose file exists is skipped, and an
unfinished one resumes from its latest checkpoint (`iarc_hf.experiments.jobs`), so the script,
or a sweep on Ray (`iarc_hf.experiments.sweep`), continues where it stopped.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from iarc_hf.data.tasks import PUBLISHED_CONFIGS
from iarc_hf.files import read_jsonl

PAPER_STEPS = 8000  # the paper: 8000 steps of 200 fresh windows, SGD lr 0.02 momentum 0.8
PAPER_BATCH = 200
RECIPES = {
    "sgd": {
        "optimizer": "sgd",
        "learning_rate": 0.02,
        "momentum": 0.8,
        "lr_scheduler_type": "constant",
    },
    "adamw": {
        "optimizer": "adamw",
        "learning_rate": 2e-3,
        "weight_decay": 0.0,
        "lr_scheduler_type": "cosine",
        "warmup_steps": 200,
    },
    # The recipe search's winners (results/search/frontier-400k_summary.json, trials 23 and 20);
    # learning rates kept as drawn, so seed 0 reproduces the trial.
    "best-dpa": {
        "optimizer": "adamw",
        "learning_rate": 0.007176210755598768,
        "weight_decay": 0.01,
        "lr_scheduler_type": "cosine",
        "warmup_steps": 200,
        "per_device_train_batch_size": 200,
    },
    "best-ea": {
        "optimizer": "adamw",
        "learning_rate": 0.004981994842385739,
        "weight_decay": 0.0,
        "lr_scheduler_type": "cosine",
        "warmup_steps": 200,
        "per_device_train_batch_size": 100,
    },
}
# The paper's reported accuracies (for comparison only).
PAPER = {
    ("transformer-dpa", "IARC"): 0.45,
    ("transformer-dpa", "IAR"): 0.48,
    ("transformer-dpa", "IA"): 0.80,
    ("transformer-dpa", "IR"): 0.84,
    ("transformer-ea", "IARC"): 0.58,
    ("transformer-ea", "IAR"): 0.70,
    ("transformer-ea", "IA"): 0.99,
    ("transformer-ea", "IR"): 0.92,
    ("cisformer-ea", "IARC"): 0.95,
}


MAX_NAME_KNOBS = 120  # file names stay well under the usual 255-byte limit


@dataclass(frozen=True)
class Run:
    preset: str
    dataset_config: str = "IARC"
    recipe: str = "sgd"
    model: dict = field(default_factory=dict)  # IARCConfig overrides
    task: dict = field(default_factory=dict)  # IARCTask knobs
    label: str = ""  # what this run varies, for tables
    training: dict = field(default_factory=dict)  # RunArguments on top of the recipe's
    max_steps: int | None = None  # its own budget, where its experiment has none (--max_steps wins)

    @property
    def name(self) -> str:
        """preset_config_k=v..._recipe; knobs too long for a file name become a stable hash
        (the JSON holds them all)."""
        knobs = {**self.model, **self.task, **self.training}
        parts = [f"{k}={v}" for k, v in sorted(knobs.items())]
        if len("_".join(parts)) > MAX_NAME_KNOBS:
            parts = ["knobs-" + hashlib.sha1(repr(sorted(knobs.items())).encode()).hexdigest()[:10]]
        parts = [self.preset, self.dataset_config, *parts]
        if self.recipe != "sgd":
            parts.append(self.recipe)
        return "_".join(parts)


def _table1() -> list[Run]:
    return [Run(p, c) for p in ("transformer-dpa", "transformer-ea") for c in PUBLISHED_CONFIGS]


def _fig1() -> list[Run]:
    runs = [Run(p, "IARC") for p in ("cisformer-ea", "cisformer-dpa", "mlp", "lstm")]
    # ablations: the same two cisformers on the smaller control sets
    runs += [Run(p, c) for p in ("cisformer-ea", "cisformer-dpa") for c in ("IAR", "IA", "IR")]
    return runs


def last_loss_adamw() -> list[Run]:
    """The cisformers with AdamW and the loss at the last position (the readings screen's
    strongest factor with the best optimiser): in `beyond` at the paper's budget, in `frontier`
    over longer ones."""
    return [
        Run(
            p,
            recipe="adamw",
            model={"loss_reduction": "last"},
            label="AdamW, loss at the last position",
        )
        for p in ("cisformer-dpa", "cisformer-ea")
    ]


def _beyond() -> list[Run]:
    runs = [
        Run("cisformer-cog", label="cog attention"),
        Run(
            "cisformer-ea",
            model={"pre_projection": True, "content_skip": True},
            label="pre-projection + content skip",
        ),
        Run("cisformer-ea", recipe="adamw", label="AdamW"),
        Run("cisformer-dpa", recipe="adamw", label="AdamW"),
        Run("transformer-ea", recipe="adamw", label="AdamW"),
    ]
    # the readings screen's strongest factor, with the best optimiser
    runs += last_loss_adamw()
    # the mean loss without the labels no reader of the window could know (11% of positions)
    runs += [
        Run(
            p,
            recipe="adamw",
            training={"train_labels": "determined"},
            label="AdamW, determined labels only",
        )
        for p in ("cisformer-dpa", "cisformer-ea")
    ]
    # complexity ladder: more symbols, longer gaps
    runs += [Run("cisformer-ea", task={"n_symbols": n}, label=f"N={n}") for n in (8, 32)]
    runs += [Run("cisformer-ea", task={"max_gap": g}, label=f"max_gap={g}") for g in (5, 13)]
    return runs


# The readings screen: each reading of the paper alone, from ours (one factor at a time), plus the
# block "as originally defined" with torch's defaults (post-norm + torch init) as one combination.
# Why this design: the question is each reading's effect on our published numbers, judged against
# the spread over seeds; a 2^(k-p) fraction over five factors (two of them 3-level) needs >= 16
# runs per model, more than this CPU runs at a budget where training has started. Factors that
# move a number get a factorial of their own next.
READINGS_SCREEN = {
    "ours": {},
    "post-norm": {"norm_position": "post"},
    "torch init": {"init_scheme": "torch"},
    "unscaled scores": {"attention_scale": "none"},
    "learned temperature": {"attention_scale": "learned"},
    "loss summed over positions": {"loss_reduction": "sum"},
    "loss at the last position": {"loss_reduction": "last"},
    "post-norm + torch init": {"norm_position": "post", "init_scheme": "torch"},
}
EXPRESSIVE_READINGS = {
    "ALiBi added to z": {"expressive_alibi": "additive"},
    "no ALiBi in EA": {"expressive_alibi": "none"},
}


def _readings() -> list[Run]:
    """Every reading for the 60-layer transformers on IARC and IA and the 12-layer cisformers on
    IARC, DPA and EA, at the paper's SGD recipe; run it at a scaled-down budget (README)."""
    runs = []
    models = [(p, "IARC") for p in ("transformer-dpa", "transformer-ea")]
    models += [(p, "IARC") for p in ("cisformer-dpa", "cisformer-ea")]
    models += [(p, "IA") for p in ("transformer-dpa", "transformer-ea")]
    for preset, config in models:
        readings = dict(READINGS_SCREEN)
        if preset.endswith("-ea"):
            readings |= EXPRESSIVE_READINGS
        runs += [Run(preset, config, model=model, label=label) for label, model in readings.items()]
    return runs


FRONTIER_DEPTHS = (1, 2, 3, 6, 12)
# (layers, steps) of the EA runs paired with the depth runs; EA lags DPA: 3 layers get 3.2M windows
EA_DEPTH_RUNS = ((3, 16000), (6, 8000))


def _frontier() -> list[Run]:
    """Past the paper: the best recipe known before the search, over longer budgets (run with
    --max_steps 16000: 3.2M windows), and the search's winners (README, "Pushing past")."""
    runs = last_loss_adamw()
    # the search's winners; 400K windows are 2000 steps for best-dpa, 4000 for best-ea (batch 100)
    runs += [
        Run(f"cisformer-{a}-best", recipe=f"best-{a}", label="search winner") for a in ("dpa", "ea")
    ]
    # within the paper's budget (1.6M windows: 8000 steps of 200), depth against accuracy: the
    # DPA winner at lr 1e-2 (the 3-layer speedrun record's rate), for the smallest model at 0.99
    runs += [
        Run("cisformer-dpa-best", recipe="best-dpa", model={"num_hidden_layers": n},
            training={"learning_rate": 0.01}, label=f"{n} layers, lr 1e-2", max_steps=8000)
        for n in FRONTIER_DEPTHS
    ]  # fmt: skip
    # expressive attention at 0.99: the EA winner as searched (12 layers, batch 100), 1.6M windows
    runs.append(Run("cisformer-ea-best", recipe="best-ea", model={"num_hidden_layers": 12},
                    label="12 layers, 1.6M windows", max_steps=16000))  # fmt: skip
    # ... and in the leaderboard's best small hybrid (LFM2: one attention layer among short
    # convolutions, 0.98 within 400K windows) at the paper's budget beside its own softmax, and
    # at twice it (EA gave 0.986 at 1.6M windows, seed 0)
    runs += [
        _decoder_run("lfm2-small", attention, 3e-3, steps)
        for steps in (8000, 16000)
        for attention in ("expressive", None)
    ]
    # ... and as the DPA depth runs: their model (FFN expansion 4) and recipe (best-dpa at lr
    # 1e-2, batch 200) with expressive attention, so EA and DPA pair at each depth
    runs += [
        Run("cisformer-ea-best", recipe="best-dpa", model={"num_hidden_layers": n, "ffn_expansion": 4},
            training={"learning_rate": 0.01}, label=f"{n} layers, lr 1e-2, as the DPA depth runs",
            max_steps=steps)
        for n, steps in EA_DEPTH_RUNS
    ]  # fmt: skip
    return runs


# The seeds' own claims (the ladder, cog attention, pre-projection + content skip): each under the paper's SGD recipe at its
# budget and under the strong recipe (AdamW + the loss at the last position) at 400K windows,
# where both are past the plateau. N = 16 rungs and plain DPA / EA cisformers are fig1's and
# beyond's runs (the same definitions), so they are not trained twice.
CLAIM_RECIPES = (
    ("adamw", {"loss_reduction": "last"}, 2000, "AdamW + last-position loss"),
    ("sgd", {}, PAPER_STEPS, "paper SGD"),
)
LADDER_SYMBOLS = (8, 32)
SKIP_VARIANTS = {
    "pre-projection": {"pre_projection": True},
    "content skip": {"content_skip": True},
    "pre-projection + content skip": {"pre_projection": True, "content_skip": True},
}


def _claims_for(recipe: str, model: dict, steps: int, how: str) -> list[Run]:
    def run(preset, label, extra=None, task=None):
        return Run(preset, recipe=recipe, model={**model, **(extra or {})}, task=task or {},
                   label=f"{label}; {how}", max_steps=steps)  # fmt: skip

    runs = [  # the complexity ladder (Gros, arXiv:2407.18601): alphabet size N
        run(f"cisformer-{a}", f"ladder N={n}", task={"n_symbols": n})
        for n in LADDER_SYMBOLS
        for a in ("dpa", "ea")
    ]
    # cog attention (Lv et al., arXiv:2411.07176), with and without softmax at the edges
    runs += [run("cisformer-cog", "cog, softmax edges"),
             run("cisformer-cog", "cog", {"cog_softmax_edges": False})]  # fmt: skip
    # pre-projection and content skip (arXiv:2604.10791)
    runs += [
        run(f"cisformer-{a}", label, extra)
        for label, extra in SKIP_VARIANTS.items()
        for a in ("dpa", "ea")
    ]
    # the EA transformer's fix from the diagnosis (results/diagnosis): a larger ε in the EA
    # normaliser w = g / (sum g + ε); at both recipes, since the paper's claim is at SGD 8000
    runs.append(run("transformer-ea", "60-layer EA, expressive_eps 0.1", {"expressive_eps": 0.1}))
    if recipe == "adamw":  # the 60-layer transformer: 20 min a run here at 2000 steps, 80 at 8000
        runs += [run(f"transformer-{a}", "60-layer transformer") for a in ("dpa", "ea")]
        runs += [run("transformer-dpa", "60-layer, cog", {"attention": "cog"}),
                 run("transformer-dpa", "60-layer, cog, softmax edges",
                     {"attention": "cog", "cog_softmax_edges": True})]  # fmt: skip
        runs += [run(f"transformer-{a}", "60-layer, pre-projection + content skip",
                     SKIP_VARIANTS["pre-projection + content skip"]) for a in ("dpa", "ea")]  # fmt: skip
        runs += _decoder_attention_runs()
    return runs


# Expressive and cog attention inside `transformers` decoders (IARCBackboneConfig.attention),
# each at its leaderboard run's rate, so the leaderboard's native run is the paired baseline.
DECODER_ATTENTION = {"llama-small": 1e-2, "qwen3-large": 3e-3, "lfm2-large": 3e-3}
# Expressive attention at other rates of the leaderboard's grid (whose seed-0 runs pair them):
# whether it loses only at the rate its decoder's own attention picked.
DECODER_EA_RATES = {"llama-small": (3e-3, 3e-2)}


def _decoder_run(preset: str, attention: str | None, rate: float, steps: int = 2000) -> Run:
    """A leaderboard decoder at the leaderboard's recipe, with `attention` (None: its own)."""
    from iarc_hf.experiments.leaderboard import RECIPE_MODEL

    model = RECIPE_MODEL | ({"attention": attention} if attention else {})
    label = f"{preset}, {attention or 'its own'} attention"
    return Run(preset, recipe="adamw", model=model, training={"learning_rate": rate},
               label=label, max_steps=steps)  # fmt: skip


def _decoder_attention_runs() -> list[Run]:
    runs = [
        _decoder_run(preset, attention, rate)
        for preset, rate in DECODER_ATTENTION.items()
        for attention in ("expressive", "cog")
    ]
    runs += [
        _decoder_run(preset, "expressive", rate)
        for preset, rates in DECODER_EA_RATES.items()
        for rate in rates
    ]
    return runs


def _claims() -> list[Run]:
    """The strong recipe first: its runs are short and answer each claim early."""
    return [run for recipe in CLAIM_RECIPES for run in _claims_for(*recipe)]


def _smoke() -> list[Run]:
    """One-layer models that train in seconds: checks a sweep's setup (Ray, GPUs, paths)."""
    return [
        Run(p, model={"num_hidden_layers": 1}, label="1 layer")
        for p in ("transformer-dpa", "cisformer-ea")
    ]


def _leaderboard() -> list[Run]:
    """Every leaderboard entry at every rate of its grid (`iarc_hf.experiments.leaderboard`)."""
    from iarc_hf.experiments.leaderboard import LEARNING_RATES, entries, entry_run

    return [entry_run(entry, rate) for entry in entries() for rate in LEARNING_RATES]


def _leaderboard_plan(results_dir, seeds: list[int], max_steps: int) -> list[tuple[Run, list]]:
    from iarc_hf.experiments.leaderboard import leaderboard_runs

    return leaderboard_runs(results_dir, seeds, max_steps)


EXPERIMENTS = {
    "table1": _table1,
    "fig1": _fig1,
    "beyond": _beyond,
    "readings": _readings,
    "frontier": _frontier,
    "smoke": _smoke,
    "leaderboard": _leaderboard,
    "claims": _claims,
}
# Experiments whose runs and seeds depend on finished results: (results_dir, seeds, max_steps)
# -> [(run, seeds)]; `reproduce.py run` lists them again after each pass.
PLANNED_EXPERIMENTS = {"leaderboard": _leaderboard_plan}
# The budget of an experiment when --max_steps is not given.
# None: each run's own budget (`Run.max_steps`, else the paper's).
DEFAULT_STEPS = {"leaderboard": 2000, "claims": None, "frontier": None}  # None: each run its own


def budget_label(max_steps: int, batch_size: int = PAPER_BATCH) -> str:
    """How a run's budget stands to the paper's (8000 steps of 200 windows), counted in windows:
    "scaled down", "paper", "extended"."""
    windows, paper = max_steps * batch_size, PAPER_STEPS * PAPER_BATCH
    if windows < paper:
        return "scaled down"
    return "paper" if windows == paper else "extended"


def result_path(results_dir, experiment: str, run: Run, seed: int, max_steps: int) -> Path:
    scale = "" if max_steps == PAPER_STEPS else f"_steps{max_steps}"
    return Path(results_dir) / experiment / f"{run.name}_seed{seed}{scale}.json"


def run_arguments(run: Run, seed: int, max_steps: int, output_dir: str):
    """The three argument dataclasses of `scripts/train.py` for one run."""
    from iarc_hf.training.arguments import DataArguments, ModelArguments, RunArguments

    model_args = ModelArguments(preset=run.preset, **run.model)
    data_args = DataArguments(
        dataset_config=run.dataset_config, eval_size=2000, test_size=10_000, **run.task
    )
    run_args = RunArguments(
        output_dir=output_dir,
        max_steps=max_steps,
        seed=seed,
        eval_steps=max(max_steps // 16, 1),
        # A checkpoint at every evaluation: a full-budget run spans sittings of a 2-core CPU,
        # and one that is stopped loses at most 1/16 of its budget.
        save_steps=max(max_steps // 16, 1),
        save_total_limit=1,
        logging_steps=max(max_steps // 80, 1),
        overwrite_output_dir=True,
        **{**RECIPES[run.recipe], **run.training},
    )
    return model_args, data_args, run_args


def result_record(experiment: str, run: Run, seed: int, max_steps: int, out: Path) -> dict:
    """The JSON of a finished run: what ran, how long, the metrics beside the oracle's, the curve."""
    results = json.loads((out / "all_results.json").read_text())
    test = results["test"]
    curve = [
        {
            "windows": r["windows"],
            "accuracy": r["eval_accuracy"],
            "accuracy_all": r["eval_accuracy_all"],
        }
        for r in read_jsonl(out / "metrics.jsonl")
        if "eval_accuracy" in r
    ]
    budget = budget_label(max_steps, results["batch_size"])
    return {
        "experiment": experiment,
        "name": run.name,
        "label": run.label,
        "preset": run.preset,
        "dataset_config": run.dataset_config,
        "model_overrides": run.model,
        "task_knobs": run.task,
        "recipe": run.recipe,
        "training": run.training,
        "seed": seed,
        "max_steps": max_steps,
        "scaled_down": budget == "scaled down",
        "budget": budget,
        "batch_size": results["batch_size"],
        "optimizer": results["optimizer"],
        "learning_rate": results["learning_rate"],
        "params": results["params"],
        "train_seconds": results["train_seconds"],
        "device": results["device"],
        "metrics": {k: v for k, v in test.items() if not k.startswith("oracle_")},
        "oracle": {
            k.removeprefix("oracle_"): v for k, v in test.items() if k.startswith("oracle_")
        },
        "curve": curve,
        "checkpoint": str(out),
    }
