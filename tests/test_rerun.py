"""`reproduce.py rerun RESULT.json`: the same run trained again lands on the same metrics."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import reproduce  # noqa: E402  (as tests/test_reproduce.py imports it)


@pytest.fixture(scope="module")
def tiny_result(tmp_path_factory):
    root = tmp_path_factory.mktemp("rerun")
    reproduce.main(["run", "smoke", "--filter", "transformer-dpa*", "--seeds", "0",
                      "--max_steps", "4", "--threads", "1", "--results_dir", str(root / "results"),
                      "--runs_dir", str(root / "runs")])  # fmt: skip
    (path,) = (root / "results" / "smoke").glob("*.json")
    return path


def test_the_json_records_the_command_and_provenance_to_rerun_it(tiny_result):
    record = json.loads(tiny_result.read_text())
    assert record["command"] == (
        "python scripts/reproduce.py run smoke --filter transformer-dpa_IARC_num_hidden_layers=1 "
        "--seeds 0 --max_steps 4 --threads 1"
    )
    provenance = record["provenance"]
    assert provenance["torch_threads"] == 1 and provenance["versions"]["torch"]
    assert {"git_commit", "git_dirty", "cpu", "device", "python"} <= set(provenance)
    assert record["budget"] == "scaled down"


def test_rerun_on_the_same_machine_and_threads_is_bit_exact(tiny_result, tmp_path, capsys):
    done = reproduce.main(["rerun", str(tiny_result), "--scratch", str(tmp_path)])
    assert done is None  # main prints; the differences are in the output
    out = capsys.readouterr().out
    assert "bit-exact: every metric equal" in out
    assert "accuracy " in out and "+0.000000" in out


def test_rerun_of_a_run_that_no_longer_exists_is_a_one_line_error(tiny_result, tmp_path):
    record = json.loads(tiny_result.read_text())
    record["name"] = "gone_IARC"
    path = tmp_path / "gone.json"
    path.write_text(json.dumps(record))
    with pytest.raises(SystemExit, match="no run named 'gone_IARC'"):
        reproduce.main(["rerun", str(path)])


def test_rerun_of_a_missing_file_names_it(tmp_path):
    with pytest.raises(SystemExit, match="does not exist"):
        reproduce.main(["rerun", str(tmp_path / "none.json")])
