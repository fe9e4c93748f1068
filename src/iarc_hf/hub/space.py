"""The explorer as a Hugging Face Space: `spaces/explorer/` plus the `iarc_hf` package it imports,
assembled into one folder and uploaded with `huggingface_hub` (`scripts/push_space.py`)."""

from __future__ import annotations

import shutil
from pathlib import Path

from iarc_hf.files import partial_sibling, replace_folder
from iarc_hf.hub.push import HubPushError, hub_errors, require_token

SPACE_FILES = ("app.py", "README.md", "requirements.txt")


def build_space_folder(source, dest) -> Path:
    """`source`'s Space files and a copy of this package in `dest` (replaced if it exists)."""
    source, dest = Path(source), Path(dest)
    missing = [name for name in SPACE_FILES if not (source / name).is_file()]
    if missing:
        raise HubPushError(f"{source} lacks the Space files {missing}")
    partial = partial_sibling(dest)
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name in SPACE_FILES:
        shutil.copy2(source / name, partial / name)
    package = Path(__file__).resolve().parents[1]  # iarc_hf/, not iarc_hf/hub/
    shutil.copytree(package, partial / "iarc_hf", ignore=shutil.ignore_patterns("__pycache__"))
    # the leaderboard tab's rows: the finished leaderboard runs' JSONs (results/ beside the app)
    leaderboard = package.parents[1] / "results" / "leaderboard"
    if leaderboard.is_dir():
        shutil.copytree(leaderboard, partial / "results" / "leaderboard")
    return replace_folder(partial, dest)


def push_space(folder, repo_id: str, private: bool = False) -> str:
    """`create_repo(space_sdk="gradio")` + `upload_folder` of an assembled Space folder."""
    from huggingface_hub import HfApi

    folder = Path(folder)
    require_token(repo_id)
    api = HfApi()
    retry = f"python scripts/push_space.py {repo_id}"
    with hub_errors(repo_id, folder, retry=retry):
        url = api.create_repo(
            repo_id, repo_type="space", space_sdk="gradio", private=private, exist_ok=True
        )
        api.upload_folder(
            repo_id=repo_id,
            repo_type="space",
            folder_path=str(folder),
            commit_message="IARC explorer: app, card and the iarc_hf package",
        )
    return str(url)
