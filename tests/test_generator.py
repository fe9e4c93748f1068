"""The fast generator: equal to the reference, uniform where the spec says so, reproducible."""

import hashlib
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iarc_hf.data.builder import all_control_sets
from iarc_hf.data.generator import (
    CHUNK_SIZE,
    FIELDS,
    control_tape,
    cut_windows,
    draw,
    generate,
    generate_split,
    generate_streams,
    reference_window,
    stream_batch,
)
from iarc_hf.data.oracle import inline_to_tape
from iarc_hf.data.tasks import IARCTask

CONTROL_SETS = all_control_sets()


@st.composite
def tasks(draw_):
    min_gap = draw_(st.integers(1, 4))
    return IARCTask(
        controls=draw_(st.sampled_from(CONTROL_SETS)),
        n_symbols=draw_(st.integers(2, 40)),
        min_gap=min_gap,
        max_gap=draw_(st.integers(min_gap, 12)),
        context_length=draw_(st.integers(2, 40)),
    )


@settings(max_examples=60, deadline=None)
@given(task=tasks(), seed=st.integers(0, 2**32 - 1))
def test_fast_generator_equals_reference(task, seed):
    draws = draw(task, 16, np.random.default_rng(seed))
    fast = cut_windows(task, generate_streams(task, draws))
    for i in range(16):
        reference = reference_window(task, draws, i)
        for key, value in reference.items():
            np.testing.assert_array_equal(fast[key][i], value, err_msg=f"{key}, window {i}")


@pytest.mark.parametrize("controls", CONTROL_SETS)
def test_fields_and_ranges(controls):
    task = IARCTask(controls)
    batch = generate(task, 500, 0)
    assert set(batch) == set(FIELDS)
    for value in batch.values():
        assert value.shape == (500, task.context_length)
    assert batch["input_ids"].min() >= 0 and batch["input_ids"].max() < task.n_symbols
    assert batch["control_ids"].min() >= 0 and batch["control_ids"].max() <= task.n_controls
    np.testing.assert_array_equal(batch["labels"][:, :-1], batch["input_ids"][:, 1:])
    present = {task.controls[i - 1] for i in np.unique(batch["control_ids"]) if i}
    assert present == set(controls)
    tasks_present = set(np.unique(batch["task_ids"]))
    assert tasks_present == {"IAR".index(c) for c in controls if c != "C"}
    if "C" not in controls:
        assert batch["context_steps"].max() == 0


def _chi2(counts: np.ndarray) -> float:
    expected = counts.sum() / len(counts)
    return float(((counts - expected) ** 2 / expected).sum())


def _chi2_bound(df: int) -> float:
    # about six standard deviations above the mean of a chi-square with df degrees of freedom
    return df + 6 * np.sqrt(2 * df)


@pytest.mark.parametrize("min_gap, max_gap", [(1, 9), (3, 7), (2, 2)])
def test_gaps_stay_in_range_and_are_uniform(min_gap, max_gap):
    task = IARCTask(min_gap=min_gap, max_gap=max_gap)
    tape = control_tape(task, draw(task, 4000, np.random.default_rng(1)))
    gaps = []
    for column in tape.T:
        positions = np.flatnonzero(column)
        # only controls whose successor surely lies inside the stream: the stream's end
        # would cut long gaps more often than short ones
        whole = positions[:-1] + max_gap < len(tape)
        gaps.append(np.diff(positions)[whole])
    gaps = np.concatenate(gaps)
    assert gaps.min() >= min_gap and gaps.max() <= max_gap
    counts = np.bincount(gaps - min_gap, minlength=max_gap - min_gap + 1)
    assert _chi2(counts) <= _chi2_bound(len(counts) - 1)


@pytest.mark.parametrize("controls", ["IARC", "IAR", "IA", "IR"])
def test_controls_equally_frequent_and_first_is_a_task(controls):
    task = IARCTask(controls)
    tape = control_tape(task, draw(task, 4000, np.random.default_rng(2)))
    first = tape[task.prefix_length - 1]
    assert "C" not in {task.controls[i - 1] for i in np.unique(first)}
    assert not tape[: task.prefix_length - 1].any()  # the prefix is free of controls
    later = tape[task.prefix_length :]
    counts = np.bincount(later[later > 0] - 1, minlength=task.n_controls)
    assert _chi2(counts) <= _chi2_bound(task.n_controls - 1)


@pytest.mark.parametrize("controls", ["IARC", "IA", "IR"])
def test_random_symbols_uniform(controls):
    task = IARCTask(controls)
    streams = generate_streams(task, draw(task, 4000, np.random.default_rng(3)))
    prefix = streams["symbols"][: task.prefix_length]
    counts = np.bincount(prefix.ravel(), minlength=task.n_symbols)
    assert _chi2(counts) <= _chi2_bound(task.n_symbols - 1)


@pytest.mark.parametrize("controls", ["IR", "IRC", "I", "R"])
def test_window_symbols_uniform_without_addition(controls):
    # I shifts and R copies uniform symbols; A is left out: it adds the correlated pair
    # (x, x + k) that I leaves behind, so its sums are not uniform (see the dataset card)
    # one symbol per window: windows are independent, symbols within one are not
    task = IARCTask(controls)
    batch = generate(task, 4000, 3)
    for position in (0, task.context_length - 1):
        counts = np.bincount(batch["input_ids"][:, position], minlength=task.n_symbols)
        assert _chi2(counts) <= _chi2_bound(task.n_symbols - 1)


def _digest(batch) -> str:
    h = hashlib.sha256()
    for key in FIELDS:
        h.update(np.ascontiguousarray(batch[key]).tobytes())
    return h.hexdigest()


@pytest.mark.integration
def test_same_seed_same_bytes_in_a_new_process():
    task = IARCTask("IAR", max_gap=7)
    here = _digest(generate_split(task, "validation", 1000, seed=5))
    assert here == _digest(generate_split(task, "validation", 1000, seed=5))
    code = (
        "from iarc_hf.data.tasks import IARCTask;"
        "from iarc_hf.data.generator import generate_split;"
        "import hashlib, numpy as np;"
        "b = generate_split(IARCTask('IAR', max_gap=7), 'validation', 1000, seed=5);"
        "h = hashlib.sha256();"
        "[h.update(np.ascontiguousarray(b[k]).tobytes()) for k in "
        "('input_ids','control_ids','labels','task_ids','context_steps','determined')];"
        "print(h.hexdigest())"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == here


def test_splits_share_no_window():
    task = IARCTask()
    rows = {}
    for split in ("train", "validation", "test"):
        batch = generate_split(task, split, 3000, seed=0)
        both = np.concatenate([batch["input_ids"], batch["control_ids"]], axis=1)
        rows[split] = {row.tobytes() for row in both}
    assert not rows["train"] & rows["validation"]
    assert not rows["train"] & rows["test"]
    assert not rows["validation"] & rows["test"]


def test_seeds_differ_and_chunks_do_not_depend_on_size():
    task = IARCTask()
    a = generate_split(task, "train", CHUNK_SIZE + 10, seed=0)
    for size in (CHUNK_SIZE, 10):  # a smaller split is the start of a larger one
        b = generate_split(task, "train", size, seed=0)
        np.testing.assert_array_equal(a["input_ids"][:size], b["input_ids"])
    c = generate_split(task, "train", 100, seed=1)
    assert not np.array_equal(c["input_ids"], a["input_ids"][:100])


def test_stream_batches_are_deterministic_per_step_and_process():
    task = IARCTask()
    a = stream_batch(task, 64, seed=0, step=3, process=0)
    np.testing.assert_array_equal(a["input_ids"], stream_batch(task, 64, 0, 3, 0)["input_ids"])
    assert not np.array_equal(a["input_ids"], stream_batch(task, 64, 0, 4, 0)["input_ids"])
    assert not np.array_equal(a["input_ids"], stream_batch(task, 64, 0, 3, 1)["input_ids"])


@pytest.mark.parametrize("controls", ["IARC", "IA", "IR"])
def test_inline_encoding_carries_the_same_information(controls):
    tape_task = IARCTask(controls)
    inline_task = IARCTask(controls, encoding="inline")
    tape = generate(tape_task, 300, 7)
    inline = generate(inline_task, 300, 7)
    N = tape_task.n_symbols
    tokens = inline["input_ids"]
    assert tokens.max() < inline_task.vocab_size == N + tape_task.n_controls
    assert not inline["control_ids"].any()
    # a position is unlabelled exactly when the next token is a control
    next_is_control = np.zeros_like(tokens, dtype=bool)
    next_is_control[:, :-1] = tokens[:, 1:] >= N
    assert (inline["labels"][:, :-1] == -100).tolist() == next_is_control[:, :-1].tolist()
    # decoding the inline window gives back the tape window's leading symbols and controls
    symbols, control_ids, lengths, _ = inline_to_tape(tokens, N)
    for i in range(len(tokens)):
        m = lengths[i]
        np.testing.assert_array_equal(symbols[i, :m], tape["input_ids"][i, :m])
        np.testing.assert_array_equal(control_ids[i, : m - 1], tape["control_ids"][i, : m - 1])
    labelled = inline["labels"] != -100
    assert (inline["task_ids"][labelled] >= 0).all()
    assert not inline["determined"][~labelled].any()
