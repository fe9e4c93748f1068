"""What a model costs per window: the floating-point operations of one forward pass.

Counted by torch's own `FlopCounterMode` (matrix products, convolutions and attention kernels;
element-wise work is not counted; torch's fused LSTM is added by hand), on one window of the task the model reads. A training step
costs about three times the forward pass per window.
"""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from iarc_hf.data.generator import generate_split


def forward_flops_per_window(model, task) -> int:
    """Forward FLOPs of `model` on one window of `task` (counted on 4 windows, divided by 4)."""
    windows = 4
    batch = generate_split(task, "validation", windows, seed=0)
    inputs = {
        key: torch.as_tensor(batch[key], dtype=torch.long) for key in ("input_ids", "control_ids")
    }
    was_training = model.training
    model.eval()
    # with autograd on: under no_grad, transformers' hub-kernel layers (lfm2's and mamba2's
    # causal conv, transformers >= 5.25) break FlopCounterMode's module tracking
    with FlopCounterMode(display=False) as counter:
        model(**inputs)
    model.train(was_training)
    length = inputs["input_ids"].shape[1]
    return counter.get_total_flops() // windows + lstm_flops_per_window(model, length)


def lstm_flops_per_window(model, length: int) -> int:
    """torch's fused LSTM kernel is invisible to FlopCounterMode: its gate products by hand,
    2 * 4 * hidden * (input + hidden) per position and layer."""
    flops = 0
    for module in model.modules():
        if isinstance(module, torch.nn.LSTM):
            h = module.hidden_size
            for layer in range(module.num_layers):
                inputs = module.input_size if layer == 0 else h
                flops += 2 * 4 * h * (inputs + h) * length
    return flops


def checkpoint_flops_per_window(folder) -> int | None:
    """Forward FLOPs per window of the model saved in `folder` (None when it has no task)."""
    from iarc_hf.hub.safe_loading import load_checkpoint, source_for

    model, task = load_checkpoint(source_for(str(folder)))
    return None if task is None else forward_flops_per_window(model, task)
