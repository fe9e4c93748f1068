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
def hub_errors(repo_id: str, folder: Path):
    """Turn network, auth and offline failures into one `HubPushError` naming the folder kept."""
    try:
        yield
    except HubPushError:
        raise
    except Exception as error:  # noqa: BLE001 - every failure of the push means the same to the user
        raise HubPushError(
            f"pushing to {repo_id!r} failed ({type(error).__name__}: {error}). "
            f"The local folder {folder} is intact; push it later with "
            f"`python scripts/push_to_hub.py {folder} {repo_id}`."
        ) from error
