"""Training: arguments, the final folder, bit-identical resume, a SIGKILL, two processes, Hub push."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import train as train_script  # noqa: E402

from iarc_hf.experiments.registry import RECIPES  # noqa: E402
from iarc_hf.hub.push import HubPushError, publishable_files, push_model_folder  # noqa: E402
from iarc_hf.training.checkpoints import latest_checkpoint  # noqa: E402
from iarc_hf.training.finalize import FINAL_FILES  # noqa: E402
from iarc_hf.training.loop import LossNotFinite, train  # noqa: E402

TINY = [
    "--preset", "transformer-dpa", "--num_hidden_layers", "1",
    "--per_device_train_batch_size", "16", "--per_device_eval_batch_size", "64",
    "--eval_size", "50", "--test_size", "100", "--logging_steps", "2", "--eval_steps", "4",
]  # fmt: skip


def cli(out, *extra) -> list[str]:
    return ["--output_dir", str(out), *TINY, *extra]


def run_train(out, *extra, stop_after=None):
    return train(*train_script.parse(cli(out, *extra)), command="test", stop_after=stop_after)


def weights(folder) -> dict[str, torch.Tensor]:
    return load_file(str(Path(folder) / "model.safetensors"))


def assert_same_weights(a, b):
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key


@pytest.mark.parametrize(
    "extra, argument",
    [
        (["--preset", "gpt-2"], "preset"),
        (["--max_steps", "0"], "max_steps"),
        (["--per_device_train_batch_size", "-4"], "per_device_train_batch_size"),
        (["--eval_steps", "0"], "eval_steps"),
        (["--resume_from_checkpoint", "/no/such/checkpoint"], "resume_from_checkpoint"),
        (["--optimizer", "lion"], "optimizer"),
        (["--lr_scheduler_type", "cyclic"], "lr_scheduler_type"),
        (["--stop_at_accuracy", "1.5"], "stop_at_accuracy"),
        (["--report_to", "wandb"], "report_to"),
        (["--train_labels", "last"], "train_labels"),
        (["--recipe", "lion"], "recipe"),
        (["--recipe"], "recipe"),
        (["--dataset_config", "IAX"], "controls"),
        (["--max_gap", "0"], "max_gap"),
        (["--hidden_size", "24"], "hidden_size"),
        (["--attention", "linear"], "attention"),
        (["--push_to_hub"], "hub_model_id"),
        (["--learning_rate", "0"], "learning_rate"),
        (["--learning_rate", "inf"], r"--learning_rate must be a finite number > 0, got inf"),
        (["--learning_rate", "nan"], r"--learning_rate must be a finite number > 0, got nan"),
        (["--max_grad_norm", "-1"], r"--max_grad_norm must be a finite number > 0 .*got -1"),
        (["--max_grad_norm", "0"], r"--max_grad_norm .*unset for no clipping"),
        (["--max_grad_norm", "inf"], "max_grad_norm"),
        (["--momentum", "1"], r"--momentum must be a finite number in \[0, 1\)"),
        (["--momentum", "-0.5"], "momentum"),
        (["--weight_decay", "-0.001"], r"--weight_decay must be a finite number >= 0"),
        (["--adam_beta1", "1"], "adam_beta1"),
        (["--adam_beta2", "nan"], "adam_beta2"),
        (["--stop_at_accuracy", "nan"], "stop_at_accuracy"),
        (["--context_length", "1000000000"], r"context_length=1000000000 .*would need about .*PiB"),
        (["--max_gap", "1000000000"], r"max_gap=1000000000 .*would need about .*PiB"),
        (["--n_symbols", "100000"], r"n_symbols must be an integer in \[2, 32767\]"),
        (["--test_size", "1000000000"], r"--test_size 1000000000 .*TiB.*at most --test_size \d+"),
        (["--eval_size", "1000000000"], r"--eval_size 1000000000 .*at most --eval_size \d+"),
        (["--data_source", "dataset", "--train_size", "10000000000"], r"--train_size .*TiB"),
        (["--per_device_train_batch_size", "100000000"],
         r"--per_device_train_batch_size 100000000 \(generating .*would need about"),
        (["--context_length", "8000"],
         r"--per_device_train_batch_size 16 \(one training step .*--context_length 8000.*GiB"),
        (["--n_symbols", "30000"], r"training step of a [\d,]+-parameter .*even 1 does not fit"),
        (["--per_device_eval_batch_size", "1000000000", "--test_size", "10000000"],
         r"--test_size 10000000 \(one evaluation batch"),
    ],
)  # fmt: skip
def test_bad_arguments_fail_before_training(tmp_path, extra, argument):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=argument):
        run_train(out, *extra)
    assert not out.exists()  # nothing was trained or written


def test_the_script_refuses_nonsense_in_one_line_before_creating_the_output_dir(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(
        SystemExit, match=r"^error: --learning_rate must be a finite number > 0, got inf$"
    ):
        train_script.main(cli(out, "--learning_rate", "inf"))
    assert not out.exists()


def final_files(out) -> list[str]:
    return [name for name in (*FINAL_FILES, "model.safetensors") if (out / name).exists()]


def test_a_diverging_run_stops_without_a_model_card_or_results(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(SystemExit, match=r"error: the training loss became NaN or infinite at "
                       r"step \d+ \(--learning_rate 1e\+30\).*lower --learning_rate"):  # fmt: skip
        train_script.main(cli(out, "--learning_rate", "1e30", "--max_steps", "8"))
    assert (out / "metrics.jsonl").is_file() and final_files(out) == []


def test_a_loss_turned_nan_is_named_by_its_step_and_earlier_checkpoints_stay(tmp_path, monkeypatch):
    from iarc_hf.modeling_iarc import IARCModel

    real, losses = IARCModel.compute_loss, []

    def compute_loss(self, logits, labels):  # called once per training step (evaluation: no labels)
        loss = real(self, logits, labels)
        losses.append(loss)
        return loss * float("nan") if len(losses) == 5 else loss

    monkeypatch.setattr(IARCModel, "compute_loss", compute_loss)
    out = tmp_path / "run"
    with pytest.raises(LossNotFinite, match="at step 5 .*gradient clipping"):
        run_train(out, "--max_steps", "12", "--save_steps", "4")
    assert len(losses) == 6  # stopped at the next logging step (every 2), before logging it
    assert latest_checkpoint(out).name == "checkpoint-4"
    assert final_files(out) == []
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert max(r["step"] for r in records) == 4
    assert all(math.isfinite(r["loss"]) for r in records if "loss" in r)


def test_model_and_dataset_must_agree(tmp_path):
    first = tmp_path / "first"
    run_train(first, "--max_steps", "2")
    with pytest.raises(ValueError, match="model_name_or_path.*n_symbols=16.*IA needs 18"):
        run_train(tmp_path / "second", "--model_name_or_path", str(first), "--dataset_config", "IA")


def test_resume_latest_without_checkpoint_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="resume_from_checkpoint"):
        run_train(tmp_path / "run", "--resume_from_checkpoint", "latest")


def test_finished_folder_is_not_overwritten_silently(tmp_path):
    out = tmp_path / "run"
    run_train(out, "--max_steps", "2")
    with pytest.raises(ValueError, match="overwrite_output_dir"):
        run_train(out, "--max_steps", "2")
    run_train(out, "--max_steps", "2", "--overwrite_output_dir")


def test_arguments_from_yaml_and_json(tmp_path):
    values = {
        "output_dir": str(tmp_path / "y"),
        "preset": "mlp",
        "num_hidden_layers": 2,
        "max_steps": 3,
    }
    (tmp_path / "args.json").write_text(json.dumps(values))
    (tmp_path / "args.yaml").write_text("".join(f"{k}: {v}\n" for k, v in values.items()))
    for name in ("args.json", "args.yaml"):
        model_args, data_args, run_args = train_script.parse([str(tmp_path / name)])
        assert (model_args.preset, model_args.num_hidden_layers, run_args.max_steps) == (
            "mlp",
            2,
            3,
        )


@pytest.mark.parametrize("optimizer", ["adamw", "muon"])
def test_resume_is_bit_identical(tmp_path, optimizer):
    # a linear schedule, warm-up and dropout: optimizer, scheduler and RNG all matter
    recipe = ["--optimizer", optimizer, "--learning_rate", "3e-3", "--lr_scheduler_type", "linear",
              "--warmup_steps", "2", "--dropout", "0.1", "--max_steps", "8", "--save_steps", "4"]  # fmt: skip
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    run_train(straight, *recipe)
    assert run_train(resumed, *recipe, stop_after=4) is None
    assert not (resumed / "model.safetensors").exists()
    run_train(resumed, *recipe, "--resume_from_checkpoint", "latest")
    assert_same_weights(straight, resumed)
    log = [json.loads(line) for line in (resumed / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "loss" in r] == [2, 4, 6, 8]  # no step logged twice


def assert_loads_without_the_package(folder, tmp_path):
    """AutoModel loads `folder` in a Python that cannot import iarc_hf, with the same logits."""
    code = (
        "import sys, json, torch; sys.modules['iarc_hf'] = None\n"
        "from transformers import AutoModel\n"
        f"m = AutoModel.from_pretrained({str(folder)!r}, trust_remote_code=True)\n"
        "ids = torch.arange(24).remainder(16)[None]; ctl = torch.zeros_like(ids); ctl[0, 3] = 1\n"
        "print(json.dumps(m(input_ids=ids, control_ids=ctl).logits.flatten().tolist()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    from transformers import AutoModel

    model = AutoModel.from_pretrained(folder, trust_remote_code=True)
    ids = torch.arange(24).remainder(16)[None]
    ctl = torch.zeros_like(ids)
    ctl[0, 3] = 1
    expected = model(input_ids=ids, control_ids=ctl).logits.flatten()
    assert torch.equal(torch.tensor(json.loads(result.stdout.splitlines()[-1])), expected)


def assert_card_has_results(folder, metrics):
    from huggingface_hub import ModelCard

    card = ModelCard.load(Path(folder) / "README.md")
    headline = next(r for r in card.data.eval_results if r.metric_name == "accuracy")
    assert headline.metric_value == round(metrics["accuracy"], 4)
    assert headline.dataset_config == "IARC" and headline.dataset_split == "test"
    assert card.data.library_name == "transformers"
    # the headline split by task at the last position, wherever that slice is not empty
    last = {r.metric_name: r.metric_value for r in card.data.eval_results}
    for letter in "IARC":
        name = f"accuracy_last_{letter}"
        assert math.isnan(metrics[name]) or last[name] == round(metrics[name], 4), name
    assert "\n# transformer-dpa on IARC\n" in card.text  # not "on IARC IARC"


def test_stop_at_accuracy_ends_at_the_first_evaluation_that_reaches_it(tmp_path):
    """A target any model reaches (0.01 > 0) stops at the first evaluation (step 4 of 12): the
    folder is final, says so, and counts the steps done; an unreachable one runs every step."""
    out = tmp_path / "early"
    run_train(out, "--max_steps", "12", "--stop_at_accuracy", "0.01")
    results = json.loads((out / "all_results.json").read_text())
    assert (results["max_steps"], results["planned_steps"], results["stopped_early"]) == (
        4,
        12,
        True,
    )
    assert results["windows"] == 4 * 16
    assert latest_checkpoint(out).name == "checkpoint-4"
    evaluations = [r for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if "eval_accuracy" in r]  # fmt: skip
    assert [r["step"] for r in evaluations] == [4] and evaluations[0]["eval_accuracy"] >= 0.01
    assert "stopped early" in (out / "README.md").read_text()
    full = tmp_path / "full"
    run_train(full, "--max_steps", "8", "--stop_at_accuracy", "1.0")
    results = json.loads((full / "all_results.json").read_text())
    assert (results["max_steps"], results["stopped_early"]) == (8, False)
    assert "stopped early" not in (full / "README.md").read_text()


@pytest.mark.integration
def test_final_folder_loads_without_the_package(tmp_path):
    out = tmp_path / "run"
    metrics = run_train(out, "--max_steps", "4")
    files = set(publishable_files(out))
    assert {"config.json", "model.safetensors", "configuration_iarc.py", "modeling_iarc.py",
            "README.md", "training_curve.png", "training_args.json", "all_results.json",
            "metrics.jsonl"} <= files  # fmt: skip
    assert not any(f.endswith((".bin", ".pt", ".pkl")) for f in files)
    config = json.loads((out / "config.json").read_text())
    assert config["auto_map"]["AutoModel"].startswith("modeling_iarc.")
    assert_card_has_results(out, metrics)
    assert_loads_without_the_package(out, tmp_path)


def _accelerate(*args, env_extra=None, **kwargs):
    """`accelerate launch ...` in its own process group, so a kill reaches the training too."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", **(env_extra or {})}
    launcher = [str(Path(sys.executable).parent / "accelerate"), "launch"]
    return subprocess.Popen([*launcher, *args], env=env, cwd=REPO, start_new_session=True, **kwargs)


@pytest.mark.integration
def test_accelerate_launch_and_sigkill_resume(tmp_path):
    out, straight = tmp_path / "killed", tmp_path / "straight"
    args = cli(out, "--max_steps", "400", "--save_steps", "5", "--eval_steps", "1000")
    proc = _accelerate("--num_processes", "1", "--cpu", "scripts/train.py", *args,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.time() + 180
    while latest_checkpoint(out) is None and time.time() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the launcher and the training process it started
    proc.wait()
    assert not (out / "model.safetensors").exists(), "killed too late: the run had finished"
    resume = _accelerate("--num_processes", "1", "--cpu", "scripts/train.py", *args,
                         "--resume_from_checkpoint", "latest", stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert resume.wait(timeout=300) == 0, resume.stderr.read()
    # the uninterrupted run, launched the same way (same threads, so the same float sums)
    args[1] = str(straight)
    proc = _accelerate(
        "--num_processes",
        "1",
        "--cpu",
        "scripts/train.py",
        *args,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    assert_same_weights(straight, out)


@pytest.mark.integration
def test_two_processes_train_different_streams_into_one_folder(tmp_path):
    out = tmp_path / "ddp"
    proc = _accelerate(
        "--multi_gpu", "--num_processes", "2", "--main_process_port", "29517", "scripts/train.py",
        *cli(out, "--max_steps", "6", "--save_steps", "3"),
        env_extra={"ACCELERATE_USE_CPU": "1"}, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    results = json.loads((out / "all_results.json").read_text())
    assert results["world_size"] == 2 and results["windows"] == 6 * 16 * 2
    first, second = results["last_batch_fingerprints"]
    assert first != second  # each process drew its own windows
    assert (out / "model.safetensors").exists() and (out / "checkpoint-6").is_dir()
    # the folder `accelerate launch` wrote: loadable without the package, card with results
    assert_card_has_results(out, results["test"])
    assert_loads_without_the_package(out, tmp_path)


@pytest.fixture
def trained(tmp_path):
    out = tmp_path / "run"
    run_train(out, "--max_steps", "2")
    return out


def test_push_records_exactly_the_final_folder(trained, hub_calls):
    calls = hub_calls
    url = push_model_folder(trained, "someone/iarc-tiny", private=True)
    assert url == "https://huggingface.co/someone/iarc-tiny"
    (kind, repo_id, kw), (_, upload) = calls
    assert (kind, repo_id, kw["private"], kw["exist_ok"]) == (
        "create_repo",
        "someone/iarc-tiny",
        True,
        True,
    )
    assert upload["repo_id"] == "someone/iarc-tiny" and upload["folder_path"] == str(trained)
    pushed = upload["allow_patterns"]
    assert pushed == publishable_files(trained)
    assert not any(name.startswith("checkpoint") for name in pushed)
    # the pushed files alone make a loadable model: copy exactly them and load that
    only = trained.parent / "pushed"
    only.mkdir()
    for name in pushed:
        (only / name).write_bytes((trained / name).read_bytes())
    from transformers import AutoModel

    AutoModel.from_pretrained(only, trust_remote_code=True)


def test_train_with_push_to_hub_pushes_the_output_dir(tmp_path, monkeypatch):
    pushed = []
    monkeypatch.setattr("iarc_hf.hub.push.push_model_folder", lambda folder, repo_id, private: pushed.append((Path(folder), repo_id, private)) or "url")  # fmt: skip
    out = tmp_path / "run"
    run_train(
        out,
        "--max_steps",
        "2",
        "--push_to_hub",
        "--hub_model_id",
        "someone/x",
        "--hub_private_repo",
    )
    assert pushed == [(out, "someone/x", True)]


def test_push_errors_are_clear_and_keep_the_folder(trained, monkeypatch):
    before = sorted(p.name for p in trained.iterdir())
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    with pytest.raises(HubPushError, match="no Hugging Face token"):
        push_model_folder(trained, "someone/x")
    monkeypatch.setattr("huggingface_hub.get_token", lambda: "hf_fake")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr("huggingface_hub.constants.ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    with pytest.raises(HubPushError, match="intact"):
        push_model_folder(trained, "someone/x")
    assert sorted(p.name for p in trained.iterdir()) == before


def test_evaluate_script(trained, tmp_path):
    sys.path.insert(0, str(REPO / "scripts"))
    import evaluate as evaluate_script

    metrics = evaluate_script.main(
        [str(trained), "--size", "200", "--json", str(tmp_path / "m.json")]
    )
    saved = json.loads((tmp_path / "m.json").read_text())
    assert saved["metrics"]["accuracy"] == metrics["accuracy"]
    assert saved["task"]["controls"] == "IARC" and metrics["oracle_accuracy"] > 0.99


def test_dataset_source_batches_are_seeded_and_split_by_process(tmp_path):
    import numpy as np

    from iarc_hf.training.loop import TrainBatches

    model_args, data_args, run_args = train_script.parse(
        cli(tmp_path / "run", "--data_source", "dataset", "--train_size", "100")
    )
    task = data_args.task()
    first = TrainBatches(task, data_args, run_args, process=0, world=2)
    second = TrainBatches(task, data_args, run_args, process=1, world=2)
    a, b = first(0), second(0)
    assert a["input_ids"].shape == (16, 24)
    assert not np.array_equal(a["input_ids"], b["input_ids"])  # disjoint rows per process
    np.testing.assert_array_equal(a["input_ids"], first(0)["input_ids"])  # deterministic in step
    # one epoch (100 rows / 32 per step = 3 steps) covers distinct rows
    rows = np.concatenate(
        [
            TrainBatches(task, data_args, run_args, p, 2)(s)["input_ids"]
            for s in range(3)
            for p in (0, 1)
        ]
    )
    assert len({r.tobytes() for r in rows}) == len(rows)


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_a_named_recipe_sets_defaults_and_flags_override_it(tmp_path, recipe):
    bare = ["--output_dir", str(tmp_path / "run"), "--recipe", recipe]  # no flag it sets
    run = train_script.parse(bare)[2]
    for key, value in RECIPES[recipe].items():
        assert getattr(run, key) == value, key
    run = train_script.parse(cli(tmp_path / "run", f"--recipe={recipe}", "--learning_rate", "0.5"))[
        2
    ]
    assert run.learning_rate == 0.5 and run.optimizer == RECIPES[recipe]["optimizer"]


@pytest.mark.parametrize("source", ["stream", "dataset"])
def test_train_labels_determined_hides_what_the_window_cannot_know(tmp_path, source):
    import numpy as np

    from iarc_hf.training.loop import TrainBatches

    def batch(train_labels):
        args = train_script.parse(cli(tmp_path / "run", "--data_source", source, "--train_size",
                                      "100", "--train_labels", train_labels))  # fmt: skip
        return TrainBatches(args[1].task(), args[1], args[2], process=0, world=1)(3)

    full, masked = batch("all"), batch("determined")
    np.testing.assert_array_equal(full["input_ids"], masked["input_ids"])  # same windows
    hidden = ~full["determined"]
    assert hidden.any() and full["determined"][:, -1].all()  # the last position always counts
    assert (masked["labels"][hidden] == -100).all()
    np.testing.assert_array_equal(masked["labels"][~hidden], full["labels"][~hidden])


def test_missing_tracker_is_a_clear_error(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "tensorboard" else real(name, *a),
    )
    with pytest.raises(ValueError, match="report_to tensorboard"):
        run_train(tmp_path / "run", "--report_to", "tensorboard")
