"""The rule state of every position of a control tape, vectorised over time.

Shared by the generator (whole streams) and the oracle (windows). After an I / A / R
control only C tokens can follow until the next one, so the state at a position is a
function of two earlier positions: the last I / A / R (the task) and the last control of
any kind (R's anchor); k under I is one plus the C tokens since the last I.
"""

from __future__ import annotations

import numpy as np

from iarc_hf.data.tasks import TASK_IDS

# One code per position: a task's code is its task id, then C, then "no control".
CODES = {**TASK_IDS, "C": len(TASK_IDS)}
NO_CONTROL = len(CODES)


def control_codes(control_ids: np.ndarray, controls: str) -> np.ndarray:
    """Map `control_ids` (0 = none, 1 + index in `controls`) to codes."""
    code_of_id = np.array([NO_CONTROL] + [CODES[c] for c in controls], dtype=np.int8)
    return code_of_id[np.asarray(control_ids)]


def symbol_dtype(n_symbols: int):
    """The smallest integer type that holds a sum of two symbols: small arrays stay in cache."""
    return np.int16 if 2 * n_symbols < 2**15 else np.int64


def running(ufunc: np.ufunc, values: np.ndarray, dtype=None) -> np.ndarray:
    """`ufunc.accumulate` along the first (time) axis, as a loop over time.

    numpy's own accumulate is 10-40x slower here: it walks one column at a time, while
    each step of this loop is one vectorised operation over all windows.
    """
    out = np.empty(values.shape, dtype or values.dtype)
    out[0] = values[0]
    for t in range(1, len(values)):
        ufunc(out[t - 1], values[t], out=out[t])
    return out


def stream_state(codes: np.ndarray) -> dict[str, np.ndarray]:
    """Per position: whether an I / A / R was seen, the task, C counts and the last control.

    `codes` is time-major, (positions, n), and so are the results.
    """
    index_dtype = np.int16 if len(codes) * 8 < 2**15 else np.int32
    positions = np.arange(len(codes), dtype=index_dtype)[:, None]
    sets_task = codes < CODES["C"]
    # position and code of the last I / A / R in one max-accumulated number: pos * 8 + code
    last_set = running(np.maximum, np.where(sets_task, positions * 8 + codes, -1))
    last_control = running(np.maximum, np.where(codes < NO_CONTROL, positions, -1))
    c_count = running(np.add, codes == CODES["C"], dtype=index_dtype)
    # c_count never decreases, so its running max over I / A / R positions is its value at the last
    c_at_set = running(np.maximum, np.where(sets_task, c_count, 0))
    seen_task = last_set >= 0
    return {
        "seen_task": seen_task,  # an I / A / R lies at or before this position
        "task": np.where(seen_task, last_set & 7, -1),
        "c_count": c_count,  # C tokens up to here
        "c_since": c_count - c_at_set,  # C tokens since the last I / A / R (or the start)
        "last_control": last_control,
    }
