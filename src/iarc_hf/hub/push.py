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


# What a model repo needs besides the weights and the remote code: the card, how the model was
# trained, its results, the log of every evaluation (the card points to it) and the curve.
# Checkpoints, tracker folders, stray files and half-written `.partial` files stay local.
MODEL_REPO_FILES = (
    "config.json",
    "README.md",
    "training_args.json",
    "all_results.json",
    "metrics.jsonl",
    "training_curve.png",
)
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
SHARD_PATTERN = "model-*-of-*.safetensors"  # save_pretrained's shards of a large model


def publishable_files(folder) -> list[str]:
    """The files of a finished model folder that its Hub repo needs: `save_pretrained`'s
    weights and config.json, the remote-code files config.json's `auto_map` names (with the
    files they import), and the card, arguments, results, log and curve `finalize_run` writes."""
    folder = Path(folder)
    names = [*MODEL_REPO_FILES, *WEIGHT_FILES, *(p.name for p in folder.glob(SHARD_PATTERN))]
    names += remote_code_files(folder)
    return sorted({name for name in names if (folder / name).is_file()})


def remote_code_files(folder: Path) -> list[str]:
    """The .py files `trust_remote_code` loads: the modules of config.json's `auto_map` and
    their sibling-relative imports (found as transformers finds them)."""
    import json

    from transformers.dynamic_module_utils import get_relative_import_files

    config = folder / "config.json"
    if not config.is_file():
        return []
    auto_map = json.loads(config.read_text()).get("auto_map", {})
    references = [r for value in auto_map.values() for r in _as_list(value) if r]
    # "module.Class", or "repo--module.Class" for code kept in another repo
    modules = {f"{r.split('--')[-1].rsplit('.', 1)[0]}.py" for r in references}
    files = set()
    for module in modules:
        if (folder / module).is_file():
            files.add(module)
            files.update(Path(f).name for f in get_relative_import_files(str(folder / module)))
    return sorted(files)


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def push_model_folder(folder, repo_id: str, private: bool = False) -> str:
    """`create_repo` + `upload_folder` of exactly `publishable_files(folder)`."""
    from huggingface_hub import HfApi

    folder = Path(folder)
    check_repo_id(repo_id)
    if not folder.is_dir():
        problem = "is a file, not a folder" if folder.exists() else "does not exist"
        raise HubPushError(f"folder {folder} {problem}; nothing pushed")
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


def check_repo_id(repo_id: str) -> None:
    """HubPushError unless `repo_id` is a valid Hub id (`owner/name`)."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise HubPushError(f"repo_id {repo_id!r} is not a Hub id (owner/name): {error}") from None
