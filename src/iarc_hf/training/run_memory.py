"""Whether a training run's batches, splits and model fit in memory, checked before compute.

`check_arguments` calls `check_run_memory` with the model config and the data task; a refusal
names the argument, the estimated memory (`iarc_hf.memory`) and the most that fits. The task's
own knobs (stream length) are bounded where `IARCTask` is validated.
"""

from __future__ import annotations

from collections.abc import Callable

from iarc_hf.memory import (
    generator_bytes,
    largest_fitting,
    model_bytes,
    parameter_count,
    refuse_above_cap,
    split_bytes,
    too_big,
)


def check_run_memory(config, task, data_args, run) -> None:
    """ValueError naming the first argument whose batch, split or model step is too big."""
    _check_data(task, data_args, run)
    _check_model(config, data_args, run)


def _refuse(name: str, value: int, bytes_of: Callable[[int], float], what: str, too_many=""):
    """Refuse `--name value` when `bytes_of(value)` is above the cap, saying the most that fits
    (or `too_many`, what to make smaller, when not even 1 fits)."""
    if not too_big(bytes_of(value)):
        return
    most = largest_fitting(bytes_of, start=1)
    advice = f"at most --{name} {most} fits" if most >= 1 else f"even 1 does not fit: {too_many}"
    refuse_above_cap(bytes_of(value), f"--{name} {value} ({what})", advice)


def _check_data(task, data_args, run) -> None:
    length, inline = task.context_length, task.encoding == "inline"
    if data_args.data_source == "stream":
        _refuse(
            "per_device_train_batch_size",
            run.per_device_train_batch_size,
            lambda n: generator_bytes(task.stream_length, length, n, inline),
            f"generating one batch of windows from streams of {task.stream_length:,} symbols",
        )
    else:
        _refuse("train_size", data_args.train_size, lambda n: split_bytes(length, n),
                "holding the train split")  # fmt: skip
    for name, split in (("eval_size", "validation"), ("test_size", "test")):
        _refuse(name, getattr(data_args, name), lambda n: split_bytes(length, n),
                f"holding the {split} split of windows of {length} positions")  # fmt: skip


def _check_model(config, data_args, run) -> None:
    parameters = parameter_count(config)
    model = (
        f"a {parameters:,}-parameter {getattr(config, 'architecture', config.model_type)} on windows of --context_length "
        f"{config.context_length}"
    )
    smaller = "a smaller model, n_symbols or --context_length"
    _refuse(
        "per_device_train_batch_size",
        run.per_device_train_batch_size,
        lambda n: model_bytes(config, n, training=True, parameters=parameters),
        f"one training step of {model}: weights, gradients, optimizer state, activations",
        smaller,
    )
    # an evaluation batch holds at most the windows of the larger split
    split = max(("test_size", data_args.test_size), ("eval_size", data_args.eval_size),
                key=lambda named: named[1])  # fmt: skip
    batch = ("per_device_eval_batch_size", run.per_device_eval_batch_size)
    name, windows = batch if batch[1] <= split[1] else split
    _refuse(
        name,
        windows,
        lambda n: model_bytes(config, n, training=False, parameters=parameters),
        f"one evaluation batch of {model}",
        smaller,
    )
