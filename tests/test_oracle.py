"""The oracle: equal to the spec's literal hypothesis-by-hypothesis version, never wrong
where it says `determined`, and reaching the ceilings the spec expects."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from literal_oracle import literal_oracle

from iarc_hf.data.builder import all_control_sets
from iarc_hf.data.generator import generate
from iarc_hf.data.oracle import oracle_predict
from iarc_hf.data.tasks import IARCTask
from iarc_hf.eval.metrics import oracle_metrics


@settings(max_examples=40, deadline=None)
@given(
    controls=st.sampled_from(all_control_sets()),
    n_symbols=st.integers(2, 12),
    max_gap=st.integers(1, 6),
    context_length=st.integers(2, 20),
    seed=st.integers(0, 10**6),
)
def test_vectorised_oracle_equals_literal(controls, n_symbols, max_gap, context_length, seed):
    task = IARCTask(controls, n_symbols=n_symbols, max_gap=max_gap, context_length=context_length)
    batch = generate(task, 12, seed)
    predictions, determined = oracle_predict(task, batch["input_ids"], batch["control_ids"])
    for i in range(12):
        letters = [task.controls[c - 1] if c else None for c in batch["control_ids"][i]]
        expected, expected_determined = literal_oracle(task, list(batch["input_ids"][i]), letters)
        assert predictions[i].tolist() == expected, f"window {i}"
        assert determined[i].tolist() == expected_determined, f"window {i}"
    np.testing.assert_array_equal(determined, batch["determined"])


@pytest.mark.parametrize("encoding", ["tape", "inline"])
@pytest.mark.parametrize("controls", ["IARC", "IAR", "IA", "IR", "RC", "IC"])
def test_oracle_is_right_wherever_determined(controls, encoding):
    task = IARCTask(controls, encoding=encoding)
    batch = generate(task, 3000, 11)
    predictions, determined = oracle_predict(task, batch["input_ids"], batch["control_ids"])
    # inline: whether the last token is followed by a control is beyond the window, so
    # there the oracle cannot know that the position is unlabelled
    labelled = batch["labels"] != -100
    np.testing.assert_array_equal(determined & labelled, batch["determined"])
    determined = batch["determined"]
    assert determined.mean() > 0.5
    assert (predictions[determined] == batch["labels"][determined]).all()


@pytest.mark.parametrize("controls", ["IARC", "IAR", "IA", "IR"])
def test_oracle_ceilings(controls):
    task = IARCTask(controls)
    metrics = oracle_metrics(task, generate(task, 5000, 0))
    assert metrics["oracle_accuracy"] > 0.999  # the last position is almost always determined
    assert 0.85 < metrics["oracle_accuracy_all"] < 0.97
    assert metrics["oracle_accuracy_determined"] == 1.0


def test_iarc_all_positions_ceiling_is_about_090():
    task = IARCTask("IARC")
    metrics = oracle_metrics(task, generate(task, 10000, 1))
    assert abs(metrics["oracle_accuracy_all"] - 0.90) < 0.03


def test_before_any_task_control_nothing_is_determined():
    # a window that starts under R and shows no control: every symbol needs the unseen past
    task = IARCTask("IARC", context_length=4)
    _, determined = oracle_predict(task, np.array([[3, 5, 7, 1]]), np.zeros((1, 4), int))
    assert not determined.any()
