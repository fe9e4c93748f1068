"""Why does a deep attention stack (not) train? Per-layer quantities over a short training run.

`diagnose` trains an IARC transformer on fresh IARC windows (the stream of `scripts/train.py`)
and, every `every` steps and at initialisation, records per layer: the gradient norm of the
layer's parameters, the residual-stream norm after the block, the attention entropy, the score
scale std(z) and how saturated the expressive weight z^2/(1+z^2) is; plus loss and validation
accuracy. Quantities are read with hooks: the model is not changed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import get_scheduler, set_seed

from iarc_hf.configuration_iarc import _OWN_FIELDS, IARCConfig
from iarc_hf.data.generator import generate_split, stream_batch
from iarc_hf.data.tasks import IARCTask
from iarc_hf.eval.evaluation import evaluate_model, to_tensors
from iarc_hf.modeling_iarc import IARCModel
from iarc_hf.training.loop import make_optimizer

# The expressive weight g = z^2/(1+z^2) counts as saturated above HIGH (|z| > 9.95: its slope
# 2z/(1+z^2)^2 is < 0.002) and as switched off below LOW (|z| < 0.1005: slope < 0.2).
SATURATION_HIGH = 0.99
SATURATION_LOW = 0.01
# What the JSON records of the run (the recipe after overrides).
RUN_KEYS = (
    "optimizer",
    "learning_rate",
    "momentum",
    "weight_decay",
    "adam_beta1",
    "adam_beta2",
    "lr_scheduler_type",
    "warmup_steps",
    "max_grad_norm",
    "per_device_train_batch_size",
    "seed",
)
LAYER_KEYS = (
    "grad_norm",
    "attention_grad_norm",
    "stream_grad_norm",
    "activation_norm",
    "attention_entropy",
    "score_std",
    "ea_saturated_high",
    "ea_saturated_low",
    "max_weight_slope",
)


def expressive_weight(z: torch.Tensor) -> torch.Tensor:
    """The unnormalised expressive-attention weight z^2/(1+z^2)."""
    z2 = z.square()
    return z2 / (1 + z2)


def causal_mask(length: int, device=None) -> torch.Tensor:
    """(T, T) True where key j <= query i."""
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


def saturation(z: torch.Tensor, mask: torch.Tensor) -> tuple[float, float]:
    """(fraction of causal scores with z^2/(1+z^2) > SATURATION_HIGH, fraction < SATURATION_LOW);
    z (..., T, T) with queries on the second-to-last axis, mask (T, T) the causal positions."""
    g = expressive_weight(z)[..., mask]
    return (g > SATURATION_HIGH).float().mean().item(), (g < SATURATION_LOW).float().mean().item()


def attention_entropy(weights: torch.Tensor) -> float:
    """Mean entropy (nats) of the attention rows, (B, H, query, key); signed (cog) weights are
    read as |w| renormalised. log(i + 1) at query i is uniform attention."""
    p = weights.abs()
    p = p / p.sum(-1, keepdim=True).clamp_min(1e-30)
    return -(p * p.clamp_min(1e-30).log()).sum(-1).mean().item()


def attention_scores(attn, u: torch.Tensor) -> torch.Tensor:
    """z = q.k * score_scale of an `Attention` module on its input u (T, B, d), as
    (B, H, query, key), before masking and ALiBi."""
    t, b, d = u.shape
    q, k, _ = attn.projected_qkv(u).split(d, dim=-1)
    q, k = (x.reshape(t, b, attn.num_heads, -1) for x in (q, k))
    return torch.einsum("ibhc,jbhc->bhij", q, k) * attn.score_scale


def weight_slope(z: torch.Tensor, weights: torch.Tensor, name: str, prepared, eps: float):
    """|dw_ij/dz_ij| (B, H, query, key): how steeply a weight moves with its own score.
    With w = u/(sum_k u_k + eps): u'(z) (1 - w) / (sum_k u_k + eps); for softmax (dpa, cog)
    that is |w| (1 - |w|) <= 1/4. `prepared` is the layer's bias as the model prepares it,
    (H, key, query): e^b for expressive; (b, causal mask) for expressive_additive."""
    if not name.startswith("expressive"):
        return weights.abs() * (1 - weights.abs())
    if name == "expressive":
        s, factor = z, prepared.transpose(-1, -2)
    else:
        s, factor = z + prepared[0].transpose(-1, -2), prepared[1].transpose(-1, -2)
    den = (expressive_weight(s) * factor).sum(-1, keepdim=True) + eps
    return (2 * s / (1 + s.square()).square() * factor).abs() * (1 - weights) / den


def _norm(tensors) -> float:
    grads = [t.grad.detach().float().square().sum() for t in tensors if t.grad is not None]
    return math.sqrt(sum(g.item() for g in grads)) if grads else 0.0


class LayerProbe:
    """Forward hooks on every transformer block: the residual-stream norm after the block and
    the scores of its attention (only while `active`)."""

    def __init__(self, model: IARCModel):
        self.layers = list(model.stack.layers)
        self.active = False
        self.activation_norm: list[float] = []
        self.stream_grad: dict[int, float] = {}
        self.scores: list[torch.Tensor] = []
        self.biases: list[torch.Tensor] = []  # each layer's prepared bias
        self.handles = []
        for layer in self.layers:
            self.handles.append(layer.attn.register_forward_pre_hook(self._on_attention))
            self.handles.append(layer.register_forward_hook(self._on_block))

    def _on_attention(self, attn, args) -> None:
        if self.active:
            with torch.no_grad():
                self.scores.append(attention_scores(attn, args[0]))
            self.biases.append(args[1][attn.weight_function])

    def _on_block(self, block, args, output) -> None:
        if not self.active:
            return
        x, index = output[0], len(self.activation_norm)  # x: the residual stream (T, B, d)
        self.activation_norm.append(x.detach().norm(dim=-1).mean().item())
        if x.requires_grad:  # |dL/dx| after the block: where a gradient spike enters the stream
            x.register_hook(lambda grad: self.stream_grad.__setitem__(index, grad.norm().item()))

    def start(self) -> None:
        self.active, self.activation_norm, self.stream_grad = True, [], {}
        self.scores, self.biases = [], []

    def stop(self) -> None:
        self.active = False

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def layer_record(probe: LayerProbe, attentions: tuple) -> dict[str, list[float]]:
    """Per-layer quantities of one instrumented forward and backward pass."""
    mask = causal_mask(probe.scores[0].shape[-1], probe.scores[0].device)
    record = {key: [] for key in (*LAYER_KEYS, "max_weight_slope_query")}
    for index, (layer, z, weights) in enumerate(
        zip(probe.layers, probe.scores, attentions, strict=True)
    ):
        high, low = saturation(z, mask)
        record["grad_norm"].append(_norm(layer.parameters()))
        record["attention_grad_norm"].append(_norm(layer.attn.parameters()))
        record["stream_grad_norm"].append(probe.stream_grad.get(index, 0.0))
        record["activation_norm"].append(probe.activation_norm[index])
        record["attention_entropy"].append(attention_entropy(weights))
        record["score_std"].append(z[..., mask].std().item())
        record["ea_saturated_high"].append(high)
        record["ea_saturated_low"].append(low)
        attn = layer.attn
        slope = weight_slope(z, weights, attn.weight_function, probe.biases[index], attn.eps)
        record["max_weight_slope"].append(slope[..., mask].max().item())
        # the query position of the steepest weight: position 0 has a single key
        query = slope.masked_fill(~mask, 0).amax(dim=(0, 1, 3)).argmax().item()
        record["max_weight_slope_query"].append(query)
    return record


@dataclass
class DiagnosisSetup:
    """What `diagnose` trains: a config, a task and a run (RunArguments-like: optimizer,
    learning_rate, momentum, weight_decay, adam betas, lr_scheduler_type, warmup_steps,
    max_grad_norm, per_device_train_batch_size, seed)."""

    config: IARCConfig
    task: IARCTask
    run: object
    max_steps: int = 300
    every: int = 25
    eval_size: int = 1000
    data_seed: int = 0
    labels: dict = field(default_factory=dict)  # preset, overrides, recipe: for the JSON


def _recorded_step(session, step: int, update: bool) -> dict:
    """One training step with the probe on: per-layer record, loss, then the update (if any)."""
    model, probe, setup = session["model"], session["probe"], session["setup"]
    run = setup.run
    inputs = to_tensors(
        stream_batch(setup.task, run.per_device_train_batch_size, run.seed, step), "cpu"
    )
    probe.start()
    out = model(**inputs, output_attentions=True)
    probe.stop()
    out.loss.backward()
    record = {"step": step, "loss": out.loss.item(), "lr": session["scheduler"].get_last_lr()[0]}
    record["layers"] = layer_record(probe, out.attentions)
    record["head_grad_norm"] = _norm(model.head.parameters())
    record["total_grad_norm"] = _norm(model.parameters())
    _finish_step(session, update)
    metrics = evaluate_model(model, setup.task, session["validation"], oracle=False)
    record.update(accuracy=metrics["accuracy"], accuracy_all=metrics["accuracy_all"])
    return record


def _finish_step(session, update: bool) -> None:
    model, run = session["model"], session["setup"].run
    if update:
        if run.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(model.parameters(), run.max_grad_norm)
        session["optimizer"].step()
        session["scheduler"].step()
    session["optimizer"].zero_grad()


def _plain_step(session, step: int) -> float:
    model, setup = session["model"], session["setup"]
    run = setup.run
    inputs = to_tensors(
        stream_batch(setup.task, run.per_device_train_batch_size, run.seed, step), "cpu"
    )
    loss = model(**inputs).loss
    loss.backward()
    _finish_step(session, update=True)
    return loss.item()


def _session(setup: DiagnosisSetup) -> dict:
    set_seed(setup.run.seed)
    model = IARCModel(setup.config)
    model.train()
    optimizer = make_optimizer(model, setup.run)
    scheduler = get_scheduler(
        setup.run.lr_scheduler_type,
        optimizer,
        num_warmup_steps=setup.run.warmup_steps,
        num_training_steps=setup.max_steps,
    )
    validation = generate_split(setup.task, "validation", setup.eval_size, setup.data_seed)
    return dict(
        setup=setup,
        model=model,
        probe=LayerProbe(model),
        optimizer=optimizer,
        scheduler=scheduler,
        validation=validation,
    )


def diagnose(setup: DiagnosisSetup, show_progress: bool = True) -> dict:
    """Train for setup.max_steps steps; records at step 0 (initialisation), every setup.every
    steps and after the last step (gradients of one more batch, no update). Returns a
    JSON-ready dict: `records` (per recorded step; `layers` holds one list per LAYER_KEYS entry,
    one value per layer) and `losses` (the training loss of every step)."""
    if setup.config.architecture != "transformer":
        raise ValueError(
            f"diagnose needs architecture='transformer', not {setup.config.architecture!r}"
        )
    session = _session(setup)
    records, losses, start = [], [], time.perf_counter()
    bar = tqdm(range(setup.max_steps + 1), disable=not show_progress, desc="diagnose")
    for step in bar:
        last = step == setup.max_steps
        if step % setup.every == 0 or last:
            records.append(_recorded_step(session, step, update=not last))
            losses.append(records[-1]["loss"]) if not last else None
            bar.set_postfix(loss=f"{records[-1]['loss']:.3f}", acc=f"{records[-1]['accuracy']:.3f}")
        else:
            losses.append(_plain_step(session, step))
    session["probe"].remove()
    return {
        **setup.labels,
        "config": {k: getattr(setup.config, k) for k in _OWN_FIELDS},
        "task": setup.task.to_dict(),
        "run": {k: getattr(setup.run, k) for k in RUN_KEYS},
        "max_steps": setup.max_steps,
        "every": setup.every,
        "eval_size": setup.eval_size,
        "params": sum(p.numel() for p in session["model"].parameters()),
        "threads": torch.get_num_threads(),
        "seconds": time.perf_counter() - start,
        "saturation_thresholds": {"high": SATURATION_HIGH, "low": SATURATION_LOW},
        "records": records,
        "losses": losses,
    }


def summary(result: dict) -> dict:
    """The numbers a reader compares runs by: the first and last record, layers averaged."""
    first, last = result["records"][0], result["records"][-1]

    def averaged(record):
        return {k: float(np.mean(v)) for k, v in record["layers"].items() if k in LAYER_KEYS}

    tail = result["losses"][-25:]
    return {
        "final_accuracy": last["accuracy"],
        "final_accuracy_all": last["accuracy_all"],
        "final_loss_mean_last_25": float(np.mean(tail)) if tail else None,
        "init": averaged(first),
        "final": averaged(last),
    }


def _layers(record: int, key: str, reduce=max):
    """A table cell: `reduce` over the layers of one record (0: initialisation, -1: the end)."""

    def cell(result):
        values = result["records"][record]["layers"].get(key)  # older diagnoses lack some keys
        return float("nan") if values is None else reduce(values)

    return cell


def _last_layer(values):
    return values[-1]


TABLE_COLUMNS = (  # (header, value of a result, format)
    ("accuracy (end)", lambda r: r["records"][-1]["accuracy"], ".3f"),
    ("loss (last 25 steps)", lambda r: summary(r)["final_loss_mean_last_25"], ".3f"),
    ("total grad norm (init)", lambda r: r["records"][0]["total_grad_norm"], ".3g"),
    ("max layer grad norm (init)", _layers(0, "grad_norm"), ".3g"),
    ("max abs dL/dx (init)", _layers(0, "stream_grad_norm"), ".3g"),
    ("max dw/dz (init)", _layers(0, "max_weight_slope"), ".3g"),
    ("max layer grad norm (end)", _layers(-1, "grad_norm"), ".3g"),
    ("last-layer stream norm (init)", _layers(0, "activation_norm", _last_layer), ".3g"),
    ("max stream norm (end)", _layers(-1, "activation_norm"), ".3g"),
    ("entropy (end)", _layers(-1, "attention_entropy", np.mean), ".3f"),
    ("std(z) (end)", _layers(-1, "score_std", np.mean), ".3g"),
    ("g > 0.99 (end)", _layers(-1, "ea_saturated_high", np.mean), ".2g"),
    ("g < 0.01 (end)", _layers(-1, "ea_saturated_low", np.mean), ".3f"),
)


def summary_table(results: list[tuple[str, dict]]) -> str:
    """A markdown table of diagnoses: one row per (label, result); layer means unless named."""
    lines = [
        "| run | " + " | ".join(name for name, _, _ in TABLE_COLUMNS) + " |",
        "| --- |" + " ---: |" * len(TABLE_COLUMNS),
    ]
    for label, result in results:
        cells = [format(get(result), spec) for _, get, spec in TABLE_COLUMNS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
