"""The engine's parts, each against a plain re-statement of its rule."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from simulator.config import Invitations, LognormalDelay, PmfDelay
from simulator.credits import CreditLedger, grant_added, lot_expiry
from simulator.delays import DelaySampler, delay_pmf
from simulator.engine import rank_within
from simulator.invitations import (
    CHANCE_SIGNATURE,
    InvitationLimiter,
    health_limit,
    invitations_allowed,
    restriction_chance,
)
from simulator.shared_rules import over_arrays
from simulator.stats import describe, describe_ratio, exact_sum, quantile
from simulator.streams import Streams, role_id


def test_health_limit_is_exact_3_of_25_accepted_gives_55():
    """MODEL.md section 15: 0.5 + 0.5 * (0.12 - 0.10) / 0.20 = 0.55 of 100, never 54."""
    limiter = InvitationLimiter(Invitations(), units=1, days=60)
    limiter.accepted[10, 0] = 3
    limiter.withdrawn[12, 0] = 22
    assert limiter.limit_in_force(30)[0] == 55
    assert limiter.limit_in_force(10)[0] == 100  # nothing resolved before day 10
    assert limiter.limit_in_force(39)[0] == 50  # days 11..38: 0 of 22 accepted, the floor
    assert limiter.limit_in_force(41)[0] == 100  # days 13..40: nothing resolved


@pytest.mark.parametrize(("accepted", "resolved"), [(0, 7), (1, 9), (5, 23), (13, 40), (40, 41)])
def test_health_limit_matches_rational_arithmetic(accepted, resolved):
    from fractions import Fraction

    rules = Invitations(weekly_limit=137, good_acceptance=0.33, poor_acceptance=0.07)
    limiter = InvitationLimiter(rules, units=1, days=30)
    limiter.accepted[1, 0] = accepted
    limiter.withdrawn[1, 0] = resolved - accepted
    rate = Fraction(accepted, resolved)
    good, poor, floor = Fraction("0.33"), Fraction("0.07"), Fraction("0.5")
    factor = min(Fraction(1), max(floor, floor + (1 - floor) * (rate - poor) / (good - poor)))
    assert limiter.limit_in_force(2)[0] == math.floor(137 * factor)


def test_warmup_ramps_the_base_limit_week_by_week():
    rules = Invitations(weekly_limit=100, warmup_weeks=4, warmup_start_share=0.5)
    limiter = InvitationLimiter(rules, units=1, days=60)
    assert [limiter.limit_in_force(7 * w)[0] for w in range(6)] == [50, 62, 75, 87, 100, 100]


class ListLedger:
    """Credit lots as a plain list, oldest first: the rule of MODEL.md section 6."""

    def __init__(self, expiry: int):
        self.expiry, self.lots = expiry, []

    def balance(self) -> int:
        return sum(n for _, n in self.lots)

    def start_day(self, day: int) -> int:
        expired = sum(n for d, n in self.lots if d + self.expiry == day)
        self.lots = [(d, n) for d, n in self.lots if d + self.expiry > day]
        return expired

    def add(self, day: int, n: int) -> None:
        if n:
            self.lots.append((day, n))

    def spend(self, n: int) -> None:
        while n:
            d, have = self.lots[0]
            take = min(have, n)
            n -= take
            self.lots[0] = (d, have - take)
            if self.lots[0][1] == 0:
                self.lots.pop(0)


def test_credit_ledger_matches_a_list_of_lots():
    rng = np.random.default_rng(5)
    ledger, plain = CreditLedger(1, 400, 90), ListLedger(90)
    for day in range(400):
        assert ledger.start_day(day)[0] == plain.start_day(day)
        if day % 30 == 0:
            added, forfeited = ledger.grant(50, 150)
            room = max(0, 150 - plain.balance())
            assert added[0] == min(50, room) and forfeited[0] == 50 - min(50, room)
            plain.add(day, min(50, room))
        refund = int(rng.integers(0, 3))
        ledger.refund(np.array([refund]))
        plain.add(day, refund)
        spend = int(min(plain.balance(), rng.integers(0, 4) * (day % 3 == 0)))
        ledger.spend(np.array([spend]))
        plain.spend(spend)
        assert ledger.balance[0] == plain.balance()


def test_lots_expire_on_day_d_plus_90_before_the_grant():
    ledger = CreditLedger(1, 200, 90)
    ledger.start_day(0)
    ledger.grant(50, 150)
    for day in range(1, 90):
        assert ledger.start_day(day)[0] == 0
    assert ledger.start_day(90)[0] == 50  # spendable on days 0..89, gone at step 1 of day 90
    assert ledger.balance[0] == 0


def test_delay_pmf_is_the_truncated_discretised_lognormal():
    pmf = delay_pmf(LognormalDelay(dist="lognormal", median=2.0, sigma=1.0), 21)
    edges = stats.lognorm(s=1.0, scale=2.0).cdf(np.arange(22))
    np.testing.assert_allclose(pmf, np.diff(edges) / (edges[-1] - edges[0]))
    assert pmf.sum() == pytest.approx(1.0)
    assert pmf[:2].sum() == pytest.approx(stats.lognorm(s=1, scale=2).cdf(2) / edges[-1])


def test_delay_sampler_draws_its_pmf():
    sampler = DelaySampler(PmfDelay(dist="pmf", probs=[0.5, 0.0, 0.3, 0.2, 9.0]), 4)
    np.testing.assert_allclose(sampler.pmf, [0.5, 0.0, 0.3, 0.2])
    days = sampler.days(np.random.default_rng(1).random(100_000))
    counts = np.bincount(days, minlength=5)[1:]
    result = stats.chisquare(counts[[0, 2, 3]], 100_000 * sampler.pmf[[0, 2, 3]])
    assert result.pvalue > 1e-3 and counts[1] == 0


def test_streams_are_uniform_and_independent_across_roles():
    streams = Streams(42, np.arange(500))
    a = streams.stream_keys(role_id("segment/x"), role_id("connect/0"))
    b = streams.stream_keys(role_id("segment/x"), role_id("inmail/0"))
    positions = np.arange(400)
    u = Streams.uniforms(a[:, None], positions[None, :]).ravel()
    v = Streams.uniforms(b[:, None], positions[None, :]).ravel()
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert stats.kstest(v, "uniform").pvalue > 1e-3
    assert abs(stats.pearsonr(u, v).statistic) < 4 / math.sqrt(u.size)
    # a replication's draws depend on its global index only, not on its block
    later = Streams(42, np.arange(200, 300))
    again = later.stream_keys(role_id("segment/x"), role_id("connect/0"))
    np.testing.assert_array_equal(again, a[200:300])


def test_rank_within_counts_first_in_first_out_per_group():
    groups = np.array([3, 1, 3, 3, 0, 1])
    np.testing.assert_array_equal(rank_within(groups), [0, 0, 1, 2, 0, 1])


def test_quantiles_handle_infinite_ratios_like_numpy_handles_finite_ones():
    x = np.array([3.0, 1.0, 2.0, 10.0, 7.0])
    for q in (0.05, 0.5, 0.95):
        assert quantile(x, q) == pytest.approx(np.quantile(x, q))
    assert quantile(np.array([1.0, 2.0, np.inf]), 0.95) == math.inf
    assert quantile(np.array([1.0, 2.0, np.inf]), 0.5) == 2.0


def test_summaries_match_numpy_and_scipy():
    rng = np.random.default_rng(3)
    x = rng.poisson(4, 999)
    d = describe(x)
    assert d["mean"] == pytest.approx(x.mean())
    assert d["mcse"] == pytest.approx(stats.sem(x))
    assert d["median"] == pytest.approx(np.median(x))
    assert d["p95"] == pytest.approx(np.percentile(x, 95))
    cost = np.full(999, 60.0)
    r = describe_ratio(cost, x)
    finite = 60.0 / x[x > 0]
    assert r["mean"] == pytest.approx(finite.mean())
    assert r["share_infinite"] == pytest.approx(np.mean(x == 0))
    assert r["pooled"] == pytest.approx(cost.sum() / x.sum())
    assert describe_ratio(np.zeros(3), np.zeros(3))["pooled"] == math.inf


@pytest.mark.parametrize("compiled", [True, False], ids=["numba ufunc", "python integers"])
def test_a_shared_rule_gives_over_arrays_what_it_gives_for_one_seat(compiled):
    """The vectorised engine's form of a rule is the rule itself, seat by seat."""
    rng = np.random.default_rng(7)
    n = 500
    grant, cap, balance = rng.integers(0, 60, n), rng.integers(0, 160, n), rng.integers(0, 300, n)
    got = over_arrays(grant_added, compiled)(grant, cap, balance)
    assert got.dtype == np.int64
    assert got.tolist() == [grant_added(*args) for args in zip(grant, cap, balance, strict=True)]
    arrived, departed = rng.integers(0, 300, n), rng.integers(0, 300, n)
    got = over_arrays(lot_expiry, compiled)(arrived, departed)
    assert got.tolist() == [lot_expiry(a, d) for a, d in zip(arrived, departed, strict=True)]
    base, resolved = rng.integers(1, 200, n), rng.integers(0, 60, n)
    accepted = np.minimum(rng.integers(0, 60, n), resolved)
    rules = (100, 10, 30, 50)  # den, poor, good, floor: the defaults 0.10, 0.30, 0.5
    got = over_arrays(health_limit, compiled)(base, accepted, resolved, *rules)
    expected = [
        health_limit(b, a, t, *rules) for b, a, t in zip(base, accepted, resolved, strict=True)
    ]
    assert got.tolist() == expected
    assert health_limit(100, 3, 25, *rules) == 55  # MODEL.md section 15
    limit, sent, pace = rng.integers(0, 120, n), rng.integers(0, 130, n), rng.integers(0, 30, n)
    restricted, pending = rng.integers(0, 2, n), rng.integers(0, 80, n)
    max_pending = rng.choice([-1, 0, 40, 60], n)
    args = (limit, sent, pace, restricted, pending, max_pending)
    got = over_arrays(invitations_allowed, compiled)(*args)
    assert got.tolist() == [invitations_allowed(*one) for one in zip(*args, strict=True)]
    args = (-6.0, 0.05, 3.0, pending, accepted, resolved)
    got = over_arrays(restriction_chance, compiled, CHANCE_SIGNATURE)(*args)
    assert got.dtype == np.float64
    one_by_one = [restriction_chance(-6.0, 0.05, 3.0, *one) for one in zip(*args[3:], strict=True)]
    assert got.tolist() == one_by_one  # bit for bit


def test_a_days_invitations_are_the_rolling_weeks_rest_within_pace_and_pending_cap():
    """MODEL.md section 7: limit less the six days before, within the pace; none while
    restricted; none past max_pending (-1: no cap)."""
    assert invitations_allowed(100, 70, 20, 0, 0, -1) == 20  # the pace binds
    assert invitations_allowed(100, 90, 20, 0, 0, -1) == 10  # the rolling week binds
    assert invitations_allowed(100, 130, 20, 0, 0, -1) == 0  # never negative
    assert invitations_allowed(100, 0, 20, 1, 0, -1) == 0  # restricted
    assert invitations_allowed(100, 0, 20, 0, 35, 40) == 5  # five below the pending cap
    assert invitations_allowed(100, 0, 20, 0, 45, 40) == 0


def test_the_restriction_chance_is_logistic_in_pending_and_low_acceptance():
    z = -6.0 + 0.05 * 30 + 3.0 * (1 - 5 / 20)
    assert restriction_chance(-6.0, 0.05, 3.0, 30, 5, 20) == pytest.approx(1 / (1 + math.exp(-z)))
    # nothing resolved in the health window: no shortfall counts
    assert restriction_chance(-6.0, 0.05, 3.0, 30, 0, 0) == pytest.approx(
        1 / (1 + math.exp(6.0 - 1.5))
    )


def test_exact_sums_are_exact_and_refuse_what_is_not_finite():
    """1e16 + 1 - 1e16 is 0 in floats, 1 exactly; an infinity or a NaN has no exact sum."""
    assert exact_sum(np.array([1e16, 1.0, -1e16])) == 1
    assert exact_sum(np.array([0.1] * 10)) == 10 * Fraction(0.1)
    for bad in (math.inf, -math.inf, math.nan):
        with pytest.raises(ValueError, match="finite"):
            exact_sum(np.array([1.0, bad]))
