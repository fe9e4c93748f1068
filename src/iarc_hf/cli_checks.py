"""Checks the scripts make on their arguments before any work: a bad value is one line that
names the argument and what it allows, not a traceback from deep inside a library."""

from __future__ import annotations

import argparse
from pathlib import Path


def int_at_least(minimum: int):
    """An argparse `type`: an integer >= `minimum`, else argparse's one-line usage error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def require_positive_int(name: str, value) -> None:
    """ValueError `--NAME must be a positive integer, got VALUE` unless `value` is an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"--{name} must be a positive integer, got {value!r}")


def exit_unless_positive(args, *names: str) -> None:
    """`require_positive_int` for each argument in `names` that is set (not None), as a
    one-line SystemExit: for scripts that check their counts after parsing."""
    for name in names:
        value = getattr(args, name, None)
        if value is not None:
            try:
                require_positive_int(name, value)
            except ValueError as error:
                raise SystemExit(str(error)) from None


def writable_path_problem(path, kind: str) -> str | None:
    """None if a `kind` ("folder" or "file") can be written at `path` (its missing parents
    created), else what is in the way."""
    path = Path(path)
    if path.exists():
        if kind == "folder" and not path.is_dir():
            return f"{path} is a file, not a folder"
        if kind == "file" and path.is_dir():
            return f"{path} is a folder, not a file"
        return None
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    return None if parent.is_dir() else f"{parent} is a file, so {path} cannot be made inside it"


def model_folder_problem(model: str) -> str | None:
    """None if `model` is a saved model folder here, or is no path here and may name a Hub
    repo (`owner/name`); else what is wrong with it."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    path = Path(model)
    if path.exists():
        if not path.is_dir():
            return f"{model} is a file, not a model folder"
        if not (path / "config.json").is_file():
            return f"{model} holds no config.json: it is not a saved model folder"
        return None
    try:
        validate_repo_id(model)
    except HFValidationError:
        return f"{model} does not exist (and is not a Hub id, owner/name)"
    return None
