"""Summaries of a metric over replications (MODEL.md section 11).

Mean, median, 5th and 95th percentiles and the Monte Carlo standard error of the mean;
for ratios (cost per reply) also the pooled ratio and the share of replications where
the ratio is infinite (no reply). Means of ratios are over the finite ones, next to that
share; percentiles include the infinite ones.

Means, MCSE and pooled ratios come from exact sums (:class:`Moments`): the sum and the
sum of squares of the values, held as exact fractions and rounded once at the end. So a
summary merged from chunks of replications (``simulator.streaming``) is bit for bit the
summary of all of them at once, whatever the chunking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

QUANTILES = {"p5": 0.05, "median": 0.5, "p95": 0.95}


def quantile(values: np.ndarray, q: float) -> float:
    """numpy's default (linear) quantile, extended to values that may be infinite (a
    cost per reply with no reply, a difference of two such): NaN only between -inf and +inf."""
    x = np.sort(np.asarray(values, dtype=float))
    if x.size == 0:
        return math.nan
    h = (x.size - 1) * q
    lo, hi = math.floor(h), math.ceil(h)
    if lo == hi or x[lo] == x[hi] or h == lo:
        return float(x[lo])
    if math.isinf(x[lo]) and math.isinf(x[hi]):
        return math.nan  # between -inf and +inf
    if math.isinf(x[lo]):
        return float(x[lo])
    if math.isinf(x[hi]):
        return float(x[hi])
    return float(x[lo] + (h - lo) * (x[hi] - x[lo]))


def exact_sum(values: np.ndarray) -> Fraction:
    """The exact sum of finite floats: math.fsum (correctly rounded) repeated on what is
    left over until nothing is, each rounded part added as an exact fraction."""
    x = np.asarray(values, dtype=float).ravel()
    if not np.isfinite(x).all():
        raise ValueError("exact_sum: the values must be finite")
    items = x.tolist()
    total = Fraction(0)
    while True:
        part = math.fsum(items)
        if part == 0.0:
            return total
        total += Fraction(part)
        items.append(-part)


def _split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Veltkamp's split: x = high + low, each with at most 26 significant bits, so
    that high*high, high*low and low*low are exact in float64."""
    c = 134217729.0 * x  # 2**27 + 1
    high = c - (c - x)
    return high, x - high


@dataclass
class Moments:
    """Count, exact sum and exact sum of squares of a metric's finite values: mergeable
    without rounding, so chunked and all-at-once summaries agree to the last bit."""

    n: int = 0
    total: Fraction = field(default_factory=Fraction)
    squares: Fraction = field(default_factory=Fraction)

    @classmethod
    def of(cls, values: np.ndarray) -> Moments:
        x = np.asarray(values, dtype=float).ravel()
        high, low = _split(x)
        squares = np.concatenate([high * high, 2.0 * high * low, low * low])
        return cls(int(x.size), exact_sum(x), exact_sum(squares))

    def merge(self, other: Moments) -> Moments:
        return Moments(self.n + other.n, self.total + other.total, self.squares + other.squares)

    @property
    def mean(self) -> float:
        return float(self.total / self.n) if self.n else math.nan

    @property
    def mcse(self) -> float:
        """Standard error of the mean: sqrt(sample variance / n), from the exact sums."""
        if self.n < 2:
            return math.nan
        variance = (self.squares - self.total * self.total / self.n) / (self.n - 1)
        return math.sqrt(float(variance / self.n))


def describe(values: np.ndarray) -> dict[str, float]:
    """mean, median, p5, p95 and mcse of a finite-valued metric."""
    x = np.asarray(values, dtype=float)
    moments = Moments.of(x)
    out = {"mean": moments.mean, "mcse": moments.mcse}
    out.update({name: quantile(x, q) for name, q in QUANTILES.items()})
    return out


def describe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> dict[str, float]:
    """A per-replication ratio (cost per reply): infinite where the denominator is 0."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    ratio = ratio_or_inf(num, den)
    finite = Moments.of(ratio[np.isfinite(ratio)])  # mean undefined with no reply at all
    out = {"mean": finite.mean, "mcse": finite.mcse}
    out.update({name: quantile(ratio, q) for name, q in QUANTILES.items()})
    if np.isfinite(num).all() and np.isfinite(den).all():
        out["pooled"] = pooled_ratio(exact_sum(num), exact_sum(den))
    else:  # a ratio of ratios (tables.describe_metric): no exact pooled figure to give
        total = den.sum()
        out["pooled"] = float(num.sum() / total) if total > 0 else math.inf
    out["share_infinite"] = float(np.mean(~np.isfinite(ratio))) if ratio.size else math.nan
    return out


def ratio_or_inf(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, +inf where the denominator is 0 (no division warnings)."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.inf)
    np.divide(num, den, out=out, where=den > 0)
    return out


def pooled_ratio(numerator: Fraction, denominator: Fraction) -> float:
    """Total over total (cost over replies), rounded once; infinite with no reply."""
    return float(numerator / denominator) if denominator > 0 else math.inf
