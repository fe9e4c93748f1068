"""Seeds summarised one way in every table (iarc_hf.experiments.stats)."""

import math

import pytest

from iarc_hf.cli_checks import exit_unless_positive, require_positive_int
from iarc_hf.experiments.stats import mean_std, mean_std_text, plus_minus


def test_mean_std_is_the_sample_spread_without_missing_values():
    mean, std = mean_std([0.9, None, 1.0, float("nan")])
    assert mean == pytest.approx(0.95) and std == pytest.approx(math.sqrt(0.005))
    assert all(math.isnan(x) for x in mean_std([None]))


def test_one_value_has_no_spread():
    assert mean_std_text([0.5]) == "0.500"
    assert mean_std_text([0.4, 0.6]) == "0.500 ± 0.141"
    assert mean_std_text([-0.1, -0.3], signed=True) == "-0.200 ± 0.141"
    assert mean_std_text([0.1], signed=True) == "+0.100"
    assert plus_minus(0.96, 0.0, digits=4) == "0.9600 ± 0.0000"
    assert plus_minus(0.96, None, digits=4) == "0.9600"


@pytest.mark.parametrize("value", [0, -5, 1.5, True, "3", None])
def test_a_count_must_be_a_positive_integer(value):
    with pytest.raises(ValueError, match=rf"^--workers must be a positive integer, got {value!r}$"):
        require_positive_int("workers", value)


def test_scripts_exit_with_one_line_naming_the_first_bad_count():
    class Args:
        trials, windows, threads = 3, 0, None

    with pytest.raises(SystemExit, match=r"^--windows must be a positive integer, got 0$"):
        exit_unless_positive(Args, "trials", "windows", "threads")
    exit_unless_positive(Args, "trials", "threads")  # unset counts are not checked
