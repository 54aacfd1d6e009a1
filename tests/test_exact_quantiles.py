"""A run's quantiles without scipy.stats (a second to import), number for number.

`uncertainty.quantile` draws a replication's rates and `delays.lognormal_cdf` builds the
delay tables; both must give scipy.stats' own numbers exactly, or every number of every
run would move.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from simulator.config import Distribution
from simulator.delays import lognormal_cdf
from simulator.uncertainty import frozen, quantile

UNIFORMS = np.concatenate([[0.0, 1e-300, 0.5, 1 - 2**-53], np.random.default_rng(3).random(500)])


@settings(max_examples=60, deadline=None)
@given(
    low=st.floats(0.0, 0.5),
    width=st.floats(1e-6, 0.5),
    at=st.floats(0.0, 1.0),
)
def test_uniform_and_triangular_quantiles_are_scipys(low: float, width: float, at: float) -> None:
    high = low + width
    for dist in (
        Distribution(dist="uniform", low=low, high=high),
        Distribution(dist="triangular", low=low, mode=low + at * width, high=high),
    ):
        np.testing.assert_array_equal(quantile(dist, UNIFORMS), frozen(dist).ppf(UNIFORMS))


@pytest.mark.filterwarnings("ignore:Error in function boost")  # (scipy warns alike)
@settings(max_examples=60, deadline=None)
@given(mean=st.floats(0.02, 0.95), sd=st.floats(0.005, 0.2))
def test_beta_quantiles_are_scipys(mean: float, sd: float) -> None:
    if sd**2 >= mean * (1 - mean):
        return  # no beta has that spread
    dist = Distribution(dist="beta", mean=mean, sd=sd)
    np.testing.assert_array_equal(quantile(dist, UNIFORMS), frozen(dist).ppf(UNIFORMS))


@settings(max_examples=60, deadline=None)
@given(median=st.floats(0.05, 60.0), sigma=st.floats(0.01, 3.0))
def test_lognormal_cdf_is_scipys(median: float, sigma: float) -> None:
    days = np.arange(0, 91)
    np.testing.assert_array_equal(
        lognormal_cdf(days, sigma, median), stats.lognorm.cdf(days, s=sigma, scale=median)
    )
    medians, sigmas = np.array([[median], [2 * median]]), np.array([[sigma], [sigma / 2]])
    np.testing.assert_array_equal(
        lognormal_cdf(days[None, :], sigmas, medians),
        stats.lognorm.cdf(days[None, :], s=sigmas, scale=medians),
    )


def test_normal_quantiles_are_scipys() -> None:
    q = np.array([0.5, 0.8, 0.9, 0.95, 0.975, 0.995])
    np.testing.assert_array_equal(special.ndtri(q), stats.norm.ppf(q))
