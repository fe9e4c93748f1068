"""IARC explorer: draw or type a window, see it annotated, and see checkpoints predict and attend.

    python spaces/explorer/app.py                                   # http://127.0.0.1:7860
    python spaces/explorer/app.py --model runs/beyond/cisformer-ea_IARC_adamw_seed0 --port 7861

Checkpoints are local folders or Hub ids (`--model`, repeatable, or the IARC_EXPLORER_MODELS
environment variable, comma-separated, as a Space setting); they are also typed in the page.
All the logic lives in `iarc_hf.explorer`; this file lays it out.
"""

from __future__ import annotations

import argparse
import os

import gradio as gr

# In a Space the package is a folder beside this file (`scripts/push_space.py` copies it), which
# Python finds first; in the repo it is the installed package.
from iarc_hf.explorer import accuracy_lines, draw_window, explore, stacked_maps, window_html
from iarc_hf.generator import SPLITS
from iarc_hf.tasks import PUBLISHED_CONFIGS

INTRO = """# IARC explorer
The IARC task-switching benchmark (C. Gros, arXiv:2508.04461): a stream of symbols where a
control token on a second tape switches the rule that makes the next symbol —
**I** increment, **A** addition, **R** reverse copy, and **C** context (I: step + 1; R: the
mirror moves). Type a window such as `7^I 8 9^C 11` (`^` marks the control that comes with a
symbol), or draw one from the dataset. The table shows what the window alone tells: the task
and the C steps (`?` before the window's first I / A / R), whether the next symbol is
*determined*, the oracle's prediction and each checkpoint's (green: right, red: wrong; the last
column is the guess for the symbol after the window)."""

CSS = """
.iarc-window { border-collapse: collapse; font-family: monospace; font-size: 13px; }
.iarc-window th { text-align: left; padding: 2px 8px 2px 0; white-space: nowrap; }
.iarc-window td { text-align: center; padding: 2px 5px; border: 1px solid #ddd; }
.iarc-window td.control { color: #c00; font-weight: bold; }
.iarc-window td.ok { background: #d9f2d9; }
.iarc-window td.wrong { background: #f7d4d4; }
.iarc-window td.next { background: #e8e8f8; font-weight: bold; }
"""


def on_draw(controls, split, seed, index):
    """Fill the stream box with a dataset window; an error goes to the message line."""
    try:
        return draw_window(controls, split, int(seed), int(index)), ""
    except ValueError as error:
        return gr.update(), f"**Error:** {error}"


def on_explore(controls, stream, models_text, maps):
    """Annotate the window and run the checkpoints; bad input is a message, never a traceback."""
    model_ids = [line.strip() for line in models_text.replace(",", "\n").splitlines()]
    try:
        result = explore(controls, stream, [m for m in model_ids if m], overview=maps == "layers")
    except ValueError as error:
        return f"**Error:** {error}", "", None
    lines = accuracy_lines(result) + [f"could not run {problem}" for problem in result.problems]
    maps = stacked_maps(result, result.out_dir / "attention.png")
    return "\n".join(f"- {line}" for line in lines), window_html(result), maps and str(maps)


def build(models=()) -> gr.Blocks:
    with gr.Blocks(title="IARC explorer", analytics_enabled=False) as app:
        gr.Markdown(INTRO)
        with gr.Row():
            controls = gr.Dropdown(list(PUBLISHED_CONFIGS), value="IARC", label="config")
            split = gr.Dropdown(list(SPLITS), value="validation", label="split")
            seed = gr.Number(0, precision=0, label="seed")
            index = gr.Number(0, precision=0, label="window")
            draw = gr.Button("Draw a window")
        stream = gr.Textbox(label="stream", placeholder="7^I 8 9^C 11 13^C 0 3", elem_id="stream")
        models_box = gr.Textbox(
            "\n".join(models),
            label="checkpoints: local folders or Hub ids, one per line",
            lines=2,
            elem_id="models",
        )
        maps = gr.Radio(
            [("one map per layer (heads averaged)", "layers"), ("every head", "heads")],
            value="layers",
            label="attention maps",
        )
        run = gr.Button("Explore", variant="primary", elem_id="explore")
        message = gr.Markdown(elem_id="message")
        table = gr.HTML(elem_id="window")
        maps_image = gr.Image(label="attention maps", type="filepath", elem_id="maps")
        draw.click(on_draw, [controls, split, seed, index], [stream, message])
        inputs = [controls, stream, models_box, maps]
        run.click(on_explore, inputs, [message, table, maps_image])
        stream.submit(on_explore, inputs, [message, table, maps_image])
    return app


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", action="append", default=[], help="a checkpoint to preload")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7860)
    args = parser.parse_args(argv)
    models = args.model or [m for m in os.environ.get("IARC_EXPLORER_MODELS", "").split(",") if m]
    build(models).launch(
        server_name=args.host, server_port=args.port, css=CSS, ssr_mode=False, show_error=False
    )


if __name__ == "__main__":
    main()
