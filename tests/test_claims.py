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


def test_definitions_that_max_steps_gives_one_budget_are_one_job(tmp_path):
    """frontier defines lfm2-small with expressive attention at 8000 and at 16000 steps: with
    --max_steps 16000 both name the same result, which is trained once."""
    pattern = "lfm2-small_IARC_attention=expressive_*"
    own = list_jobs("frontier", [0, 1], None, tmp_path, tmp_path, [pattern])
    assert sorted(job.max_steps for job in own) == [8000, 8000, 16000, 16000]
    forced = list_jobs("frontier", [0, 1], 16000, tmp_path, tmp_path, [pattern])
    assert [(job.seed, job.max_steps) for job in forced] == [(0, 16000), (1, 16000)]
    assert len({job.result for job in forced}) == 2


def test_two_definitions_of_one_result_that_train_differently_are_refused(monkeypatch, tmp_path):
    """One result file is one run: definitions that share it must train the same thing."""
    from iarc_hf.experiments.jobs import Job

    monkeypatch.setitem(
        EXPERIMENTS, "twins", lambda: [Run("mlp", label="a"), Run("mlp", label="b")]
    )
    monkeypatch.setattr(Job, "arguments", lambda self: self.spec.label)
    with pytest.raises(
        ValueError, match=r"write .*mlp_IARC_seed0_steps100.json but train differently"
    ):
        list_jobs("twins", [0], 100, tmp_path, tmp_path)
    monkeypatch.setattr(Job, "arguments", lambda self: "the same")
    assert len(list_jobs("twins", [0], 100, tmp_path, tmp_path)) == 1
