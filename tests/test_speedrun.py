"""bench.py speedrun: stops at the first evaluation at or above the target, or at max_steps."""

import json

import pytest

from iarc_hf.benchmarks import speedrun


def run(target, max_steps, tmp_path):
    out = tmp_path / "speedrun.json"
    # a one-layer model: fast, and above 1/N accuracy within a few dozen steps
    result = speedrun.speedrun(
        "transformer-dpa",
        speedrun.recipe_arguments("adamw", max_steps=max_steps, per_device_train_batch_size=50),
        target=target,
        eval_every=5,
        eval_size=200,
        model_overrides={"num_hidden_layers": 1},
        test_size=100,
    )
    out.write_text(json.dumps(result))
    return result


def test_stops_at_the_first_evaluation_at_or_above_the_target(tmp_path):
    result = run(target=0.15, max_steps=200, tmp_path=tmp_path)
    assert result["reached"] and result["accuracy"] >= 0.15
    accuracies = [point["accuracy"] for point in result["curve"]]
    assert all(a < 0.15 for a in accuracies[:-1]) and accuracies[-1] == result["accuracy"]
    assert result["steps"] == 5 * len(accuracies) and result["windows"] == 50 * result["steps"]
    assert 0 < result["train_seconds"] <= result["wall_seconds"]
    assert 0 <= result["test_accuracy"] <= 1 and result["device"] == "cpu"


def test_an_unreached_target_ends_at_max_steps(tmp_path):
    result = run(target=1.0, max_steps=7, tmp_path=tmp_path)
    assert not result["reached"] and result["steps"] == 7
    assert [p["step"] for p in result["curve"]] == [5, 7]


def test_cli_checks_the_target_and_the_recipe():
    with pytest.raises(SystemExit, match="--target must be in"):
        speedrun.main(["--target", "1.5"])
    with pytest.raises(ValueError, match="--recipe must be one of"):
        speedrun.recipe_arguments("lion")


def test_model_overrides_are_parsed_and_checked():
    assert speedrun.parse_overrides(["loss_reduction=last", "num_hidden_layers=8"]) == {
        "loss_reduction": "last",
        "num_hidden_layers": 8,
    }
    with pytest.raises(SystemExit, match="--model takes FIELD=VALUE"):
        speedrun.parse_overrides(["loss_reduction"])
    run = speedrun.recipe_arguments("adamw", max_steps=1)
    with pytest.raises(ValueError, match=r"--model: unknown fields \['loss'\]"):
        speedrun.speedrun("cisformer-dpa", run, 0.9, 1, model_overrides={"loss": "last"})


@pytest.mark.parametrize("bf16, dtype", [(False, "torch.float32"), (True, "torch.bfloat16")])
def test_bf16_runs_the_matrix_products_in_bfloat16(bf16, dtype, monkeypatch):
    """--bf16 is autocast in the training forward: the layers' products come out in bfloat16,
    evaluation stays float32 (the parameters too: tests/test_bf16.py)."""
    import torch

    seen, forward = set(), torch.nn.Linear.forward

    def spy(self, x):
        y = forward(self, x)
        seen.add(str(y.dtype))
        return y

    monkeypatch.setattr(torch.nn.Linear, "forward", spy)
    run_args = speedrun.recipe_arguments("adamw", max_steps=3, per_device_train_batch_size=20, bf16=bf16)  # fmt: skip
    result = speedrun.speedrun("transformer-dpa", run_args, target=1.0, eval_every=3, eval_size=40,
                               model_overrides={"num_hidden_layers": 1}, test_size=40)  # fmt: skip
    assert dtype in seen and 0 <= result["test_accuracy"] <= 1 and result["bf16"] is bf16
    assert "torch.float32" in seen  # evaluation, in both
    assert ("torch.bfloat16" in seen) is bf16


def test_bf16_runs_cannot_be_packed():
    from iarc_hf.training.packed import why_not_packable

    run_args = speedrun.recipe_arguments("adamw", bf16=True)
    assert "--bf16" in why_not_packable(run_args)
