"""Delay distributions: whole days from a touch to its outcome (MODEL.md sections 4, 15).

A delay is at least one day and at most the touch's window; the configured shape is
truncated at the window and renormalised, so that a rate stays the probability of the
outcome within the window.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from simulator.config import Delay, FixedDelay, LognormalDelay, PmfDelay


def lognormal_cdf(x: np.ndarray, sigma, median) -> np.ndarray:
    """``scipy.stats.lognorm.cdf(x, s=sigma, scale=median)``, the same arithmetic number for
    number (scipy.stats takes a second to import; a run needs only this)."""
    z, s, scale = np.broadcast_arrays(
        np.asarray(np.asarray(x) / np.asarray(median), dtype=np.float64),
        np.asarray(sigma, dtype=np.float64),
        np.asarray(median, dtype=np.float64),
    )
    out = np.zeros(z.shape)
    inside = z > 0
    out[inside] = special.ndtr(np.log(z[inside]) / s[inside])
    out[~((s > 0) & (scale > 0)) | np.isnan(z)] = np.nan
    return out


def lognormal_pmf(median: np.ndarray, sigma: np.ndarray, window: int) -> np.ndarray:
    """P(delay = k), k = 1..window, for each (median, sigma) pair: rows of a table."""
    edges = np.arange(0, window + 1)
    cdf = lognormal_cdf(edges[None, :], sigma[:, None], median[:, None])
    mass = np.diff(cdf, axis=1)
    empty = mass.sum(axis=1) <= 0
    mass[empty, -1] = 1.0
    return mass / mass.sum(axis=1, keepdims=True)


def delay_pmf(delay: Delay, window: int) -> np.ndarray:
    """P(delay = k) for k = 1..window, renormalised within the window."""
    days = np.arange(1, window + 1)
    if isinstance(delay, LognormalDelay):
        cdf = lognormal_cdf(np.arange(0, window + 1), delay.sigma, delay.median)
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

    def days(self, u: np.ndarray, rep: np.ndarray | None = None) -> np.ndarray:
        """The delay whose CDF first exceeds `u` (so P(days = k) = pmf[k - 1]); the same
        for every replication (`rep` is not needed)."""
        return (np.searchsorted(self._cdf, u, side="right") + 1).astype(np.int32)


class DelayTable:
    """Inverse-CDF sampling of a lognormal delay whose median or spread was drawn per
    replication (MODEL.md section 8): one CDF row per replication of the block."""

    def __init__(self, median: np.ndarray, sigma: np.ndarray, window: int):
        self._cdf = np.cumsum(lognormal_pmf(median, sigma, window), axis=1)
        self._cdf[:, -1] = 1.0

    def days(self, u: np.ndarray, rep: np.ndarray | None = None) -> np.ndarray:
        """Row `rep`'s delay whose CDF first exceeds `u`: a count of CDF values <= u."""
        assert rep is not None, "a delay drawn per replication needs the replications"
        return ((self._cdf[rep] <= u[:, None]).sum(axis=1) + 1).astype(np.int32)
