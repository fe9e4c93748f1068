"""The oracle of the spec, written literally: one hypothesis per (task, k) or (task, anchor).

Slow and plain on purpose; `iarc_hf.data.oracle` (vectorised, one state per task family) is
tested against it.
"""

from fractions import Fraction

from iarc_hf.data.tasks import IARCTask


def literal_oracle(task: IARCTask, symbols: list[int], letters: list[str | None]):
    """Predictions and determined flags for one tape window."""
    N, L = task.n_symbols, len(symbols)
    # every state the window could start in; R's anchor lies 1..max_gap before the window
    hypotheses = [{"family": "I", "task": "I", "k": k, "anchor": None} for k in range(N)]
    hypotheses.append({"family": "A", "task": "A", "k": None, "anchor": None})
    hypotheses += [
        {"family": "R", "task": "R", "k": None, "anchor": -a} for a in range(1, task.max_gap + 1)
    ]
    predictions, determined = [], []
    for t in range(L):
        for h in hypotheses:
            control = letters[t]
            if control == "I":
                h.update(task="I", k=1)
            elif control == "A":
                h.update(task="A")
            elif control == "R":
                h.update(task="R", anchor=t)
            elif control == "C":
                if h["task"] == "I":
                    h["k"] += 1
                elif h["task"] == "R":
                    h["anchor"] = t
            h["guess"] = _guess(h, symbols, t, N)
        support = [Fraction(0)] * N
        for family in "IAR":
            kept = [h for h in hypotheses if h["family"] == family]
            for h in kept:
                weight = Fraction(1, 3 * len(kept))
                if h["guess"] is None:
                    for v in range(N):
                        support[v] += weight / N
                else:
                    support[h["guess"]] += weight
        predictions.append(max(range(N), key=lambda v: (support[v], -v)))
        guesses = {h["guess"] for h in hypotheses}
        determined.append(len(guesses) == 1 and None not in guesses)
        if t + 1 < L:
            hypotheses = [h for h in hypotheses if h["guess"] in (None, symbols[t + 1])]
    return predictions, determined


def _guess(h, x, t, N):
    if h["task"] == "I":
        return (x[t] + h["k"]) % N
    if h["task"] == "A":
        return (x[t] + x[t - 1]) % N if t >= 1 else None
    source = 2 * h["anchor"] - (t + 1)
    return x[source] if source >= 0 else None
