"""What the IARC explorer (`spaces/explorer/app.py`) shows, without the UI: a typed or drawn window
annotated as the window alone tells it (controls, task, C steps, the oracle's prediction and
`determined`), checkpoints' predictions on it, and their attention maps.

Everything the app displays goes through `explore`, so it is tested without a browser; the
app only lays it out. Checkpoints load by the package's own classes within size caps
(`iarc_hf.hub.safe_loading`); which ones a visitor may run is `ServedCheckpoints`'s to say; a
request runs at most MAX_CHECKPOINTS of them and leaves no files behind.
"""

from __future__ import annotations

import html
import logging
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from iarc_hf.data.generator import generate_split
from iarc_hf.data.oracle import oracle_predict_tape
from iarc_hf.data.rule_state import control_codes, stream_state
from iarc_hf.data.tasks import (
    IGNORE_INDEX,
    TASKS,
    IARCTask,
    format_window,
    parse_window,
    window_cells,
)
from iarc_hf.hub.safe_loading import CheckpointError, CheckpointSource, source_for
from iarc_hf.hub.safe_loading import load_checkpoint as load_safely
from iarc_hf.viz.explorer_checkpoints import (
    EXPLORER_LIMITS,
    MAX_CHECKPOINTS,
    ServedCheckpoints,
    looks_like_path,
    shown,
)

MAX_WINDOW_INDEX = 9_999
logger = logging.getLogger(__name__)


def draw_window(controls: str, split: str, seed: int, index: int) -> str:
    """Window `index` of a split (as in `load_dataset("iarc", controls)` built with `seed`),
    in the spec's notation."""
    if not 0 <= index <= MAX_WINDOW_INDEX:
        raise ValueError(f"window must be in 0..{MAX_WINDOW_INDEX}, got {index}")
    task = IARCTask(controls)
    batch = generate_split(task, split, index + 1, seed)
    return format_window(task, batch["input_ids"][index], batch["control_ids"][index])


def annotate(task: IARCTask, text: str) -> dict[str, np.ndarray]:
    """A typed window with every field of the spec that the window alone determines.

    `labels[t]` is the next typed symbol (-100 at the last position: it is what comes next);
    `task_ids` and `context_steps` are -1 before the window's first I / A / R, since the state
    before a window is unknown; `oracle` and `determined` are the oracle's.
    """
    input_ids, control_ids = (np.asarray(v, dtype=np.int64) for v in parse_window(task, text))
    state = stream_state(control_codes(control_ids[:, None], task.controls))
    known = state["seen_task"][:, 0]
    oracle, determined = oracle_predict_tape(
        input_ids[None], control_ids[None], task.controls, task.n_symbols
    )
    return {
        "input_ids": input_ids,
        "control_ids": control_ids,
        "labels": np.append(input_ids[1:], IGNORE_INDEX),
        "task_ids": np.where(known, state["task"][:, 0], -1),
        "context_steps": np.where(known, state["c_since"][:, 0], -1),
        "oracle": oracle[0],
        "determined": determined[0],
    }


MAX_MAPS_SIZE = (2400, 9600)  # (width, height) of the stacked figure; larger ones are shrunk
MAX_HEAD_MAPS = 64  # "every head" for more maps than this draws one map per layer instead


@lru_cache(maxsize=8)
def _load(source: CheckpointSource):
    return load_safely(source, EXPLORER_LIMITS)


def load_served_checkpoint(chosen: str, served: ServedCheckpoints | None = None):
    """(model, the task it was trained on) of a checkpoint, loaded once. With `served` (the
    app), `chosen` is one of its names or a typed Hub id; without, any folder or Hub id (a
    notebook's, a test's). Either way only IARC models load, by the package's own classes."""
    return _load(served.source(chosen) if served else source_for(chosen))


def short_name(model_id: str) -> str:
    """A path's last part (a folder's own name), or the Hub id as it is; never a disk lookup."""
    if looks_like_path(model_id) or model_id.count("/") > 1:
        return Path(model_id).name
    return model_id


@dataclass
class ModelView:
    name: str
    predictions: np.ndarray  # (L,) argmax next-symbol predictions
    attention: Image.Image | None  # in memory; None for models without attention (MLP, LSTM)


@dataclass
class Exploration:
    task: IARCTask
    window: dict[str, np.ndarray]
    models: list[ModelView] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # per-checkpoint errors, shown as text
    notes: list[str] = field(default_factory=list)  # e.g. a figure drawn other than asked


def explore(controls: str, text: str, model_ids=(), overview: bool = True,
            served: ServedCheckpoints | None = None) -> Exploration:  # fmt: skip
    """Annotate `text` as a window of `controls` and run each checkpoint on it.

    Bad input, or more than MAX_CHECKPOINTS checkpoints, raises ValueError (its message names
    the cell and what is allowed); a checkpoint that is not served, cannot be loaded or cannot
    read this config is one line in `problems`, and the others still run. The figures are drawn
    in a temp folder that is removed before this returns.
    """
    task = IARCTask(controls)
    window = annotate(task, text)
    chosen = list(dict.fromkeys(str(m).strip() for m in model_ids if str(m).strip()))
    if len(chosen) > MAX_CHECKPOINTS:
        raise ValueError(f"checkpoints: at most {MAX_CHECKPOINTS} per request, got {len(chosen)}")
    result = Exploration(task, window)
    with tempfile.TemporaryDirectory(prefix="iarc-explorer-") as scratch:
        for number, model_id in enumerate(chosen):
            png = Path(scratch) / f"attention-{number}.png"
            try:
                model, trained_task = load_served_checkpoint(model_id, served)
                view, note = _view(model, trained_task, model_id, task, window, png, overview)
            except Exception as error:  # noqa: BLE001 - one bad checkpoint must not sink the rest
                result.problems.append(_problem(model_id, error))
                continue
            result.models.append(view)
            result.notes += [f"{shown(model_id)}: {note}"] if note else []
    return result


def _problem(model_id: str, error: Exception) -> str:
    if isinstance(error, CheckpointError):
        return f"{shown(model_id)}: {error.reason}"
    if not isinstance(error, (OSError, ValueError)):  # a bug, not a bad checkpoint: keep the trace
        logger.warning("checkpoint %r failed", shown(model_id), exc_info=error)
    lines = str(error).strip().splitlines()
    return f"{shown(model_id)}: {lines[0] if lines else type(error).__name__}"


def _view(model, trained_task, model_id: str, task: IARCTask, window: dict, png: Path,
          overview: bool) -> tuple[ModelView, str | None]:  # fmt: skip
    """The model's predictions and attention figure (read into memory), and a note if the
    figure is drawn other than asked."""
    from iarc_hf.eval.evaluation import predict, task_for_model
    from iarc_hf.viz.attention_maps import attention_maps, plot_attention

    model_task = task_for_model(model.config, trained_task, task.controls)
    if model_task.n_symbols != task.n_symbols:
        raise ValueError(
            f"it reads {model_task.n_symbols} symbols, config {task.name} has {task.n_symbols}"
        )
    batch = {key: window[key][None] for key in ("input_ids", "control_ids")}
    predictions = predict(model, batch)[0]
    if getattr(model.config, "architecture", None) not in ("transformer", "cisformer"):
        return ModelView(model_id, predictions, None), None
    maps = attention_maps(model, window)
    note = None
    if not overview and maps.shape[0] * maps.shape[1] > MAX_HEAD_MAPS:
        overview = True
        note = f"{maps.shape[0]} layers x {maps.shape[1]} heads: one map per layer is shown"
    title = f"{short_name(model_id)} ({model.config.attention} attention)"
    plot_attention(maps, task, window, png, title, overview=overview)
    with Image.open(png) as figure:
        figure.load()
        return ModelView(model_id, predictions, figure.copy()), note


def stacked_maps(result: Exploration) -> Image.Image | None:
    """Every model's attention figure, one under the other (None if none has maps), shrunk to
    fit MAX_MAPS_SIZE."""
    figures = [view.attention for view in result.models if view.attention is not None]
    if not figures:
        return None
    width = max(f.width for f in figures)
    height = sum(f.height for f in figures)
    scale = min(1.0, MAX_MAPS_SIZE[0] / width, MAX_MAPS_SIZE[1] / height)
    sizes = [(max(1, round(f.width * scale)), max(1, round(f.height * scale))) for f in figures]
    stacked = Image.new("RGB", (max(w for w, _ in sizes), sum(h for _, h in sizes)), "white")
    top = 0
    for figure, size in zip(figures, sizes, strict=True):
        stacked.paste(figure if size == figure.size else figure.resize(size), (0, top))
        top += size[1]
    return stacked


def window_html(result: Exploration) -> str:
    """The annotated window as an HTML table: one column per position, one row per field;
    model predictions green where they equal the next symbol, red where not."""
    w, task = result.window, result.task
    cells = window_cells(task, w["input_ids"], w["control_ids"])
    last = len(cells) - 1

    def row(name, values, classes=None):
        classes = classes or [""] * len(values)
        tds = "".join(
            f'<td class="{c}">{html.escape(str(v))}</td>'
            for v, c in zip(values, classes, strict=True)
        )
        return f"<tr><th>{html.escape(name)}</th>{tds}</tr>"

    def mark(predictions):
        return [
            "next" if t == last else ("ok" if p == w["labels"][t] else "wrong")
            for t, p in enumerate(predictions)
        ]

    rows = [
        row("position", range(len(cells))),
        row("window", cells, ["control" if c else "" for c in w["control_ids"]]),
        row("task", [TASKS[t] if t >= 0 else "?" for t in w["task_ids"]]),
        row("C steps", [s if s >= 0 else "?" for s in w["context_steps"]]),
        row("next symbol", [*w["labels"][:-1], "?"]),
        row("determined", ["yes" if d else "" for d in w["determined"]]),
        row("oracle", w["oracle"], mark(w["oracle"])),
    ]
    for view in result.models:
        rows.append(row(short_name(view.name), view.predictions, mark(view.predictions)))
    return f'<table class="iarc-window">{"".join(rows)}</table>'


def accuracy_lines(result: Exploration) -> list[str]:
    """For the oracle and each model: how many typed next symbols it predicts, and its guess
    for the symbol after the window."""
    w = result.window
    labelled = w["labels"] != IGNORE_INDEX
    lines = []
    for name, predictions in [("oracle", w["oracle"])] + [
        (short_name(view.name), view.predictions) for view in result.models
    ]:
        hits = int((predictions[labelled] == w["labels"][labelled]).sum())
        lines.append(
            f"{name}: {hits}/{int(labelled.sum())} next symbols right; "
            f"after the window it predicts {int(predictions[-1])}"
        )
    return lines
