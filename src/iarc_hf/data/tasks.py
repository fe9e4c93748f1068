"""The IARC task: its configuration (`IARCTask`) and the rules that make a stream.

A stream is a sequence of symbols 0..N-1; some positions carry a control token on a
separate control tape. The control seen with x_t decides how x_{t+1} is made:

    I        7^I 8 9 10 11               x_{t+1} = x_t + k           (k = 1 after I)
    I + C    7^I 8 9^C 11 13^C 0 3       C raises k by one
    A        2 5^A 7 12 3 15             x_{t+1} = x_t + x_{t-1}
    R        4 9 1 6^R 1 9 4             x_{anchor+j} = x_{anchor-j}
    R + C    4 9 1 6^R 1 9^C 1 6 1       C moves the mirror to its own position

(all sums mod N; examples with N = 16). `run_rules` is the short, readable reference of
these rules; `iarc_hf.data.generator` is the fast vectorised version tested against it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from iarc_hf.memory import generator_bytes, largest_fitting, refuse_above_cap, too_big

CONTROL_LETTERS = "IARC"
# Task ids in the `task_ids` field; C is not a task, it modifies the current one.
TASKS = "IAR"
TASK_IDS = {letter: i for i, letter in enumerate(TASKS)}
ENCODINGS = ("tape", "inline")
EMBEDDING_WIDTH = 20  # default N = 20 - n_controls keeps the one-hot width at 20 (the paper's d)
PUBLISHED_CONFIGS = ("IARC", "IAR", "IA", "IR")
# The generator computes k = (1 + C count) mod N in int16; the benchmark uses 16-20 symbols.
MAX_SYMBOLS = 2**15 - 1
# The label of a position with nothing to predict (a symbol followed by a control): the loss and
# the metrics skip it (transformers' convention; the remote-code model files spell it -100).
IGNORE_INDEX = -100


@dataclass(frozen=True)
class IARCTask:
    """One IARC configuration: which controls, how many symbols, gaps and window length.

    >>> IARCTask("IARC").n_symbols
    16
    >>> IARCTask("IA", context_length=32).name
    'IA-L32'
    """

    controls: str = "IARC"
    n_symbols: int | None = None  # default 20 - n_controls
    min_gap: int = 1
    max_gap: int = 9
    context_length: int = 24
    encoding: str = "tape"

    def __post_init__(self):
        _validate_controls(self.controls)
        if self.n_symbols is None:
            object.__setattr__(self, "n_symbols", EMBEDDING_WIDTH - len(self.controls))
        _require_int("n_symbols", self.n_symbols, minimum=2, maximum=MAX_SYMBOLS)
        _require_int("min_gap", self.min_gap, minimum=1)
        _require_int("max_gap", self.max_gap, minimum=1)
        if self.min_gap > self.max_gap:
            raise ValueError(
                f"min_gap must be <= max_gap, got min_gap={self.min_gap} > max_gap={self.max_gap}"
            )
        _require_int("context_length", self.context_length, minimum=2)
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, got {self.encoding!r}")
        self._check_generator_memory()

    # --- derived sizes -------------------------------------------------------------
    @property
    def n_controls(self) -> int:
        return len(self.controls)

    @property
    def prefix_length(self) -> int:
        """Random symbols x_0..x_P before the first control (P = max_gap, so R never underflows)."""
        return prefix_length_of(self.max_gap)

    @property
    def warmup_length(self) -> int:
        return warmup_length_of(self.max_gap)

    @property
    def window_start(self) -> int:
        """Stream position of a window's first symbol."""
        return window_start_of(self.max_gap)

    @property
    def stream_length(self) -> int:
        """Symbols generated per window: prefix, warm-up, window and the last label."""
        return stream_length_of(self.max_gap, self.context_length)

    @property
    def vocab_size(self) -> int:
        """Token ids a model reads: symbols, plus the control ids in the inline encoding."""
        return self.n_symbols + (self.n_controls if self.encoding == "inline" else 0)

    @property
    def name(self) -> str:
        """The controls plus every knob that differs from its default, e.g. `IARC-N32-gap1-5`."""
        parts = [self.controls]
        if self.n_symbols != EMBEDDING_WIDTH - self.n_controls:
            parts.append(f"N{self.n_symbols}")
        if (self.min_gap, self.max_gap) != (1, 9):
            parts.append(f"gap{self.min_gap}-{self.max_gap}")
        if self.context_length != 24:
            parts.append(f"L{self.context_length}")
        if self.encoding != "tape":
            parts.append(self.encoding)
        return "-".join(parts)

    def control_id(self, letter: str) -> int:
        """The `control_ids` value of a control letter (0 means no control)."""
        return 1 + self.controls.index(letter)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def knobs(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_attributes(cls, controls: str, source) -> IARCTask:
        """The task of `controls` with every other knob read off `source` (a config, arguments)."""
        return cls(controls, **{k: getattr(source, k) for k in cls.knobs() if k != "controls"})

    def other_knobs(self) -> dict:
        """Every knob but the controls, as keywords (e.g. for the builder's config)."""
        return {k: v for k, v in self.to_dict().items() if k != "controls"}

    def _check_generator_memory(self) -> None:
        """Refuse streams too long to generate: splits are made a chunk of windows at a time."""
        from iarc_hf.data.generator import CHUNK_SIZE  # lazy: the generator imports this module

        def chunk_bytes(max_gap: int, context_length: int) -> int:
            length = stream_length_of(max_gap, context_length)
            return generator_bytes(length, context_length, CHUNK_SIZE, self.encoding == "inline")

        gap, length = self.max_gap, self.context_length
        if not too_big(chunk_bytes(gap, length)):
            return
        most_length = largest_fitting(lambda n: chunk_bytes(gap, n), start=2)
        most_gap = largest_fitting(lambda n: chunk_bytes(n, length), start=self.min_gap)
        fits = [f"context_length={most_length} with max_gap={gap}"] if most_length >= 2 else []
        if most_gap >= self.min_gap:
            fits.append(f"max_gap={most_gap} with context_length={length}")
        # name first the knob that makes the streams long
        knobs = [f"context_length={length}", f"max_gap={gap}"]
        if 5 * gap > length:
            knobs.reverse()
        refuse_above_cap(
            chunk_bytes(gap, length),
            f"{' with '.join(knobs)} (streams of {self.stream_length:,} symbols): generating one "
            f"chunk of {CHUNK_SIZE:,} windows, as every split is made,",
            "at most " + (" or ".join(fits) if fits else "smaller values") + " fit",
        )


# The stream's layout is a function of max_gap and context_length alone: the memory check
# sizes other values of the two with it, without building a task.
def prefix_length_of(max_gap: int) -> int:
    return max_gap + 1


def warmup_length_of(max_gap: int) -> int:
    return 4 * max_gap


def window_start_of(max_gap: int) -> int:
    return prefix_length_of(max_gap) + warmup_length_of(max_gap)


def stream_length_of(max_gap: int, context_length: int) -> int:
    return window_start_of(max_gap) + context_length + 1


def _validate_controls(controls) -> None:
    allowed = (
        f"letters of {CONTROL_LETTERS!r} in that order, at least one of I, A, R "
        f"(the published configs: {', '.join(PUBLISHED_CONFIGS)})"
    )
    if not isinstance(controls, str) or not controls:
        raise ValueError(f"controls must be a non-empty string of {allowed}, got {controls!r}")
    for letter in controls:
        if letter not in CONTROL_LETTERS:
            raise ValueError(
                f"controls: unknown control {letter!r} in {controls!r}; allowed: {allowed}"
            )
    if len(set(controls)) != len(controls):
        raise ValueError(f"controls: repeated control letter in {controls!r}; allowed: {allowed}")
    if list(controls) != sorted(controls, key=CONTROL_LETTERS.index):
        raise ValueError(f"controls must be written in the order I, A, R, C, got {controls!r}")
    if controls == "C":
        raise ValueError(f"controls: 'C' alone has no task to modify; allowed: {allowed}")


def _require_int(field: str, value, minimum: int, maximum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{field} must be an integer >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{field} must be an integer in [{minimum}, {maximum}], got {value!r}")


def run_rules(
    prefix: list[int], tape: list[str | None], n_symbols: int
) -> tuple[list[int], list[int], list[int]]:
    """The rules, one stream at a time: the reference the fast generator is tested against.

    `prefix` holds x_0..x_s, `tape[t]` the control letter at position t (None for none).
    Controls update the state first, then x_{t+1} is made, for every t with t + 1 > s.
    Returns the stream x_0..x_T (T = len(tape)), and for each t < T the task that made
    x_{t+1} (`task_ids`, -1 where x_{t+1} was given) and the number of C tokens since
    the last I / A / R (`context_steps`).

    >>> run_rules([7], ["I", None, "C", None, "C", None, None], 16)[0]
    [7, 8, 9, 11, 13, 0, 3, 6]
    """
    x = list(prefix)
    task, k, anchor, context_steps = None, 0, 0, 0
    task_ids, steps = [], []
    for t, control in enumerate(tape):
        if control == "I":
            task, k, context_steps = "I", 1, 0
        elif control == "A":
            task, context_steps = "A", 0
        elif control == "R":
            task, anchor, context_steps = "R", t, 0
        elif control == "C":
            context_steps += 1
            if task == "I":
                k += 1
            elif task == "R":
                anchor = t  # the copy restarts, mirrored around this position
        if t + 1 < len(x):  # x_{t+1} is part of the given prefix
            task_ids.append(-1)
            steps.append(0)
            continue
        if task is None:
            raise ValueError(f"no control on or before position {t}: x_{t + 1} has no rule")
        if task == "I":
            nxt = (x[t] + k) % n_symbols
        elif task == "A":
            nxt = (x[t] + x[t - 1]) % n_symbols
        else:
            nxt = x[2 * anchor - (t + 1)]
        x.append(nxt)
        task_ids.append(TASK_IDS[task])
        steps.append(context_steps)
    return x, task_ids, steps


def window_cells(task: IARCTask, input_ids, control_ids) -> list[str]:
    """Each position in the spec's notation: `7^I` for a symbol with a control, else `7`."""
    return [
        f"{int(x)}^{task.controls[int(c) - 1]}" if c else str(int(x))
        for x, c in zip(input_ids, control_ids, strict=True)
    ]


def format_window(task: IARCTask, input_ids, control_ids, task_ids=None) -> str:
    """A tape window in the spec's notation, e.g. `7^I 8 9^C 11`; with `task_ids`, a second
    line names the task that makes each next symbol.

    >>> format_window(IARCTask(), [7, 8, 9, 11], [1, 0, 4, 0])
    '7^I 8 9^C 11'
    """
    cells = window_cells(task, input_ids, control_ids)
    line = " ".join(cells)
    if task_ids is None:
        return line
    names = [TASKS[int(i)] if i >= 0 else "?" for i in task_ids]
    return (
        line
        + "\n"
        + " ".join(name.rjust(len(cell)) for name, cell in zip(names, cells, strict=True))
    )


def parse_window(task: IARCTask, text: str) -> tuple[list[int], list[int]]:
    """The inverse of `format_window`: `input_ids` and `control_ids` of a typed tape window.

    Cells are separated by spaces or commas; `7^I` is symbol 7 with control I. A ValueError
    names the offending cell and what is allowed (symbols, this config's controls, the length).

    >>> parse_window(IARCTask(), "7^I 8 9^C 11")
    ([7, 8, 9, 11], [1, 0, 4, 0])
    """
    if task.encoding != "tape":
        raise ValueError(f"encoding must be 'tape' to parse a typed window, got {task.encoding!r}")
    cells = text.replace(",", " ").split()
    if not cells:
        raise ValueError("the stream is empty: type symbols such as `7^I 8 9^C 11`")
    if len(cells) > task.context_length:
        raise ValueError(
            f"the stream is too long: {len(cells)} symbols, at most {task.context_length} "
            f"(context_length of {task.name})"
        )
    input_ids, control_ids = [], []
    for position, cell in enumerate(cells):
        symbol, _, letter = cell.partition("^")
        letter = letter.upper()  # 7^i reads as 7^I
        if not (symbol.isascii() and symbol.isdigit()):
            raise ValueError(
                f"cell {position} ({cell!r}): a symbol must be a whole number 0..{task.n_symbols - 1}"
                ", optionally followed by ^ and a control letter"
            )
        if int(symbol) >= task.n_symbols:
            raise ValueError(
                f"cell {position} ({cell!r}): symbol {int(symbol)} is out of range; "
                f"{task.name} has symbols 0..{task.n_symbols - 1}"
            )
        if "^" in cell and letter not in tuple(task.controls):
            raise ValueError(
                f"cell {position} ({cell!r}): unknown control {letter!r}; "
                f"{task.name} has the controls {', '.join(task.controls)}"
            )
        input_ids.append(int(symbol))
        control_ids.append(task.control_id(letter) if letter else 0)
    return input_ids, control_ids
