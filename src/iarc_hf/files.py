"""Files written whole or not at all: a temporary sibling renamed into place."""

from __future__ import annotations

import json
import math
from pathlib import Path


def write_text_atomically(path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    partial.replace(path)


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
