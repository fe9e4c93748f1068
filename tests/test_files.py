"""The package's one home for files written whole or not at all (iarc_hf.files): a file or a
folder is the old one or the new one, never half of one, and no temporary is left behind; a
run's log is read without matplotlib."""

import json
import subprocess
import sys

import pytest

from iarc_hf.files import (
    partial_sibling,
    read_jsonl,
    replace_folder,
    replaced_atomically,
    write_json,
    write_text_atomically,
)


def test_a_file_is_replaced_whole(tmp_path):
    path = tmp_path / "deep" / "notes.txt"
    write_text_atomically(path, "old")
    write_text_atomically(path, "new")
    assert path.read_text() == "new"
    assert sorted(p.name for p in path.parent.iterdir()) == ["notes.txt"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "curve.png"
    path.write_text("old")
    with pytest.raises(RuntimeError, match="disk full"):
        with replaced_atomically(path, suffix=".png") as partial:
            assert partial.name == ".curve.png.partial.png"
            partial.write_text("half")
            raise RuntimeError("disk full")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["curve.png"]


def test_json_has_no_nan(tmp_path):
    write_json(tmp_path / "r.json", {"accuracy_C": float("nan"), "n": 1})
    assert json.loads((tmp_path / "r.json").read_text()) == {"accuracy_C": None, "n": 1}


def test_a_folder_is_swapped_in_and_the_old_one_removed(tmp_path):
    target = tmp_path / "IA"
    target.mkdir()
    (target / "old.parquet").write_text("old")
    staging = partial_sibling(target)
    staging.mkdir()
    (staging / "new.parquet").write_text("new")
    assert replace_folder(staging, target) == target
    assert [p.name for p in target.iterdir()] == ["new.parquet"]
    assert [p.name for p in tmp_path.iterdir()] == ["IA"]


def test_read_jsonl_skips_blank_lines_and_a_missing_file_is_empty(tmp_path):
    log = tmp_path / "metrics.jsonl"
    log.write_text('{"step": 1}\n\n{"step": 2}\n')
    assert read_jsonl(log) == [{"step": 1}, {"step": 2}]
    assert read_jsonl(tmp_path / "none.jsonl") == []


@pytest.mark.integration
def test_reading_a_run_log_imports_no_matplotlib(tmp_path):
    # a fresh process: this one has imported matplotlib for other tests already
    code = (
        "import sys; from iarc_hf.files import read_jsonl; "
        "from iarc_hf.experiments.registry import result_record; "
        f"read_jsonl({str(tmp_path / 'metrics.jsonl')!r}); "
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
