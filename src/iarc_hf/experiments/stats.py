"""Seeds summarised: the mean and sample standard deviation, and how every table prints them."""

from __future__ import annotations

import math


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation, None and NaN values left out (NaN, NaN if none)."""
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return float("nan"), float("nan")
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / max(len(values) - 1, 1)
    return mean, math.sqrt(var)


def plus_minus(mean: float, std: float | None, digits: int = 3, signed: bool = False) -> str:
    """The mean and its spread, "0.950 ± 0.014"; the mean alone when `std` is None (one seed
    has no spread to show)."""
    text = f"{mean:+.{digits}f}" if signed else f"{mean:.{digits}f}"
    return text if std is None else f"{text} ± {std:.{digits}f}"


def mean_std_text(values: list[float], digits: int = 3, signed: bool = False) -> str:
    """`plus_minus` of `values`' mean and standard deviation; the mean alone for one value."""
    mean, std = mean_std(values)
    return plus_minus(mean, std if len(values) > 1 else None, digits, signed)
