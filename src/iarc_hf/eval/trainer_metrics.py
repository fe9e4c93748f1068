"""The benchmark's metrics in `transformers.Trainer`: `Trainer.evaluate()` reports `accuracy`,
`accuracy_all`, `accuracy_determined` and the per-task slices, as `iarc_hf.compute_metrics` does.

    trainer = Trainer(
        model=model, args=args, train_dataset=ds["train"], eval_dataset=ds["validation"],
        compute_metrics=make_compute_metrics(ds["validation"]),
        preprocess_logits_for_metrics=preprocess_logits_for_metrics,
    )

The per-task slices need fields the model does not read (`task_ids`, `context_steps`,
`determined`), which Trainer drops before evaluation; `make_compute_metrics` keeps them from the
evaluation dataset, whose windows Trainer evaluates in order.
"""

from __future__ import annotations

import numpy as np

from iarc_hf.eval.metrics import compute_metrics

WINDOW_FIELDS = ("task_ids", "context_steps", "determined")


def preprocess_logits_for_metrics(logits, labels):
    """Keep only the argmax (batch, L): Trainer then gathers ids, not (batch, L, N) logits."""
    if isinstance(logits, tuple):  # (logits, attentions) when attentions are returned
        logits = logits[0]
    return logits.argmax(-1)


def make_compute_metrics(eval_dataset):
    """A `compute_metrics` for Trainer that scores predictions on `eval_dataset`'s windows."""
    missing = [name for name in WINDOW_FIELDS if name not in eval_dataset.column_names]
    if missing:
        raise ValueError(
            f"eval_dataset lacks {missing}: pass an IARC split as it is loaded, before any "
            "column is removed"
        )
    columns = eval_dataset.with_format("numpy")
    fields = {name: columns[name] for name in WINDOW_FIELDS}

    def compute(eval_prediction) -> dict[str, float]:
        predictions = np.asarray(eval_prediction.predictions)
        if len(predictions) != len(fields["task_ids"]):
            raise ValueError(
                f"compute_metrics was made for {len(fields['task_ids'])} evaluation windows but "
                f"got {len(predictions)} predictions: make it from the eval_dataset you evaluate"
            )
        return compute_metrics(predictions, {"labels": eval_prediction.label_ids, **fields})

    return compute
