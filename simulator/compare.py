"""Paired differences between strategies (MODEL.md section 11, comparing strategies).

The strategies of one config run on common random numbers: replication i of A and
replication i of B meet the same prospects with the same latent outcomes. So A and B are
compared replication by replication: the difference A - B in each replication, and the
share of replications in which A does better, B does better, or they tie. Paired
differences vary far less than the difference of two independent runs, so a few
thousand replications separate strategies that a side-by-side table cannot.

A cost-per ratio is infinite in a replication with a count of 0 (no meeting, say). A
finite ratio beats an infinite one; two infinite ones tie, and their difference is
undefined (NaN). A difference is infinite when one side alone has no count: means are
over the finite differences, percentiles over all defined ones, as in MODEL.md s11.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd

from simulator.stats import quantile
from simulator.tables import label
from simulator.tables import strategies as strategy_order

#: what a comparison looks at unless told otherwise
DEFAULT_METRICS: tuple[str, ...] = ("cost_per_meeting", "replies")

#: counts where fewer is better (besides costs): waste and burnt prospects
FEWER_IS_BETTER: frozenset[str] = frozenset(
    {"credits_forfeited", "credits_expired", "prospects_exhausted", "withdrawals"}
)

COLUMNS: tuple[str, ...] = (
    "strategy_a",
    "strategy_b",
    "metric",
    "lower_is_better",
    "replications",
    "mean_difference",
    "mcse",
    "median_difference",
    "p5_difference",
    "p95_difference",
    "share_a_better",
    "share_b_better",
    "share_tied",
    "share_infinite",
    "share_undefined",
)


def lower_is_better(metric: str) -> bool:
    """Costs and waste: lower is better. Replies, meetings and other counts: higher."""
    return metric == "cost" or metric.startswith("cost_") or metric in FEWER_IS_BETTER


def strategy_pairs(runs: pd.DataFrame) -> list[tuple[str, str]]:
    """Every pair of strategies once, in the config's order (A listed before B)."""
    return list(combinations(strategy_order(runs), 2))


def paired_values(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One row per replication, one column per strategy: the metric side by side."""
    wide = runs.pivot(index="replication", columns="strategy", values=metric)
    wide.columns = [str(c) for c in wide.columns]
    return wide[strategy_order(runs)]


def difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a - b, elementwise; NaN where both are the same infinity (no warning)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    out = np.full(np.broadcast(a, b).shape, np.nan)
    defined = ~(np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b)))
    np.subtract(a, b, out=out, where=defined)
    return out


def differences(runs: pd.DataFrame, a: str, b: str, metric: str) -> pd.Series:
    """A - B per replication (indexed by replication)."""
    wide = paired_values(runs, metric)
    return pd.Series(
        difference(wide[a].to_numpy(), wide[b].to_numpy()), index=wide.index, name=metric
    )


def win_shares(a: np.ndarray, b: np.ndarray, lower_better: bool) -> tuple[float, float, float]:
    """Shares of replications where A does better, B does better, they tie."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size == 0:
        return math.nan, math.nan, math.nan
    a_better = (a < b) if lower_better else (a > b)
    b_better = (b < a) if lower_better else (b > a)
    return float(a_better.mean()), float(b_better.mean()), float((a == b).mean())


def compare_pair(a: np.ndarray, b: np.ndarray, lower_better: bool) -> dict[str, float]:
    """The distribution of A - B and the shares of wins, for paired arrays."""
    d = difference(a, b)
    defined = d[~np.isnan(d)]
    finite = defined[np.isfinite(defined)]
    a_wins, b_wins, ties = win_shares(a, b, lower_better)
    n = d.size
    return {
        "replications": n,
        "mean_difference": float(finite.mean()) if finite.size else math.nan,
        "mcse": float(finite.std(ddof=1) / math.sqrt(finite.size)) if finite.size > 1 else math.nan,
        "median_difference": quantile(defined, 0.5),
        "p5_difference": quantile(defined, 0.05),
        "p95_difference": quantile(defined, 0.95),
        "share_a_better": a_wins,
        "share_b_better": b_wins,
        "share_tied": ties,
        "share_infinite": float(np.isinf(d).mean()) if n else math.nan,
        "share_undefined": float(np.isnan(d).mean()) if n else math.nan,
    }


def compare(
    runs: pd.DataFrame,
    metrics: tuple[str, ...] | list[str] = DEFAULT_METRICS,
    pairs: list[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """One row per pair of strategies and metric: the paired difference A - B.

    `runs` is a runs table (one row per strategy and replication) of one config;
    `pairs` defaults to every pair in config order. Metrics absent from `runs` are
    skipped, so the same call works on tables with more or fewer columns."""
    pairs = strategy_pairs(runs) if pairs is None else pairs
    rows = []
    for metric in [m for m in metrics if m in runs.columns]:
        wide = paired_values(runs, metric)
        lower = lower_is_better(metric)
        for a, b in pairs:
            stats = compare_pair(wide[a].to_numpy(), wide[b].to_numpy(), lower)
            rows.append(
                {"strategy_a": a, "strategy_b": b, "metric": metric, "lower_is_better": lower}
                | stats
            )
    return pd.DataFrame(rows).reindex(columns=list(COLUMNS))


def verdict(row: pd.Series | dict) -> str:
    """One sentence a sales lead can repeat: 'A has the lower cost per meeting in 62% of
    replications, B in 35%, tied in 3%' (or 'gets more replies')."""
    what = label(row["metric"]).split(" (")[0].lower()
    claim = f"has the lower {what}" if row["lower_is_better"] else f"gets more {what}"
    return (
        f"{row['strategy_a']} {claim} in {row['share_a_better']:.0%} of replications, "
        f"{row['strategy_b']} in {row['share_b_better']:.0%}, tied in {row['share_tied']:.0%}"
    )
