"""Your own model on IARC: the leaderboard's windows, recipe and metrics for any `nn.Module`.

What the model must do: `model(input_ids=..., control_ids=...)` with two (batch, L) int64
tensors (symbols 0..N-1; controls 0 = none, 1.. = the config's control string) returns the
next-symbol logits (batch, L, N), as a tensor or as an output with `.logits`. Position t may see
positions <= t only. `labels[t]` is already the symbol after position t: never shift it. A
`transformers.PreTrainedModel` or a plain `nn.Module` both work; the loss here is the
leaderboard's, cross-entropy at the last position, unless `loss_reduction` says otherwise.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import torch
from transformers import get_scheduler

from iarc_hf.data.generator import stream_batch
from iarc_hf.data.tasks import IARCTask
from iarc_hf.eval.evaluation import evaluate_split, to_tensors
from iarc_hf.modeling_iarc import next_symbol_loss  # the loss of IARCModel, by its own code


def logits_of(model, batch: dict) -> torch.Tensor:
    output = model(input_ids=batch["input_ids"], control_ids=batch["control_ids"])
    return output if isinstance(output, torch.Tensor) else output.logits


class _Scored(torch.nn.Module):
    """The user's model seen through `.logits`, as `evaluate_split` reads every model."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, control_ids=None, **_):
        batch = {"input_ids": input_ids, "control_ids": control_ids}
        return SimpleNamespace(logits=logits_of(self.model, batch))


def train_and_score(
    model: torch.nn.Module,
    task: IARCTask | str = "IARC",
    max_steps: int = 2000,
    batch_size: int = 200,
    learning_rate: float = 1e-3,
    seed: int = 0,
    loss_reduction: str = "last",
    test_size: int = 10_000,
) -> dict:
    """Train `model` on the windows every leaderboard run of this seed sees (AdamW, cosine,
    warm-up 200) and return its test metrics beside the oracle's, with its size and time."""
    task = IARCTask(task) if isinstance(task, str) else task
    if loss_reduction not in ("last", "mean"):
        raise ValueError(f"loss_reduction must be 'last' or 'mean', got {loss_reduction!r}")
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.0)
    scheduler = get_scheduler("cosine", optimizer, num_warmup_steps=min(200, max_steps // 10),
                              num_training_steps=max_steps)  # fmt: skip
    torch.manual_seed(seed)
    model.train()
    began = time.perf_counter()
    for step in range(max_steps):
        batch = to_tensors(stream_batch(task, batch_size, seed, step), "cpu")
        loss = next_symbol_loss(logits_of(model, batch), batch["labels"], loss_reduction)
        if not torch.isfinite(loss):
            raise ValueError(f"the training loss became {loss.item()} at step {step + 1}")
        loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
    seconds = time.perf_counter() - began
    metrics = evaluate_split(_Scored(model), task, "test", test_size, seed=0)
    return {
        "metrics": {k: v for k, v in metrics.items() if not k.startswith("oracle_")},
        "oracle": {
            k.removeprefix("oracle_"): v for k, v in metrics.items() if k.startswith("oracle_")
        },
        "params": sum(p.numel() for p in model.parameters()),
        "windows": max_steps * batch_size,
        "train_seconds": seconds,
    }
