"""Where checkpoints still err on IARC: last-position accuracy by task, by steps since the last
control and by C steps, on the test split; one JSON and one plot.

    python scripts/analyze_errors.py runs/beyond/cisformer-ea_IARC_adamw_seed0 \
        runs/beyond/cisformer-dpa_IARC_adamw_seed0 --output results/frontier/errors
"""

from __future__ import annotations

import argparse
from pathlib import Path

from iarc_hf.data.generator import generate_split
from iarc_hf.eval.error_analysis import analyse, plot_errors
from iarc_hf.eval.evaluation import load_for_evaluation, task_for_model
from iarc_hf.files import write_json


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checkpoints", nargs="+", help="saved model folders or Hub ids")
    parser.add_argument("--config", help="control set (default: the one each was trained on)")
    parser.add_argument("--size", type=int, default=10_000, help="test windows")
    parser.add_argument("--seed", type=int, default=0, help="the test split's seed")
    parser.add_argument("--output", default="errors", help="writes OUTPUT.json and OUTPUT.png")
    args = parser.parse_args(argv)
    analyses, tasks = {}, set()
    for checkpoint in args.checkpoints:
        model, trained_task = load_for_evaluation(checkpoint)
        try:
            task = task_for_model(model.config, trained_task, args.config)
        except ValueError as error:
            raise SystemExit(f"error: {checkpoint}: {error}") from None
        tasks.add(task.name)
        batch = generate_split(task, "test", args.size, args.seed)
        analyses[Path(checkpoint).name] = analyse(model, batch) | {"checkpoint": checkpoint}
        print(
            f"{checkpoint}: {analyses[Path(checkpoint).name]['accuracy']:.4f} at the last position"
        )
    if len(tasks) > 1:
        raise SystemExit(f"error: the checkpoints read different configs {sorted(tasks)}")
    output = Path(args.output)
    title = f"{tasks.pop()} test split ({args.size:,} windows): where the errors are"
    write_json(
        output.with_suffix(".json"), {"size": args.size, "seed": args.seed, "models": analyses}
    )
    plot_errors(analyses, output.with_suffix(".png"), title)
    print(f"wrote {output.with_suffix('.json')} and {output.with_suffix('.png')}")
    return analyses


if __name__ == "__main__":
    main()
