"""The identities of MODEL.md section 12, as assertions every test run goes through."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator import Config, Results
from simulator.blocks import simulate_block
from simulator.engine import ProspectLists, Simulation
from simulator.metrics import COUNTS, segment_columns


def check_monthly(config: Config, strategy: str, monthly: pd.DataFrame) -> None:
    """Section 12 on one strategy's monthly table (one row per replication and month)."""
    m = monthly[monthly["strategy"] == strategy].sort_values(["replication", "month"])
    reps = m["replication"].nunique()
    months = config.horizon_months
    a = {c: m[c].to_numpy().reshape(reps, months) for c in COUNTS}
    by_segment = sum(m[c].to_numpy() for c in segment_columns(list(config.segments)))
    check_counts(config, strategy, a, by_segment.reshape(reps, months))


def check_counts(
    config: Config, strategy: str, a: dict[str, np.ndarray], replies_by_segment: np.ndarray
) -> None:
    """Section 12 on counts by name, each (replications, months). Prospects replied and
    in flight are counted prospect by prospect at each month end, apart from the replies
    and exhaustions counted as they happen, so these identities can fail."""
    cum = {c: np.cumsum(a[c], axis=1) for c in COUNTS}
    # prospects: added = started + not yet started; started = replied + exhausted + in flight
    assert (cum["prospects_started"] <= cum["prospects_added"]).all()
    np.testing.assert_array_equal(
        cum["prospects_started"],
        cum["prospects_replied"] + cum["prospects_exhausted"] + a["prospects_in_flight_end"],
    )
    assert (a["prospects_in_flight_end"] >= 0).all()
    # credits: balance_end = balance_start + granted - forfeited - expired - spent + refunded
    start = np.concatenate(
        [np.zeros_like(a["credit_balance_end"][:, :1]), a["credit_balance_end"][:, :-1]], 1
    )
    np.testing.assert_array_equal(
        a["credit_balance_end"],
        start
        + a["credits_granted"]
        - a["credits_forfeited"]
        - a["credits_expired"]
        - a["credits_spent"]
        + a["credits_refunded"],
    )
    assert (a["credit_balance_end"] >= 0).all()
    np.testing.assert_array_equal(a["credits_spent"], a["inmails_paid"] + a["followups_paid"])
    # replies <= touches that can get one; acceptances <= requests; refunds <= paid replied
    assert (cum["replies_message"] <= cum["messages_sent"]).all()
    assert (cum["replies_inmail"] <= cum["inmails_paid"] + cum["inmails_free"]).all()
    assert (cum["replies_followup"] <= cum["followups_paid"] + cum["followups_free"]).all()
    assert (cum["replies_email"] <= cum["emails_sent"]).all()
    assert (cum["replies_whatsapp"] <= cum["whatsapps_sent"]).all()
    np.testing.assert_array_equal(
        a["replies"],
        a["replies_message"]
        + a["replies_inmail"]
        + a["replies_followup"]
        + a["replies_email"]
        + a["replies_whatsapp"],
    )
    np.testing.assert_array_equal(a["replies"], a["prospects_replied"])
    np.testing.assert_array_equal(a["replies"], replies_by_segment)
    assert (cum["acceptances"] + cum["withdrawals"] <= cum["connects_sent"]).all()
    assert (cum["credits_refunded"] <= cum["replies_inmail"] + cum["replies_followup"]).all()
    assert (cum["credits_refunded"] <= cum["inmails_paid"] + cum["followups_paid"]).all()
    assert (a["positive_replies"] <= a["replies"]).all()
    assert (a["meetings"] <= a["positive_replies"]).all()
    # personalised notes in a month <= the plan's quota (per seat)
    quota = config.plans[config.strategies[strategy].plan].notes_per_month
    if quota is not None:
        assert (a["notes_used"] <= quota * config.accounts).all()
    assert (a["invitations_pending_end"] >= 0).all()


def check_results(results: Results) -> None:
    for strategy in results.config.strategies:
        check_monthly(results.config, strategy, results.monthly)


def check_trace(config: Config, strategy: str, trace: dict[str, np.ndarray]) -> None:
    """Day-level limits of section 12, on the engine's per-seat trace."""
    plan = config.plans[config.strategies[strategy].plan]
    sent, limit = trace["invitations_sent"], trace["limit"]
    window = np.cumsum(np.pad(sent, ((0, 0), (7, 0))), axis=1)
    last7 = window[:, 7:] - window[:, :-7]  # requests sent on days t-6..t
    sending = sent > 0
    assert (last7[sending] <= limit[sending]).all(), "a 7-day window over the limit in force"
    assert (limit <= trace["weekly_limit"][:, None]).all()  # each seat's own base limit
    assert (trace["balance_end_of_day"] >= 0).all(), "a paid InMail without a credit"
    before, after = trace["balance_before_grant"], trace["balance_after_grant"]
    assert (after <= np.maximum(plan.credits_cap, before)).all(), "a balance over the cap"
    assert (trace["notes_left"] >= 0).all(), "a note over the quota"
    assert (trace["open_profile_left"] >= 0).all(), "Open Profile messages over the cap"


def run_traced(config: Config, strategy: str, replications: int, seed: int = 1):
    """Run one strategy with the engine's trace on; check every day-level limit."""
    reps = np.arange(replications)
    sim = Simulation(config, strategy, ProspectLists(config, reps, seed), trace=True)
    monthly = sim.run()
    assert sim.trace is not None
    check_trace(config, strategy, sim.trace)
    counts = {c: monthly[:, :, i] for i, c in enumerate(COUNTS)}
    check_counts(config, strategy, counts, monthly[:, :, len(COUNTS) :].sum(axis=2))
    # the compiled loop, which runs every untraced simulation, gives the same counts
    compiled = simulate_block(config, reps, seed, [strategy])[strategy]
    np.testing.assert_array_equal(compiled, monthly)
    return monthly, sim.trace
