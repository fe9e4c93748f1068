"""Put your own model on IARC: a GRU that is not part of iarc-hf, trained and scored on the
leaderboard's windows with its recipe and metrics.

    python examples/own_model.py --max_steps 2000      # the leaderboard's 400K windows

Any `nn.Module` (or `transformers.PreTrainedModel`) works if `model(input_ids=..., control_ids=...)`
returns next-symbol logits (batch, L, N) — a tensor or an output with `.logits` — and position t
sees positions <= t only (`iarc_hf.training.own_model` says the whole contract).
"""

import argparse

import torch
from torch import nn

from iarc_hf.data.tasks import IARCTask
from iarc_hf.training.own_model import train_and_score


class GRUModel(nn.Module):
    """Symbols and controls embedded and summed, a GRU, a linear head over the N symbols."""

    def __init__(self, n_symbols: int, n_controls: int, width: int = 128, layers: int = 2):
        super().__init__()
        self.symbols = nn.Embedding(n_symbols, width)
        self.controls = nn.Embedding(n_controls + 1, width)
        self.gru = nn.GRU(width, width, num_layers=layers, batch_first=True)
        self.head = nn.Linear(width, n_symbols)

    def forward(self, input_ids, control_ids):
        x = self.symbols(input_ids) + self.controls(control_ids)
        return self.head(self.gru(x)[0])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset_config", default="IARC")
    parser.add_argument("--max_steps", type=int, default=2000)
    parser.add_argument("--learning_rate", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test_size", type=int, default=10_000)
    args = parser.parse_args(argv)
    task = IARCTask(args.dataset_config)
    torch.manual_seed(args.seed)
    model = GRUModel(task.n_symbols, task.n_controls)
    result = train_and_score(model, task, args.max_steps, learning_rate=args.learning_rate,
                             seed=args.seed, test_size=args.test_size)  # fmt: skip
    print(
        f"GRU on {task.name}: test accuracy {result['metrics']['accuracy']:.4f} (oracle "
        f"{result['oracle']['accuracy']:.4f}), {result['params']:,} parameters, "
        f"{result['windows']:,} windows in {result['train_seconds']:.0f} s"
    )
    return result


if __name__ == "__main__":
    main()
