"""The Python API: tables, reproducibility, chunking, common random numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from checks import check_results
from scenarios import SCENARIOS, scenario

from simulator import parse_config, run


def test_results_do_not_depend_on_the_block_size():
    config = scenario("two_seats")
    whole = run(config, replications=60, seed=4)
    pieces = run(config, replications=60, seed=4, block=7)
    check_results(whole)
    pd.testing.assert_frame_equal(whole.runs, pieces.runs)
    pd.testing.assert_frame_equal(whole.monthly, pieces.monthly)
    pd.testing.assert_frame_equal(whole.summary, pieces.summary)


def test_adding_a_strategy_shifts_no_other_strategys_draws():
    data = SCENARIOS["fallbacks"]
    alone = run(parse_config(data), replications=40, seed=9)
    extra = dict(data["strategies"])
    extra["connect_all"] = {
        "plan": "free",
        "playbook": [{"segment": "mid", "touches": [{"kind": "connect"}]}],
    }
    together = run(parse_config({**data, "strategies": extra}), replications=40, seed=9)
    check_results(together)
    mine = together.runs[together.runs["strategy"] == "tiers"].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        alone.runs.reset_index(drop=True).astype({"strategy": str}),
        mine.astype({"strategy": str}),
    )


def test_common_random_numbers_shrink_the_variance_of_a_paired_difference():
    """Two strategies that differ in one step: the same prospects see the same outcomes
    on common random numbers, so their difference varies far less than it would on
    independent streams (a second run of B with another seed)."""
    data = {
        "horizon_months": 3,
        "invitations": {"weekly_limit": 60},
        "segments": {"mid": {"size": 2000, "rates": {"reply_after_accept": [0.15, 0.08]}}},
        "strategies": {
            name: {
                "plan": "sales_navigator_core",
                "playbook": [
                    {
                        "segment": "mid",
                        "touches": [{"kind": "connect", "on_accept": [{"wait_days": 0}] * n}],
                    }
                ],
            }
            for name, n in (("one_message", 1), ("two_messages", 2))
        },
    }
    config = parse_config(data)
    paired = run(config, replications=400, seed=1).runs
    other = run(config, replications=400, seed=2).runs
    a = paired[paired["strategy"] == "one_message"]["replies"].to_numpy()
    b = paired[paired["strategy"] == "two_messages"]["replies"].to_numpy()
    b_independent = other[other["strategy"] == "two_messages"]["replies"].to_numpy()
    assert (b >= a).all()  # same people, same answers: a second message only adds replies
    assert np.var(b - a) < 0.25 * np.var(b_independent - a)


def test_summary_table_has_every_metric_per_strategy():
    results = run(scenario("inmail_credits"), replications=30, seed=1)
    assert set(results.summary["strategy"]) == {"inmail"}
    row = results.summary.set_index("metric").loc["cost_per_reply"]
    runs = results.runs
    assert row["pooled"] == pytest.approx(runs["cost"].sum() / runs["replies"].sum())
    assert row["median"] == pytest.approx(np.median(runs["cost_per_reply"]))


def test_two_worker_processes_give_the_same_numbers_as_one():
    config = scenario("inmail_credits")
    here = run(config, replications=40, seed=5)
    spread = run(config, replications=40, seed=5, workers=2)
    pd.testing.assert_frame_equal(here.runs, spread.runs)
    pd.testing.assert_frame_equal(here.monthly, spread.monthly)
