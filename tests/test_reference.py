"""The reference simulation (tests/reference.py) against analytic truths.

Before the oracle judges the engine it is judged itself: exact counts where the rules fix
them, identities of MODEL.md section 12 in every replication, and means within four
Monte Carlo standard errors (from the analytic variance) of their analytic values.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from reference import limit_in_force, simulate_reference
from scipy import stats

from simulator.config import Invitations, parse_config

CONNECT_WITH_TWO_MESSAGES = {
    "kind": "connect",
    "note": True,
    "on_accept": [{"wait_days": 0}, {"wait_days": [2, 4]}],
}


def one_segment_config(
    plan: str, touches: list[dict], size: int, horizon_months: int, **scenario: Any
) -> dict:
    segment = scenario.pop("segment", {})
    return {
        "horizon_months": horizon_months,
        "segments": {"s": {"size": size, **segment}},
        "strategies": {"only": {"plan": plan, "playbook": [{"segment": "s", "touches": touches}]}},
        **scenario,
    }


def run(data: dict, replications: int, seed: int = 7) -> pd.DataFrame:
    return simulate_reference(parse_config(data), "only", replications, seed)


def assert_mean_within_4_se(values: pd.Series, expected: float, sd: float) -> None:
    """The mean of i.i.d. replications lies within 4 standard errors of its expectation."""
    tolerance = 4 * sd / math.sqrt(len(values))
    assert abs(values.mean() - expected) <= tolerance, (values.mean(), expected, tolerance)


def test_connect_only_replies_follow_the_sequence_rates():
    """§13, §15 sequence rates: replies per prospect = accept * (1 - (1 - r1)(1 - r2))."""
    size, accept, r1, r2 = 400, 0.35, 0.15, 0.06
    data = one_segment_config(
        "premium_business",
        [CONNECT_WITH_TWO_MESSAGES],
        size,
        horizon_months=3,
        invitations={"weekly_limit": 100_000},
        segment={"rates": {"accept_with_note": accept, "reply_after_accept": [r1, r2]}},
    )
    runs = run(data, replications=200)
    assert (runs.prospects_in_flight_end == 0).all()  # 90 days: everything resolved
    assert (runs.prospects_replied + runs.prospects_exhausted == size).all()
    assert (runs.notes_used == size).all() and (runs.connects_sent == size).all()
    p = accept * (1 - (1 - r1) * (1 - r2))
    assert_mean_within_4_se(runs.replies, size * p, math.sqrt(size * p * (1 - p)))
    assert_mean_within_4_se(runs.acceptances, size * accept, math.sqrt(size * accept * 0.65))
    # every acceptance gets message 1; message 2 only without a reply to message 1
    assert_mean_within_4_se(
        runs.messages_sent,
        size * accept * (2 - r1),
        math.sqrt(size * accept * 4),  # a bound: 0 to 2 messages a prospect
    )


def test_inmail_only_sends_exactly_the_monthly_grant_without_refunds():
    """§6, §13: Sales Navigator, refunds off, unlimited list: 50 paid InMails each month."""
    months, p = 4, 0.175
    data = one_segment_config(
        "sales_navigator_core",
        [{"kind": "inmail"}],
        5_000,
        horizon_months=months,
        inmail={"refunds": False},
    )
    runs = run(data, replications=200)
    assert (runs.inmails_paid == 50 * months).all()
    assert (runs.credits_granted == 50 * months).all()
    assert (runs.credits_spent == 50 * months).all()
    assert (runs.credits_refunded + runs.credits_forfeited + runs.credits_expired == 0).all()
    assert (runs.credit_balance_end == 0).all()
    assert (runs.cost == 99.0 * months).all()
    # last month's InMails (day 30 * (months - 1)) reply within the horizon only by day 29
    lognormal = stats.lognorm(s=1.0, scale=1.0)
    in_time = lognormal.cdf(29) / lognormal.cdf(30)
    expected = p * 50 * (months - 1 + in_time)
    sd = math.sqrt(p * (1 - p) * 50 * months)
    assert_mean_within_4_se(runs.replies_inmail, expected, sd)


def test_refunds_return_one_credit_per_paid_reply_spent_the_same_day():
    """§6: every reply to a paid InMail refunds on its day; the credit goes out that day."""
    months = 4
    data = one_segment_config(
        "sales_navigator_core",
        [{"kind": "inmail"}],
        5_000,
        horizon_months=months,
        segment={"rates": {"inmail_reply_paid": 0.10}},
    )
    runs = run(data, replications=300)
    assert (runs.credits_refunded == runs.replies_inmail).all()  # replies come within 30 < 90
    assert (runs.inmails_paid == 50 * months + runs.credits_refunded).all()
    assert (runs.credit_balance_end == 0).all()
    # §13: 50 / (1 - 0.10) InMails a month, so 50 * 0.10 / 0.9 replies a month (less the
    # few still on their way at the end: about 0.05, far below the standard error)
    expected = 50 * months * 0.10 / 0.9
    assert_mean_within_4_se(runs.replies_inmail, expected, runs.replies_inmail.std())


BUSY_SCENARIO = {
    "horizon_months": 5,
    "accounts": 2,
    "invitations": {
        "weekly_limit": 60,
        "max_pending": 70,
        "warmup_weeks": 3,
        "restriction": {"enabled": True, "intercept": -6.0},
    },
    "inmail": {"open_profile_monthly_cap": 15, "credit_expiry_days": 40},
    "plans": {"sales_navigator_core": {"credits_cap": 60}},  # forfeits, with expiry
    "segments": {
        "mid": {
            "size": 300,
            "new_per_month": 40,
            "open_profile_share": 0.3,
            "rates": {"reply_after_accept": [0.15, 0.06, 0.03], "accept_with_note": 0.2},
        },
        "vp": {
            "size": 150,
            "new_per_month": 20,
            "open_profile_share": 0.5,
            "rates": {"accept_after_inmail_multiplier": 1.5},
            "delays": {
                "accept": {"dist": "pmf", "probs": [0.2, 0.3, 0.5]},
                "inmail_reply": {"dist": "fixed", "days": 3},
            },
        },
        "unused": {"size": 10},
    },
}
BUSY_PLAYBOOK = [
    {
        "segment": "mid",
        "new_per_day": 12,
        "touches": [
            {
                "kind": "connect",
                "reinvite": True,
                "on_accept": [{"wait_days": 0}, {"wait_days": [2, 4]}, {"wait_days": 5}],
            }
        ],
        "open_profile_touches": [{"kind": "inmail"}, {"kind": "inmail_followup"}],
    },
    {
        "segment": "vp",
        "touches": [
            {"kind": "inmail"},
            {"kind": "inmail_followup", "if_no_reply_after_days": [5, 7]},
            {"kind": "connect", "if_no_reply_after_days": [7, 10]},
        ],
    },
]


@pytest.mark.parametrize("plan", ["sales_navigator_core", "premium_career", "free"])
def test_prospects_and_credits_are_conserved_in_every_replication(plan):
    """§12 identities, with seats, paces, warm-up, max_pending and restrictions all on."""
    pace = {"connect": 15, "inmail": 10, "message": 20}
    data = {
        **BUSY_SCENARIO,
        "strategies": {
            "only": {"plan": plan, "daily_pace": pace, "playbook": BUSY_PLAYBOOK},
        },
    }
    runs = run(data, replications=20)
    assert (runs.prospects_added == 300 + 150 + 10 + 4 * (40 + 20)).all()  # lists are shared
    assert (runs.prospects_started <= runs.prospects_added).all()
    in_flight = runs.prospects_in_flight_end
    assert (
        runs.prospects_started == runs.prospects_replied + runs.prospects_exhausted + in_flight
    ).all()
    assert (
        runs.credit_balance_end
        == runs.credits_granted
        - runs.credits_forfeited
        - runs.credits_expired
        - runs.credits_spent
        + runs.credits_refunded
    ).all()
    assert (runs.credits_spent == runs.inmails_paid + runs.followups_paid).all()
    assert (runs.credit_balance_end >= 0).all()
    by_touch = ["replies_message", "replies_inmail", "replies_followup", "replies_email"]
    assert (runs.replies == runs[[*by_touch, "replies_whatsapp"]].sum(axis=1)).all()
    assert (runs.replies == runs.prospects_replied).all()
    assert (runs.meetings <= runs.positive_replies).all()
    assert (runs.positive_replies <= runs.replies).all()
    assert (runs.credits_refunded <= runs.replies_inmail + runs.replies_followup).all()
    assert (
        runs.acceptances + runs.withdrawals + runs.invitations_pending_end <= runs.connects_sent
    ).all()
    assert (runs.reinvites_sent <= runs.withdrawals).all()
    assert (runs.messages_sent <= 3 * runs.acceptances).all()
    assert (runs.restricted_days > 0).any()
    if plan == "sales_navigator_core":  # the credit paths are exercised
        assert (runs.credits_forfeited > 0).any() and (runs.credits_expired > 0).any()
    if plan != "sales_navigator_core":  # no follow-up InMail before a response (§5)
        assert (runs.followups_paid + runs.followups_free == 0).all()
    if plan == "free":  # no credits, no free InMails (open_profile_messages: false)
        assert (runs.inmails_paid + runs.inmails_free == 0).all()
        assert (runs.notes_used <= 5 * 5 * 2).all()
    pd.testing.assert_frame_equal(runs, run(data, replications=20))  # same seed, same runs


def test_free_plan_uses_five_notes_a_month_then_blank_requests():
    """§13 free accounts: 5 personalised notes a month per seat, then accept_without_note."""
    touches = [{"kind": "connect", "note": True}]
    busy = run(
        one_segment_config("free", touches, 5_000, horizon_months=3, accounts=2), replications=5
    )
    assert (busy.notes_used == 5 * 3 * 2).all()  # quota resets at each month start
    assert (busy.connects_sent > busy.notes_used).all()
    small = run(one_segment_config("free", touches, 100, horizon_months=2), replications=400)
    assert (small.notes_used == 5).all() and (small.connects_sent == 100).all()
    mean = 5 * 0.35 + 95 * 0.25
    sd = math.sqrt(5 * 0.35 * 0.65 + 95 * 0.25 * 0.75)
    assert_mean_within_4_se(small.acceptances, mean, sd)


def rolling_limit_config(accept: float, pace: int | None = None) -> dict:
    data = one_segment_config(
        "free",
        [{"kind": "connect", "note": False}],
        5_000,
        horizon_months=2,
        segment={"rates": {"accept_without_note": accept}},
    )
    data["strategies"]["only"]["daily_pace"] = {"connect": pace}
    return data


def test_requests_follow_the_rolling_weekly_limit_and_account_health():
    """§7: 100 in any 7 days; after 0% acceptance resolves, the limit halves."""
    # all accepted: 100 on days 0, 7, ..., 56
    assert (run(rolling_limit_config(1.0), 3).connects_sent == 900).all()
    # none accepted: 100 on days 0, 7, 14, 21; withdrawals from day 21 halve it from day 22:
    # 50 on days 28, 35, 42, 49, 56
    assert (run(rolling_limit_config(0.0), 3).connects_sent == 650).all()
    # a pace of 15 a day: 15 x 6 + 10 every 7 days, 8 weeks and 4 days in 60 days
    assert (run(rolling_limit_config(1.0, pace=15), 3).connects_sent == 860).all()


def test_limit_in_force_is_exact_with_health_and_warmup():
    """§15: 3 of 25 accepted gives 55, not 54; warm-up from half over 4 weeks."""
    assert limit_in_force(100, 3, 25, Invitations()) == 55
    assert limit_in_force(100, 0, 0, Invitations()) == 100
    assert limit_in_force(100, 1, 10, Invitations()) == 50
    warm = Invitations(warmup_weeks=4, warmup_start_share=0.5)
    assert [limit_in_force(7 * w, 0, 0, warm) for w in range(6)] == [50, 62, 75, 87, 100, 100]


def test_open_profile_queue_moves_while_the_paid_queue_waits_at_its_head():
    """§15 Open Profiles: out of credits, Open Profile prospects still get free InMails."""
    size, share = 200, 0.5
    data = one_segment_config(
        "premium_career",
        [{"kind": "inmail"}],
        size,
        horizon_months=1,
        segment={"open_profile_share": share},
        inmail={"refunds": False},
    )
    runs = run(data, replications=200)
    assert (runs.inmails_paid == 5).all()  # one month's grant, then the queue waits
    assert (runs.prospects_started == runs.inmails_free + 5).all()
    assert_mean_within_4_se(runs.inmails_free, size * share, math.sqrt(size * share * (1 - share)))


def test_open_profile_cap_is_per_seat_and_month():
    """§6: free InMails count against open_profile_monthly_cap, per seat, reset monthly."""
    data = one_segment_config(
        "premium_career",
        [{"kind": "inmail"}],
        2_000,
        horizon_months=3,
        accounts=2,
        inmail={"open_profile_monthly_cap": 10},
        segment={"open_profile_share": 1.0},
    )
    runs = run(data, replications=5)
    assert (runs.inmails_free == 10 * 2 * 3).all()
    assert (runs.inmails_paid == 0).all()
    assert (runs.credit_balance_end == 2 * 15).all()  # 5 a month banked, nothing spent
