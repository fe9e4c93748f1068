"""The explorer's logic (iarc_hf.viz.explorer): typed windows parse back to the dataset's windows,
the annotation agrees with the dataset's fields wherever the window alone determines them, bad input
is a ValueError that names the cell, and checkpoints' predictions and maps are shown. Serving
is safe: a checkpoint's own code never runs, a typed string is only ever a Hub id (and only when
the operator allows typing), a request is capped and leaves no files, one broken checkpoint is
a message beside the others."""

import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from checkpoint_traps import FakeHub, trap_folder, with_config
from tiny_checkpoints import tiny_checkpoint

from iarc_hf.data.generator import generate_split
from iarc_hf.data.tasks import (
    IGNORE_INDEX,
    PUBLISHED_CONFIGS,
    IARCTask,
    format_window,
    parse_window,
)
from iarc_hf.eval.evaluation import predict
from iarc_hf.viz.attention_maps import figure_size
from iarc_hf.viz.explorer import (
    MAX_MAPS_SIZE,
    _load,
    accuracy_lines,
    annotate,
    draw_window,
    explore,
    load_served_checkpoint,
    stacked_maps,
    window_html,
)
from iarc_hf.viz.explorer_checkpoints import MAX_CHECKPOINTS, ServedCheckpoints

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "spaces" / "explorer"))


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
    batch = generate_split(task, "validation", 12, seed=1)
    for i in range(12):
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


def test_explore_shows_predictions_and_maps(checkpoints):
    text = draw_window("IARC", "test", 0, 3)
    ids = [checkpoints["cisformer-ea"], checkpoints["lstm"]]
    result = explore("IARC", text, ids, overview=False)
    assert not result.problems
    cis, lstm = result.models
    batch = {key: result.window[key][None] for key in ("input_ids", "control_ids")}
    np.testing.assert_array_equal(
        cis.predictions, predict(load_served_checkpoint(ids[0])[0], batch)[0]
    )
    assert cis.attention.size == figure_size(layers=2, heads=4, overview=False)
    assert lstm.attention is None  # no attention to draw
    assert stacked_maps(result).size == cis.attention.size  # the LSTM adds no figure
    result.models.append(cis)
    assert stacked_maps(result).size == (cis.attention.width, 2 * cis.attention.height)
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
    assert stacked_maps(explore("IA", text, [])) is None
    assert [view.name for view in result.models] == [checkpoints["IA"]]
    assert result.problems[0].startswith(missing)
    assert "n_controls=4, but dataset config IA-N16 needs 2" in result.problems[1]


def test_a_truncated_checkpoint_is_a_message_beside_the_others(checkpoints, tmp_path):
    broken = shutil.copytree(checkpoints["cisformer-ea"], tmp_path / "broken")
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    ids = [checkpoints["cisformer-ea"], str(broken), checkpoints["lstm"]]
    result = explore("IARC", "7^I 8 9", ids)
    assert [view.name for view in result.models] == [ids[0], ids[2]]
    assert len(result.models[0].predictions) == 3
    (problem,) = result.problems
    assert problem.startswith(f"{broken}: model.safetensors is not a readable safetensors file")


def test_checkpoints_per_request_are_capped(checkpoints):
    with pytest.raises(ValueError, match=f"at most {MAX_CHECKPOINTS} per request, got 5"):
        explore("IARC", "7^I 8", [f"user/model-{i}" for i in range(5)])
    # the same checkpoint twice is one
    result = explore("IARC", "7^I 8", [checkpoints["lstm"]] * (MAX_CHECKPOINTS + 1))
    assert len(result.models) == 1


def test_the_request_temp_folder_is_removed(checkpoints, tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    result = explore("IARC", "7^I 8 9", [checkpoints["cisformer-ea"]], overview=False)
    assert result.models[0].attention is not None and not list(tmp_path.iterdir())


def test_the_stacked_maps_are_capped(checkpoints):
    result = explore("IARC", "7^I 8 9", [checkpoints["cisformer-ea"]], overview=False)
    result.models *= 40
    width, height = stacked_maps(result).size
    assert width <= MAX_MAPS_SIZE[0] and height <= MAX_MAPS_SIZE[1]
    assert height > MAX_MAPS_SIZE[1] - 40  # shrunk to fit, not cut off


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """Typed Hub ids served by a stand-in Hub that records what it is asked for."""
    fake = FakeHub(tmp_path / "hub-cache", {})
    monkeypatch.setattr("huggingface_hub.hf_hub_download", fake.download)
    yield fake
    _load.cache_clear()


def test_a_trap_folder_never_runs_its_code(checkpoints, tmp_path):
    marker = tmp_path / "remote-code-ran"
    trap = trap_folder(Path(checkpoints["cisformer-ea"]), tmp_path / "trap", marker)
    llama = trap_folder(Path(checkpoints["lstm"]), tmp_path / "llama", marker, "llama")
    result = explore("IARC", "7^I 8 9", [str(trap), str(llama)])
    assert [view.name for view in result.models] == [str(trap)]  # loaded as IARC, by our class
    from iarc_hf.hub.safe_loading import MODEL_TYPES

    allowed = tuple(MODEL_TYPES)  # iarc and iarc_backbone
    assert result.problems == [f"{llama}: model_type 'llama' is not an IARC model; only {allowed} load"]  # fmt: skip
    typing_on = ServedCheckpoints(allow_hub_ids=True)
    refused = explore("IARC", "7^I 8 9", [str(trap)], served=typing_on)
    assert not refused.models and "local paths are not served" in refused.problems[0]
    assert not marker.exists()


def test_the_app_handler_never_runs_a_trap_folders_code(checkpoints, tmp_path):
    app = pytest.importorskip("app")  # spaces/explorer/app.py (needs gradio)
    marker = tmp_path / "remote-code-ran"
    trap = str(trap_folder(Path(checkpoints["cisformer-ea"]), tmp_path / "trap", marker))
    for served in (ServedCheckpoints(), ServedCheckpoints(allow_hub_ids=True)):
        message, table, maps = app.on_explore(served, "IARC", "7^I 8 9", [trap], "layers")
        assert "could not run" in message and "oracle" in table and maps is None
    listed = ServedCheckpoints.from_operator([trap])
    message, _, maps = app.on_explore(listed, "IARC", "7^I 8 9", ["trap"], "layers")
    assert re.search(r"^- trap: \d/2 next symbols right", message, re.M)
    assert "could not run" not in message
    assert maps is not None
    assert not marker.exists()


@pytest.mark.parametrize(
    "typed", ["/etc", "./runs", "../main", "~/models", "~", ".", "C:/x", "a\\b", "a/b/c", "x..y"]
)
def test_typed_local_paths_are_refused(hub, typed):
    result = explore("IARC", "7^I 8", [typed], served=ServedCheckpoints(allow_hub_ids=True))
    assert not result.models and not hub.calls
    assert result.problems == [
        f"{typed}: typed checkpoints must be Hub ids (user/name); local paths are not served"
    ]


def test_a_typed_id_is_never_looked_up_on_disk(checkpoints, hub, tmp_path, monkeypatch):
    """`models/tiny` exists here as a folder, `models/none` does not: both are Hub ids only,
    and the answers differ in nothing but the name."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(checkpoints["lstm"], tmp_path / "models" / "tiny")
    served = ServedCheckpoints(allow_hub_ids=True)
    result = explore("IARC", "7^I 8", ["models/tiny", "models/none"], served=served)
    assert not result.models and hub.files() == ["config.json", "config.json"]
    there, absent = result.problems
    assert there.replace("models/tiny", "X") == absent.replace("models/none", "X")


def test_a_typed_hub_id_of_another_type_is_refused_from_its_config(checkpoints, hub, tmp_path):
    hub.repos["someone/llama"] = with_config(Path(checkpoints["lstm"]), tmp_path / "l", model_type="llama")  # fmt: skip
    hub.repos["someone/iarc"] = Path(checkpoints["cisformer-ea"])
    served = ServedCheckpoints(allow_hub_ids=True)
    result = explore("IARC", "7^I 8", ["someone/llama", "someone/iarc"], served=served)
    assert [view.name for view in result.models] == ["someone/iarc"]
    assert "someone/llama: model_type 'llama' is not an IARC model" in result.problems[0]
    assert hub.calls[0] == ("someone/llama", "config.json")
    assert ("someone/llama", "model.safetensors") not in hub.calls


def test_with_typing_off_only_the_listed_checkpoints_run(checkpoints, hub):
    served = ServedCheckpoints.from_operator([checkpoints["lstm"], "someone/listed"])
    assert served.names == ["lstm", "someone/listed"]  # a folder by its name, not its path
    typed = ["lstm", "someone/other", checkpoints["cisformer-ea"], "cisformer-ea"]
    result = explore("IARC", "7^I 8", typed, served=served)
    assert [view.name for view in result.models] == ["lstm"]
    assert len(result.problems) == 3 and not hub.calls
    assert all("not a checkpoint this explorer serves (it serves: lstm, someone/listed)" in p
               for p in result.problems)  # fmt: skip


def test_operator_entries_are_checked(tmp_path, checkpoints):
    with pytest.raises(ValueError, match="no such folder, and not a Hub id"):
        ServedCheckpoints.from_operator([str(tmp_path / "missing")])
    twin = shutil.copytree(checkpoints["lstm"], tmp_path / "lstm")
    with pytest.raises(ValueError, match="another checkpoint is also named 'lstm'"):
        ServedCheckpoints.from_operator([checkpoints["lstm"], str(twin)])
