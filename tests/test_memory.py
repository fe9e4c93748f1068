"""The memory estimates behind the size checks: units, the most that fits, and the generator's
estimate against the peak it measures."""

import tracemalloc

import pytest

from iarc_hf.configuration_iarc import PRESETS, IARCConfig
from iarc_hf.data.generator import generate
from iarc_hf.data.tasks import IARCTask
from iarc_hf.memory import (
    MEMORY_CAP_BYTES,
    format_bytes,
    generator_bytes,
    largest_fitting,
    model_bytes,
    parameter_count,
)
from iarc_hf.modeling_iarc import IARCModel


@pytest.mark.parametrize(
    "n, text", [(0, "0.0 B"), (1023, "1023.0 B"), (1536, "1.5 KiB"), (16 * 2**30, "16.0 GiB"),
                (59.6 * 2**40, "59.6 TiB"), (3 * 2**60, "3072.0 PiB")],
)  # fmt: skip
def test_format_bytes(n, text):
    assert format_bytes(n) == text


@pytest.mark.parametrize("per_item", [1, 1000, 12345, MEMORY_CAP_BYTES // 3])
def test_largest_fitting_is_the_last_value_under_the_cap(per_item):
    most = largest_fitting(lambda n: n * per_item, start=1)
    assert most * per_item <= MEMORY_CAP_BYTES < (most + 1) * per_item


def test_largest_fitting_when_nothing_fits():
    assert largest_fitting(lambda n: MEMORY_CAP_BYTES + n, start=2) == 1


@pytest.mark.parametrize(
    "knobs",
    [
        {},
        {"encoding": "inline"},
        {"max_gap": 200, "context_length": 100},
        {"n_symbols": 16384},  # int64 symbols
        {"controls": "IA", "context_length": 600},
    ],
)
def test_generator_estimate_is_at_or_above_the_measured_peak(knobs):
    task = IARCTask(**knobs)
    n = 1000
    tracemalloc.start()
    try:
        generate(task, n, 0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    estimate = generator_bytes(
        task.stream_length, task.context_length, n, task.encoding == "inline"
    )
    assert peak <= estimate <= 4 * peak


@pytest.mark.parametrize("preset", PRESETS)
def test_parameter_count_is_the_models(preset):
    config = IARCConfig.from_preset(preset).for_task(16, 4, 24)
    assert parameter_count(config) == sum(p.numel() for p in IARCModel(config).parameters())


def test_model_estimate_grows_with_batch_and_window():
    config = IARCConfig.from_preset("transformer-ea").for_task(16, 4, 24)
    longer = IARCConfig.from_preset("transformer-ea").for_task(16, 4, 48)
    one, two = (model_bytes(config, n, training=True) for n in (1, 2))
    per_window = two - one  # the weights, gradients and optimizer state are there once
    assert 0 < per_window < one
    longer_per_window = model_bytes(longer, 2, training=True) - model_bytes(
        longer, 1, training=True
    )
    assert longer_per_window > 2 * per_window  # attention maps grow with the square of the window
    assert model_bytes(config, 100, training=False) < model_bytes(config, 100, training=True)
