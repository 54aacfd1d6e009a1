"""Decision analysis (issue 16): the incremental table with dominance and extended
dominance on a textbook example, ICERs and acceptability curves known analytically."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_verdict import runs_of

from simulator.decision import (
    FLAT,
    FRONTIER,
    REFERENCE,
    acceptability,
    fieller,
    frontier,
    incremental_table,
    settled_values,
    switch_sentences,
    switches,
    trade_offs,
    value_grid,
)


def test_dominance_and_extended_dominance_on_a_textbook_example():
    """A (0, 0), B (100, 5), C (200, 6), D (150, 4), E (300, 12): D costs more than B for
    less (dominated); C's ICER over B (100 per unit) exceeds E's over C (16.7), so C is
    extendedly dominated; the frontier is A, B (20 per unit), E (200 / 7 = 28.57)."""
    means = pd.DataFrame(
        {
            "strategy": list("ABCDE"),
            "cost": [0.0, 100.0, 200.0, 150.0, 300.0],
            "effect": [0.0, 5.0, 6.0, 4.0, 12.0],
        }
    )
    table = frontier(means).set_index("strategy")
    assert list(table.index) == list("ABDCE")  # cheapest first
    assert table.loc["A", "status"] == REFERENCE
    assert table.loc["D", "status"] == "dominated by B"
    assert table.loc["C", "status"] == "extendedly dominated by B and E"
    assert table.loc["B", "status"] == table.loc["E", "status"] == FRONTIER
    assert table.loc["B", "icer"] == 20.0 and table.loc["B", "compared_with"] == "A"
    assert table.loc["E", "icer"] == pytest.approx(200 / 7)
    assert table.loc["E", "compared_with"] == "B"
    assert (table.loc["E", "incremental_cost"], table.loc["E", "incremental_effect"]) == (200, 7)
    assert table.loc[list("ACD"), "icer"].isna().all()


def test_identical_strategies_and_equal_costs():
    means = pd.DataFrame(
        {"strategy": ["x", "y", "z"], "cost": [10.0, 10.0, 10.0], "effect": [2.0, 2.0, 3.0]}
    )
    table = frontier(means).set_index("strategy")
    assert table.loc["z", "status"] == REFERENCE  # same cost, more effect
    assert table.loc["x", "status"] == table.loc["y", "status"] == "dominated by z"
    same = frontier(means.iloc[:2]).set_index("strategy")
    assert same.loc["y", "status"] == "same as x"


def deterministic() -> pd.DataFrame:
    """A: $0 and no meeting; B: $100 and 5 meetings, every replication: ICER $20."""
    return runs_of(
        {
            "free": {"cost": np.zeros(40), "meetings": np.zeros(40, int)},
            "paid": {"cost": np.full(40, 100.0), "meetings": np.full(40, 5)},
        }
    )


def test_a_deterministic_icer_and_its_curve_step_at_twenty_dollars():
    runs = deterministic()
    table = incremental_table(runs, "meetings").set_index("strategy")
    assert table.loc["paid", "icer"] == 20.0
    assert table.loc["paid", "icer_low"] == table.loc["paid", "icer_high"] == 20.0
    curve = acceptability(runs, [0.0, 19.99, 20.0, 20.01, 100.0])
    paid = curve[curve["strategy"] == "paid"].set_index("value")["probability_best"]
    assert list(paid) == [0.0, 0.0, 0.5, 1.0, 1.0]  # a tie at $20 is shared
    top = curve[curve["highest_expected"]].set_index("value")["strategy"]
    assert list(top) == ["free", "free", "free", "paid", "paid"]
    [switch] = switches(incremental_table(runs))
    assert (switch["strategy"], switch["over"], switch["value"]) == ("paid", "free", 20.0)
    assert switch_sentences(runs, 12) == [
        "paid gives 5.0 more meetings a year than free at $20.00 each ($100.00 more): "
        "worth it when a meeting is worth more than that"
    ]
    # on the first screen: with the hint to give a meeting's value when none is given
    assert trade_offs(runs, 12, None) == [
        "paid gives 5.0 more meetings a year than free at $20.00 each ($100.00 more): "
        "worth it when a meeting is worth more than that (set value_per_meeting in the "
        "config to have the verdict weigh it)."
    ]
    assert trade_offs(runs, 6, 50.0) == [
        "paid gives 5.0 more meetings over 6 months than free at $20.00 each ($100.00 "
        "more): worth it when a meeting is worth more than that."
    ]
    grid = value_grid(runs)
    assert grid[0] == 0 and grid[-1] >= 40  # past twice the pooled $20 per meeting


def test_the_curve_of_a_known_distribution():
    """B costs $100 more and gives M ~ Poisson(4) more meetings: B has the higher net
    benefit at value v exactly when M > 100 / v, and its ICER is 100 / 4 = $25."""
    n = 20_000
    rng = np.random.default_rng(11)
    extra = rng.poisson(4.0, n)
    runs = runs_of(
        {
            "base": {"cost": np.full(n, 50.0), "meetings": np.full(n, 3)},
            "more": {"cost": np.full(n, 150.0), "meetings": 3 + extra},
        }
    )
    values = [10.0, 22.0, 30.0, 60.0]
    curve = acceptability(runs, values)
    got = curve[curve["strategy"] == "more"].set_index("value")["probability_best"]
    for v in values:
        threshold = 100 / v
        above = stats.poisson(4.0).sf(math.floor(threshold))  # P(M > 100 / v)
        at = stats.poisson(4.0).pmf(threshold) if threshold == int(threshold) else 0.0
        truth = above + at / 2  # a tie is shared
        assert abs(got[v] - truth) < 4 * math.sqrt(truth * (1 - truth) / n) + 1e-12
    table = incremental_table(runs).set_index("strategy")
    se = extra.std(ddof=1) / math.sqrt(n)
    icer, mean = table.loc["more", "icer"], extra.mean()
    assert abs(icer - 25.0) < 4 * 100 / mean**2 * se  # delta method: d(100/m) = 100/m^2 dm
    assert table.loc["more", "icer_low"] < icer < table.loc["more", "icer_high"]


def test_fieller_is_the_delta_interval_when_the_effect_is_clear_and_unbounded_when_not():
    rng = np.random.default_rng(3)
    n = 50_000
    dc = 100 + rng.normal(0, 30, n)
    de = rng.normal(5, 1, n)
    low, high = fieller(dc, de)
    ratio = dc.mean() / de.mean()
    u = (dc - ratio * de) / de.mean()
    half = 1.959964 * u.std(ddof=1) / math.sqrt(n)
    assert low == pytest.approx(ratio - half, rel=1e-3)
    assert high == pytest.approx(ratio + half, rel=1e-3)
    assert fieller(dc, rng.normal(0, 1, n)) == (-math.inf, math.inf)


def test_one_replication_gives_an_unbounded_interval_not_a_point():
    """One paired replication has no spread to measure the ratio's error by: the 95%
    interval is unknown, not the point itself ($60 to $60 would claim no error at all)."""
    assert fieller(np.array([60.0]), np.array([1.0])) == (-math.inf, math.inf)
    assert fieller(np.array([60.0, 60.0]), np.array([1.0, 1.0])) == (60.0, 60.0)  # no error


def test_the_curve_runs_on_until_every_strategy_s_share_has_flattened():
    """Paid costs $100 more and gives 10 more meetings in 97 of 100 replications and 1
    more in the other 3 (those switch to paid only above $100 a meeting: more than the 2%
    the axis may leave out). Pooled $100 / 9.73 = $10.28 and the ICER the same would stop
    the axis at $25; it must reach $100, where the curve is at its end (paid best in
    every replication)."""
    meetings = np.where(np.arange(100) < 97, 10, 1)
    runs = runs_of(
        {
            "free": {"cost": np.zeros(100), "meetings": np.zeros(100, int)},
            "paid": {"cost": np.full(100, 100.0), "meetings": meetings},
        }
    )
    settled = settled_values(runs)
    assert sorted(set(settled)) == [10.0, 100.0]
    grid = value_grid(runs)
    assert grid[-1] >= 100
    end = acceptability(runs, [grid[-1], 1e9])
    shares = end.pivot(index="value", columns="strategy", values="probability_best")
    # at the axis's end every share is within FLAT of where it ends (at $25: 3% away)
    assert (shares.iloc[0] - shares.iloc[1]).abs().max() <= FLAT
