"""The end of a training run, on the main process: the test split beside the oracle, the model
saved with `save_pretrained`, and its results, arguments, training curve and model card."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from iarc_hf.eval.evaluation import evaluate_split
from iarc_hf.files import read_jsonl, write_json, write_text_atomically
from iarc_hf.hub.cards import model_card
from iarc_hf.viz.plots import plot_training_curve

METRICS_LOG = "metrics.jsonl"
FINAL_FILES = ("README.md", "training_curve.png", "training_args.json", "all_results.json")
PAPER_WINDOWS = 8000 * 200  # the paper's budget: 8000 steps of 200 windows


@dataclass(frozen=True)
class TrainingOutcome:
    """What the loop knows when it ends: steps done (fewer when --stop_at_accuracy ended the
    run), the model's size, the training time, the processes and device, the command."""

    steps: int | None
    params: int
    train_seconds: float
    world_size: int
    device: str
    command: str
    fingerprints: tuple = ()  # which windows each process trained on last


def finalize_run(model, task, model_args, data_args, run, out: Path, outcome: TrainingOutcome):
    """Test evaluation beside the oracle, `save_pretrained`, results, args, curve and card;
    returns the test metrics."""
    # streamed chunk by chunk: the test split of any size is never held whole
    metrics = evaluate_split(
        model,
        task,
        "test",
        data_args.test_size,
        data_args.data_seed,
        run.per_device_eval_batch_size,
    )
    model.save_pretrained(out)  # safetensors, config.json with auto_map, the two code files
    facts = run_facts(task, model_args, data_args, run, outcome)
    write_json(
        out / "all_results.json",
        {**facts, "last_batch_fingerprints": list(outcome.fingerprints), "test": metrics},
    )
    write_json(
        out / "training_args.json",
        {
            "model": {k: v for k, v in asdict(model_args).items() if v is not None},
            "data": asdict(data_args),
            "run": asdict(run),
            "task": task.to_dict(),
            "command": outcome.command,
        },
    )
    title = f"{facts['preset'] or 'model'} on {task.name}"
    records = read_jsonl(out / METRICS_LOG)
    plot_training_curve(
        records, out / "training_curve.png", title, oracle=metrics["oracle_accuracy_all"]
    )
    card = model_card(
        config=model.config,
        run=facts,
        metrics=metrics,
        repo_id=run.hub_model_id or str(out),
        dataset_repo_id=run.dataset_repo_id,
        command=outcome.command,
    )
    write_text_atomically(out / "README.md", str(card))
    print(
        f"\n{title}: test accuracy {metrics['accuracy']:.4f} "
        f"(oracle {metrics['oracle_accuracy']:.4f}), all positions {metrics['accuracy_all']:.4f} "
        f"(oracle {metrics['oracle_accuracy_all']:.4f}), {outcome.params:,} parameters, "
        f"{outcome.train_seconds:.0f} s\nmodel, card and curve in {out}"
    )
    return metrics


def run_facts(task, model_args, data_args, run, outcome: TrainingOutcome) -> dict:
    """How the model was trained, as all_results.json and the model card state it."""
    steps = outcome.steps or run.max_steps  # fewer when --stop_at_accuracy ended the run
    windows = steps * run.per_device_train_batch_size * outcome.world_size
    return {
        "preset": preset_name(model_args),
        "dataset_config": task.name,
        "params": outcome.params,
        "max_steps": steps,
        "stopped_early": steps < run.max_steps,
        "stop_at_accuracy": run.stop_at_accuracy,
        "planned_steps": run.max_steps,
        "batch_size": run.per_device_train_batch_size,
        "world_size": outcome.world_size,
        "windows": windows,
        "data_source": "fresh windows every step"
        if data_args.data_source == "stream"
        else "the train split",
        "optimizer": run.optimizer,
        "learning_rate": run.learning_rate,
        "momentum": run.momentum,
        "lr_scheduler_type": run.lr_scheduler_type,
        "seed": run.seed,
        "train_seconds": outcome.train_seconds,
        "device": outcome.device,
        "scaled_down": windows < PAPER_WINDOWS,
        "test_size": data_args.test_size,
        "data_seed": data_args.data_seed,
    }


def preset_name(model_args) -> str | None:
    """The preset a run trained, None for a saved model or a `--model_type` backbone."""
    if model_args.model_name_or_path is not None or getattr(model_args, "model_type", None):
        return None
    return model_args.preset
