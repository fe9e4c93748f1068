"""Streamed evaluation: a split scored chunk by chunk gives exactly the one-shot metrics."""

import json

import numpy as np
import pytest
import torch

import iarc_hf.data.generator as generator
from iarc_hf.configuration_iarc import IARCConfig
from iarc_hf.data.generator import generate_split, iter_split
from iarc_hf.data.tasks import IARCTask
from iarc_hf.eval.evaluation import batches_of, evaluate_model, evaluate_split, predict
from iarc_hf.eval.metrics import (
    add_counts,
    compute_metrics,
    metric_counts,
    metrics_from_counts,
    oracle_metrics,
)
from iarc_hf.modeling_iarc import IARCModel


def same(a: dict, b: dict) -> bool:
    """Equal metric dicts, NaN equal to NaN (an empty slice), keys in the same order."""
    return json.dumps(a) == json.dumps(b)


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 100 windows: a split of a few hundred windows crosses chunk and batch boundaries."""
    monkeypatch.setattr(generator, "CHUNK_SIZE", 100)


def tiny_model(task: IARCTask):
    torch.manual_seed(0)
    config = IARCConfig.from_preset("cisformer-ea", num_hidden_layers=1).for_task(
        task.n_symbols, task.n_controls, task.context_length, task.encoding
    )
    return IARCModel(config)


@pytest.mark.parametrize("config, encoding", [("IARC", "tape"), ("IA", "tape"), ("IAR", "inline")])
def test_counts_summed_over_pieces_equal_the_metrics_of_the_whole(config, encoding):
    task = IARCTask(config, encoding=encoding)
    batch = generate_split(task, "test", 1000, seed=3)
    rng = np.random.default_rng(0)
    noise = rng.integers(0, task.n_symbols, batch["labels"].shape)
    predictions = np.where(rng.random(noise.shape) < 0.6, batch["labels"], noise)
    total = None
    for start, stop in [(0, 7), (7, 300), (300, 301), (301, 1000)]:
        piece = {key: value[start:stop] for key, value in batch.items()}
        total = add_counts(total, metric_counts(predictions[start:stop], piece))
    assert same(metrics_from_counts(total), compute_metrics(predictions, batch))


def test_batches_of_regroups_chunks_into_whole_batches():
    chunks = [{"input_ids": np.arange(a, b)} for a, b in [(0, 3), (3, 8), (8, 10)]]
    batches = list(batches_of(chunks, 4))
    assert [b["input_ids"].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


@pytest.mark.parametrize("size, batch_size", [(250, 64), (200, 100), (1, 1000)])
def test_evaluate_split_equals_evaluate_model_on_the_whole_split(small_chunks, size, batch_size):
    task = IARCTask("IARC")
    model = tiny_model(task)
    assert len(list(iter_split(task, "test", size, 0))) == -(-size // 100)  # several chunks
    whole = generate_split(task, "test", size, seed=0)
    streamed = evaluate_split(model, task, "test", size, 0, batch_size)
    assert same(streamed, evaluate_model(model, task, whole, batch_size))


def test_evaluate_model_equals_the_one_shot_formula():
    """The metrics before streaming: predictions of the whole batch, then compute_metrics."""
    task = IARCTask("IAR")
    model = tiny_model(task)
    batch = generate_split(task, "validation", 300, seed=1)
    expected = {
        **compute_metrics(predict(model, batch, 128), batch),
        **oracle_metrics(task, batch),
    }
    assert same(evaluate_model(model, task, batch, 128), expected)
    assert model.training  # the mode is given back


def test_an_empty_batch_is_a_clear_error():
    task = IARCTask("IA")
    empty = {key: value[:0] for key, value in generate_split(task, "test", 1, 0).items()}
    with pytest.raises(ValueError, match="no windows"):
        evaluate_model(tiny_model(task), task, empty)
