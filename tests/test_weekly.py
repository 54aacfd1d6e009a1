"""Invitations day by day from a traced re-run (MODEL.md sections 7 and 15): the same
replications as the results, and the health window that sets the limit in force."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from scenarios import scenario
from small_runs import small_run

from simulator.weekly import invitation_days, sends_invitations


def test_traced_replications_are_the_replications_of_the_results():
    """Replications are keyed by their global index: re-running 0..n-1 reproduces them."""
    results = small_run("several")
    days = invitation_days(results.config, results.seed, replications=30)
    assert set(days) == {"connect", "open_profile_first"}  # inmail_few sends no request
    for name, trace in days.items():
        runs = results.runs[results.runs["strategy"] == name].sort_values("replication")
        np.testing.assert_array_equal(trace.sent.sum(axis=1), runs["connects_sent"][:30])
        monthly = results.monthly[results.monthly["strategy"] == name]
        last_day = trace.limit[:, 29::30]  # the limit in force on each month's last day
        expected = monthly.sort_values(["replication", "month"])["invitation_limit_end"]
        np.testing.assert_array_equal(last_day.ravel(), expected.to_numpy()[: last_day.size])


def test_the_health_window_gives_the_limit_in_force_every_day():
    """floor(weekly_limit * factor), the factor linear in the window's acceptance rate
    between the poor and good thresholds (exact arithmetic), 1 with nothing resolved."""
    config = scenario("connect_health")
    rules = config.invitations
    trace = invitation_days(config, seed=3, replications=20)["connect"]
    poor, good, floor = (
        Fraction(str(x)) for x in (rules.poor_acceptance, rules.good_acceptance, rules.floor_factor)
    )
    assert trace.limit.min() < rules.weekly_limit  # health does cut the limit here
    for rep in range(trace.sent.shape[0]):
        for day in range(trace.sent.shape[1]):
            resolved = int(trace.resolved_in_window[rep, day])
            if resolved == 0:
                factor = Fraction(1)
            else:
                rate = Fraction(int(trace.accepted_in_window[rep, day]), resolved)
                share = min(max((rate - poor) / (good - poor), Fraction(0)), Fraction(1))
                factor = floor + (1 - floor) * share
            assert trace.limit[rep, day] == math.floor(rules.weekly_limit * factor), (rep, day)


def test_weeks_add_up_the_days_and_only_requests_count():
    results = small_run("several")
    trace = invitation_days(results.config, results.seed, replications=10)["connect"]
    weekly = trace.sent_per_week()
    assert weekly.shape == (10, results.config.horizon_days // 7)
    np.testing.assert_array_equal(weekly[:, 1], trace.sent[:, 7:14].sum(axis=1))
    rate = trace.acceptance_in_window
    assert np.isnan(rate[:, 0]).all()  # nothing resolved before day 0
    assert np.nanmax(rate) <= 1.0 and np.nanmin(rate) >= 0.0
    assert not sends_invitations(results.config, "inmail_few")
    assert sends_invitations(results.config, "open_profile_first")
