"""Attention maps of one IARC window: every layer x head (or one map per layer, heads averaged),
with the window's symbols on both axes, control tokens marked, the task of each query position
shaded, and, for reverse-copy (R) positions, the mirror's anchor (the last control) marked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from iarc_hf.data.tasks import TASKS, IARCTask, window_cells

TASK_COLOURS = {"I": "#4c72b0", "A": "#55a868", "R": "#c44e52", "?": "#bbbbbb"}
CELL_INCHES = 3.0  # one map
DPI = 100


def anchors(window: dict) -> list[int | None]:
    """For each R position, the position of the last control at or before it (the mirror's
    anchor, while it is inside the window); None elsewhere."""
    last, found = None, []
    for t, (c, task_id) in enumerate(zip(window["control_ids"], window["task_ids"], strict=True)):
        last = t if c else last
        found.append(last if task_id == TASKS.index("R") else None)
    return found


def pick_window(batch: dict, how: str = "r-heavy") -> int:
    """The index of the window with the most R positions, or of `how` itself. Ties go to the
    window with the most distinct symbols (a copy of a copy can repeat two symbols throughout,
    which shows little), then to the first."""
    if how != "r-heavy":
        return int(how)
    r_positions = (np.asarray(batch["task_ids"]) == TASKS.index("R")).sum(axis=1)
    symbols = np.asarray(batch["input_ids"])
    distinct = np.array([len(np.unique(row)) for row in symbols])
    return int(np.argmax(r_positions * (symbols.shape[1] + 1) + distinct))


@torch.no_grad()
def attention_maps(model, window: dict) -> np.ndarray:
    """(layers, heads, query, key) maps of `model` on one window."""
    inputs = {
        key: torch.as_tensor(np.asarray(window[key])[None], dtype=torch.long)
        for key in ("input_ids", "control_ids")
    }
    model.eval()
    maps = model(**inputs, output_attentions=True).attentions
    if not maps:
        raise ValueError(
            f"the model ({model.config.architecture}) has no attention maps to plot; "
            "choose a transformer or cisformer checkpoint"
        )
    return torch.stack([m[0] for m in maps]).float().numpy()


def figure_size(layers: int, heads: int, overview: bool) -> tuple[int, int]:
    """(width, height) in pixels of the figure `plot_attention` writes."""
    rows, cols = grid_shape(layers, heads, overview)
    return round(cols * CELL_INCHES * DPI), round((rows * CELL_INCHES + 0.6) * DPI)


def grid_shape(layers: int, heads: int, overview: bool) -> tuple[int, int]:
    if overview:
        cols = min(layers, 6)
        return -(-layers // cols), cols
    return layers, heads


def plot_attention(
    maps: np.ndarray, task: IARCTask, window: dict, path, title: str, overview: bool = False
) -> Path:
    """Draw `maps` (layers, heads, T, T) for `window` to `path` (a PNG)."""
    from iarc_hf.viz.plots import plt, save_figure  # matplotlib only when drawing

    layers, heads = maps.shape[:2]
    panels = maps.mean(axis=1, keepdims=True) if overview else maps
    rows, cols = grid_shape(layers, heads, overview)
    width, height = figure_size(layers, heads, overview)
    fig, axes = plt.subplots(
        rows, cols, figsize=(width / DPI, height / DPI), dpi=DPI, squeeze=False
    )
    labels = window_cells(task, window["input_ids"], window["control_ids"])
    for index, ax in enumerate(axes.flat):
        layer, head = divmod(index, 1 if overview else heads)
        if layer >= layers:
            ax.axis("off")
            continue
        _draw_map(ax, panels[layer, 0 if overview else head], labels, window)
        ax.set_title(f"layer {layer}" + ("" if overview else f", head {head}"), fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=1 - 0.5 / (height / DPI),
                        wspace=0.25, hspace=0.35)  # fmt: skip
    return save_figure(fig, path, dpi=DPI)


def _draw_map(ax, weights: np.ndarray, labels: list[str], window: dict) -> None:
    t = len(labels)
    ax.imshow(weights, cmap="viridis", vmin=min(0.0, weights.min()), vmax=max(weights.max(), 1e-9))
    ax.set_xticks(range(t), labels, rotation=90, fontsize=4.5)
    ax.set_yticks(range(t), labels, fontsize=4.5)
    controls = np.asarray(window["control_ids"]) != 0
    for ticks in (ax.get_xticklabels(), ax.get_yticklabels()):
        for position, tick in enumerate(ticks):
            if controls[position]:
                tick.set_color("red")
                tick.set_fontweight("bold")
    # the task of each query (row): a strip left of the map
    for row, task_id in enumerate(window["task_ids"]):
        name = TASKS[task_id] if task_id >= 0 else "?"
        ax.add_patch(_rectangle((-1.5, row - 0.5), 1.0, 1.0, TASK_COLOURS[name], clip_on=False))
    for row, anchor in enumerate(anchors(window)):
        if anchor is not None:  # the R position's mirror anchor: an open square on its key
            ax.add_patch(_rectangle((anchor - 0.5, row - 0.5), 1.0, 1.0, "none", edge="white"))
    ax.set_xlim(-1.6, t - 0.5)
    ax.set_ylim(t - 0.5, -0.5)


def _rectangle(xy, w, h, colour, edge=None, clip_on=True):
    from matplotlib.patches import Rectangle

    return Rectangle(xy, w, h, facecolor=colour, edgecolor=edge or "none", linewidth=0.6,
                     clip_on=clip_on)  # fmt: skip
