"""Plot a checkpoint's attention maps on one IARC window.

    python scripts/plot_attention.py runs/beyond/cisformer-ea_IARC_adamw_seed0            # R-heavy window
    python scripts/plot_attention.py CHECKPOINT --config IA --index 7 --output maps.png
    python scripts/plot_attention.py CHECKPOINT --overview      # one map per layer, heads averaged

Every layer x head map (rows: query positions, columns: key positions) with the window's symbols
on the axes (controls in red, as `7^I`), the task of each query position as a coloured strip
(I blue, A green, R red, grey before the first control), and for R positions the mirror's anchor
(the last control) as an open white square. By default the window is the one with the most R
positions among the first `--size` windows of the split.
"""

from __future__ import annotations

import argparse

from iarc_hf.data.generator import SPLITS, generate_split
from iarc_hf.data.tasks import format_window
from iarc_hf.eval.evaluation import load_for_evaluation, task_for_model
from iarc_hf.viz.attention_maps import attention_maps, pick_window, plot_attention


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checkpoint", help="a saved model folder or a Hub id")
    parser.add_argument("--config", help="control set (default: the one it was trained on)")
    parser.add_argument("--split", default="validation", choices=SPLITS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=1000, help="windows to choose from")
    parser.add_argument("--index", default="r-heavy", help="a window index, or r-heavy")
    parser.add_argument("--overview", action="store_true", help="one map per layer")
    parser.add_argument("--output", default="attention.png")
    args = parser.parse_args(argv)

    try:  # an IARC model, by the package's classes: the checkpoint's own code never runs
        model, trained_task = load_for_evaluation(args.checkpoint)
        task = task_for_model(model.config, trained_task, args.config)
        batch = generate_split(task, args.split, args.size, args.seed)
        index = pick_window(batch, args.index)
        if not 0 <= index < args.size:
            raise ValueError(f"--index must be in [0, {args.size - 1}] or r-heavy, got {index}")
        window = {key: values[index] for key, values in batch.items()}
        maps = attention_maps(model, window)
    except (OSError, ValueError) as error:
        raise SystemExit(f"error: {error}") from None
    title = f"{args.checkpoint} on {task.name}, {args.split} window {index}"
    path = plot_attention(maps, task, window, args.output, title, overview=args.overview)
    print(format_window(task, window["input_ids"], window["control_ids"], window["task_ids"]))
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
