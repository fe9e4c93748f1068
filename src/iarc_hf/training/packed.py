"""K runs of one model shape as one stacked model: each weight with a leading K axis.

`torch.func.stack_module_state` stacks the K models' weights and one `torch.vmap`ped forward and
backward trains all K at once, each on its own windows. On a GPU a small model's step is bound by
kernel launches, not arithmetic, so K runs cost about what one does (`scripts/bench.py
train-step --pack K`). The optimizers packed runs may use are elementwise (SGD, AdamW), so one
optimizer over the stacked weights updates each run exactly as its own would; gradient clipping
is per run. On CUDA, with a constant learning rate, the whole step (forward, backward, clipping,
optimizer) is captured once as a CUDA graph and replayed: one launch per step.
"""

from __future__ import annotations

import os

import torch
from torch.func import functional_call, stack_module_state

PACKABLE_OPTIMIZERS = ("sgd", "adamw")
WARMUP_STEPS = 3  # eager steps on a side stream before the capture (the CUDA graphs recipe)


def why_not_packable(run) -> str | None:
    """Why a run cannot train in a pack (None: it can)."""
    if run.optimizer not in PACKABLE_OPTIMIZERS:
        return f"--optimizer {run.optimizer} is not elementwise (packs take {PACKABLE_OPTIMIZERS})"
    if run.stop_at_accuracy is not None:
        return "--stop_at_accuracy ends runs at different steps"
    if run.bf16:
        return "--bf16: the packed step has no autocast"
    return None


def graphable(run, device: torch.device) -> bool:
    """Whether the step can be one CUDA graph: on CUDA with a constant learning rate (a
    schedule would change a number baked into the graph)."""
    if os.environ.get("IARC_NO_CUDA_GRAPHS") == "1":  # an escape hatch, e.g. for profiling
        return False
    return device.type == "cuda" and run.lr_scheduler_type == "constant" and not run.warmup_steps


class _Stacked(torch.nn.Module):
    """The stacked weights as one module, so the usual optimizer constructors take them."""

    def __init__(self, params: dict[str, torch.Tensor]):
        super().__init__()
        self.names = list(params)
        self.weights = torch.nn.ParameterList(
            torch.nn.Parameter(p.detach()) for p in params.values()
        )

    def as_dict(self) -> dict[str, torch.Tensor]:
        return dict(zip(self.names, self.weights, strict=True))


class PackedModel:
    """K models of one config trained as one: `step(inputs)` takes (K, batch, length) tensors
    and returns the K losses; `models[k]` holds run k's weights after `sync_models()`."""

    def __init__(self, models: list[torch.nn.Module], run, device, make_optimizer, make_scheduler):
        self.models = [m.to(device).train() for m in models]
        self.device, self.run = torch.device(device), run
        params, _ = stack_module_state(self.models)
        self.stacked = _Stacked(params)
        self.buffers = dict(self.models[0].named_buffers())  # the same in every run (ALiBi)
        self.graphed = graphable(run, self.device)
        self.optimizer = make_optimizer(self.stacked, run, capturable=self.graphed)
        self.scheduler = make_scheduler(self.optimizer)
        self._losses = torch.vmap(self._loss, in_dims=(0, None, 0, 0, 0))
        self._graph, self._static, self._warm = None, None, 0

    @property
    def size(self) -> int:
        return len(self.models)

    def _loss(self, params, buffers, input_ids, control_ids, labels):
        inputs = {"input_ids": input_ids, "control_ids": control_ids, "labels": labels}
        return functional_call(self.models[0], (params, buffers), (), inputs).loss

    def _eager_step(self, inputs: dict) -> torch.Tensor:
        losses = self._losses(
            self.stacked.as_dict(),
            self.buffers,
            inputs["input_ids"],
            inputs["control_ids"],
            inputs["labels"],
        )
        losses.sum().backward()  # runs are independent: each slice gets its own run's gradient
        if self.run.max_grad_norm:
            clip_per_run(list(self.stacked.weights), self.run.max_grad_norm)
        self.optimizer.step()
        return losses.detach()

    def step(self, inputs: dict) -> torch.Tensor:
        """One optimizer step of every run; the K losses (on the device, no sync)."""
        if not self.graphed:
            losses = self._eager_step(inputs)
            self.optimizer.zero_grad()
        elif self._warm < WARMUP_STEPS:
            losses = self._warmup_step(inputs)
        else:
            if self._graph is None:
                self._capture(inputs)
            for key, value in inputs.items():
                self._static[key].copy_(value)
            self._graph.replay()
            losses = self._static_losses.clone()
        self.scheduler.step()
        return losses

    def _warmup_step(self, inputs: dict) -> torch.Tensor:
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            self.optimizer.zero_grad(set_to_none=True)
            losses = self._eager_step(inputs)
        torch.cuda.current_stream().wait_stream(side)
        self._warm += 1
        return losses

    def _capture(self, inputs: dict) -> None:
        """Record one whole step on fresh static inputs; replays then train for real."""
        self._static = {key: value.clone() for key, value in inputs.items()}
        self.optimizer.zero_grad(set_to_none=True)  # backward allocates them inside the graph
        self._graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self._graph):
            self._static_losses = self._eager_step(self._static)

    def sync_models(self) -> None:
        """Copy each run's slice of the stacked weights into its own model."""
        stacked = self.stacked.as_dict()
        with torch.no_grad():
            for k, model in enumerate(self.models):
                for name, param in model.named_parameters():
                    param.copy_(stacked[name][k])

    def run_state(self, k: int) -> tuple[dict, dict]:
        """Run k's weights and optimizer state, as flat dicts of tensors (for safetensors)."""
        weights = {name: w[k].detach().contiguous() for name, w in self.stacked.as_dict().items()}
        state = {}
        for index, weight in enumerate(self.stacked.weights):
            for key, value in self.optimizer.state.get(weight, {}).items():
                shared = value.dim() == 0 or value.shape[0] != self.size
                state[f"{index}.{key}"] = (value if shared else value[k]).detach().contiguous()
        return weights, state

    def load_run_states(self, states: list[tuple[dict, dict]]) -> None:
        """Restack K runs' (weights, optimizer state), as `run_state` gave them."""
        with torch.no_grad():
            for name, weight in self.stacked.as_dict().items():
                weight.copy_(torch.stack([w[name] for w, _ in states]).to(self.device))
        for index, weight in enumerate(self.stacked.weights):
            keys = {key.split(".", 1)[1] for key in states[0][1] if key.split(".")[0] == str(index)}
            entry = {}
            for key in keys:
                values = [s[f"{index}.{key}"].to(self.device) for _, s in states]
                entry[key] = values[0].clone() if values[0].dim() == 0 else torch.stack(values)
            if entry:
                self.optimizer.state[weight] = entry


def clip_per_run(weights: list[torch.Tensor], max_norm: float) -> None:
    """`torch.nn.utils.clip_grad_norm_` for each run's slice of the stacked gradients."""
    grads = [w.grad for w in weights if w.grad is not None]
    norms = torch.stack([g.flatten(1).norm(dim=1) for g in grads]).norm(dim=0)  # (K,)
    scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for grad in grads:
        grad.mul_(scale.view(-1, *[1] * (grad.dim() - 1)))
