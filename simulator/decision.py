"""Decision analysis of uncertain programmes, as health economists do it (probabilistic
sensitivity analysis): what an extra meeting costs, and when a dearer strategy pays.

Each replication draws the uncertain rates and simulates every strategy on common
random numbers, so the replications are a sample of (cost, meetings) pairs per strategy
under the run's uncertainty.

- **Incremental cost-effectiveness.** Strategies in order of mean cost; one that costs
  more for no more effect than another is *dominated*; one whose extra cost per extra
  effect is higher than that of the next dearer strategy is *extendedly dominated* (a
  mix of its neighbours would do better). Each strategy left (the frontier) is compared
  with the previous one: the incremental cost-effectiveness ratio (ICER), the extra cost
  per extra meeting (or reply), with a 95% interval from the paired replications by
  Fieller's method (unbounded when the extra effect cannot be told from 0).
- **The acceptability curve.** For a value V of a meeting, the net benefit of a strategy
  in a replication is V x meetings - cost (always finite). The curve gives, for each V,
  the share of replications in which each strategy has the highest net benefit (ties
  shared equally). The strategy with the highest *expected* net benefit changes exactly
  at the frontier's ICERs: "B pays off once a meeting is worth more than $ICER".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import special

from simulator.stats import exact_sum, pooled_ratio
from simulator.tables import money
from simulator.tables import strategies as strategy_order

#: what a strategy's status reads as in the incremental table
REFERENCE = "cheapest (reference)"
FRONTIER = "on the frontier"

FRONTIER_COLUMNS: tuple[str, ...] = (
    "strategy",
    "cost",
    "effect",
    "status",
    "compared_with",
    "incremental_cost",
    "incremental_effect",
    "icer",
    "icer_low",
    "icer_high",
)


def frontier(means: pd.DataFrame) -> pd.DataFrame:
    """The incremental table of strategies given their mean `cost` and `effect` (one row
    each, column `strategy`), cheapest first: status, and for the frontier the
    increments and ICER against the previous strategy on it."""
    table = means.reset_index(drop=True).copy()
    table["position"] = np.arange(len(table))
    table = table.sort_values(["cost", "effect", "position"], ascending=[True, False, True])
    names = list(table["strategy"])
    cost = dict(zip(names, table["cost"], strict=True))
    effect = dict(zip(names, table["effect"], strict=True))
    status: dict[str, str] = {}
    kept: list[str] = []
    for s in names:
        dominators = [
            t
            for t in names
            if t != s
            and cost[t] <= cost[s]
            and effect[t] >= effect[s]
            and (cost[t] < cost[s] or effect[t] > effect[s])
        ]
        if dominators:
            status[s] = f"dominated by {dominators[0]}"
            continue
        same = [t for t in kept if cost[t] == cost[s] and effect[t] == effect[s]]
        if same:
            status[s] = f"same as {same[0]}"
            continue
        kept.append(s)

    def icer(lo: str, hi: str) -> float:
        return (cost[hi] - cost[lo]) / (effect[hi] - effect[lo])

    removed = True
    while removed:  # a middle strategy whose ICER exceeds the next one's is passed over
        removed = False
        for i in range(1, len(kept) - 1):
            before, here, after = kept[i - 1], kept[i], kept[i + 1]
            if icer(before, here) > icer(here, after):
                status[here] = f"extendedly dominated by {before} and {after}"
                kept.pop(i)
                removed = True
                break
    rows = []
    for s in names:
        row = {"strategy": s, "cost": cost[s], "effect": effect[s]}
        if s in kept:
            i = kept.index(s)
            row["status"] = REFERENCE if i == 0 else FRONTIER
            if i > 0:
                lo = kept[i - 1]
                row |= {
                    "compared_with": lo,
                    "incremental_cost": cost[s] - cost[lo],
                    "incremental_effect": effect[s] - effect[lo],
                    "icer": icer(lo, s),
                }
        else:
            row["status"] = status[s]
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=list(FRONTIER_COLUMNS))


def fieller(delta_cost: np.ndarray, delta_effect: np.ndarray, level: float = 0.95) -> tuple:
    """Fieller's interval for mean(delta_cost) / mean(delta_effect) from paired samples:
    the ratios R with (mean dC - R mean dE)^2 <= z^2 var(mean dC - R mean dE). Unbounded
    (-inf, inf) when mean dE cannot be told from 0 at this level, or when one replication
    leaves the variances unknown."""
    dc, de = np.asarray(delta_cost, float), np.asarray(delta_effect, float)
    n = dc.size
    if n < 2:
        return -math.inf, math.inf
    z = float(special.ndtri(0.5 + level / 2))
    mc, me = dc.mean(), de.mean()
    cov = np.cov(dc, de, ddof=1) / n
    vc, ve, vce = cov[0, 0], cov[1, 1], cov[0, 1]
    a = me * me - z * z * ve
    b = mc * me - z * z * vce
    c = mc * mc - z * z * vc
    disc = b * b - a * c
    if a <= 0 or disc < 0:
        return -math.inf, math.inf
    root = math.sqrt(disc)
    return (b - root) / a, (b + root) / a


def _wide(runs: pd.DataFrame, column: str) -> pd.DataFrame:
    wide = runs.pivot(index="replication", columns="strategy", values=column)
    wide.columns = [str(c) for c in wide.columns]
    return wide[strategy_order(runs)].astype(float)


def incremental_table(
    runs: pd.DataFrame, effect: str = "meetings", level: float = 0.95
) -> pd.DataFrame:
    """The incremental table (``frontier``) of a runs table: mean cost and mean `effect`
    per strategy over the horizon, each frontier ICER with its Fieller interval from
    the paired replications."""
    cost, gain = _wide(runs, "cost"), _wide(runs, effect)
    means = pd.DataFrame(
        {"strategy": list(cost.columns), "cost": cost.mean().values, "effect": gain.mean().values}
    )
    table = frontier(means)
    for i, row in table.iterrows():
        if isinstance(row["compared_with"], str):
            lo, hi = row["compared_with"], row["strategy"]
            low, high = fieller(cost[hi] - cost[lo], gain[hi] - gain[lo], level)
            table.loc[i, ["icer_low", "icer_high"]] = [low, high]
    table.insert(3, "effect_metric", effect)
    return table


def net_benefits(runs: pd.DataFrame, value: float, effect: str = "meetings") -> pd.DataFrame:
    """value x effect - cost per replication: one column per strategy."""
    return value * _wide(runs, effect) - _wide(runs, "cost")


def acceptability(
    runs: pd.DataFrame, values: np.ndarray | list[float], effect: str = "meetings"
) -> pd.DataFrame:
    """The acceptability curve: for each value of one unit of `effect` and each strategy,
    the share of replications in which it has the highest net benefit (ties shared),
    its expected net benefit, and whether that is the highest (the frontier of the
    curve: the choice on expected value)."""
    cost = _wide(runs, "cost").to_numpy()
    gain = _wide(runs, effect).to_numpy()
    names = strategy_order(runs)
    rows = []
    for value in np.asarray(values, dtype=float):
        nb = value * gain - cost
        top = nb == nb.max(axis=1, keepdims=True)
        share = (top / top.sum(axis=1, keepdims=True)).mean(axis=0)
        expected = nb.mean(axis=0)
        leader = int(np.argmax(expected))
        for j, name in enumerate(names):
            rows.append(
                {
                    "value": float(value),
                    "strategy": name,
                    "probability_best": float(share[j]),
                    "expected_net_benefit": float(expected[j]),
                    "highest_expected": j == leader,
                }
            )
    return pd.DataFrame(rows)


def _nice_ceiling(x: float) -> float:
    """The next of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k at or above x."""
    if x <= 0 or not math.isfinite(x):
        return 1.0
    power = 10 ** math.floor(math.log10(x))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * power >= x:
            return step * power
    return 10 * power


#: the acceptability chart runs until every curve is this close to where it ends
#: (the share of replications whose choice still changes further right)
FLAT = 0.02


def settled_values(runs: pd.DataFrame, effect: str = "meetings") -> np.ndarray:
    """Per replication, the value of a unit of `effect` above which the strategy with
    the highest net benefit no longer changes: the one with the most `effect` (the
    cheapest of those) wins for every value above max_j (c_w - c_j) / (e_w - e_j) over
    the strategies j with less effect (0 when it wins throughout)."""
    cost = _wide(runs, "cost").to_numpy()
    gain = _wide(runs, effect).to_numpy()
    most = gain.max(axis=1, keepdims=True)
    winner_cost = np.where(gain == most, cost, np.inf).min(axis=1, keepdims=True)
    behind = gain < most
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = np.where(behind, (winner_cost - cost) / (most - gain), 0.0)
    return np.maximum(crossing.max(axis=1), 0.0) if crossing.size else np.zeros(len(cost))


def value_grid(runs: pd.DataFrame, effect: str = "meetings", points: int = 201) -> np.ndarray:
    """Values of one unit of `effect` from $0 to past every switch and until every curve
    has flattened: the most of twice the highest pooled cost per unit, 1.5 times the
    highest frontier ICER, and the value above which no more than FLAT of the
    replications would still change their choice."""
    cost, gain = _wide(runs, "cost"), _wide(runs, effect)
    ratios = [pooled_ratio(exact_sum(cost[s]), exact_sum(gain[s])) for s in cost.columns]
    finite = [r for r in ratios if math.isfinite(r)]
    icers = incremental_table(runs, effect)["icer"].dropna()
    flat = float(np.quantile(settled_values(runs, effect), 1.0 - FLAT)) if len(cost) else 0.0
    top = max([2 * max(finite) if finite else 0.0, *(1.5 * icers[icers > 0]), flat], default=0.0)
    return np.linspace(0.0, _nice_ceiling(top), points)


def switches(table: pd.DataFrame) -> list[dict[str, object]]:
    """Where the choice on expected net benefit changes: for each frontier strategy past
    the cheapest, the value of a unit above which it pays off over the previous one."""
    out = []
    for row in table.to_dict(orient="records"):
        if isinstance(row["compared_with"], str):
            out.append(
                {
                    "strategy": row["strategy"],
                    "over": row["compared_with"],
                    "value": row["icer"],
                    "low": row["icer_low"],
                    "high": row["icer_high"],
                }
            )
    return out


def _span(months: int) -> str:
    return "a year" if months == 12 else f"over {months} months"


def switch_sentences(runs: pd.DataFrame, months: int) -> list[str]:
    """The trade-offs in money terms, one per step of the frontier: 'B gives N more
    meetings a year than A at $V each ($C more): worth it when a meeting is worth more
    than that' ($V is the ICER, the value above which B pays off)."""
    table = incremental_table(runs, "meetings")
    out = []
    for row in table.to_dict(orient="records"):
        if isinstance(row["compared_with"], str):
            out.append(
                f"{row['strategy']} gives {row['incremental_effect']:,.1f} more meetings "
                f"{_span(months)} than {row['compared_with']} at {money(row['icer'])} each "
                f"({money(row['incremental_cost'])} more): worth it when a meeting is worth "
                "more than that"
            )
    return out


#: the clause that points a config without a value of a meeting to it
VALUE_HINT = "set value_per_meeting in the config to have the verdict weigh it"


def trade_offs(runs: pd.DataFrame, months: int, value_per_meeting: float | None) -> list[str]:
    """The trade-off sentences as the first screen shows them under the verdict, each
    ending in a full stop, with the hint to give a meeting's value when the config has
    none (empty when no dearer strategy buys more meetings)."""
    lines = switch_sentences(runs, months)
    if lines and value_per_meeting is None:
        lines[-1] += f" ({VALUE_HINT})"
    return [f"{line}." for line in lines]
