"""Training curves as PNG (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import EngFormatter  # noqa: E402

from iarc_hf.files import replaced_atomically  # noqa: E402

# 400k, 1.6M: long window counts would overlap as tick labels
WINDOWS = EngFormatter(sep="")


def plot_training_curve(records: list[dict], png, title: str, oracle: float | None = None) -> Path:
    """Loss (left) and validation accuracy (right) against training windows."""
    train = [r for r in records if "loss" in r]
    evals = [r for r in records if "eval_accuracy" in r]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.plot([r["windows"] for r in train], [r["loss"] for r in train], lw=1)
    left.set(xlabel="training windows", ylabel="training loss", title="loss")
    for key, label in (("eval_accuracy", "last position"), ("eval_accuracy_all", "all positions")):
        right.plot(
            [r["windows"] for r in evals], [r[key] for r in evals], marker="o", ms=3, label=label
        )
    if oracle is not None:
        right.axhline(oracle, color="gray", ls="--", lw=1, label="oracle, all positions")
    right.set(
        xlabel="training windows", ylabel="validation accuracy", title="accuracy", ylim=(0, 1.02)
    )
    right.legend(loc="lower right", fontsize=8)
    for axis in (left, right):
        axis.xaxis.set_major_formatter(WINDOWS)
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, png)


def save_figure(fig, png, dpi: int = 110) -> Path:
    """`fig` written to `png` whole or not at all (a temp sibling renamed into place), then
    closed."""
    png = Path(png)
    with replaced_atomically(png, suffix=".png") as partial:  # matplotlib reads the extension
        fig.savefig(partial, dpi=dpi)
    plt.close(fig)
    return png
