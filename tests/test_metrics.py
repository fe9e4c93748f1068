"""Metrics on hand-made windows."""

import math

import numpy as np
import pytest

from iarc_hf.eval.metrics import METRIC_NAMES, compute_metrics, last_labelled_position


def batch():
    return {
        "labels": np.array([[1, 2, 3, 4], [5, 6, 7, -100]]),
        "task_ids": np.array([[0, 0, 1, 1], [2, 2, 2, -1]]),
        "context_steps": np.array([[0, 1, 0, 0], [0, 0, 1, 0]]),
        "determined": np.array([[False, True, True, True], [False, False, True, False]]),
    }


def test_hand_computed():
    predictions = np.array([[1, 0, 3, 4], [5, 6, 0, 9]])
    metrics = compute_metrics(predictions, batch())
    assert set(metrics) == set(METRIC_NAMES)
    # last labelled positions: (0, 3) right, (1, 2) wrong
    assert metrics["accuracy"] == 0.5
    assert metrics["accuracy_all"] == 5 / 7
    assert metrics["accuracy_determined"] == 2 / 4
    assert metrics["accuracy_I"] == 1 / 2
    assert metrics["accuracy_A"] == 1.0
    assert metrics["accuracy_R"] == 2 / 3
    assert metrics["accuracy_C"] == 0.0
    # at the last labelled position: window 0 is A (right), window 1 is R after a C (wrong)
    assert metrics["accuracy_last_A"] == 1.0
    assert metrics["accuracy_last_R"] == 0.0
    assert math.isnan(metrics["accuracy_last_I"])
    assert metrics["accuracy_last_C"] == 0.0


def test_prefix_and_empty_slices():
    b = batch()
    b["context_steps"][:] = 0
    metrics = compute_metrics(b["labels"], b, prefix="oracle_")
    assert metrics["oracle_accuracy"] == 1.0
    assert math.isnan(metrics["oracle_accuracy_C"])


def test_last_labelled_position():
    labels = np.array([[1, -100, -100], [1, 2, 3], [-100, 4, -100]])
    assert last_labelled_position(labels).tolist() == [0, 2, 1]
    with pytest.raises(ValueError, match="labels"):
        last_labelled_position(np.array([[-100, -100]]))


def test_shape_mismatch():
    with pytest.raises(ValueError, match="shape"):
        compute_metrics(np.zeros((2, 3)), batch())


@pytest.mark.parametrize(
    ("config", "title"),
    [("IARC", "cisformer-ea on IARC"), ("IA", "cisformer-ea on IARC (config IA)")],
)
def test_model_card_title_names_the_config_once(config, title):
    from iarc_hf.hub.cards import card_title

    assert card_title("cisformer-ea", config) == title
