"""Paired differences between strategies (MODEL.md section 11: common random numbers make
"A is cheaper than B in X% of replications" a paired comparison)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from small_runs import small_run

from simulator.compare import (
    compare,
    difference,
    differences,
    lower_is_better,
    quantile,
    strategy_pairs,
    verdict,
)


def runs_of(columns: dict[str, dict[str, list[float]]]) -> pd.DataFrame:
    """A runs table from {strategy: {metric: values by replication}}."""
    parts = []
    for strategy, metrics in columns.items():
        part = pd.DataFrame(metrics)
        part.insert(0, "replication", np.arange(len(part)))
        part.insert(0, "strategy", strategy)
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    table["strategy"] = pd.Categorical(table["strategy"], categories=list(columns))
    return table


def test_differences_are_taken_replication_by_replication():
    runs = small_run("several").runs
    a = runs[runs["strategy"] == "connect"].set_index("replication")["replies"]
    b = runs[runs["strategy"] == "open_profile_first"].set_index("replication")["replies"]
    shuffled = runs.sample(frac=1.0, random_state=1)  # row order must not matter
    got = differences(shuffled, "connect", "open_profile_first", "replies")
    pd.testing.assert_series_equal(got.sort_index(), (a - b).astype(float), check_names=False)


def test_the_comparison_table_matches_numpy_on_the_same_runs():
    runs = small_run("several").runs
    table = compare(runs, ["replies", "cost_per_reply"]).set_index(
        ["strategy_a", "strategy_b", "metric"]
    )
    assert len(table) == 2 * len(strategy_pairs(runs)) == 6
    for (a, b, metric), row in table.iterrows():
        va = runs[runs["strategy"] == a].sort_values("replication")[metric].to_numpy(float)
        vb = runs[runs["strategy"] == b].sort_values("replication")[metric].to_numpy(float)
        with np.errstate(invalid="ignore"):
            d = va - vb  # numpy gives NaN for inf - inf: both without a reply
        finite = d[np.isfinite(d)]
        if finite.size:
            assert row["mean_difference"] == pytest.approx(finite.mean(), rel=1e-12, abs=1e-12)
        lower = metric.startswith("cost")
        a_better = np.mean(va < vb) if lower else np.mean(va > vb)
        b_better = np.mean(vb < va) if lower else np.mean(vb > va)
        assert row["share_a_better"] == pytest.approx(a_better)
        assert row["share_b_better"] == pytest.approx(b_better)
        assert row["share_tied"] == pytest.approx(np.mean(va == vb))
        assert row["share_a_better"] + row["share_b_better"] + row["share_tied"] == 1.0
        assert row["share_undefined"] == pytest.approx(np.mean(np.isnan(d)))
        assert row["share_infinite"] == pytest.approx(np.mean(np.isinf(d)))
        defined = np.sort(d[~np.isnan(d)])
        if defined.size and np.isfinite(defined).all():
            assert row["median_difference"] == pytest.approx(np.median(defined))
            assert row["p5_difference"] == pytest.approx(np.percentile(defined, 5))


def test_swapping_a_and_b_flips_the_sign_and_the_shares():
    runs = small_run("several").runs
    ab = compare(runs, ["replies"], pairs=[("connect", "inmail_few")]).iloc[0]
    ba = compare(runs, ["replies"], pairs=[("inmail_few", "connect")]).iloc[0]
    assert ba["mean_difference"] == pytest.approx(-ab["mean_difference"])
    assert ba["p5_difference"] == pytest.approx(-ab["p95_difference"])
    assert ba["share_a_better"] == ab["share_b_better"]
    assert ba["share_tied"] == ab["share_tied"]


def test_a_finite_cost_beats_an_infinite_one_and_two_infinities_tie():
    inf = math.inf
    runs = runs_of(
        {
            "a": {"cost_per_meeting": [10.0, inf, inf, 5.0], "meetings": [2, 0, 0, 4]},
            "b": {"cost_per_meeting": [inf, 8.0, inf, 6.0], "meetings": [0, 3, 0, 2]},
        }
    )
    row = compare(runs, ["cost_per_meeting"]).iloc[0]
    assert (row["share_a_better"], row["share_b_better"], row["share_tied"]) == (0.5, 0.25, 0.25)
    assert row["share_infinite"] == 0.5 and row["share_undefined"] == 0.25
    assert row["mean_difference"] == -1.0  # over the one replication where both are finite
    np.testing.assert_array_equal(
        difference(np.array([10.0, inf, inf, 5.0]), np.array([inf, 8.0, inf, 6.0])),
        [-inf, inf, np.nan, -1.0],
    )
    more = compare(runs, ["meetings"]).iloc[0]  # more meetings is better
    assert (more["share_a_better"], more["share_b_better"], more["share_tied"]) == (0.5, 0.25, 0.25)


def test_quantiles_of_differences_with_infinities_on_both_sides():
    values = np.array([-np.inf, -1.0, 0.0, 2.0, np.inf])
    assert quantile(values, 0.5) == 0.0
    assert quantile(values, 0.0) == -np.inf and quantile(values, 1.0) == np.inf
    assert quantile(values, 0.1) == -np.inf  # between -inf and -1
    assert quantile(values, 0.9) == np.inf
    assert quantile(np.array([-np.inf, np.inf]), 0.5) != quantile(np.array([-np.inf, np.inf]), 0.5)
    assert quantile(np.array([1.0, 3.0]), 0.25) == pytest.approx(np.percentile([1.0, 3.0], 25))


def test_costs_and_waste_are_better_lower_and_counts_higher():
    for metric in (
        "cost",
        "cost_per_reply",
        "cost_per_meeting",
        "credits_expired",
        "credits_forfeited",
        "prospects_exhausted",
    ):
        assert lower_is_better(metric), metric
    for metric in ("replies", "meetings", "positive_replies", "acceptances"):
        assert not lower_is_better(metric), metric


def test_comparisons_use_only_the_metrics_the_table_has_and_read_as_a_sentence():
    runs = small_run("several").runs.drop(columns=["cost_per_meeting"])
    table = compare(runs)
    assert set(table["metric"]) == {"replies"}
    sentence = verdict(table.iloc[0])
    assert sentence.startswith("connect gets more replies in ") and "tied in" in sentence
