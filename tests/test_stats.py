"""leukemia.stats: exact intervals and tests, checked against their definitions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import beta

from leukemia.stats import clopper_pearson, mcnemar_exact, smallest_mcnemar_pvalue


def test_clopper_pearson_matches_the_beta_quantiles() -> None:
    low, high = clopper_pearson(31, 34)
    assert low == pytest.approx(beta.ppf(0.025, 31, 4))
    assert high == pytest.approx(beta.ppf(0.975, 32, 3))
    assert clopper_pearson(34, 34)[1] == 1.0
    assert clopper_pearson(0, 34)[0] == 0.0


def test_mcnemar_on_hand_made_predictions() -> None:
    a = np.array([True] * 10 + [True] * 6 + [False] * 1 + [False] * 3)
    b = np.array([True] * 10 + [False] * 6 + [True] * 1 + [False] * 3)
    result = mcnemar_exact(a, b)
    assert (result.only_first_right, result.only_second_right) == (6, 1)
    assert result.pvalue == pytest.approx(2 * (1 + 7) / 2**7)  # 2 P(X <= 1), X ~ Bin(7, 1/2)
    assert mcnemar_exact(a, a).pvalue == 1.0
    with pytest.raises(ValueError, match="same samples"):
        mcnemar_exact(a, b[:5])


@pytest.mark.parametrize(("n", "expected"), [(0, 1.0), (1, 1.0), (5, 0.0625), (6, 0.03125), (10, 2 / 1024)])
def test_smallest_mcnemar_pvalue_is_the_all_one_sided_split(n: int, expected: float) -> None:
    assert smallest_mcnemar_pvalue(n) == pytest.approx(expected)
    if n:  # it is what the test gives when every discordant sample favours one model
        only_a = np.r_[np.ones(n, bool), np.zeros(3, bool)]
        assert mcnemar_exact(only_a, np.zeros(n + 3, bool)).pvalue == pytest.approx(expected)


def test_six_discordant_samples_are_the_least_that_can_be_significant() -> None:
    assert smallest_mcnemar_pvalue(5) > 0.05 > smallest_mcnemar_pvalue(6)
    with pytest.raises(ValueError, match=">= 0"):
        smallest_mcnemar_pvalue(-1)


@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.99])
def test_clopper_pearson_uses_the_confidence_it_is_given(confidence: float) -> None:
    alpha = 1 - confidence
    low, high = clopper_pearson(31, 34, confidence)
    assert low == pytest.approx(beta.ppf(alpha / 2, 31, 4)) and high == pytest.approx(
        beta.ppf(1 - alpha / 2, 32, 3)
    )
    wider = clopper_pearson(31, 34, min(0.999, confidence + 0.009))
    assert wider[0] < low and wider[1] > high, "a higher confidence gives a wider interval"


def test_mcnemar_reads_zeros_and_ones_as_wrong_and_right() -> None:
    """Correctness given as 0/1 integers (as `(pred == y).astype(int)` gives) is the same test as booleans."""
    a, b = [1, 1, 1, 0, 0, 1, 0], [1, 0, 0, 0, 1, 0, 0]
    as_ints = mcnemar_exact(np.array(a), np.array(b))
    assert as_ints == mcnemar_exact(np.array(a, dtype=bool), np.array(b, dtype=bool))
    assert mcnemar_exact(np.array(a, dtype=float), np.array(b, dtype=float)) == as_ints, "and 0.0/1.0 too"
    assert (as_ints.only_first_right, as_ints.only_second_right) == (3, 1)
