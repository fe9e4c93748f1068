"""The `claims` experiment: every run is a valid model, and each recipe keeps its own budget."""

import pytest

from iarc_hf.experiments.jobs import list_jobs, run_budget
from iarc_hf.experiments.registry import CLAIM_RECIPES, EXPERIMENTS, PAPER_STEPS, Run

CLAIMS = EXPERIMENTS["claims"]()


@pytest.mark.parametrize("run", CLAIMS, ids=lambda r: r.name)
def test_every_claim_run_builds_a_model_for_its_task(run):
    from iarc_hf.experiments.registry import run_arguments
    from iarc_hf.training.arguments import build_model_config

    model_args, data_args, run_args = run_arguments(run, 0, run.max_steps, "unused")
    config = build_model_config(model_args, data_args.task())
    assert config.n_symbols == run.task.get("n_symbols", 16)
    assert run_args.optimizer == ("adamw" if run.recipe == "adamw" else "sgd")


def test_each_recipe_runs_at_its_own_budget_unless_max_steps_is_given(tmp_path):
    budgets = {recipe: steps for recipe, _, steps, _ in CLAIM_RECIPES}
    jobs = list_jobs("claims", [0], None, tmp_path, tmp_path)
    assert {job.max_steps for job in jobs if job.spec.recipe == "adamw"} == {budgets["adamw"]}
    assert {job.max_steps for job in jobs if job.spec.recipe == "sgd"} == {PAPER_STEPS}
    assert {job.max_steps for job in list_jobs("claims", [0], 50, tmp_path, tmp_path)} == {50}
    assert run_budget(Run("mlp"), None) == PAPER_STEPS


def test_the_ladder_has_both_attentions_at_every_rung():
    ladder = [r for r in CLAIMS if r.label.startswith("ladder")]
    for recipe, *_ in CLAIM_RECIPES:
        rungs = {(r.preset, r.task["n_symbols"]) for r in ladder if r.recipe == recipe}
        assert rungs == {(f"cisformer-{a}", n) for a in ("dpa", "ea") for n in (8, 32)}


def test_run_names_are_unique():
    names = [r.name for r in CLAIMS]
    assert len(names) == len(set(names))
