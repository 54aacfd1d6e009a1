"""Hybrid playbooks (email, WhatsApp, engagement, fallbacks, costs to the meeting) against
analytic truths, on the engine and on the reference oracle alike.

Each count is a sum of independent per-prospect Bernoulli outcomes, so its mean over
replications lies within 4 standard errors of N * p, with the standard error from the
binomial variance. Ratios are pooled over replications and judged the same way.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from checks import check_results
from reference import simulate_reference

from simulator import parse_config, run

SIMULATORS = ["engine", "oracle"]
RUNS = {"engine": 2000, "oracle": 200}


def simulate(simulator: str, data: dict, seed: int = 5) -> pd.DataFrame:
    config = parse_config(data)
    if simulator == "oracle":
        return simulate_reference(config, "only", RUNS["oracle"], seed)
    results = run(config, replications=RUNS["engine"], seed=seed)
    check_results(results)
    return results.runs


def config(touches: list[dict], segment: dict, **scenario: Any) -> dict:
    return {
        "horizon_months": 3,
        "segments": {"s": segment},
        "strategies": {
            "only": {
                "plan": scenario.pop("plan", "sales_navigator_core"),
                "playbook": [{"segment": "s", "touches": touches}],
            }
        },
        "plans": {"sales_navigator_core": {"credits_per_month": 10_000, "credits_cap": 10_000}},
        "invitations": {"weekly_limit": 100_000},
        **scenario,
    }


def assert_binomial_mean(values: pd.Series, n: float, p: float) -> None:
    """Mean of Binomial(n, p) counts over replications, within 4 standard errors."""
    se = math.sqrt(n * p * (1 - p) / len(values))
    assert abs(values.mean() - n * p) <= 4 * se + 1e-9, (values.mean(), n * p, 4 * se)


def assert_pooled_rate(successes: pd.Series, trials: pd.Series, p: float) -> None:
    """Successes over trials pooled over replications, within 4 binomial standard errors."""
    total = trials.sum()
    se = math.sqrt(p * (1 - p) / total)
    assert abs(successes.sum() / total - p) <= 4 * se + 1e-9, (successes.sum() / total, p, se)


FIXED_1_DAY = {"dist": "fixed", "days": 1}


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_email_whatsapp_and_a_fallback_past_them(simulator):
    """No email address: skip to the InMail (fallback). An address: email, then WhatsApp
    where there is a number, then the InMail. Addresses are independent per channel."""
    n, email, whatsapp, r_email, r_wa, r_inmail = 300, 0.6, 0.5, 0.1, 0.2, 0.25
    runs = simulate(
        simulator,
        config(
            [
                {"kind": "email", "fallback": "li"},
                {"kind": "whatsapp", "if_no_reply_after_days": 3},
                {"kind": "inmail", "name": "li", "if_no_reply_after_days": 3},
            ],
            {
                "size": n,
                "email_share": email,
                "whatsapp_share": whatsapp,
                "rates": {
                    "email_reply": r_email,
                    "whatsapp_reply": r_wa,
                    "inmail_reply_paid": r_inmail,
                },
                "delays": {"reply": FIXED_1_DAY},
            },
        ),
    )
    assert_binomial_mean(runs.emails_sent, n, email)
    assert_binomial_mean(runs.emails_unreachable, n, 1 - email)
    assert_binomial_mean(runs.replies_email, n, email * r_email)
    reached_wa = email * (1 - r_email) * whatsapp
    assert_binomial_mean(runs.whatsapps_sent, n, reached_wa)
    assert_binomial_mean(runs.whatsapps_unreachable, n, email * (1 - r_email) * (1 - whatsapp))
    assert_binomial_mean(runs.replies_whatsapp, n, reached_wa * r_wa)
    to_inmail = (1 - email) + email * (1 - r_email) * (1 - whatsapp * r_wa)
    assert_binomial_mean(runs.inmails_paid, n, to_inmail)
    after_email = whatsapp * r_wa + (1 - whatsapp * r_wa) * r_inmail
    reply = (1 - email) * r_inmail + email * (r_email + (1 - r_email) * after_email)
    assert_binomial_mean(runs.replies, n, reply)
    assert (runs.prospects_exhausted + runs.prospects_replied == n).all()


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_engagement_lifts_later_acceptance_and_replies(simulator):
    """Two engagements before the ask: acceptance p * a^2 and reply r * b^2 (capped at 1)."""
    n, p, r, a, b = 300, 0.3, 0.15, 1.2, 1.5
    runs = simulate(
        simulator,
        config(
            [
                {"kind": "engage"},
                {"kind": "engage", "if_no_reply_after_days": [1, 3]},
                {"kind": "connect", "if_no_reply_after_days": 2, "on_accept": [{}]},
            ],
            {
                "size": n,
                "rates": {
                    "accept_with_note": p,
                    "reply_after_accept": [r],
                    "engage_accept_multiplier": a,
                    "engage_reply_multiplier": b,
                },
            },
        ),
    )
    assert (runs.engagements == 2 * n).all()
    assert_binomial_mean(runs.acceptances, n, p * a**2)
    assert_pooled_rate(runs.replies_message, runs.acceptances, r * b**2)


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_a_request_after_an_unanswered_inmail_has_the_multiplied_acceptance(simulator):
    """Tier 2: InMail first, then a blank request 7 to 10 days later if no reply: sent to
    the (1 - r) who did not reply, accepted at p * multiplier."""
    n, r, p, m = 300, 0.2, 0.25, 1.6
    runs = simulate(
        simulator,
        config(
            [
                {"kind": "inmail"},
                {"kind": "connect", "note": False, "if_no_reply_after_days": [7, 10]},
            ],
            {
                "size": n,
                "rates": {
                    "inmail_reply_paid": r,
                    "accept_without_note": p,
                    "accept_after_inmail_multiplier": m,
                },
                "delays": {"inmail_reply": FIXED_1_DAY},  # every reply is in before the request
            },
        ),
    )
    assert_binomial_mean(runs.connects_sent, n, 1 - r)
    assert_pooled_rate(runs.acceptances, runs.connects_sent, p * m)


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_the_funnel_from_replies_to_meetings(simulator):
    positive, meeting = 0.4, 0.3
    runs = simulate(
        simulator,
        config(
            [{"kind": "inmail"}],
            {
                "size": 300,
                "rates": {
                    "inmail_reply_paid": 0.5,
                    "positive_share": positive,
                    "meeting_share": meeting,
                },
            },
        ),
    )
    assert_pooled_rate(runs.positive_replies, runs.replies, positive)
    assert_pooled_rate(runs.meetings, runs.positive_replies, meeting)


def test_costs_add_fees_sends_and_labour_exactly():
    """Cost = fees for every seat and month + per-send prices + minutes at the hourly rate."""
    data = config(
        [{"kind": "engage"}, {"kind": "email", "if_no_reply_after_days": 2}, {"kind": "inmail"}],
        {"size": 80, "email_share": 0.5},
        accounts=2,
        costs={
            "per_send": {"email": 0.04, "inmail": 0.5},
            "minutes_per_touch": {"engage": 3, "email": 2, "inmail": 6},
            "hourly_rate": 45,
        },
    )
    runs = run(parse_config(data), replications=50, seed=3).runs
    inmails = runs.inmails_paid + runs.inmails_free
    sends = 0.04 * runs.emails_sent + 0.5 * inmails
    minutes = 3 * runs.engagements + 2 * runs.emails_sent + 6 * inmails
    fees = 99 * 2 * 3
    np.testing.assert_allclose(runs.cost_fees, fees)
    np.testing.assert_allclose(runs.cost_sends, sends)
    np.testing.assert_allclose(runs.cost_labour, minutes * 45 / 60)
    np.testing.assert_allclose(runs.cost, fees + sends + minutes * 45 / 60)
    meetings = runs.meetings.to_numpy()
    expected = np.where(meetings > 0, runs.cost / np.maximum(meetings, 1), np.inf)
    np.testing.assert_allclose(runs.cost_per_meeting, expected)
