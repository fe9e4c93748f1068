"""Train an IARC model with `transformers.Trainer` and evaluate it with the benchmark's metrics.

    python examples/train_with_trainer.py --output_dir runs/trainer --max_steps 2000

`Trainer.evaluate()` reports `eval_accuracy` (the headline: the last position of each window),
`eval_accuracy_all`, `eval_accuracy_determined` and the per-task slices.
"""

import argparse

from datasets import load_dataset
from transformers import Trainer, TrainingArguments

import iarc_hf  # registers "iarc" with datasets and the model with transformers
from iarc_hf import IARCConfig, IARCModel


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output_dir", default="runs/trainer")
    parser.add_argument("--preset", default="cisformer-dpa")
    parser.add_argument("--max_steps", type=int, default=2000)
    parser.add_argument("--train_size", type=int, default=400_000)
    parser.add_argument("--validation_size", type=int, default=2_000)
    parser.add_argument("--num_hidden_layers", type=int, help="override the preset's depth")
    args = parser.parse_args(argv)

    data = load_dataset(
        "iarc", "IARC", train_size=args.train_size, validation_size=args.validation_size
    )
    overrides = {"num_hidden_layers": args.num_hidden_layers} if args.num_hidden_layers else {}
    model = IARCModel(IARCConfig.from_preset(args.preset, **overrides))
    training_args = TrainingArguments(
        output_dir=args.output_dir,
        max_steps=args.max_steps,
        per_device_train_batch_size=200,
        per_device_eval_batch_size=1000,
        learning_rate=2e-3,
        lr_scheduler_type="cosine",
        warmup_steps=min(200, args.max_steps // 10),
        eval_strategy="steps",
        eval_steps=max(args.max_steps // 4, 1),
        save_strategy="no",
        logging_steps=max(args.max_steps // 20, 1),
        report_to="none",
    )
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=data["train"],
        eval_dataset=data["validation"],
        compute_metrics=iarc_hf.make_compute_metrics(data["validation"]),
        preprocess_logits_for_metrics=iarc_hf.preprocess_logits_for_metrics,
    )
    trainer.train()
    metrics = trainer.evaluate()
    print({k: round(v, 4) for k, v in metrics.items() if k.startswith("eval_accuracy")})
    return metrics


if __name__ == "__main__":
    main()
