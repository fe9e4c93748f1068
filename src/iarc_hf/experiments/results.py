"""Result JSONs read back checked: a file cut short or missing a field is no result.

Results are written atomically, but a copy, a merge or a full disk can still leave one
broken; `plan` and `run` then count its run as not done, and `report` skips it by name.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from iarc_hf.experiments.registry import EXPERIMENTS

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


def load_results(results_dir) -> list[dict]:
    """Every run record of the named experiments (not the benchmarks or analyses beside them,
    such as results/frontier/errors.json). A file that does not parse, or a record that lacks
    a field, is skipped with a warning on stderr naming it (`reproduce.py run` redoes it)."""
    records = []
    for path in sorted(Path(results_dir).glob("*/*.json")):
        if path.parent.name not in EXPERIMENTS:
            continue
        try:
            record = parse_json(path)
            if isinstance(record, dict) and record.get("experiment") == path.parent.name:
                records.append(check_record(record, path))
        except BrokenResult as error:
            print(f"warning: skipped {error}; `reproduce.py run` redoes that run", file=sys.stderr)
    return records
