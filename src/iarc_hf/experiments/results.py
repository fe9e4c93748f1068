"""Result JSONs read back checked: a file cut short or missing a field is no result.

Results are written atomically, but a copy, a merge or a full disk can still leave one
broken; `plan` and `run` then count its run as not done, and `report` skips it by name.
"""

from __future__ import annotations

import json
from pathlib import Path

# What every reader relies on (report tables, the search's scores, the sweep's status line).
REQUIRED = ("experiment", "name", "seed", "max_steps", "params", "metrics", "oracle", "curve")


class BrokenResult(ValueError):
    """A result JSON that cannot be used; the message names the file and what is wrong."""


def parse_json(path) -> object:
    """The JSON value in `path`; `BrokenResult` naming the file when it does not parse."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise BrokenResult(f"{path}: broken JSON ({error})") from None


def check_record(record, path) -> dict:
    """`record` if it has every field a result needs; `BrokenResult` naming `path` otherwise."""
    if not isinstance(record, dict):
        raise BrokenResult(f"{path}: not a result record (a JSON object)")
    missing = [key for key in REQUIRED if key not in record]
    metrics = record.get("metrics", {})
    if not isinstance(metrics, dict) or "accuracy" not in metrics:
        missing.append("metrics.accuracy")
    if missing:
        raise BrokenResult(f"{path}: lacks {', '.join(missing)}")
    return record


def read_result(path) -> dict:
    """The checked record of a result JSON (FileNotFoundError when there is none)."""
    return check_record(parse_json(path), path)
