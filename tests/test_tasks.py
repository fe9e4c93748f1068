"""The rules (`run_rules`) on the spec's worked examples, and `IARCTask` validation."""

import re

import pytest

from iarc_hf.data.tasks import MAX_SYMBOLS, PUBLISHED_CONFIGS, IARCTask, run_rules

# The spec's worked examples, N = 16; `x^c` is control c on symbol x.
WORKED_EXAMPLES = {
    "I": "7^I 8 9 10 11",
    "I + C": "7^I 8 9^C 11 13^C 0 3",
    "A": "2 5^A 7 12 3 15",
    "R": "4 9 1 6^R 1 9 4",
    "R + C": "4 9 1 6^R 1 9^C 1 6 1",
    "A -> I": "3 4^A 7 11^I 12 13",
}


def parse(example: str) -> tuple[list[int], list[str | None]]:
    symbols, tape = [], []
    for token in example.split():
        symbol, _, control = token.partition("^")
        symbols.append(int(symbol))
        tape.append(control or None)
    return symbols, tape


@pytest.mark.parametrize("name", WORKED_EXAMPLES)
def test_worked_example(name):
    symbols, tape = parse(WORKED_EXAMPLES[name])
    first = next(t for t, c in enumerate(tape) if c)
    stream, _, _ = run_rules(symbols[: first + 1], tape[:-1], n_symbols=16)
    assert stream == symbols


def test_task_ids_and_context_steps():
    symbols, tape = parse(WORKED_EXAMPLES["I + C"])
    _, task_ids, steps = run_rules(symbols[:1], tape[:-1], 16)
    assert task_ids == [0] * 6
    assert steps == [0, 0, 1, 1, 2, 2]
    symbols, tape = parse(WORKED_EXAMPLES["A -> I"])
    _, task_ids, steps = run_rules(symbols[:2], tape[:-1], 16)
    assert task_ids == [-1, 1, 1, 0, 0]


def test_c_under_a_changes_nothing():
    plain, _, _ = run_rules([2, 5], [None, "A", None, None, None], 16)
    with_c, _, steps = run_rules([2, 5], [None, "A", None, "C", None], 16)
    assert plain == with_c
    assert steps[3:] == [1, 1]  # C is still counted as a context step


def test_rules_need_a_control():
    with pytest.raises(ValueError, match="no control"):
        run_rules([1, 2], [None, None, None], 16)


@pytest.mark.parametrize(
    "controls, n_symbols", [("IARC", 16), ("IAR", 17), ("IA", 18), ("IR", 18), ("AC", 18)]
)
def test_default_n_keeps_width_20(controls, n_symbols):
    task = IARCTask(controls)
    assert task.n_symbols == n_symbols
    assert task.n_symbols + task.n_controls == 20


@pytest.mark.parametrize(
    "knobs, field",
    [
        ({"controls": "IAX"}, "controls"),
        ({"controls": "IIA"}, "controls"),
        ({"controls": "C"}, "controls"),
        ({"controls": ""}, "controls"),
        ({"controls": "AI"}, "controls"),
        ({"controls": 3}, "controls"),
        ({"n_symbols": 1}, "n_symbols"),
        ({"n_symbols": 2.5}, "n_symbols"),
        ({"n_symbols": MAX_SYMBOLS + 1}, r"n_symbols must be an integer in \[2, 32767\]"),
        ({"min_gap": 0}, "min_gap"),
        ({"min_gap": 5, "max_gap": 4}, "min_gap"),
        ({"max_gap": 0}, "max_gap"),
        ({"context_length": 1}, "context_length"),
        ({"encoding": "bytes"}, "encoding"),
    ],
)
def test_invalid_knobs_name_the_knob(knobs, field):
    with pytest.raises(ValueError, match=field):
        IARCTask(**knobs)


def test_error_lists_allowed_values():
    with pytest.raises(ValueError, match="tape"):
        IARCTask(encoding="bytes")
    with pytest.raises(ValueError, match="IARC"):
        IARCTask(controls="IAX")


def test_empty_controls_list_the_published_configs():
    with pytest.raises(ValueError, match="published configs: " + ", ".join(PUBLISHED_CONFIGS)):
        IARCTask("")


@pytest.mark.parametrize(
    "knobs, named",
    [
        ({"context_length": 10**9}, "context_length=1000000000 with max_gap=9"),
        ({"max_gap": 10**9}, "max_gap=1000000000 with context_length=24"),
        ({"max_gap": 5000, "context_length": 5000}, "max_gap=5000 with context_length=5000"),
        ({"context_length": 8000, "encoding": "inline"}, "context_length=8000 with max_gap=9"),
    ],
)
def test_streams_too_long_to_generate_are_refused_with_the_memory(knobs, named):
    with pytest.raises(ValueError, match=named + r".* would need about [\d.]+ [GTP]iB, more than"):
        IARCTask(**knobs)


@pytest.mark.parametrize(
    "knob, other", [("context_length", "max_gap"), ("max_gap", "context_length")]
)
def test_the_most_that_fits_is_exactly_the_limit(knob, other):
    limit = rf"at most .*?{knob}=(\d+) with {other}"
    with pytest.raises(ValueError, match=limit) as refused:
        IARCTask(**{knob: 10**9})
    most = int(re.search(limit, str(refused.value)).group(1))
    assert IARCTask(**{knob: most}).stream_length > 1000  # far beyond the paper's 71
    with pytest.raises(ValueError, match="would need about"):
        IARCTask(**{knob: most + 1})


def test_names_say_what_differs():
    assert IARCTask().name == "IARC"
    assert IARCTask("IA", n_symbols=30, max_gap=5, encoding="inline").name == "IA-N30-gap1-5-inline"
    assert IARCTask(context_length=32).name == "IARC-L32"


def test_window_sizes():
    task = IARCTask(max_gap=9, context_length=24)
    assert task.prefix_length == 10  # x_0 .. x_P with P = max_gap
    assert task.window_start == 10 + 36  # after a warm-up of 4 * max_gap
    assert task.stream_length == 46 + 24 + 1
