"""Talking to the Hub: a token check before any work, and one clear error for any failure."""

from __future__ import annotations

import contextlib
from pathlib import Path


class HubPushError(RuntimeError):
    """Pushing failed; the local folder is untouched."""


def require_token(repo_id: str) -> None:
    from huggingface_hub import get_token

    if not get_token():
        raise HubPushError(
            f"cannot push to {repo_id!r}: no Hugging Face token. Run `hf auth login` or set HF_TOKEN."
        )


@contextlib.contextmanager
def hub_errors(repo_id: str, folder: Path, retry: str | None = None):
    """Turn network, auth and offline failures into one `HubPushError` naming the folder kept
    and the command (`retry`) that pushes it later."""
    retry = retry or f"python scripts/push_to_hub.py {folder} {repo_id}"
    try:
        yield
    except HubPushError:
        raise
    except Exception as error:  # noqa: BLE001 - every failure of the push means the same to the user
        raise HubPushError(
            f"pushing to {repo_id!r} failed ({type(error).__name__}: {error}). "
            f"The local folder {folder} is intact; push it later with `{retry}`."
        ) from error


def publishable_files(folder) -> list[str]:
    """The final model folder's files: everything but checkpoints and half-written files."""
    folder = Path(folder)
    return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def push_model_folder(folder, repo_id: str, private: bool = False) -> str:
    """`create_repo` + `upload_folder` of exactly `publishable_files(folder)`."""
    from huggingface_hub import HfApi

    folder = Path(folder)
    files = publishable_files(folder)
    if "config.json" not in files or not any(f.endswith(".safetensors") for f in files):
        raise HubPushError(
            f"{folder} holds no saved model (config.json and *.safetensors); nothing pushed"
        )
    require_token(repo_id)
    api = HfApi()
    with hub_errors(repo_id, folder):
        url = api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_folder(
            repo_id=repo_id,
            folder_path=str(folder),
            allow_patterns=files,
            commit_message=f"Upload {folder.name}: weights, code, card and results",
        )
    return str(url)
