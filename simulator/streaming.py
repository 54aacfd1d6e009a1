"""Summaries built chunk by chunk, so that millions of replications fit in bounded memory.

A chunk of replications is simulated, summarised and dropped; its summary merges with
the others'. Per strategy and metric a summary keeps:

- the count and the exact sum and sum of squares of the finite values
  (:class:`simulator.stats.Moments`): means, MCSE and pooled ratios are bit for bit
  those of the same replications summarised all at once, whatever the chunking;
- the count of infinite values (cost per reply in a replication with no reply);
- a DDSketch of the finite values (the ``ddsketch`` library, relative accuracy
  :data:`QUANTILE_ACCURACY`): percentiles within that relative error of the in-memory
  ones. Its bins are integer counts, so merging them is exact and order-free too.

Percentiles count the infinite values as the largest, as ``stats.quantile`` does: a
p95 is infinite when more than 5% of replications have no reply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd
from ddsketch import DDSketch

from simulator.metrics import RATIOS, SUMMARY_METRICS
from simulator.stats import QUANTILES, Moments, exact_sum, pooled_ratio

#: relative error of a streamed percentile (0.5%: a $412 cost per meeting is within $2)
QUANTILE_ACCURACY = 0.005
#: the columns of a summary table, as ``api.summarise`` gives them
SUMMARY_COLUMNS = ["strategy", "metric", "mean", "mcse", "median", "p5", "p95", "pooled"]


def _sketch() -> DDSketch:
    return DDSketch(relative_accuracy=QUANTILE_ACCURACY)


@dataclass
class MetricSummary:
    """One metric of one strategy over the replications seen so far."""

    finite: Moments = field(default_factory=Moments)
    infinite: int = 0
    sketch: DDSketch = field(default_factory=_sketch)
    # ratios only (cost per reply): exact totals of cost and of replies, for the pooled ratio
    numerator: Fraction = field(default_factory=Fraction)
    denominator: Fraction = field(default_factory=Fraction)

    @classmethod
    def of(
        cls,
        values: np.ndarray,
        numerator: np.ndarray | None = None,
        denominator: np.ndarray | None = None,
    ) -> MetricSummary:
        x = np.asarray(values, dtype=float)
        finite = x[np.isfinite(x)]
        summary = cls(Moments.of(finite), int(x.size - finite.size))
        for value in finite.tolist():
            summary.sketch.add(value)
        if numerator is not None and denominator is not None:
            summary.numerator = exact_sum(numerator)
            summary.denominator = exact_sum(denominator)
        return summary

    def merge(self, other: MetricSummary) -> None:
        self.finite = self.finite.merge(other.finite)
        self.infinite += other.infinite
        self.sketch.merge(other.sketch)
        self.numerator += other.numerator
        self.denominator += other.denominator

    @property
    def count(self) -> int:
        return self.finite.n + self.infinite

    def quantile(self, q: float) -> float:
        """As ``stats.quantile`` (linear, infinite values last), the finite order
        statistics read from the sketch: the one at or below the rank."""
        n, finite = self.count, self.finite.n
        if n == 0:
            return math.nan
        rank = (n - 1) * q
        below, above = math.floor(rank), math.ceil(rank)
        if below >= finite or (above >= finite and rank != below):
            return math.inf
        if finite == 1:
            return float(self.sketch.get_quantile_value(0.0))
        # nudged up a hair so that a whole rank is not read as the one below it
        share = min(1.0, (rank + 1e-9) / (finite - 1))
        return float(self.sketch.get_quantile_value(share))

    def describe(self, ratio: bool) -> dict[str, float]:
        out = {"mean": self.finite.mean, "mcse": self.finite.mcse}
        out.update({name: self.quantile(q) for name, q in QUANTILES.items()})
        if ratio:
            out["pooled"] = pooled_ratio(self.numerator, self.denominator)
            out["share_infinite"] = self.infinite / self.count if self.count else math.nan
        return out


@dataclass
class RunSummary:
    """Strategy -> metric -> :class:`MetricSummary`, for the replications merged so far."""

    replications: int = 0
    strategies: dict[str, dict[str, MetricSummary]] = field(default_factory=dict)

    @classmethod
    def of_runs(cls, runs: pd.DataFrame) -> RunSummary:
        """The summary of a runs table (one row per strategy and replication)."""
        summary = cls()
        for strategy, group in runs.groupby("strategy", observed=True, sort=False):
            metrics = {}
            for metric in SUMMARY_METRICS:
                if metric in RATIOS:
                    metrics[metric] = MetricSummary.of(
                        group[metric].to_numpy(),
                        group["cost"].to_numpy(),
                        group[RATIOS[metric]].to_numpy(),
                    )
                else:
                    metrics[metric] = MetricSummary.of(group[metric].to_numpy())
            summary.strategies[str(strategy)] = metrics
            summary.replications = len(group)
        return summary

    def merge(self, other: RunSummary) -> None:
        """Add another chunk's replications (any order gives the same result)."""
        self.replications += other.replications
        for strategy, metrics in other.strategies.items():
            mine = self.strategies.setdefault(strategy, {})
            for metric, summary in metrics.items():
                if metric in mine:
                    mine[metric].merge(summary)
                else:
                    mine[metric] = summary

    def table(self, order: list[str] | None = None) -> pd.DataFrame:
        """One row per strategy and metric, with the columns of ``api.summarise``."""
        rows = []
        for strategy in order or list(self.strategies):
            for metric in SUMMARY_METRICS:
                stats = self.strategies[strategy][metric].describe(metric in RATIOS)
                rows.append({"strategy": strategy, "metric": metric, **stats})
        return pd.DataFrame(rows).reindex(columns=[*SUMMARY_COLUMNS, "share_infinite"])
