"""Summary tables (MODEL.md section 11): checked against numpy and scipy on the same runs,
and the Monte Carlo standard error against the spread of means over independent seeds."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from small_runs import small_run

from simulator import parse_config, run
from simulator.tables import METRICS, headline_table, readable_summary, summary_table

Z95 = stats.norm.ppf(0.975)


def percentile_with_inf(values: np.ndarray, q: float) -> float:
    """numpy's linear percentile with +inf standing in as a huge number, then read back."""
    huge = np.where(np.isinf(values), 1e300, values)
    p = float(np.percentile(huge, q))
    return math.inf if p >= 1e200 else p


def test_every_statistic_matches_numpy_and_scipy_on_the_same_runs():
    runs = small_run("several").runs
    table = summary_table(runs).set_index(["strategy", "metric"])
    for strategy, group in runs.groupby("strategy", observed=True):
        no_reply = np.mean(group["replies"].to_numpy() == 0)
        for metric in METRICS:
            row = table.loc[(strategy, metric)]
            values = group[metric].to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            assert row["mean"] == pytest.approx(np.mean(finite), rel=1e-12)
            assert row["mcse"] == pytest.approx(stats.sem(finite), rel=1e-9, abs=1e-12)
            assert row["ci95_low"] == pytest.approx(np.mean(finite) - Z95 * stats.sem(finite))
            assert row["ci95_high"] == pytest.approx(np.mean(finite) + Z95 * stats.sem(finite))
            for name, q in (("median", 50), ("p5", 5), ("p95", 95)):
                assert row[name] == pytest.approx(percentile_with_inf(values, q), rel=1e-12)
            assert row["share_no_reply"] == pytest.approx(no_reply)
            assert row["replications"] == len(group)
            if metric.startswith("cost_per_"):
                count = {
                    "cost_per_reply": "replies",
                    "cost_per_positive_reply": "positive_replies",
                    "cost_per_meeting": "meetings",
                }[metric]
                assert row["pooled"] == pytest.approx(group["cost"].sum() / group[count].sum())
                assert row["share_infinite"] == pytest.approx(np.mean(group[count] == 0))
            else:
                assert math.isnan(row["pooled"]) and math.isnan(row["share_infinite"])


def test_the_test_run_has_replications_with_no_reply():
    """The check above covers infinite costs per reply only if some runs have no reply."""
    runs = small_run("several").runs
    few = runs[runs["strategy"] == "inmail_few"]
    assert 0.1 < (few["replies"] == 0).mean() < 0.9


def test_the_mcse_matches_the_spread_of_means_over_independent_seeds():
    """K runs on K seeds give K independent means: their standard deviation s estimates the
    true standard error sigma, with (K-1) s^2 / sigma^2 ~ chi-square(K-1). The mcse of one
    run estimates sigma too, to a relative error of about 1/sqrt(2n). So s / mcse lies in
    the chi-square interval at 1 - 1e-3, widened by four of those relative errors."""
    data = {
        "horizon_months": 1,
        "invitations": {"weekly_limit": 60},
        "segments": {"mid": {"size": 300, "rates": {"reply_after_accept": [0.15, 0.06]}}},
        "strategies": {
            "connect": {
                "plan": "premium_career",
                "playbook": [
                    {
                        "segment": "mid",
                        "touches": [
                            {"kind": "connect", "on_accept": [{"wait_days": 0}, {"wait_days": 3}]}
                        ],
                    }
                ],
            }
        },
    }
    config = parse_config(data)
    k, n = 24, 150
    means, mcses = {"replies": [], "cost_per_reply": []}, {"replies": [], "cost_per_reply": []}
    for seed in range(k):
        table = summary_table(run(config, replications=n, seed=1000 + seed).runs)
        table = table.set_index("metric")
        for metric in means:
            means[metric].append(table.loc[metric, "mean"])
            mcses[metric].append(table.loc[metric, "mcse"])
    low = math.sqrt(stats.chi2.ppf(0.0005, k - 1) / (k - 1)) * (1 - 4 / math.sqrt(2 * n))
    high = math.sqrt(stats.chi2.ppf(0.9995, k - 1) / (k - 1)) * (1 + 4 / math.sqrt(2 * n))
    for metric in means:
        spread = np.std(means[metric], ddof=1)
        mcse = math.sqrt(np.mean(np.square(mcses[metric])))
        assert low < spread / mcse < high, (metric, spread, mcse, low, high)


def test_tables_follow_the_columns_a_runs_table_has():
    """A metric the table lacks is left out; a new column can be asked for by name, and a
    new ratio with infinities gets a finite mean and its share of infinities."""
    runs = small_run("several").runs.drop(columns=["credits_expired"])
    runs["cost_per_touch"] = np.where(runs["connects_sent"] > 0, 1.0, np.inf)
    table = summary_table(runs, [*METRICS, "cost_per_touch"])
    assert "credits_expired" not in set(table["metric"])
    extra = table[table["metric"] == "cost_per_touch"].set_index("strategy")
    assert extra.loc["inmail_few", "share_infinite"] == 1.0
    assert math.isnan(extra.loc["inmail_few", "mean"])
    assert extra.loc["connect", "mean"] == 1.0


def test_readable_tables_spell_out_dollars_infinities_and_shares():
    results = small_run("several")
    months = results.config.horizon_months
    headline = headline_table(results.runs, months, "cost_per_reply").set_index("strategy")
    assert headline.loc["connect", "cost per reply, pooled"] == "$0.00"
    assert headline.loc["inmail_few", "5th - 95th percentile"].endswith("inf")
    assert headline.loc["inmail_few", "runs with no reply"].endswith("%")
    readable = readable_summary(summary_table(results.runs))
    assert isinstance(readable, pd.DataFrame) and not readable.isna().any().any()
    cost = readable[(readable["strategy"] == "inmail_few") & (readable["metric"] == "Cost ($)")]
    assert cost["median"].item() == "$297.00"  # $99 a month for 3 months, in every run


def test_the_headline_s_net_benefit_says_over_how_long_like_the_cost_beside_it():
    results = small_run("several")
    months = results.config.horizon_months
    headline = headline_table(results.runs, months, value_per_meeting=100.0)
    assert f"mean cost over {months} months" in headline.columns
    assert f"expected net benefit over {months} months" in headline.columns
