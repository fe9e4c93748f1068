"""Muon for the matrices, AdamW for the rest (Jordan et al. 2024; Moonlight, arXiv:2502.16982).

`torch.optim.Muon` takes 2-D parameters only, but a cisformer keeps one matrix per position:
its weights are (positions, in, out) stacks. Muon's update orthogonalises each matrix on its
own, so here Newton-Schulz runs batched over the last two dimensions, with torch's coefficients
and torch's "match_rms_adamw" learning-rate scale (0.2 * sqrt(max(in, out))), which lets one
learning rate serve both groups and one scheduler drive them. Everything else (embeddings, the
head, norms, biases) is updated by AdamW, as the field does.
"""

from __future__ import annotations

import math

import torch

NS_COEFFICIENTS = (3.4445, -4.775, 2.0315)  # torch.optim.Muon's defaults
NS_STEPS = 5
NOT_MUON = ("embed", "head")  # input and output maps stay with AdamW (Muon's own advice)


def is_muon_matrix(name: str, param: torch.Tensor) -> bool:
    """A matrix (or a stack of matrices) inside the network: both trailing sizes above one."""
    if param.ndim < 2 or min(param.shape[-2:]) < 2:
        return False
    return not any(part in name for part in NOT_MUON)


def orthogonalise(grad: torch.Tensor, steps: int = NS_STEPS, eps: float = 1e-7) -> torch.Tensor:
    """The nearest semi-orthogonal matrix to each trailing 2-D slice (quintic Newton-Schulz)."""
    a, b, c = NS_COEFFICIENTS
    tall = grad.shape[-2] > grad.shape[-1]
    if grad.ndim > 3:  # stacks of stacks: one batch of matrices
        return orthogonalise(grad.reshape(-1, *grad.shape[-2:]), steps, eps).reshape(grad.shape)
    x = grad.bfloat16()  # as torch's Muon: the iteration tolerates bf16 and is cheaper in it
    x = x.mT if tall else x
    x = x / torch.linalg.matrix_norm(x, keepdim=True).clamp(min=eps)
    fused = torch.addmm if x.ndim == 2 else torch.baddbmm  # torch's Muon, batched
    for _ in range(steps):
        gram = x @ x.mT
        x = fused(x, fused(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    return (x.mT if tall else x).to(grad.dtype)


class MuonAdamW(torch.optim.Optimizer):
    """One optimizer with two kinds of groups, so checkpoints, schedulers and accelerate see
    a plain `torch.optim.Optimizer`: groups with `muon=True` take Muon steps, the others AdamW.

    >>> layer = torch.nn.Linear(4, 3)
    >>> opt = MuonAdamW(muon_param_groups(layer), lr=0.01)
    >>> [group["muon"] for group in opt.param_groups]
    [True, False]
    """

    def __init__(self, params, lr=1e-3, weight_decay=0.0, momentum=0.95, betas=(0.9, 0.999),
                 eps=1e-8):  # fmt: skip
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, betas=betas,
                        eps=eps, muon=False)  # fmt: skip
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.mul_(1 - group["lr"] * group["weight_decay"])
                if group["muon"]:
                    self._muon_step(p, group)
                else:
                    self._adamw_step(p, group)
        return loss

    def _muon_step(self, p, group):
        state = self.state[p]
        buf = state.setdefault("momentum_buffer", torch.zeros_like(p))
        buf.lerp_(p.grad, 1 - group["momentum"])
        update = p.grad.lerp(buf, group["momentum"])  # Nesterov, as torch's default
        scale = 0.2 * math.sqrt(max(p.shape[-2:]))
        p.add_(orthogonalise(update), alpha=-group["lr"] * scale)

    def _adamw_step(self, p, group):
        state = self.state[p]
        if not state:
            state["step"] = torch.zeros(())
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
        beta1, beta2 = group["betas"]
        state["step"] += 1
        t = state["step"].item()
        state["exp_avg"].lerp_(p.grad, 1 - beta1)
        state["exp_avg_sq"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
        denom = (state["exp_avg_sq"] / (1 - beta2**t)).sqrt_().add_(group["eps"])
        p.addcdiv_(state["exp_avg"], denom, value=-group["lr"] / (1 - beta1**t))


def muon_param_groups(model: torch.nn.Module) -> list[dict]:
    """The model's trainable parameters as [Muon matrices, the rest]; an empty group is left
    out, so a model without matrices trains with AdamW alone."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    muon = [p for n, p in named if is_muon_matrix(n, p)]
    rest = [p for n, p in named if not is_muon_matrix(n, p)]
    groups = [{"params": muon, "muon": True}, {"params": rest, "muon": False}]
    return [g for g in groups if g["params"]]
