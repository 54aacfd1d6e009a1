"""Summaries of a metric over replications (MODEL.md section 11).

Mean, median, 5th and 95th percentiles and the Monte Carlo standard error of the mean;
for ratios (cost per reply) also the pooled ratio and the share of replications where
the ratio is infinite (no reply). Means of ratios are over the finite ones, next to that
share; percentiles include the infinite ones.
"""

from __future__ import annotations

import math

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


def describe(values: np.ndarray) -> dict[str, float]:
    """mean, median, p5, p95 and mcse of a finite-valued metric."""
    x = np.asarray(values, dtype=float)
    n = x.size
    out = {
        "mean": float(x.mean()) if n else math.nan,
        "mcse": float(x.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
    }
    out.update({name: quantile(x, q) for name, q in QUANTILES.items()})
    return out


def describe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> dict[str, float]:
    """A per-replication ratio (cost per reply): infinite where the denominator is 0."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    ratio = ratio_or_inf(num, den)
    finite = ratio[np.isfinite(ratio)]
    out = {
        "mean": float(finite.mean()) if finite.size else math.nan,  # undefined: no reply
        "mcse": float(finite.std(ddof=1) / math.sqrt(finite.size)) if finite.size > 1 else math.nan,
    }
    out.update({name: quantile(ratio, q) for name, q in QUANTILES.items()})
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
