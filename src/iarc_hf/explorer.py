"""What the IARC explorer (`spaces/explorer/app.py`) shows, without the UI: a typed or drawn window
annotated as the window alone tells it (controls, task, C steps, the oracle's prediction and
`determined`), checkpoints' predictions on it, and their attention maps.

Everything the app displays goes through `explore`, so it is tested without a browser; the
app only lays it out.
"""

from __future__ import annotations

import html
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from iarc_hf.generator import IGNORE_INDEX, generate_split
from iarc_hf.oracle import oracle_predict_tape
from iarc_hf.state import control_codes, stream_state
from iarc_hf.tasks import TASKS, IARCTask, format_window, parse_window, window_cells

MAX_WINDOW_INDEX = 9_999


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


@lru_cache(maxsize=8)
def load_checkpoint(model_id: str):
    """A checkpoint (local folder or Hub id) and the task it was trained on, loaded once."""
    from iarc_hf.evaluation import load_for_evaluation

    return load_for_evaluation(model_id)


def short_name(model_id: str) -> str:
    """A local folder's own name, or the Hub id as it is."""
    return Path(model_id).name if Path(model_id).is_dir() else model_id


@dataclass
class ModelView:
    name: str
    predictions: np.ndarray  # (L,) argmax next-symbol predictions
    attention_png: Path | None  # None for models without attention (MLP, LSTM)


@dataclass
class Exploration:
    task: IARCTask
    window: dict[str, np.ndarray]
    models: list[ModelView] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # per-checkpoint errors, shown as text
    out_dir: Path | None = None  # where the figures are written


def explore(controls: str, text: str, model_ids=(), overview: bool = True, out_dir=None):
    """Annotate `text` as a window of `controls` and run each checkpoint on it.

    Bad input raises ValueError (its message names the cell and what is allowed); a checkpoint
    that cannot be loaded or cannot read this config is reported in `problems`, and the others
    still run.
    """
    task = IARCTask(controls)
    window = annotate(task, text)
    result = Exploration(task, window)
    out_dir = Path(out_dir or tempfile.mkdtemp(prefix="iarc-explorer-"))
    result.out_dir = out_dir
    for number, model_id in enumerate(model_ids):
        try:
            result.models.append(_view(model_id, task, window, out_dir / f"attention-{number}.png",
                                       overview))  # fmt: skip
        except (OSError, ValueError) as error:
            result.problems.append(f"{model_id}: {error}")
    return result


def _view(model_id: str, task: IARCTask, window: dict, png: Path, overview: bool) -> ModelView:
    from iarc_hf.attention_plot import attention_maps, plot_attention
    from iarc_hf.evaluation import predict, task_for_model

    model, trained_task = load_checkpoint(model_id)
    model_task = task_for_model(model.config, trained_task, task.controls)
    if model_task.n_symbols != task.n_symbols:
        raise ValueError(
            f"it reads {model_task.n_symbols} symbols, config {task.name} has {task.n_symbols}"
        )
    batch = {key: window[key][None] for key in ("input_ids", "control_ids")}
    predictions = predict(model, batch)[0]
    attention = None
    if model.config.architecture in ("transformer", "cisformer"):
        title = f"{short_name(model_id)} ({model.config.attention} attention)"
        attention = plot_attention(attention_maps(model, window), task, window, png, title,
                                   overview=overview)  # fmt: skip
    return ModelView(model_id, predictions, attention)


def stacked_maps(result: Exploration, png) -> Path | None:
    """Every model's attention figure, one under the other, in one PNG (None if none has maps)."""
    from PIL import Image

    figures = [Image.open(v.attention_png) for v in result.models if v.attention_png]
    if not figures:
        return None
    width = max(f.width for f in figures)
    stacked = Image.new("RGB", (width, sum(f.height for f in figures)), "white")
    top = 0
    for figure in figures:
        stacked.paste(figure, (0, top))
        top += figure.height
    png = Path(png)
    stacked.save(png)
    return png


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
