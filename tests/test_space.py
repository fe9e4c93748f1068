"""The explorer Space: the assembled folder runs on its own copy of the package, its requirements
match the package's, its card is a Gradio Space card, and the push is real huggingface_hub calls
(recorded here)."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from iarc_hf.hub.push import HubPushError
from iarc_hf.hub.space import SPACE_FILES, build_space_folder, push_space

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "spaces" / "explorer"


@pytest.fixture(scope="module")
def space(tmp_path_factory):
    return build_space_folder(SOURCE, tmp_path_factory.mktemp("space") / "space")


def test_folder_holds_the_app_and_the_package(space):
    assert all((space / name).is_file() for name in SPACE_FILES)
    assert (space / "iarc_hf" / "viz" / "explorer.py").is_file()
    assert (space / "iarc_hf" / "hub" / "templates" / "model_card.md").is_file()
    assert not list(space.rglob("__pycache__"))
    assert not list(space.parent.glob(".*partial*"))


@pytest.mark.integration
def test_the_app_imports_the_copied_package(space):
    code = "import app, iarc_hf; print(iarc_hf.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=space, capture_output=True, text=True, check=True
    ).stdout
    assert Path(out.strip()).resolve().is_relative_to(space.resolve())


def test_requirements_are_the_package_dependencies_plus_gradio():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lines = (SOURCE / "requirements.txt").read_text().splitlines()
    wanted = [line for line in lines if line and not line.startswith("#")]
    assert wanted == project["dependencies"] + project["optional-dependencies"]["explorer"]


def test_card_is_a_gradio_space_card():
    text = (SOURCE / "README.md").read_text()
    meta = yaml.safe_load(text.split("---")[1])
    assert (meta["sdk"], meta["app_file"]) == ("gradio", "app.py")
    import gradio

    assert meta["sdk_version"].split(".")[0] == gradio.__version__.split(".")[0]


def test_push_records_the_calls(space, hub_calls):
    calls = hub_calls
    url = push_space(space, "someone/iarc-explorer", private=True)
    assert url == "https://huggingface.co/spaces/someone/iarc-explorer"
    (_, repo_id, create), (_, upload) = calls
    assert (repo_id, create["repo_type"], create["space_sdk"], create["private"]) == (
        "someone/iarc-explorer",
        "space",
        "gradio",
        True,
    )
    assert (upload["repo_type"], upload["folder_path"]) == ("space", str(space))


def test_push_without_token_is_a_clear_error(space, monkeypatch):
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    with pytest.raises(HubPushError, match="no Hugging Face token"):
        push_space(space, "someone/x")


def test_missing_space_files_are_named(tmp_path):
    with pytest.raises(HubPushError, match="lacks the Space files"):
        build_space_folder(tmp_path, tmp_path / "out")


def test_the_space_carries_the_leaderboard_results(space):
    repo_results = Path(__file__).resolve().parents[1] / "results" / "leaderboard"
    copied = sorted(p.name for p in (space / "results" / "leaderboard").glob("*.json"))
    assert copied == sorted(p.name for p in repo_results.glob("*.json")) and copied
