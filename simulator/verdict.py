"""The answer in one sentence: which strategy gives the lowest cost per meeting (or per
reply, per positive reply: the config's ``objective``), by how much, and how sure that is.

The figure compared is the pooled ratio (total cost over total meetings over all
replications), the long-run cost of a programme (docs/report.md). A replication with no
meeting adds its cost and no meeting to the totals, so no ratio is ever infinite unless
a strategy got no meeting at all. Strategies ran on common random numbers, so the best
is compared with each other strategy within each replication:

- the difference of the two pooled ratios, and its Monte Carlo standard error from the
  paired replications by the delta method: each pooled ratio R = sum(cost) / sum(count)
  is linearised per replication as (cost_i - R count_i) / mean(count), and the standard
  error of the difference is the standard deviation of the paired difference of those
  terms over sqrt(replications). Pairing removes the luck the two share;
- the share of replications in which the best's own cost per meeting is lower (a
  replication with no meeting has an infinite cost per meeting: a finite one beats it,
  two infinite ones tie, as in ``simulator.compare``).

When the difference lies within ``Z_TIE`` standard errors of 0 the verdict says "too
close to call", with the most the difference can be at this run's precision (its upper
95% bound). A difference whose upper bound is below ``PRACTICAL`` (1%) of the best's
figure matters little: the two are "practically equal", said instead of a number of
replications (and after a winner whose lead is that small). Otherwise the sentence says
how many replications would settle it: the number at which a difference of the size
seen, or of 1% of the best's figure if that is larger, would be told from 0 at the 5%
level in 4 runs out of 5, n = ((z_0.975 + z_0.8) sd / max(|difference|, 1%))^2. The 1%
floor keeps the figure steady: with the difference seen alone it would swing with the
noise when the true difference is near 0 (24,000, then 3,100, then 6,800 as the
replications grow).

``verdict_sentence(runs, objective)`` is the call another module makes (a what-if
widget, a notebook): the runs table of one config in, one sentence out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from simulator.compare import win_shares
from simulator.config import OBJECTIVES
from simulator.metrics import COUNT_WORDS, RATIOS
from simulator.stats import exact_sum, pooled_ratio, quantile, ratio_or_inf
from simulator.tables import money
from simulator.tables import strategies as strategy_order

#: a paired difference within this many standard errors of 0 is too close to call (95%)
Z_TIE = float(special.ndtri(0.975))
#: the power at which "replications needed" would separate a difference of the size seen
POWER = 0.8
Z_SETTLE = Z_TIE + float(special.ndtri(POWER))
#: a difference that cannot exceed this share of the best's figure at this run's
#: precision (its upper 95% bound) matters little: the two are practically equal
PRACTICAL = 0.01
#: the share of campaigns the interval of the best's figure holds (5th to 95th percentile)
SPREAD = 0.9

#: how an objective reads in a sentence, and what it counts
WORDS: dict[str, tuple[str, str]] = {
    objective: (f"cost per {word}", word) for objective, word in COUNT_WORDS.items()
}


@dataclass(frozen=True)
class Standing:
    """One strategy on the objective: its pooled figure and the range of one campaign."""

    strategy: str
    pooled: float
    p5: float
    p95: float
    share_infinite: float


@dataclass(frozen=True)
class Paired:
    """The best against one other strategy, replication by replication.

    `difference` is other minus best (positive: the best is cheaper or, for net
    benefit, ahead); `sd` is the standard deviation of the per-replication linearised
    difference, so `mcse` = sd / sqrt(replications)."""

    best: str
    other: str
    difference: float
    sd: float
    mcse: float
    share_best_better: float
    share_other_better: float
    share_tied: float
    replications: int
    scale: float = math.nan  # the best's figure: PRACTICAL of it is a difference that matters

    @property
    def neither_counted(self) -> bool:
        """Neither strategy got a count (a meeting) in any replication: both ratios are
        infinite, and there is no difference to measure."""
        return math.isnan(self.difference)

    @property
    def identical(self) -> bool:
        """The same figure in every replication: nothing could ever separate them. (Two
        strategies that cost nothing have pooled figures of $0 and no spread, yet differ
        where one books a meeting and the other none: not identical.)"""
        return self.difference == 0.0 and self.sd == 0.0 and self.share_tied == 1.0

    @property
    def precision_unknown(self) -> bool:
        """One replication: no spread to measure the difference's standard error by."""
        return self.replications < 2

    @property
    def settled(self) -> bool:
        """The difference is told from 0 at this run's Monte Carlo error."""
        if self.neither_counted:
            return False
        if math.isinf(self.difference):
            return True  # one side never got a count at all
        if self.identical:
            return False
        return abs(self.difference) > Z_TIE * self.mcse

    @property
    def upper_bound(self) -> float:
        """The most the difference can be at this precision (upper 95% bound of |d|)."""
        return abs(self.difference) + Z_TIE * self.mcse

    @property
    def threshold(self) -> float:
        """The smallest difference that matters: PRACTICAL of the best's figure (0 when
        that figure is 0 or unknown)."""
        scale = abs(self.scale)
        return PRACTICAL * scale if math.isfinite(scale) else 0.0

    @property
    def negligible(self) -> bool:
        """Practically equal: even the upper 95% bound of the difference is below the
        threshold that matters."""
        return (
            math.isfinite(self.difference)
            and self.threshold > 0
            and self.upper_bound < self.threshold
        )

    @property
    def replications_needed(self) -> float:
        """Replications at which a difference of the size seen, or of the threshold that
        matters if that is larger, is told from 0 (5% level, power 80%). The threshold
        keeps the figure steady when the difference seen is near 0 (it would otherwise
        swing with the noise); infinite when nothing can be measured."""
        if not (math.isfinite(self.difference) and math.isfinite(self.sd)) or self.identical:
            return math.inf
        size = max(abs(self.difference), self.threshold)
        if size == 0.0:
            return math.inf
        return math.ceil((Z_SETTLE * self.sd / size) ** 2)


@dataclass(frozen=True)
class Verdict:
    """The verdict on one objective: every strategy's standing (best first), the best
    paired with each other strategy, and the sentence."""

    objective: str
    replications: int
    standings: list[Standing]
    pairs: list[Paired]
    sentence: str

    @property
    def best(self) -> str:
        return self.standings[0].strategy

    @property
    def tied(self) -> list[str]:
        """The best and every strategy too close to it to call."""
        return [self.best, *(p.other for p in self.pairs if not p.settled)]


def _linearised(cost: np.ndarray, count: np.ndarray, ratio: float) -> np.ndarray:
    """Per-replication influence of a pooled ratio: (cost_i - R count_i) / mean count."""
    return (cost - ratio * count) / count.mean()


def _pooled(cost: np.ndarray, count: np.ndarray) -> float:
    return pooled_ratio(exact_sum(cost), exact_sum(count))


def standing(strategy: str, cost: np.ndarray, count: np.ndarray) -> Standing:
    ratio = ratio_or_inf(cost, count)
    tail = (1.0 - SPREAD) / 2
    return Standing(
        strategy,
        _pooled(cost, count),
        quantile(ratio, tail),
        quantile(ratio, 1.0 - tail),
        float(np.mean(np.isinf(ratio))),
    )


def paired_ratio(best: str, other: str, cost: pd.DataFrame, count: pd.DataFrame) -> Paired:
    """The paired comparison of two pooled ratios (`cost`, `count`: one column per
    strategy, one row per replication)."""
    cb, nb = cost[best].to_numpy(float), count[best].to_numpy(float)
    co, no = cost[other].to_numpy(float), count[other].to_numpy(float)
    rb, ro = _pooled(cb, nb), _pooled(co, no)
    n = len(cb)
    if math.isfinite(rb) and math.isfinite(ro):
        w = _linearised(co, no, ro) - _linearised(cb, nb, rb)
        sd = float(np.std(w, ddof=1)) if n > 1 else math.nan
    else:
        sd = math.nan
    better, worse, tied = win_shares(ratio_or_inf(cb, nb), ratio_or_inf(co, no), True)
    difference = ro - rb if not (math.isinf(ro) and math.isinf(rb)) else math.nan
    mcse = sd / math.sqrt(n)
    return Paired(best, other, difference, sd, mcse, better, worse, tied, n, scale=rb)


def paired_mean(
    best: str, other: str, values: pd.DataFrame, higher_better: bool, scale: float = math.nan
) -> Paired:
    """The paired comparison of two means (net benefit: always finite); `scale` is the
    figure PRACTICAL of which is a difference that matters."""
    b, o = values[best].to_numpy(float), values[other].to_numpy(float)
    d = (b - o) if higher_better else (o - b)  # positive: the best is ahead
    n = len(d)
    sd = float(np.std(d, ddof=1)) if n > 1 else math.nan
    better, worse, tied = win_shares(b, o, not higher_better)
    mcse = sd / math.sqrt(n)
    return Paired(best, other, float(d.mean()), sd, mcse, better, worse, tied, n, scale=scale)


def _wide(runs: pd.DataFrame, column: str) -> pd.DataFrame:
    wide = runs.pivot(index="replication", columns="strategy", values=column)
    wide.columns = [str(c) for c in wide.columns]
    return wide[strategy_order(runs)]


def whole_dollars(x: float) -> str:
    """$21,045: a campaign's worth, to the dollar."""
    if not math.isfinite(x):
        return money(x)
    return f"-${-x:,.0f}" if round(x) < 0 else f"${x:,.0f}"


def about(n: float) -> str:
    """Replications as a person says them: 2,000; about 14,000; over a billion."""
    if math.isinf(n):
        return "no number of"
    if n > 1e9:
        return "over a billion"
    if n < 100:
        return f"{int(n):,}"
    digits = 1 - math.floor(math.log10(n))  # two significant figures
    return f"about {int(round(n, digits)):,}"


def only_strategy_sentence(best: Standing, what: str) -> str:
    """The verdict of a config with one strategy: its figure and the range of one
    campaign (a streamed run's summary gives them too)."""
    spread = f"(90% interval {money(best.p5)} to {money(best.p95)})"
    return f"{best.strategy} gives {what} of {money(best.pooled)} {spread}, the only strategy"


def _sentence(verdict_of: str, what: str, standings: list[Standing], pairs: list[Paired]) -> str:
    best = standings[0]
    n = pairs[0].replications if pairs else 0
    spread = f"(90% interval {money(best.p5)} to {money(best.p95)})"
    if not pairs:
        return only_strategy_sentence(best, what)
    runner = pairs[0]
    if math.isinf(best.pooled):
        return (
            f"Nothing was booked: no strategy got a {verdict_of} in "
            + (f"any of the {n:,} replications" if n != 1 else "the one replication")
            + f", so the {what} is infinite for every one"
        )
    if runner.settled:
        below = (
            f"{money(runner.difference)} below {runner.other}"
            if math.isfinite(runner.difference)
            else f"while {runner.other} got no {verdict_of} in any replication"
        )
        text = (
            f"{best.strategy} gives the lowest {what}: {money(best.pooled)} {spread}, {below}, "
            f"lower in {runner.share_best_better:.0%} of paired replications"
        )
        if runner.negligible:
            text += f"; practically equal: {_apart(runner, best.pooled)}"
        return text
    close = [p for p in pairs if not p.settled]
    names = [best.strategy, *(p.other for p in close)]
    between = (
        " and ".join(names) if len(names) == 2 else ", ".join(names[:-1]) + f" and {names[-1]}"
    )
    if all(p.identical for p in close):
        return (
            f"Too close to call between {between} at {n:,} replications: they give the same "
            f"{what} ({money(best.pooled)}) in every replication"
        )
    figures = (
        f"{what} {money(best.pooled)} against {money(close[0].difference + best.pooled)} "
        f"({best.strategy} lower in {close[0].share_best_better:.0%} of paired replications)"
    )
    if runner.precision_unknown:
        return (
            f"Too close to call between {between} at 1 replication: {figures}, and one "
            "replication cannot measure its own precision: run more replications to settle it"
        )
    widest = max(close, key=lambda p: p.upper_bound)
    if all(p.negligible or p.identical for p in close):
        return (
            f"Too close to call between {between} at {n:,} replications, and practically "
            f"equal: {figures}, {_apart(widest, best.pooled)}"
        )
    slowest = max(close, key=lambda p: p.replications_needed)
    needed = slowest.replications_needed
    share = widest.upper_bound / best.pooled if best.pooled > 0 else math.inf
    matters = f" ({share:.1%})" if math.isfinite(share) else ""
    if not math.isfinite(needed):
        settle = "no number of replications would separate them (the difference seen is 0)"
    elif abs(slowest.difference) < slowest.threshold:  # sized on the 1% that matters
        settle = (
            f"{about(needed)} replications would tell a difference of {PRACTICAL:.0%} "
            f"({money(slowest.threshold)}) from none"
        )
    else:
        settle = f"{about(needed)} replications would settle it"
    return (
        f"Too close to call between {between} at {n:,} replications: {figures}, "
        f"a difference of at most {money(widest.upper_bound)}{matters} at this precision; "
        f"{settle}"
    )


def _apart(pair: Paired, best: float) -> str:
    """'at most $0.08 (0.8%) apart at this precision, under the 1% that matters'."""
    return (
        f"at most {money(pair.upper_bound)} ({pair.upper_bound / best:.1%}) apart at this "
        f"precision, under the {PRACTICAL:.0%} that matters"
    )


def objective_verdict(runs: pd.DataFrame, objective: str = "cost_per_meeting") -> Verdict:
    """The verdict on a cost-per objective from a runs table (one row per strategy and
    replication, with `cost` and the objective's count column)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective: unknown {objective!r} (known: {', '.join(OBJECTIVES)})")
    what, counted = WORDS[objective]
    cost, count = _wide(runs, "cost"), _wide(runs, RATIOS[objective])
    standings = [standing(s, cost[s].to_numpy(float), count[s].to_numpy(float)) for s in cost]
    standings.sort(key=lambda s: s.pooled)  # stable: config order breaks exact ties
    best = standings[0].strategy
    pairs = [paired_ratio(best, s.strategy, cost, count) for s in standings[1:]]
    sentence = _sentence(counted, what, standings, pairs)
    return Verdict(objective, len(cost), standings, pairs, sentence)


def net_benefit(runs: pd.DataFrame, value_per_meeting: float) -> pd.DataFrame:
    """value x meetings - cost per replication (always finite): one column per strategy."""
    return value_per_meeting * _wide(runs, "meetings") - _wide(runs, "cost")


def net_benefit_sentence(runs: pd.DataFrame, value_per_meeting: float, months: int) -> str:
    """Which strategy gives the highest expected net benefit at a meeting's value."""
    values = net_benefit(runs, value_per_meeting)
    means = values.mean()
    order = sorted(values.columns, key=lambda s: -means[s])
    best = order[0]
    at = f"At {whole_dollars(value_per_meeting)} a meeting"
    if len(order) == 1:
        return f"{at}, {best} gives an expected net benefit of {whole_dollars(means[best])}"
    # what the best's meetings are worth: PRACTICAL of it is a difference that matters
    worth = value_per_meeting * float(_wide(runs, "meetings")[best].mean())
    pairs = [paired_mean(best, s, values, True, worth) for s in order[1:]]
    runner = pairs[0]
    if runner.settled:
        return (
            f"{at}, {best} gives the highest expected net benefit: "
            f"{whole_dollars(means[best])} over {months} months, "
            f"{whole_dollars(runner.difference)} above {runner.other}, higher in "
            f"{runner.share_best_better:.0%} of paired replications"
        )
    close = [p.other for p in pairs if not p.settled]
    unsettled = [p for p in pairs if not p.settled]
    needed = max(p.replications_needed for p in unsettled)
    settle = f"; {about(needed)} replications would settle it" if math.isfinite(needed) else ""
    if runner.precision_unknown:
        settle = "; one replication cannot measure its own precision: run more to settle it"
    if all(p.negligible for p in unsettled):
        widest = max(unsettled, key=lambda p: p.upper_bound)
        settle = (
            f"; practically equal: at most {whole_dollars(widest.upper_bound)} apart at this "
            f"precision, under {PRACTICAL:.0%} of what {best}'s meetings are worth"
        )
    return (
        f"{at}, the expected net benefit is too close to call between {best} and "
        f"{' and '.join(close)} ({whole_dollars(means[best])} against "
        f"{whole_dollars(means[close[0]])} over "
        f"{months} months){settle}"
    )


def verdict_sentence(
    runs: pd.DataFrame,
    objective: str = "cost_per_meeting",
    value_per_meeting: float | None = None,
    months: int = 12,
) -> str:
    """The verdict as text: ``verdict_sentence(runs, objective, value_per_meeting=None,
    months=12) -> str``.

    `runs` is a runs table of one config (columns strategy, replication, cost, replies,
    positive_replies, meetings, as ``simulator.run(...).runs`` gives); `objective` one of
    ``config.OBJECTIVES``. With `value_per_meeting` (dollars), a second sentence names
    the strategy with the highest expected net benefit over the `months` of the horizon.
    """
    text = objective_verdict(runs, objective).sentence + "."
    if value_per_meeting is not None and "meetings" in runs.columns:
        text += " " + net_benefit_sentence(runs, value_per_meeting, months) + "."
    return text
