"""Files written whole or not at all (a temporary sibling renamed into place), and a run's
JSON-lines log read back."""

from __future__ import annotations

import contextlib
import json
import math
import shutil
from pathlib import Path


def partial_sibling(path, suffix: str = "") -> Path:
    """The hidden sibling `path` is written to before it is renamed into place:
    `.NAME.partial` (with `suffix`, e.g. ".png" for a writer that reads the extension)."""
    path = Path(path)
    return path.with_name(f".{path.name}.partial{suffix}")


@contextlib.contextmanager
def replaced_atomically(path, suffix: str = ""):
    """Yields the temporary sibling to write; renamed onto `path` once the block succeeds,
    removed if it fails, so `path` is the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_sibling(path, suffix)
    try:
        yield partial
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def write_text_atomically(path, text: str) -> None:
    with replaced_atomically(path) as partial:
        partial.write_text(text)


def write_json(path, value) -> None:
    """Indented JSON, NaN as null (JSON has no NaN), written atomically."""
    write_text_atomically(path, json.dumps(_strict(value), indent=2, default=str) + "\n")


def _strict(value):
    """JSON has no NaN: a metric over an empty slice (no C in IA, say) becomes null."""
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def replace_folder(staging, target) -> Path:
    """Swap the finished folder `staging` in as `target`: an old `target` is moved aside first
    and removed last, so a crash leaves the old folder or the new one in place."""
    staging, target = Path(staging), Path(target)
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def read_jsonl(path) -> list[dict]:
    """The records of a JSON-lines file (a run's metrics.jsonl); none if it does not exist."""
    path = Path(path)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_jsonl(path, records) -> None:
    """`records` as JSON lines, written atomically (read back with `read_jsonl`)."""
    write_text_atomically(path, "".join(json.dumps(r) + "\n" for r in records))
