"""The scripts' bad arguments end in one line naming the argument, never a traceback."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import build_dataset  # noqa: E402
import evaluate as evaluate_script  # noqa: E402
import push_to_hub  # noqa: E402


def error_of(main, argv, capsys) -> str:
    """The one-line error `main(argv)` exits with (argparse's on stderr, or SystemExit's)."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    code = exit_info.value.code
    message = code if isinstance(code, str) else capsys.readouterr().err.strip().splitlines()[-1]
    assert "Traceback" not in message
    return message


@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a folder")
    return path


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--size", "0"], "argument --size: must be an integer >= 1, got '0'"),
        (["--size", "-1"], "argument --size: must be an integer >= 1, got '-1'"),
        (["--size", "ten"], "argument --size: must be an integer >= 1, got 'ten'"),
        (["--batch_size", "0"], "argument --batch_size: must be an integer >= 1, got '0'"),
        (["--seed", "-3"], "argument --seed: must be an integer >= 0, got '-3'"),
    ],
)
def test_evaluate_bad_sizes(tmp_path, capsys, extra, expected):
    assert expected in error_of(evaluate_script.main, [str(tmp_path), *extra], capsys)


def test_evaluate_bad_model_paths(tmp_path, a_file, capsys):
    main = evaluate_script.main
    missing = str(tmp_path / "no" / "such" / "run")
    assert "argument model:" in error_of(main, [missing], capsys)
    assert "does not exist" in error_of(main, [missing], capsys)
    assert "is a file, not a model folder" in error_of(main, [str(a_file)], capsys)
    assert "holds no config.json" in error_of(main, [str(tmp_path)], capsys)


def test_evaluate_an_unreachable_hub_id_is_one_line(capsys):
    # offline in tests: the id is tried as a Hub repo and cannot be found
    message = error_of(evaluate_script.main, ["someone/no-such-model"], capsys)
    assert message.startswith("error: argument model: cannot load 'someone/no-such-model'")
    assert "\n" not in message


def test_evaluate_json_inside_a_file(tmp_path, a_file, capsys):
    (tmp_path / "config.json").write_text("{}")
    message = error_of(evaluate_script.main, [str(tmp_path), "--json", f"{a_file}/m.json"], capsys)
    assert "argument --json:" in message and "is a file" in message


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--train_size", "0"], "argument --train_size: must be an integer >= 1, got '0'"),
        (["--validation_size", "-1"], "argument --validation_size: must be an integer >= 1"),
        (["--test_size", "0"], "argument --test_size: must be an integer >= 1, got '0'"),
        (["--seed", "-1"], "argument --seed: must be an integer >= 0, got '-1'"),
        (["--configs", "IAX"], "argument --configs: invalid choice: 'IAX'"),
    ],
)
def test_build_dataset_bad_arguments(tmp_path, capsys, extra, expected):
    argv = ["--output_dir", str(tmp_path / "iarc"), *extra]
    assert expected in error_of(build_dataset.main, argv, capsys)
    assert not (tmp_path / "iarc").exists()  # nothing written


def test_build_dataset_output_dir_that_is_a_file(a_file, capsys):
    message = error_of(build_dataset.main, ["--output_dir", str(a_file)], capsys)
    assert f"argument --output_dir: {a_file} is a file, not a folder" in message
    message = error_of(build_dataset.main, ["--output_dir", f"{a_file}/iarc"], capsys)
    assert "argument --output_dir:" in message and "cannot be made inside it" in message


def test_push_to_hub_bad_folders_and_ids(tmp_path, a_file, capsys):
    missing = tmp_path / "no-run"
    message = error_of(push_to_hub.main, [str(missing), "someone/x"], capsys)
    assert message == f"error: folder {missing} does not exist; nothing pushed"
    message = error_of(push_to_hub.main, [str(a_file), "someone/x"], capsys)
    assert message == f"error: folder {a_file} is a file, not a folder; nothing pushed"
    message = error_of(push_to_hub.main, [str(tmp_path), "someone/x"], capsys)
    assert "holds no saved model" in message
    message = error_of(push_to_hub.main, [str(tmp_path), "not/a/hub/id"], capsys)
    assert message.startswith("error: repo_id 'not/a/hub/id' is not a Hub id")
