"""Delay distributions: whole days from a touch to its outcome (MODEL.md sections 4, 15).

A delay is at least one day and at most the touch's window; the configured shape is
truncated at the window and renormalised, so that a rate stays the probability of the
outcome within the window.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from simulator.config import Delay, FixedDelay, LognormalDelay, PmfDelay


def delay_pmf(delay: Delay, window: int) -> np.ndarray:
    """P(delay = k) for k = 1..window, renormalised within the window."""
    days = np.arange(1, window + 1)
    if isinstance(delay, LognormalDelay):
        cdf = stats.lognorm.cdf(np.arange(0, window + 1), s=delay.sigma, scale=delay.median)
        mass = np.diff(cdf)
    elif isinstance(delay, FixedDelay):
        mass = (days == min(delay.days, window)).astype(float)
    elif isinstance(delay, PmfDelay):
        mass = np.zeros(window)
        probs = np.asarray(delay.probs[:window], dtype=float)
        mass[: probs.size] = probs
        if mass.sum() <= 0:
            mass[-1] = 1.0  # all the configured mass lies beyond the window
    else:  # pragma: no cover - the config's discriminated union allows nothing else
        raise TypeError(f"unknown delay {delay!r}")
    if mass.sum() <= 0:
        mass[-1] = 1.0
    return mass / mass.sum()


class DelaySampler:
    """Inverse-CDF sampling of a truncated delay from a uniform in [0, 1)."""

    def __init__(self, delay: Delay, window: int):
        self.pmf = delay_pmf(delay, window)
        self._cdf = np.cumsum(self.pmf)
        self._cdf[-1] = 1.0

    def days(self, u: np.ndarray) -> np.ndarray:
        """The delay whose CDF first exceeds `u` (so P(days = k) = pmf[k - 1])."""
        return (np.searchsorted(self._cdf, u, side="right") + 1).astype(np.int32)
