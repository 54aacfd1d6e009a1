"""MODEL.md section 13: the seed guide's own arithmetic, reproduced within Monte Carlo error.

Each expectation is derived here, independently of the engine: expected sends per day
follow from the plan (and, with refunds, a renewal equation), and the expected replies
counted within the horizon from the truncated delay distributions. The pooled cost per
reply (total cost over total replies) is compared with cost / E[replies]; the mean of
per-replication ratios is compared with E[cost / replies], computed exactly from the
distribution of replies: the two differ by Jensen's inequality, as section 13 says.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from checks import check_results
from scipy import stats

from simulator import load_config, run

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
DAYS = 360
REPLY_RATE = 0.10
FEES = 99.0 * 12


def truncated_lognormal_pmf(median: float, sigma: float, window: int) -> np.ndarray:
    """P(delay = k), k = 1..window: a lognormal's mass on (k-1, k], renormalised."""
    edges = stats.lognorm(s=sigma, scale=median).cdf(np.arange(window + 1))
    mass = np.diff(edges)
    return mass / mass.sum()


REPLY_PMF = truncated_lognormal_pmf(1.0, 1.0, 30)  # the configs' default reply delay
ACCEPT_PMF = truncated_lognormal_pmf(2.0, 1.0, 21)


def resolved_by(pmf: np.ndarray, days_left: int) -> float:
    """P(delay <= days_left) for a pmf over 1..len(pmf)."""
    return float(pmf[: max(0, days_left)].sum())


def expected_inmail_sends(refunds: bool) -> np.ndarray:
    """Expected paid InMails per day: 50 at each month start, plus, with refunds, one more
    on the day each reply returns its credit (the list never runs out, nothing else binds)."""
    sends = np.zeros(DAYS)
    for day in range(DAYS):
        sends[day] = 50.0 if day % 30 == 0 else 0.0
        if refunds:
            k = np.arange(1, min(day, REPLY_PMF.size) + 1)
            sends[day] += REPLY_RATE * float((sends[day - k] * REPLY_PMF[k - 1]).sum())
    return sends


def expected_inmail_replies(sends: np.ndarray) -> float:
    return REPLY_RATE * sum(
        s * resolved_by(REPLY_PMF, DAYS - 1 - d) for d, s in enumerate(sends) if s
    )


@pytest.fixture(scope="module")
def no_refunds():
    results = run(load_config(CONFIGS / "seed_inmail_no_refunds.yaml"), replications=4000)
    check_results(results)
    return results


@pytest.fixture(scope="module")
def with_refunds():
    results = run(load_config(CONFIGS / "seed_inmail_refunds.yaml"), replications=4000)
    check_results(results)
    return results


def test_sales_navigator_sends_exactly_50_inmails_a_month_without_refunds(no_refunds):
    assert (no_refunds.monthly["inmails_paid"] == 50).all()
    assert (no_refunds.monthly["credits_forfeited"] == 0).all()


def test_pooled_cost_per_reply_is_19_80_less_the_replies_in_flight(no_refunds):
    runs = no_refunds.runs
    replies = runs["replies"].to_numpy(dtype=float)
    expected_replies = expected_inmail_replies(expected_inmail_sends(refunds=False))
    # 99 / (50 * 0.10) = 19.80 for an infinite horizon; the last month's late replies
    # are still in flight at day 359, so the expected finite-horizon figure is a bit higher
    assert FEES / (12 * 50 * REPLY_RATE) == pytest.approx(19.80)
    expected_pooled = FEES / expected_replies
    assert 19.80 < expected_pooled < 19.81
    pooled = runs["cost"].sum() / replies.sum()
    mcse = pooled * replies.std(ddof=1) / np.sqrt(replies.size) / replies.mean()
    assert abs(pooled - expected_pooled) <= 4 * mcse
    summary = no_refunds.summary.set_index("metric").loc["cost_per_reply"]
    assert summary["pooled"] == pytest.approx(pooled)


def test_mean_of_ratios_exceeds_the_pooled_ratio_by_jensen(no_refunds):
    runs = no_refunds.runs
    ratios = runs["cost_per_reply"].to_numpy()
    assert np.isfinite(ratios).all()
    # replies ~ Binomial(550, p) + Binomial(50, p * P(reply by day 359 | sent day 330))
    late = REPLY_RATE * resolved_by(REPLY_PMF, DAYS - 1 - 330)
    pmf = np.convolve(
        stats.binom.pmf(np.arange(551), 550, REPLY_RATE), stats.binom.pmf(np.arange(51), 50, late)
    )
    y = np.arange(pmf.size)
    positive = y > 0
    exact_mean_ratio = float((FEES / y[positive] * pmf[positive]).sum() / pmf[positive].sum())
    assert exact_mean_ratio > FEES / float((y * pmf).sum()) + 0.25  # Jensen: about $20.1
    mcse = ratios.std(ddof=1) / np.sqrt(ratios.size)
    assert abs(ratios.mean() - exact_mean_ratio) <= 4 * mcse
    pooled = runs["cost"].sum() / runs["replies"].sum()
    assert ratios.mean() > pooled


def test_refunds_lift_the_send_rate_to_50_over_0_9_a_month(with_refunds):
    monthly = with_refunds.monthly
    steady = monthly[monthly["month"].between(2, 11)]
    per_rep = steady.groupby("replication")["inmails_paid"].mean().to_numpy()
    mcse = per_rep.std(ddof=1) / np.sqrt(per_rep.size)
    assert abs(per_rep.mean() - 50 / (1 - REPLY_RATE)) <= 4 * mcse
    sends = expected_inmail_sends(refunds=True)
    assert sends[60:360].sum() / 10 == pytest.approx(50 / 0.9, rel=1e-3)


def test_every_reply_returns_its_credit_and_pooled_cost_is_about_17_8(with_refunds):
    runs = with_refunds.runs
    np.testing.assert_array_equal(runs["credits_refunded"], runs["replies"])
    replies = runs["replies"].to_numpy(dtype=float)
    expected_pooled = FEES / expected_inmail_replies(expected_inmail_sends(refunds=True))
    assert expected_pooled == pytest.approx(17.82, abs=0.1)  # section 13's "about $17.8"
    pooled = runs["cost"].sum() / replies.sum()
    mcse = pooled * replies.std(ddof=1) / np.sqrt(replies.size) / replies.mean()
    assert abs(pooled - expected_pooled) <= 4 * mcse


def test_connect_only_gives_4_5_replies_per_100_invitations():
    results = run(load_config(CONFIGS / "seed_connect_free.yaml"), replications=600)
    check_results(results)
    runs = results.runs
    # 100 requests on days 0, 7, 14, ...: the rolling weekly limit, nothing else binds
    assert (runs["connects_sent"] == 100 * len(range(0, DAYS, 7))).all()
    assert (runs["cost_per_reply"] == 0).all()
    # a reply to a request sent on day d is counted if acceptance + reply delay <= 359 - d
    both = np.convolve(np.r_[0.0, ACCEPT_PMF], np.r_[0.0, REPLY_PMF])  # P(sum = k)
    per_request = 0.30 * 0.15
    expected = sum(100 * per_request * float(both[: DAYS - d].sum()) for d in range(0, DAYS, 7))
    replies = runs["replies"].to_numpy(dtype=float)
    se = replies.std(ddof=1) / np.sqrt(replies.size)
    assert abs(replies.mean() - expected) <= 4 * se
    # 4.5 per 100 for requests whose outcome lies inside the horizon; ~19 a month
    assert per_request * 100 == pytest.approx(4.5)
    assert 18.5 < expected / 12 < 19.5
