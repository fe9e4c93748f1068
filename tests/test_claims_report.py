"""The claims report: EA − DPA on the ladder, the cog and skip tables, and α read back from the
saved models, on result JSONs the project's own writer (`jobs.execute`) made from tiny runs and
on the committed fig1 / beyond results; every number checked against a hand computation."""

import json
import shutil
import statistics
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from iarc_hf.experiments import claims_report
from iarc_hf.experiments.claims_report import (
    alpha_rows,
    alpha_table,
    claims_section,
    cog_table,
    commands,
    find,
    ladder_rows,
    ladder_table,
    plot_alphas,
    plot_ladder,
    skip_table,
)
from iarc_hf.experiments.jobs import Job, execute, job_for
from iarc_hf.experiments.registry import DECODER_ATTENTION, EXPERIMENTS
from iarc_hf.experiments.report import load_results
from iarc_hf.files import write_json

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import reproduce  # noqa: E402  (as tests/test_reproduce.py imports it)

TINY = {"adamw": 1, "sgd": 1}  # the tiny runs' budget, in place of CLAIM_RECIPES' steps
STRONG = "AdamW + last-position loss"
# Tests on tiny runs trained here (2-5 s a fixture on a busy 2-core CPU): integration, as the
# project's other training tests; the unit tier checks the same code on the committed results.
TRAINS = pytest.mark.integration


class TinyJob(Job):
    """A job of the registry trained at toy size: 2 layers, 4 windows a step, 8 test windows;
    no warm-up, so one AdamW step moves α visibly."""

    def arguments(self):
        model, data, run = super().arguments()
        model.num_hidden_layers = 2
        data.eval_size = data.test_size = 8
        run.per_device_train_batch_size, run.warmup_steps = 4, 0
        return model, data, run


def claim_run(preset: str, label: str):
    (run,) = [
        r
        for r in EXPERIMENTS["claims"]()
        if r.recipe == "adamw" and r.preset == preset and r.label.startswith(label + ";")
    ]
    return run


def train_tiny(root: Path, experiment: str, run, seed: int) -> Path:
    """Train `run` tiny in `root` (runs/ relative, as `reproduce.py run` by default) and write
    its result JSON with the writer of `reproduce.py run`; the JSON's path."""
    job = job_for(experiment, run, seed, TINY[run.recipe], Path("results"), Path("runs"))
    job = TinyJob(*(getattr(job, f.name) for f in fields(job)))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        write_json(job.result, execute(job, "test", show_progress=False))
    return root / job.result


def accuracy(path: Path) -> float:
    return json.loads(path.read_text())["metrics"]["accuracy"]


@pytest.fixture(scope="module")
def ladder(tmp_path_factory):
    """The ladder's N = 8 rung, DPA and EA, seed 0: {attention: result JSON}."""
    root = tmp_path_factory.mktemp("ladder")
    return root, {
        a: train_tiny(root, "claims", claim_run(f"cisformer-{a}", "ladder N=8"), 0)
        for a in ("dpa", "ea")
    }


@pytest.fixture(scope="module")
def skip(tmp_path_factory):
    """The EA cisformer with content skip, seeds 0 and 1: {seed: result JSON}."""
    root = tmp_path_factory.mktemp("skip")
    run = claim_run("cisformer-ea", "content skip")
    return root, {seed: train_tiny(root, "claims", run, seed) for seed in (0, 1)}


def test_with_no_claims_json_every_claim_cell_says_not_run_yet(tmp_path):
    text = claims_section([], tmp_path)
    runs = len(EXPERIMENTS["claims"]()) * 3  # three seeds each
    assert f"`claims` result JSONs: 0 of {runs}" in text and "**Not run yet**" in text
    ladder = text.split("#### The complexity ladder", 1)[1].split("####", 1)[0]
    rungs = [
        line for line in ladder.splitlines() if line.startswith(("| paper SGD", f"| {STRONG}"))
    ]
    assert len(rungs) == 6 and all(line.count("| not run yet") == 4 for line in rungs)
    assert "comes once a recipe has it at two rungs" in text and "no α plot" in text
    assert not list(tmp_path.glob("*.png"))  # no plot of nothing
    assert (tmp_path / "claims.md").read_text().endswith(text)


def test_alpha_of_every_layer_is_read_from_safetensors_alone(tmp_path):
    """α set by hand in a saved model comes back per layer, in layer order; no weights: None."""
    import torch

    from iarc_hf import IARCConfig, IARCModel

    config = IARCConfig.from_preset("cisformer-ea", num_hidden_layers=3, content_skip=True)
    model = IARCModel(config)
    alphas = [0.5, -0.25, 0.125]
    with torch.no_grad():
        for layer, alpha in zip(model.stack.layers, alphas, strict=True):
            layer.content_skip.alpha.fill_(alpha)
    model.save_pretrained(tmp_path / "model")
    assert claims_report.read_alphas(tmp_path / "model") == alphas
    assert claims_report.read_alphas(tmp_path / "absent") is None


def test_the_n16_rung_is_the_committed_fig1_and_beyond_runs_paired_by_seed():
    rows = {(r["recipe"], r["n"]): r for r in ladder_rows(find(load_results(REPO / "results")))}
    files = {
        "paper SGD": ("fig1", "cisformer-{}_IARC_seed{}.json"),
        STRONG: ("beyond", "cisformer-{}_IARC_loss_reduction=last_adamw_seed{}_steps2000.json"),
    }
    for how, (experiment, pattern) in files.items():
        by_hand = {}
        for seed in range(3):
            paths = [REPO / "results" / experiment / pattern.format(a, seed) for a in ("ea", "dpa")]
            if all(p.exists() for p in paths):
                by_hand[seed] = accuracy(paths[0]) - accuracy(paths[1])
        row = rows[(how, 16)]
        assert row["diff"] == pytest.approx(by_hand) and row["sources"] == [experiment]
        assert len(by_hand) >= 2  # fig1 and beyond hold three seeds each
        mean, std = statistics.mean(by_hand.values()), statistics.stdev(by_hand.values())
        assert f"| {mean:+.3f} ± {std:.3f} ({len(by_hand)}) |" in ladder_table([row])


@TRAINS
def test_ea_minus_dpa_on_a_rung_from_tiny_claims_runs(ladder):
    root, paths = ladder
    rows = ladder_rows(find(load_results(root / "results"), TINY))
    (row,) = [r for r in rows if r["recipe"] == STRONG and r["n"] == 8]
    dpa, ea = accuracy(paths["dpa"]), accuracy(paths["ea"])
    assert row["dpa"] == {0: dpa} and row["diff"] == {0: pytest.approx(ea - dpa)}
    expected = f"| {STRONG} | 8 | {dpa:.3f} (1) | {ea:.3f} (1) | {ea - dpa:+.3f} (1) | claims |"
    assert expected in ladder_table(rows)
    assert f"| {STRONG} | 32 | not run yet | not run yet | not run yet | not run yet |" in (
        ladder_table(rows)
    )


@TRAINS
def test_the_ladder_plot_draws_each_rungs_mean_and_seeds(ladder, tmp_path, monkeypatch):
    """Two rungs (the tiny N = 8 and the committed N = 16) make a line; its points are the
    rows' EA − DPA means."""
    root, _ = ladder
    tiny = [r for r in ladder_rows(find(load_results(root / "results"), TINY)) if r["n"] == 8]
    committed = [r for r in ladder_rows(find(load_results(REPO / "results"))) if r["n"] == 16]
    rows = [r for r in tiny + committed if r["recipe"] == STRONG]
    drawn = []
    real_save = claims_report.save_figure
    monkeypatch.setattr(claims_report, "save_figure", lambda fig, png: drawn.append(fig.axes[0]) or real_save(fig, png))  # fmt: skip
    assert plot_ladder(rows, tmp_path / "ladder.png").exists()
    means = [statistics.mean(r["diff"].values()) for r in rows]
    assert list(drawn[0].lines[0].get_ydata()) == pytest.approx(means)


@TRAINS
def test_alpha_per_layer_is_read_back_from_the_saved_models(skip, tmp_path, monkeypatch):
    from iarc_hf import IARCModel

    root, paths = skip
    rows = alpha_rows(find(load_results(root / "results"), TINY), root)
    (row,) = [r for r in rows if r["recipe"] == STRONG and r["preset"] == "cisformer-ea"
              and r["variant"] == "content skip"]  # fmt: skip
    by_hand = {}
    for seed in (0, 1):
        folder = root / json.loads(paths[seed].read_text())["checkpoint"]
        model = IARCModel.from_pretrained(folder)
        by_hand[seed] = [abs(layer.content_skip.alpha.item()) for layer in model.stack.layers]
    assert row["absent"] == [] and set(row["alphas"]) == {0, 1}
    assert all(row["alphas"][seed] == pytest.approx(by_hand[seed]) for seed in (0, 1))
    assert all(a > 0 for alphas in by_hand.values() for a in alphas)  # trained away from 0
    drawn = []
    real_save = claims_report.save_figure
    monkeypatch.setattr(claims_report, "save_figure", lambda fig, png: drawn.append(fig.axes[0]) or real_save(fig, png))  # fmt: skip
    assert plot_alphas([row], tmp_path / "alpha.png").exists()
    means = [statistics.mean(by_hand[s][i] for s in (0, 1)) for i in range(2)]
    assert list(drawn[0].lines[0].get_ydata()) == pytest.approx(means)


@TRAINS
def test_a_clone_reads_alpha_from_the_json_and_names_what_is_absent(skip, tmp_path):
    """A clone has results/ but not runs/ (git-ignored): α comes from the result JSON, which
    records it at run time; where a JSON lacks it, the table says the seed is absent."""
    root, paths = skip
    shutil.copytree(root / "results", tmp_path / "results")
    recorded = {s: json.loads(paths[s].read_text())["content_skip_alpha"] for s in (0, 1)}
    assert all(len(alphas) == 2 for alphas in recorded.values())  # one α per layer

    def row_of(results):
        rows = alpha_rows(find(load_results(results), TINY), tmp_path)
        (row,) = [r for r in rows if r["recipe"] == STRONG and r["preset"] == "cisformer-ea"
                  and r["variant"] == "content skip"]  # fmt: skip
        return rows, row

    _, row = row_of(tmp_path / "results")
    assert row["absent"] == [] and row["alphas"] == {
        s: [abs(a) for a in recorded[s]] for s in (0, 1)
    }
    for path in (tmp_path / "results").rglob("*.json"):  # JSONs written before α was recorded
        record = json.loads(path.read_text())
        record.pop("content_skip_alpha", None)
        path.write_text(json.dumps(record))
    rows, row = row_of(tmp_path / "results")
    assert row["alphas"] == {} and row["absent"] == [0, 1]
    assert "| 0 | absent: seed 0, seed 1 | not run yet |" in alpha_table([row])
    assert plot_alphas(rows, tmp_path / "alpha.png") is None


@TRAINS
def test_an_options_cell_counts_its_seeds_and_its_plain_model_not_run_says_so(skip):
    root, paths = skip
    table = skip_table(find(load_results(root / "results"), TINY))
    skipped = [accuracy(paths[seed]) for seed in (0, 1)]
    cells = f"{statistics.mean(skipped):.3f} ± {statistics.stdev(skipped):.3f} (2)"
    assert f"| cisformer-ea | content skip | {cells} | not run yet |" in table


def test_cog_table_differences_are_paired_by_seed_on_the_committed_runs():
    """The cisformer's EA − DPA row of the cog table, from fig1 (SGD, 8000 steps) by hand."""
    by_hand = {}
    for seed in range(3):
        paths = [
            REPO / "results" / "fig1" / f"cisformer-{a}_IARC_seed{seed}.json" for a in ("ea", "dpa")
        ]
        if all(p.exists() for p in paths):
            by_hand[seed] = accuracy(paths[0]) - accuracy(paths[1])
    (row,) = [line for line in cog_table(find(load_results(REPO / "results"))).splitlines()
              if line.startswith("| cisformer | EA |")]  # fmt: skip
    sgd = row.split(" | ")[-2]  # the last recipe (paper SGD): accuracy, − DPA, − EA
    assert len(by_hand) >= 2  # fig1 holds three seeds
    mean, std = statistics.mean(by_hand.values()), statistics.stdev(by_hand.values())
    assert sgd == f"{mean:+.3f} ± {std:.3f} ({len(by_hand)})"


@TRAINS
def test_report_writes_claims_md_and_says_which_jsons_are_in_no_table(ladder):
    root, _ = ladder
    reproduce.main(["report", "--results_dir", str(root / "results")])
    claims = (root / "results" / "claims.md").read_text()
    assert "2 `claims` JSONs at other budgets are in no table" in claims
    assert "### The seeds' claims" in (root / "results" / "README.md").read_text()
    assert commands()[1:3] == [
        "python scripts/reproduce.py run beyond --filter cisformer-dpa_IARC_loss_reduction="
        "last_adamw cisformer-ea_IARC_loss_reduction=last_adamw --max_steps 2000",
        "python scripts/reproduce.py run fig1 --filter cisformer-dpa_IARC cisformer-ea_IARC "
        "--max_steps 8000",
    ]


def test_the_ea_transformer_table_takes_its_sgd_baselines_from_table1():
    """The 60-layer DPA and EA under the paper's SGD are table1's committed runs (by hand)."""
    from iarc_hf.experiments.claims_report import ea_transformer_table

    def accuracy_at(path):
        return json.loads(path.read_text())["metrics"]["accuracy"]

    def accuracy_of(attention, seed):
        return accuracy_at(REPO / f"results/table1/transformer-{attention}_IARC_seed{seed}.json")

    by_hand = {a: [accuracy_of(a, s) for s in (0, 1, 2)] for a in ("dpa", "ea")}
    table = ea_transformer_table(find(load_results(REPO / "results")))
    rows = {line.split(" | ")[1]: line.split(" | ") for line in table.splitlines()[2:]}
    assert rows["DPA"][5] == f"{statistics.mean(by_hand['dpa']):.3f} ± {statistics.stdev(by_hand['dpa']):.3f} (3)"  # fmt: skip
    diff = [e - d for e, d in zip(by_hand["ea"], by_hand["dpa"], strict=True)]
    assert rows["EA"][6] == f"{statistics.mean(diff):+.3f} ± {statistics.stdev(diff):.3f} (3)".replace("+-", "-")  # fmt: skip
    # the ε = 0.1 row's SGD cells: the claims runs that have landed, paired with table1's DPA
    eps_paths = {s: REPO / f"results/claims/{EPS_SGD}_seed{s}.json" for s in (0, 1, 2)}
    eps_landed = {s: accuracy_at(p) for s, p in eps_paths.items() if p.exists()}
    eps = list(eps_landed.values())
    eps_diff = [e - by_hand["dpa"][s] for s, e in eps_landed.items()]
    assert rows["EA, expressive_eps 0.1"][5] == _cell(eps)
    assert rows["EA, expressive_eps 0.1"][6] == _cell(eps_diff, signed=True)


EPS_SGD = "transformer-ea_IARC_expressive_eps=0.1"


def _cell(values, signed=False):
    """A claims table cell written by hand: mean ± std (n), one seed without the spread."""
    if not values:
        return "not run yet"
    fmt = "+.3f" if signed else ".3f"
    if len(values) == 1:
        return f"{values[0]:{fmt}} (1)"
    mean, std = statistics.mean(values), statistics.stdev(values)
    return f"{mean:{fmt}} ± {std:.3f} ({len(values)})"


@pytest.mark.parametrize("preset", list(DECODER_ATTENTION))
def test_decoder_attention_is_paired_with_the_leaderboards_own_attention(preset):
    """A decoder's expressive and cog rows against the leaderboard's run of the same decoder at
    the same rate, paired by seed (records made by hand: seeds 0, 1 on one side, 1, 2 on the
    other, so only seed 1 pairs)."""
    from iarc_hf.experiments.claims_report import decoder_table
    from iarc_hf.experiments.leaderboard import entries, entry_run

    rate = DECODER_ATTENTION[preset]
    entry = next(e for e in entries() if e.preset == preset)
    native = entry_run(entry, rate)
    (expressive,) = [r for r in EXPERIMENTS["claims"]() if r.preset == preset
                     and r.model.get("attention") == "expressive"
                     and r.training["learning_rate"] == rate]  # fmt: skip

    def record(experiment, run, seed, accuracy):
        return {"experiment": experiment, "name": run.name, "recipe": "adamw", "seed": seed,
                "max_steps": 2000, "metrics": {"accuracy": accuracy}}  # fmt: skip

    records = [record("leaderboard", native, 0, 0.90), record("leaderboard", native, 1, 0.92),
               record("claims", expressive, 1, 0.95), record("claims", expressive, 2, 0.97)]  # fmt: skip
    rows = {line.split(" | ")[2]: line.split(" | ") for line in decoder_table(find(records)).splitlines()[2:]
            if line.startswith(f"| {preset} | {rate:g} |")}  # fmt: skip
    assert rows["own (leaderboard)"][3] == "0.910 ± 0.014 (2)"
    assert rows["expressive"][3] == "0.960 ± 0.014 (2)"
    assert rows["expressive"][4].rstrip(" |") == "+0.030 (1)"
    assert rows["cog"][3] == "not run yet"


def test_expressive_attention_at_other_rates_pairs_with_the_leaderboards_grid():
    """llama-small's expressive runs at the grid's other rates each pair with the leaderboard's
    seed-0 run at that rate (by hand on the committed grid)."""
    from iarc_hf.experiments.claims_report import decoder_table
    from iarc_hf.experiments.registry import DECODER_EA_RATES

    table = decoder_table(find(load_results(REPO / "results")))
    for rate in DECODER_EA_RATES["llama-small"]:
        path = (
            REPO
            / "results"
            / "leaderboard"
            / (
                f"llama-small_IARC_learning_rate={rate}_loss_reduction=last_adamw_seed0_steps2000.json"
            )
        )
        assert (
            f"| llama-small | {rate:g} | own (leaderboard) | {accuracy(path):.3f} (1) | – |"
            in table
        )
        assert f"| llama-small | {rate:g} | expressive |" in table
