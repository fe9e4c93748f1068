"""Fast, vectorised IARC windows (numpy), and the per-stream reference built on `run_rules`.

Both read the same random draws (`draw`), so the fast path can be checked against the
reference window by window. A batch of windows is a dict of int arrays of shape (n, L):
`input_ids`, `control_ids`, `labels`, `task_ids`, `context_steps`, `determined`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from iarc_hf.data.oracle import oracle_predict_tape
from iarc_hf.data.rule_state import control_codes, stream_state, symbol_dtype
from iarc_hf.data.tasks import IGNORE_INDEX, TASK_IDS, IARCTask, run_rules

FIELDS = ("input_ids", "control_ids", "labels", "task_ids", "context_steps", "determined")
# Model inputs are int64, as torch embeddings want; the slicing fields stay small.
FIELD_DTYPES = {
    "input_ids": np.int64,
    "control_ids": np.int64,
    "labels": np.int64,
    "task_ids": np.int8,
    "context_steps": np.int16,
    "determined": np.bool_,
}
SPLITS = ("train", "validation", "test")
# Disjoint seed streams: (seed, split) -> numpy SeedSequence spawn key (split id, chunk).
SPLIT_IDS = {"train": 0, "validation": 1, "test": 2, "stream": 3}
CHUNK_SIZE = 8192  # windows per seed chunk: a split's bytes do not depend on how it is read


@dataclass
class Draws:
    """Every random number one batch of streams uses, drawn in one fixed order."""

    prefix: np.ndarray  # (n, prefix_length) uniform symbols
    first: np.ndarray  # (n,) index into the non-C controls: the first control
    gaps: np.ndarray  # (n, G) distance from each control to the next
    controls: np.ndarray  # (n, G) index into task.controls, one per following control


def n_gap_draws(task: IARCTask) -> int:
    """How many controls can follow the first one before the stream ends."""
    produced = task.stream_length - task.prefix_length  # positions with a rule applied
    return produced // task.min_gap + 1


def draw(task: IARCTask, n: int, rng: np.random.Generator) -> Draws:
    first_choices = len(task.controls.replace("C", ""))
    small = np.int16 if max(task.n_symbols, task.max_gap) < 2**15 else np.int64
    return Draws(
        prefix=rng.integers(0, task.n_symbols, (n, task.prefix_length), dtype=small),
        first=rng.integers(0, first_choices, n, dtype=np.int8),
        gaps=rng.integers(task.min_gap, task.max_gap + 1, (n, n_gap_draws(task)), dtype=small),
        controls=rng.integers(0, task.n_controls, (n, n_gap_draws(task)), dtype=np.int8),
    )


def control_tape(task: IARCTask, draws: Draws) -> np.ndarray:
    """Time-major (stream_length - 1, n) control ids (0 = none, else 1 + index in controls)."""
    n = len(draws.first)
    length = task.stream_length - 1
    non_c = np.array([task.control_id(c) for c in task.controls if c != "C"])
    first_pos = task.prefix_length - 1
    # controls past the stream's end all land in one spare column, dropped at the end
    positions = np.minimum(first_pos + np.cumsum(draws.gaps, axis=1, dtype=np.int32), length)
    tape = np.zeros((length + 1, n), dtype=np.int8)
    tape[positions, np.arange(n)[:, None]] = draws.controls + 1
    tape[first_pos] = non_c[draws.first]
    return tape[:length]


def generate_streams(task: IARCTask, draws: Draws) -> dict[str, np.ndarray]:
    """Whole streams, time-major: symbols (T+1, n), the tape, task ids and context steps (T, n)."""
    tape = control_tape(task, draws)
    length, n = tape.shape
    N = task.n_symbols
    first = task.prefix_length - 1  # the first control; the rules apply from here on
    state = stream_state(control_codes(tape[first:], task.controls))
    # small ints keep the streams in cache; selections are multiplications by 0 / 1
    # (faster than np.where on small ints)
    dtype = symbol_dtype(N)
    is_a = (state["task"] == TASK_IDS["A"]).astype(dtype)
    is_r = (state["task"] == TASK_IDS["R"]).astype(dtype)
    k = ((1 + state["c_since"]) % N).astype(dtype)
    steps = np.arange(first, length)[:, None]
    # state positions count from `first`: the anchor's stream position is first + last_control
    source = np.maximum(2 * (first + state["last_control"].astype(np.int64)) - (steps + 1), 0)
    source_flat = source * n + np.arange(n)
    x = np.empty((length + 1, n), dtype=dtype)
    x[: task.prefix_length] = draws.prefix.T
    flat = x.reshape(-1)
    modulus = dtype(N)
    for i, t in enumerate(range(first, length)):
        step = x[t] + k[i] + is_a[i] * (x[t - 1] - k[i])  # I adds k, A adds x_{t-1}
        step -= modulus * (step >= modulus)  # mod N: the sum is below 2N
        mirror = np.take(flat, source_flat[i])
        x[t + 1] = step + is_r[i] * (mirror - step)
    # positions before the first control were not made by a rule: task -1, no C steps
    task_ids = np.full((length, n), -1, np.int8)
    task_ids[first:] = state["task"]
    context_steps = np.zeros((length, n), state["c_since"].dtype)
    context_steps[first:] = state["c_since"]
    return {"symbols": x, "tape": tape, "task_ids": task_ids, "context_steps": context_steps}


def cut_windows(task: IARCTask, streams: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The window of every stream as (n, L) arrays, with the oracle's `determined`."""
    start, stop = task.window_start, task.window_start + task.context_length
    batch = {
        "input_ids": streams["symbols"][start:stop],
        "control_ids": streams["tape"][start:stop],
        "labels": streams["symbols"][start + 1 : stop + 1],
        "task_ids": streams["task_ids"][start:stop],
        "context_steps": streams["context_steps"][start:stop],
    }
    batch = {
        key: np.ascontiguousarray(value.T, dtype=FIELD_DTYPES[key]) for key, value in batch.items()
    }
    batch["determined"] = oracle_predict_tape(
        batch["input_ids"], batch["control_ids"], task.controls, task.n_symbols
    )[1]
    return batch


def generate(task: IARCTask, n: int, seed) -> dict[str, np.ndarray]:
    """n windows from `seed` (an int, a SeedSequence or a Generator), every field of the spec."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    batch = cut_windows(task, generate_streams(task, draw(task, n, rng)))
    if task.encoding == "inline":
        batch = to_inline(task, batch)
    return batch


def chunk_seed(seed: int, split: str, chunk: int) -> np.random.SeedSequence:
    if split not in SPLIT_IDS:
        raise ValueError(f"split must be one of {tuple(SPLIT_IDS)}, got {split!r}")
    return np.random.SeedSequence(seed, spawn_key=(SPLIT_IDS[split], chunk))


def iter_split(task: IARCTask, split: str, n: int, seed: int):
    """A split as chunks of windows; the same (task, seed, split) gives the same bytes, and a
    smaller split is the start of a larger one."""
    for chunk, start in enumerate(range(0, n, CHUNK_SIZE)):
        # always a whole chunk, cut: window i is the same whatever the split's size
        windows = generate(task, CHUNK_SIZE, chunk_seed(seed, split, chunk))
        yield {key: value[: n - start] for key, value in windows.items()}


def generate_split(task: IARCTask, split: str, n: int, seed: int) -> dict[str, np.ndarray]:
    chunks = list(iter_split(task, split, n, seed))
    return {key: np.concatenate([c[key] for c in chunks]) for key in FIELDS}


def stream_batch(task: IARCTask, n: int, seed: int, step: int, process: int = 0):
    """A fresh training batch, deterministic in (seed, step, process): the paper's endless stream."""
    return generate(
        task, n, np.random.SeedSequence(seed, spawn_key=(SPLIT_IDS["stream"], process, step))
    )


# --- inline encoding -------------------------------------------------------------------


def to_inline(task: IARCTask, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Insert each control as token N + index right after its symbol; keep the first L tokens.

    A symbol followed by a control gets label -100 (control tokens are never predicted);
    the control token carries the symbol's label and fields. `control_ids` becomes all 0.
    """
    n, L = batch["input_ids"].shape
    has = batch["control_ids"] > 0
    sym_pos = np.arange(L) + np.cumsum(has, axis=1) - has  # token index of each symbol
    ctrl_pos = sym_pos + 1
    width = 2 * L
    rows = np.broadcast_to(np.arange(n)[:, None], (n, L))
    out = {
        "input_ids": np.zeros((n, width), FIELD_DTYPES["input_ids"]),
        "control_ids": np.zeros((n, width), FIELD_DTYPES["control_ids"]),
        "labels": np.full((n, width), IGNORE_INDEX, FIELD_DTYPES["labels"]),
        "task_ids": np.full((n, width), -1, FIELD_DTYPES["task_ids"]),
        "context_steps": np.zeros((n, width), FIELD_DTYPES["context_steps"]),
        "determined": np.zeros((n, width), bool),
    }
    out["input_ids"][rows, sym_pos] = batch["input_ids"]
    out["input_ids"][rows[has], ctrl_pos[has]] = task.n_symbols + batch["control_ids"][has] - 1
    # the label and its fields sit on the last token of each symbol: the control if present
    label_pos = np.where(has, ctrl_pos, sym_pos)
    for key in ("labels", "task_ids", "context_steps", "determined"):
        out[key][rows, label_pos] = batch[key]
    return {key: np.ascontiguousarray(value[:, :L]) for key, value in out.items()}


# --- the reference, one stream at a time -----------------------------------------------


def reference_window(task: IARCTask, draws: Draws, i: int) -> dict[str, np.ndarray]:
    """Window i of `draws`, made by `run_rules` with a plain Python loop (slow, readable)."""
    length = task.stream_length - 1
    tape: list[str | None] = [None] * length
    position = task.prefix_length - 1
    tape[position] = task.controls.replace("C", "")[draws.first[i]]
    for gap, control in zip(draws.gaps[i], draws.controls[i], strict=True):
        position += int(gap)
        if position >= length:
            break
        tape[position] = task.controls[control]
    symbols, task_ids, steps = run_rules([int(s) for s in draws.prefix[i]], tape, task.n_symbols)
    start, stop = task.window_start, task.window_start + task.context_length
    ids = [0 if c is None else task.control_id(c) for c in tape]
    return {
        "input_ids": np.array(symbols[start:stop]),
        "control_ids": np.array(ids[start:stop]),
        "labels": np.array(symbols[start + 1 : stop + 1]),
        "task_ids": np.array(task_ids[start:stop]),
        "context_steps": np.array(steps[start:stop]),
    }
