"""The explorer's logic (iarc_hf.explorer): typed windows parse back to the dataset's windows, the
annotation agrees with the dataset's fields wherever the window alone determines them, bad input
is a ValueError that names the cell, and checkpoints' predictions and maps are shown."""

import numpy as np
import pytest
from PIL import Image
from tiny_checkpoints import tiny_checkpoint

from iarc_hf.evaluation import predict
from iarc_hf.explorer import (
    accuracy_lines,
    annotate,
    draw_window,
    explore,
    stacked_maps,
    window_html,
)
from iarc_hf.generator import IGNORE_INDEX, generate_split
from iarc_hf.tasks import PUBLISHED_CONFIGS, IARCTask, format_window, parse_window


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("explorer")
    return {
        "cisformer-ea": str(tiny_checkpoint(root / "cisformer-ea")),
        "lstm": str(tiny_checkpoint(root / "lstm", preset="lstm")),
        "IA": str(tiny_checkpoint(root / "ia", controls="IA")),
    }


@pytest.mark.parametrize("controls", PUBLISHED_CONFIGS)
def test_parse_window_inverts_format_window(controls):
    task = IARCTask(controls)
    batch = generate_split(task, "validation", 50, seed=0)
    for x, c in zip(batch["input_ids"], batch["control_ids"], strict=True):
        assert parse_window(task, format_window(task, x, c)) == (x.tolist(), c.tolist())


@pytest.mark.parametrize("controls", PUBLISHED_CONFIGS)
def test_annotation_agrees_with_the_dataset(controls):
    """Oracle and `determined` equal the dataset's; task and C steps equal it wherever the
    window shows the last I / A / R; labels are the next symbols."""
    task = IARCTask(controls)
    batch = generate_split(task, "validation", 30, seed=1)
    for i in range(30):
        window = annotate(task, draw_window(controls, "validation", 1, i))
        np.testing.assert_array_equal(window["input_ids"], batch["input_ids"][i])
        np.testing.assert_array_equal(window["determined"], batch["determined"][i])
        np.testing.assert_array_equal(window["labels"][:-1], batch["labels"][i][:-1])
        assert window["labels"][-1] == IGNORE_INDEX
        known = window["task_ids"] >= 0
        np.testing.assert_array_equal(window["task_ids"][known], batch["task_ids"][i][known])
        np.testing.assert_array_equal(
            window["context_steps"][known], batch["context_steps"][i][known]
        )
        # the oracle is always right where it is determined
        labelled = window["determined"][:-1]
        assert (window["oracle"][:-1][labelled] == window["labels"][:-1][labelled]).all()


def test_annotation_of_the_spec_example():
    window = annotate(IARCTask(), "7^I 8 9^C 11 13^C 0 3")
    assert window["task_ids"].tolist() == [0] * 7
    assert window["context_steps"].tolist() == [0, 0, 1, 1, 2, 2, 2]
    assert window["oracle"][-1] == 6  # 3 + 3
    before_control = annotate(IARCTask(), "4 9 1 6^R 1 9")
    assert before_control["task_ids"].tolist() == [-1, -1, -1, 2, 2, 2]
    assert before_control["oracle"][-1] == 4  # the mirror around 6^R


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("7^X 8", r"cell 0 \('7\^X'\): unknown control 'X'; IARC has the controls I, A, R, C"),
        ("7^I 8 16", r"cell 2 \('16'\): symbol 16 is out of range; IARC has symbols 0..15"),
        ("7^I -1", r"cell 1 .*whole number 0..15"),
        ("7^I eight", r"cell 1 .*whole number"),
        (" ".join(["1"] * 25), r"too long: 25 symbols, at most 24"),
        ("   ", "empty"),
    ],
)
def test_bad_input_names_the_cell(text, message):
    with pytest.raises(ValueError, match=message):
        annotate(IARCTask(), text)


def test_a_control_outside_the_config_is_refused():
    with pytest.raises(ValueError, match="IA has the controls I, A"):
        annotate(IARCTask("IA"), "7^R 8")


def test_draw_window_checks_the_index():
    with pytest.raises(ValueError, match="window must be in 0..9999"):
        draw_window("IARC", "validation", 0, -1)


def test_explore_shows_predictions_and_maps(checkpoints, tmp_path):
    text = draw_window("IARC", "test", 0, 3)
    ids = [checkpoints["cisformer-ea"], checkpoints["lstm"]]
    result = explore("IARC", text, ids, overview=False, out_dir=tmp_path)
    assert not result.problems
    cis, lstm = result.models
    batch = {key: result.window[key][None] for key in ("input_ids", "control_ids")}
    from iarc_hf.explorer import load_checkpoint

    np.testing.assert_array_equal(cis.predictions, predict(load_checkpoint(ids[0])[0], batch)[0])
    with Image.open(cis.attention_png) as image:
        assert image.format == "PNG"
    assert lstm.attention_png is None  # no attention to draw
    with (
        Image.open(cis.attention_png) as one,
        Image.open(stacked_maps(result, tmp_path / "all.png")) as both,
    ):
        assert both.size == one.size  # the LSTM adds no figure
    result.models.append(cis)
    with Image.open(stacked_maps(result, tmp_path / "two.png")) as two:
        assert two.size == (one.width, 2 * one.height)
    result.models.pop()
    page = window_html(result)
    assert page.count("<tr>") == 7 + 2  # the window's fields, then one row per model
    assert page.count('class="control"') == int((result.window["control_ids"] != 0).sum())
    assert all(cell in page for cell in text.split())
    lines = accuracy_lines(result)
    assert lines[0].startswith("oracle: ") and len(lines) == 3
    assert "/23 next symbols right" in lines[1]


def test_explore_reports_a_bad_checkpoint_and_runs_the_others(checkpoints, tmp_path):
    text = "7^I 8 9"
    missing = str(tmp_path / "no-such-model")
    result = explore("IA", text, [missing, checkpoints["IA"], checkpoints["cisformer-ea"]])
    assert stacked_maps(explore("IA", text, []), tmp_path / "none.png") is None
    assert [view.name for view in result.models] == [checkpoints["IA"]]
    assert result.problems[0].startswith(missing)
    assert "n_controls=4, but dataset config IA-N16 needs 2" in result.problems[1]
