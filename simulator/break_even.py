"""Break-even: the value of one rate at which two strategies cost the same per reply.

For example, the InMail reply rate above which an InMail-first programme beats
connection requests for senior prospects. The rate is fixed at a trial value, both
strategies are simulated, and a root search (Brent's method) finds where their expected
cost per reply (the pooled ratio, total cost over total replies: the long-run figure,
MODEL.md section 11) is equal. Every trial runs on the same seed, so the replications
see the same prospects and outcomes (common random numbers), and the difference moves
smoothly with the trial value instead of jumping with fresh noise.

Its uncertainty is the delta method: the Monte Carlo standard error of the difference at
the root (from the paired replications' linearised ratios) divided by the difference's
slope there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from simulator.api import run
from simulator.calibration import posterior_config
from simulator.config import Config
from simulator.uncertainty import with_values

Z_90 = 1.6448536269514722  # the standard normal's 95th percentile


@dataclass(frozen=True)
class BreakEven:
    """Where `first` and `second` cost the same per reply, as `parameter` varies."""

    parameter: str
    first: str
    second: str
    value: float
    standard_error: float
    slope: float  # change of (first - second) cost per reply per unit of the parameter
    evaluations: int

    @property
    def interval(self) -> tuple[float, float]:
        """A 90% interval for the break-even value (Monte Carlo error only)."""
        half = Z_90 * self.standard_error
        return self.value - half, self.value + half


@dataclass(frozen=True)
class Gap:
    """The pooled cost-per-reply difference (first - second) at one parameter value."""

    value: float
    difference: float
    standard_error: float


def _pooled_influence(runs: pd.DataFrame) -> tuple[float, np.ndarray]:
    """Pooled cost per reply and each replication's linearised contribution to it."""
    cost, replies = runs["cost"].to_numpy(float), runs["replies"].to_numpy(float)
    if replies.sum() == 0:
        return float("inf"), np.zeros(cost.size)
    ratio = cost.sum() / replies.sum()
    return ratio, (cost - ratio * replies) / replies.mean()


def cost_per_reply_gap(
    config: Config,
    first: str,
    second: str,
    parameter: str,
    value: float,
    replications: int,
    seed: int,
) -> Gap:
    """Simulate both strategies with `parameter` fixed at `value` (same seed every time)."""
    fixed = with_values(config, {parameter: value})
    runs = run(fixed, replications=replications, seed=seed).runs
    ratios, influence = [], []
    for name in (first, second):
        ratio, z = _pooled_influence(runs[runs["strategy"] == name])
        ratios.append(ratio)
        influence.append(z)
    paired = influence[0] - influence[1]
    error = float(paired.std(ddof=1) / np.sqrt(paired.size)) if paired.size > 1 else float("nan")
    return Gap(value, ratios[0] - ratios[1], error)


def _no_break_even(first: str, second: str, gaps: dict[float, float]) -> str:
    """Why the ends of a range bracket no root: a strategy with no reply at an end (its
    cost per reply is infinite there, nothing to compare), the same cost at both ends,
    or one strategy cheaper at both."""
    for value, gap in gaps.items():
        if np.isnan(gap):
            return f"neither strategy got a reply at {value:g}, so neither has a cost per reply"
        if np.isinf(gap):
            name = first if gap > 0 else second
            return f"{name} got no reply at {value:g}: its cost per reply is infinite there"
    (low, at_low), (high, at_high) = gaps.items()
    gap_text = (
        f"the difference in cost per reply is {at_low:.4g} at {low:g} and {at_high:.4g} at {high:g}"
    )
    if at_low == 0 and at_high == 0:
        return f"{gap_text} (the two cost the same per reply at both ends)"
    cheaper = first if at_low < 0 else second
    return f"{gap_text} ({cheaper} is cheaper throughout)"


def _only(config: Config, first: str, second: str) -> Config:
    data: dict[str, Any] = config.model_dump()
    data["strategies"] = {name: data["strategies"][name] for name in (first, second)}
    return Config.model_validate(data)


def break_even(
    config: Config,
    first: str,
    second: str,
    parameter: str,
    low: float,
    high: float,
    replications: int = 2000,
    seed: int | None = None,
) -> BreakEven:
    """The value of `parameter` (a dotted path, e.g. `segments.vp.rates.inmail_reply_paid`)
    in [low, high] where the two strategies' pooled cost per reply is equal.

    Raises ValueError when one strategy is cheaper over the whole range."""
    for name in (first, second):
        if name not in config.strategies:
            raise ValueError(f"unknown strategy {name!r} (known: {', '.join(config.strategies)})")
    if not low < high:
        raise ValueError(f"low ({low}) must be below high ({high})")
    seed = config.seed if seed is None else seed
    config = _only(posterior_config(config), first, second)
    try:
        with_values(config, {parameter: low})
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(f"{parameter}: cannot be set to {low} ({error})") from None
    gaps: dict[float, Gap] = {}

    def difference(value: float) -> float:
        if value not in gaps:
            gaps[value] = cost_per_reply_gap(
                config, first, second, parameter, value, replications, seed
            )
        return gaps[value].difference

    at_low, at_high = difference(low), difference(high)
    if not np.isfinite(at_low) or not np.isfinite(at_high) or np.sign(at_low) == np.sign(at_high):
        why = _no_break_even(first, second, {low: at_low, high: at_high})
        raise ValueError(f"no break-even for {parameter} in [{low}, {high}]: {why}")
    root = float(optimize.brentq(difference, low, high, xtol=1e-4 * (high - low)))
    # the slope from a secant across a small bracket around the root
    step = 0.02 * (high - low)
    left, right = max(low, root - step), min(high, root + step)
    slope = float((difference(right) - difference(left)) / (right - left))
    difference(root)
    at_root = gaps[root].standard_error
    standard_error = float(abs(at_root / slope)) if slope != 0 else float("inf")
    return BreakEven(parameter, first, second, root, standard_error, slope, len(gaps))
