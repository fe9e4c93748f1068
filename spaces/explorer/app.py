"""IARC explorer: draw or type a window, see it annotated, and see checkpoints predict and attend.

    python spaces/explorer/app.py                                   # http://127.0.0.1:7860
    python spaces/explorer/app.py --model runs/beyond/cisformer-ea_IARC_adamw_seed0 --port 7861
    python spaces/explorer/app.py --model user/iarc-cisformer-ea --allow_hub_ids

The operator lists the checkpoints served: local folders or Hub ids (`--model`, repeatable, or
the IARC_EXPLORER_MODELS environment variable, comma-separated, as a Space setting). Visitors
pick among them by name (a folder's own name: server paths never reach the page). With
`--allow_hub_ids` (or IARC_EXPLORER_ALLOW_HUB_IDS=1) they may also type Hub ids; a typed local
path never loads. Only IARC models load, by the package's own classes (never a checkpoint's
code), within size caps, at most 4 per request. Host and port: --host / --port, else Gradio's
GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (what a Space sets), else 127.0.0.1:7860.
All the logic lives in `iarc_hf.viz.explorer`; this file lays it out.
"""

from __future__ import annotations

import argparse
import functools
import os
from pathlib import Path

import gradio as gr

from iarc_hf.data.generator import SPLITS
from iarc_hf.data.tasks import PUBLISHED_CONFIGS
from iarc_hf.experiments.leaderboard import leaderboard_rows, rows_table

# In a Space the package is a folder beside this file (`scripts/push_space.py` copies it), which
# Python finds first; in the repo it is the installed package.
from iarc_hf.viz.explorer import accuracy_lines, draw_window, explore, stacked_maps, window_html
from iarc_hf.viz.explorer_checkpoints import MAX_CHECKPOINTS, ServedCheckpoints

LEADERBOARD_INTRO = """### The leaderboard
Every architecture under one recipe (AdamW, cosine, the loss at the last position, 400K windows),
at the better learning rate of a grid, over its seeds: test accuracy at the last position (mean,
std) and per task, parameters, forward FLOPs per window and training windows per second. Click a
column's header to sort. **Add a row**: add a preset to `iarc_hf.training.backbones.BACKBONE_PRESETS`
and run `python scripts/reproduce.py run leaderboard`."""

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


def on_explore(served: ServedCheckpoints, controls, stream, chosen, maps):
    """Annotate the window and run the chosen checkpoints; bad input is a message, never a
    traceback. `chosen`: names from the checkpoints box (an API caller may send one string)."""
    if isinstance(chosen, str):
        chosen = chosen.replace(",", "\n").splitlines()
    try:
        result = explore(controls, stream, chosen or [], overview=maps == "layers", served=served)
    except ValueError as error:
        return f"**Error:** {error}", "", None
    lines = accuracy_lines(result) + result.notes
    lines += [f"could not run {problem}" for problem in result.problems]
    return "\n".join(f"- {line}" for line in lines), window_html(result), stacked_maps(result)


def checkpoints_box(served: ServedCheckpoints) -> gr.Dropdown:
    """The operator's checkpoints by name; free text only if the operator allows Hub ids."""
    label = f"checkpoints (at most {MAX_CHECKPOINTS})"
    if served.allow_hub_ids:
        label += ": pick one, or type a Hub id (user/name) and press Enter"
    return gr.Dropdown(
        choices=served.names,
        value=served.names[:MAX_CHECKPOINTS],
        multiselect=True,
        max_choices=MAX_CHECKPOINTS,
        allow_custom_value=served.allow_hub_ids,
        visible=bool(served.names) or served.allow_hub_ids,
        label=label,
        elem_id="models",
    )


def build(served: ServedCheckpoints | None = None, results_dir=None) -> gr.Blocks:
    served = served or ServedCheckpoints()
    results_dir = results_dir or default_results_dir()
    # Gradio keeps the returned images in its cache; drop them after an hour, hourly.
    with gr.Blocks(
        title="IARC explorer", analytics_enabled=False, delete_cache=(3600, 3600)
    ) as app:
        with gr.Tab("Explore"):
            explore_tab(served)
        with gr.Tab("Leaderboard", elem_id="leaderboard-tab"):
            leaderboard_tab(results_dir)
    return app


def leaderboard_tab(results_dir) -> None:
    """Every architecture's row from the result JSONs: click a column's header to sort."""
    headers, types, values = rows_table(leaderboard_rows(results_dir))
    gr.Markdown(
        LEADERBOARD_INTRO if values else LEADERBOARD_INTRO + "\n\n*No finished runs here yet.*"
    )
    gr.Dataframe(value=values or None, headers=headers, datatype=types, interactive=False,
                 elem_id="leaderboard")  # fmt: skip


def explore_tab(served: ServedCheckpoints) -> None:
    """Draw or type a window; see it annotated and the served checkpoints predict."""
    gr.Markdown(INTRO)
    with gr.Row():
        controls = gr.Dropdown(list(PUBLISHED_CONFIGS), value="IARC", label="config")
        split = gr.Dropdown(list(SPLITS), value="validation", label="split")
        seed = gr.Number(0, precision=0, label="seed")
        index = gr.Number(0, precision=0, label="window")
        draw = gr.Button("Draw a window")
    stream = gr.Textbox(label="stream", placeholder="7^I 8 9^C 11 13^C 0 3", elem_id="stream")
    models_box = checkpoints_box(served)
    maps = gr.Radio(
        [("one map per layer (heads averaged)", "layers"), ("every head", "heads")],
        value="layers",
        label="attention maps",
    )
    run = gr.Button("Explore", variant="primary", elem_id="explore")
    message = gr.Markdown(elem_id="message")
    table = gr.HTML(elem_id="window")
    maps_image = gr.Image(label="attention maps", type="pil", format="png", elem_id="maps")
    draw.click(on_draw, [controls, split, seed, index], [stream, message])
    inputs = [controls, stream, models_box, maps]
    handler = functools.partial(on_explore, served)
    run.click(handler, inputs, [message, table, maps_image])
    stream.submit(handler, inputs, [message, table, maps_image])


def default_results_dir() -> Path:
    """$IARC_EXPLORER_RESULTS, else results/ beside the app (a Space), else the repository's."""
    if os.environ.get("IARC_EXPLORER_RESULTS"):
        return Path(os.environ["IARC_EXPLORER_RESULTS"])
    here = Path(__file__).resolve().parent
    beside = here / "results"
    return beside if beside.is_dir() else here.parents[1] / "results"


def env_flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value not in ("", "0", "1", "false", "true", "no", "yes"):
        raise ValueError(f"{name} must be one of 1, 0, true, false, yes, no; got {value!r}")
    return value in ("1", "true", "yes")


def served_from(args) -> ServedCheckpoints:
    """The operator's settings: flags first, then the environment (a Space's variables)."""
    models = args.model or [
        m.strip() for m in os.environ.get("IARC_EXPLORER_MODELS", "").split(",") if m.strip()
    ]
    allow = args.allow_hub_ids or env_flag("IARC_EXPLORER_ALLOW_HUB_IDS")
    return ServedCheckpoints.from_operator(models, allow_hub_ids=allow)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", action="append", default=[], help="a checkpoint to serve")
    parser.add_argument(
        "--allow_hub_ids", action="store_true", help="let visitors type Hub ids (not paths)"
    )
    parser.add_argument("--host", default=None, help="default: $GRADIO_SERVER_NAME or 127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=None, help="default: $GRADIO_SERVER_PORT or 7860"
    )
    parser.add_argument(
        "--results_dir",
        help="the leaderboard tab's results (default: $IARC_EXPLORER_RESULTS or results/)",
    )
    args = parser.parse_args(argv)
    try:
        served = served_from(args)
    except ValueError as error:
        parser.error(str(error))
    # None lets Gradio read GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, as a Space sets them.
    build(served, args.results_dir and Path(args.results_dir)).launch(
        server_name=args.host, server_port=args.port, css=CSS, ssr_mode=False, show_error=False
    )


if __name__ == "__main__":
    main()
