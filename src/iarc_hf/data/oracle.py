"""The oracle: a rule-based predictor that knows the rules and sees only the window.

The state at the window's start is unknown, so the oracle keeps hypotheses about it:
task I with any k in 0..N-1, task A, or task R with its anchor before the window;
symbols before the window are unknown. It drops every hypothesis whose prediction
disagreed with a symbol it has seen, and predicts the symbol with the most support.

Each of I, A, R has weight 1/3, shared evenly among its kept hypotheses; a hypothesis
that needs a symbol from before the window predicts "unknown", which spreads its weight
evenly over all N symbols. Ties go to the smallest symbol. `determined[t]` is true when
every kept hypothesis predicts the same known symbol.

The hypotheses of one task family move together, so each family is tracked as one state:
the I family's k is unknown until its first observed step pins it down (its N hypotheses
predict N different symbols until then, which is the same support as "unknown"), and every
R hypothesis with a pre-window anchor predicts "unknown" until a C moves its anchor.
"""

from __future__ import annotations

import numpy as np

from iarc_hf.data.rule_state import control_codes, running, stream_state, symbol_dtype
from iarc_hf.data.tasks import IGNORE_INDEX, TASK_IDS, IARCTask

_I, _A, _R = TASK_IDS["I"], TASK_IDS["A"], TASK_IDS["R"]


def oracle_predict_tape(
    input_ids: np.ndarray,
    control_ids: np.ndarray,
    controls: str,
    n_symbols: int,
    lengths: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Predictions and `determined` for tape-encoded windows of shape (n, L).

    `lengths[i]` (default L) is how many leading symbols of window i are real; the rest
    is padding that the oracle never reads as an observation.
    """
    # time-major (L, n): each step in time is one operation over all windows
    x = np.ascontiguousarray(np.asarray(input_ids).T, dtype=symbol_dtype(n_symbols))
    L, n = x.shape
    t = np.arange(L, dtype=np.int32)[:, None]
    state = stream_state(np.ascontiguousarray(control_codes(control_ids, controls).T))
    guesses, knowns = _family_guesses(x, t, state, n_symbols)
    # a family is dropped once one of its known guesses missed an observed symbol
    lengths = np.full(n, L) if lengths is None else np.asarray(lengths)
    observed = t + 1 < np.minimum(lengths, L)[None, :]
    nxt = np.concatenate([x[1:], x[-1:]])
    alives = [
        _kept(guess, known, observed, nxt) for guess, known in zip(guesses, knowns, strict=True)
    ]
    predictions, determined = _vote(guesses, knowns, alives, n_symbols, x.dtype)
    return predictions.T.astype(np.int64), np.ascontiguousarray(determined.T)


def _family_guesses(x, t, state, N: int) -> tuple[list, list]:
    """Each family's (I, A, R) guess of the next symbol at every position, and whether it knows
    it (a guess that needs a symbol from before the window does not)."""
    L, n = x.shape
    previous = np.concatenate([x[:1], x[:-1]])
    # R: the anchor is the last control in the window (before the first I / A / R only
    # C can have moved it); with none it is -1, before the window: every source is unseen
    source = 2 * state["last_control"] - (t + 1)
    guess_r = np.take_along_axis(x, np.clip(source, 0, L - 1), axis=0)
    guess_a = (x + previous) % N
    # I: after an I in the window k = 1 + C tokens since; before it, k is pinned by the
    # first observed step, x_1 - x_0, and raised by every C after position 0
    k_pinned = x[1:2] - x[:1] + (state["c_count"] - state["c_count"][:1])
    guess_i_window = (x + 1 + state["c_since"]) % N
    guess_i_pinned = (x + k_pinned) % N
    known_r, known_a = source >= 0, np.broadcast_to(t >= 1, (L, n))
    # after the first I / A / R in the window every family is in the window's own state
    in_window, window_task = state["seen_task"], state["task"]
    window_guess = np.select(
        [window_task == _I, window_task == _A], [guess_i_window, guess_a], guess_r
    )
    window_known = np.select([window_task == _I, window_task == _A], [True, known_a], known_r)
    guesses = [np.where(in_window, window_guess, g) for g in (guess_i_pinned, guess_a, guess_r)]
    knowns = [np.where(in_window, window_known, k) for k in (known_a, known_a, known_r)]
    return guesses, knowns


def _vote(
    guesses: list, knowns: list, alives: list, N: int, dtype
) -> tuple[np.ndarray, np.ndarray]:
    """(L, n) predictions and `determined` from the kept families' guesses: the symbol with the
    most support, ties to the smallest; 0 where no kept family knows."""
    votes = [alive & known for alive, known in zip(alives, knowns, strict=True)]
    # support of each family's guess: the kept, knowing families that guess the same
    same = {(f, g): guesses[f] == guesses[g] for f in range(3) for g in range(f + 1, 3)}
    same.update({(g, f): value for (f, g), value in same.items()})
    supports = [
        votes[f] * (1 + sum((votes[g] & same[f, g]).view(np.int8) for g in range(3) if g != f))
        for f in range(3)
    ]
    best = np.maximum(np.maximum(supports[0], supports[1]), supports[2])
    predictions = np.full(best.shape, N, dtype=dtype)
    for f in range(3):  # ties go to the smallest symbol
        wins = votes[f] & (supports[f] == best)
        predictions = np.where(wins, np.minimum(predictions, guesses[f]), predictions)
    predictions = np.where(best > 0, predictions, 0)
    # determined: every kept family knows, and guesses the prediction
    determined = best > 0
    for f in range(3):
        determined &= ~alives[f] | (votes[f] & (guesses[f] == predictions))
    return predictions, determined


def _kept(guess, known, observed, nxt) -> np.ndarray:
    """Whether a family is still kept at each position: none of its earlier known guesses missed."""
    missed = observed & known & (guess != nxt)
    missed_before = np.zeros_like(missed)
    missed_before[1:] = missed[:-1]
    return ~running(np.logical_or, missed_before)


def inline_to_tape(
    input_ids: np.ndarray, n_symbols: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Undo the inline encoding: tape symbols, control ids, lengths, and each token's symbol index."""
    tokens = np.asarray(input_ids, dtype=np.int64)
    n, L = tokens.shape
    is_control = tokens >= n_symbols
    symbol_index = np.cumsum(~is_control, axis=1) - 1
    rows = np.broadcast_to(np.arange(n)[:, None], (n, L))
    symbols = np.zeros((n, L), np.int64)
    control_ids = np.zeros((n, L), np.int64)
    symbols[rows[~is_control], symbol_index[~is_control]] = tokens[~is_control]
    control_ids[rows[is_control], symbol_index[is_control]] = tokens[is_control] - n_symbols + 1
    return symbols, control_ids, (~is_control).sum(axis=1), symbol_index


def oracle_predict(
    task: IARCTask, input_ids: np.ndarray, control_ids: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The oracle's prediction and `determined` at every position of windows in `task`'s encoding.

    In the inline encoding, positions whose label is -100 get prediction -100 and
    determined False.
    """
    if task.encoding == "tape":
        return oracle_predict_tape(input_ids, control_ids, task.controls, task.n_symbols)
    symbols, tape_ids, lengths, symbol_index = inline_to_tape(input_ids, task.n_symbols)
    predictions, determined = oracle_predict_tape(
        symbols, tape_ids, task.controls, task.n_symbols, lengths
    )
    tokens = np.asarray(input_ids)
    rows = np.arange(len(tokens))[:, None]
    next_is_control = np.zeros_like(tokens, dtype=bool)
    next_is_control[:, :-1] = tokens[:, 1:] >= task.n_symbols
    # the last token's successor is unseen: a symbol there may still be followed by a
    # control, but its label (-100 or the next symbol) is decided by the data, not here
    labelled = ~next_is_control
    return (
        np.where(labelled, predictions[rows, symbol_index], IGNORE_INDEX),
        labelled & determined[rows, symbol_index],
    )
