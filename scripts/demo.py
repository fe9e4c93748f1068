"""`make demo`: the benchmark in brief, then a cisformer with expressive attention trained on IARC.

Prints the oracle ceilings and two decoded windows, trains `cisformer-ea` on fresh IARC
windows for a few minutes on the CPU (AdamW: the paper's SGD recipe needs 8000 steps),
evaluates it on the test split beside the oracle, and writes the model folder with its
card and training curve to outputs/demo-cisformer-ea.
"""

from __future__ import annotations

import argparse

from iarc_hf.data.generator import generate
from iarc_hf.data.tasks import PUBLISHED_CONFIGS, IARCTask, format_window
from iarc_hf.eval.metrics import oracle_ceilings
from iarc_hf.training.arguments import DataArguments, ModelArguments, RunArguments
from iarc_hf.training.loop import train


def show_benchmark() -> None:
    print("IARC oracle ceilings (test split, 10,000 windows; the oracle sees only the window):")
    print(f"{'config':<6} {'N':>3} {'accuracy':>9} {'accuracy_all':>13} {'random':>7}")
    for row in oracle_ceilings(PUBLISHED_CONFIGS, size=10_000, seed=0):
        print(
            f"{row['config']:<6} {row['n_symbols']:>3} {row['accuracy']:>9.4f} "
            f"{row['accuracy_all']:>13.4f} {row['random']:>7.4f}"
        )
    task = IARCTask("IARC")
    windows = generate(task, 2, 0)
    print(
        "\nTwo IARC windows (x^c: control c on symbol x; below: the task making the next symbol):"
    )
    for i in range(2):
        ids, controls, tasks = (windows[k][i] for k in ("input_ids", "control_ids", "task_ids"))
        print(format_window(task, ids, controls, tasks) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output_dir", default="outputs/demo-cisformer-ea")
    parser.add_argument("--max_steps", type=int, default=2000)
    args = parser.parse_args()
    show_benchmark()
    command = f"make demo  # python scripts/demo.py --max_steps {args.max_steps}"
    metrics = train(
        ModelArguments(preset="cisformer-ea"),
        DataArguments(dataset_config="IARC", eval_size=2000, test_size=10_000),
        RunArguments(
            output_dir=args.output_dir,
            max_steps=args.max_steps,
            optimizer="adamw",
            learning_rate=2e-3,
            lr_scheduler_type="cosine",
            warmup_steps=100,
            eval_steps=250,
            save_steps=1000,
            logging_steps=50,
            overwrite_output_dir=True,
        ),
        command=command,
    )
    print(
        f"\nHeadline (last-position) test accuracy: {metrics['accuracy']:.4f}  "
        f"(oracle {metrics['oracle_accuracy']:.4f}, random {1 / 16:.4f})\n"
        f"Card: {args.output_dir}/README.md   Curve: {args.output_dir}/training_curve.png\n"
        f"Load it anywhere: AutoModel.from_pretrained({args.output_dir!r}, trust_remote_code=True)"
    )


if __name__ == "__main__":
    main()
