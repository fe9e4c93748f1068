"""The matmul floor of a training step: the step's own matrix products (same ops, shapes,
strides and order, recorded while it runs), replayed back to back with nothing in between, on
operands made once. A step that runs these products cannot be faster than this, so it bounds
the speed-up that any work on the rest of the step (softmax, norms, copies, ...) can buy."""

from collections.abc import Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode

MATMULS = {
    getattr(getattr(torch.ops.aten, name), overload)
    for name in ("mm", "addmm", "bmm", "baddbmm")
    for overload in ("default", "out")
}


def describe(value):
    return (value.shape, value.stride(), value.dtype) if isinstance(value, torch.Tensor) else value


def make(value, device: str):
    if isinstance(value, tuple):
        return torch.empty_strided(*value[:2], dtype=value[2], device=device).normal_()
    return value


class RecordMatmuls(TorchDispatchMode):
    """Records (op, shape/stride/dtype of the tensor arguments, other arguments) of every matrix
    product: strides too, since a transposed operand is a different MKL call."""

    def __init__(self):
        super().__init__()
        self.calls: list[tuple] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in MATMULS:
            described = {k: describe(v) for k, v in kwargs.items()}
            self.calls.append((func, [describe(a) for a in args], described))
        return func(*args, **kwargs)


def record_matmuls(step: Callable[[], None]) -> list[tuple]:
    with RecordMatmuls() as recorder:
        step()
    return recorder.calls


def replay(calls: list[tuple], device: str) -> Callable[[], None]:
    """A function that runs the recorded products, in order, on operands made once."""
    made = []
    for func, args, kwargs in calls:
        made.append(
            (func, [make(a, device) for a in args], {k: make(v, device) for k, v in kwargs.items()})
        )

    def run() -> None:
        for func, args, kwargs in made:
            func(*args, **kwargs)

    return run
