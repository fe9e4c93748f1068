"""scripts/plot_attention.py on a tiny trained checkpoint: a PNG of the expected size; the anchors
of R positions; models without attention and bad indices are clear errors."""

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import plot_attention  # noqa: E402
from tiny_checkpoints import tiny_checkpoint  # noqa: E402

from iarc_hf.viz.attention_maps import anchors, figure_size, pick_window  # noqa: E402


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt"))


@pytest.mark.parametrize("overview", [False, True])
def test_plot_is_a_png_of_the_expected_size(checkpoint, tmp_path, overview, capsys):
    output = tmp_path / "maps.png"
    extra = ["--overview"] if overview else []
    plot_attention.main([str(checkpoint), "--size", "50", "--output", str(output), *extra])
    with Image.open(output) as image:
        assert image.format == "PNG"
        assert image.size == figure_size(layers=2, heads=4, overview=overview)
        assert len(set(np.asarray(image.convert("L")).flatten().tolist())) > 10  # not blank
    assert "^" in capsys.readouterr().out  # the window in the spec's notation


def test_r_heavy_window_has_the_most_r_positions_then_the_most_symbols():
    r, i = 2, 0
    batch = {
        "task_ids": np.array([[r, r, i], [r, r, r], [r, r, r], [i, i, i]]),
        "input_ids": np.array([[1, 2, 3], [4, 4, 5], [6, 7, 8], [1, 2, 3]]),
    }
    assert pick_window(batch) == 2  # three R positions, three symbols
    assert pick_window(batch, "3") == 3


def test_anchor_is_the_last_control_at_or_before_each_r_position():
    window = {"control_ids": [0, 1, 0, 3, 0, 0, 4, 0], "task_ids": [-1, 0, 0, 2, 2, 2, 2, 2]}
    assert anchors(window) == [None, None, None, 3, 3, 3, 6, 6]


def test_clear_errors(tmp_path):
    lstm = tiny_checkpoint(tmp_path / "lstm", preset="lstm")
    with pytest.raises(SystemExit, match="no attention maps"):
        plot_attention.main([str(lstm), "--size", "5", "--output", str(tmp_path / "x.png")])
    with pytest.raises(SystemExit, match=r"--index must be in \[0, 4\]"):
        plot_attention.main([str(lstm), "--size", "5", "--index", "9"])
    assert not (tmp_path / "x.png").exists()
