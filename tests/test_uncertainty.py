"""Parameters drawn once per replication (MODEL.md section 8): their distributions, their
keys (common random numbers, block invariance) and what the engine does with them."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from checks import check_results
from scenarios import SCENARIOS, scenario
from scipy import stats

from simulator import parse_config, run
from simulator.blocks import simulate_block
from simulator.config import LognormalDelay, ProbabilityDistribution
from simulator.delays import DelaySampler, DelayTable
from simulator.output import write_results
from simulator.streams import Streams, role_id
from simulator.uncertainty import (
    draw_parameters,
    draws_for_replications,
    frozen,
    uncertain_parameters,
    with_values,
)

DRAWS = 4000

SHAPES = {
    "accept_with_note": {"dist": "uniform", "low": 0.25, "high": 0.45},
    "accept_without_note": {"dist": "triangular", "low": 0.1, "mode": 0.15, "high": 0.3},
    "inmail_reply_paid": {"dist": "beta", "mean": 0.175, "sd": 0.05},
    "inmail_reply_open": {"dist": "beta", "alpha": 2.0, "beta": 18.0},
}


def uncertain_config(**rates) -> dict:
    data = copy.deepcopy(SCENARIOS["uncertain"])
    data["segments"]["mid"]["rates"].update(rates)
    return data


def test_each_parameter_follows_its_distribution():
    """Kolmogorov-Smirnov at a fixed seed, against the scipy distribution configured."""
    config = parse_config(uncertain_config(**SHAPES))
    drawn = draws_for_replications(config, seed=3, replications=DRAWS)
    for field, spec in SHAPES.items():
        path = f"segments.mid.rates.{field}"
        expected = frozen(ProbabilityDistribution(**spec))
        assert stats.kstest(drawn[path], expected.cdf).pvalue > 1e-3, field


def test_parameter_streams_are_uniform_and_independent_of_their_names():
    """One uniform per replication and parameter: over 300 parameter streams the KS
    p-values of their 1000 draws are themselves uniform (no stream is off), and two
    streams are uncorrelated (|r| within 4 / sqrt(n))."""
    streams = Streams(11, np.arange(1000))
    draws = [
        Streams.uniforms(streams.stream_keys(role_id(f"param/p{i}")), np.uint64(0))
        for i in range(300)
    ]
    p_values = [stats.kstest(u, "uniform").pvalue for u in draws]
    assert stats.kstest(p_values, "uniform").pvalue > 1e-3
    correlations = np.corrcoef(np.array(draws))[np.triu_indices(300, 1)]
    assert np.abs(correlations).max() < 5.5 / np.sqrt(1000)  # 44,850 pairs: 5.5 sd at most


def test_a_beta_from_mean_and_sd_has_that_mean_and_sd():
    for mean, sd in ((0.175, 0.05), (0.35, 0.1), (0.02, 0.01), (0.9, 0.2)):
        beta = frozen(ProbabilityDistribution(dist="beta", mean=mean, sd=sd))
        assert beta.mean() == pytest.approx(mean, rel=1e-12)
        assert beta.std() == pytest.approx(sd, rel=1e-12)
    config = parse_config(uncertain_config(**SHAPES))
    draws = draws_for_replications(config, 5, DRAWS)["segments.mid.rates.inmail_reply_paid"]
    assert abs(draws.mean() - 0.175) < 4 * 0.05 / np.sqrt(DRAWS)
    # the sample sd's standard error is about sd * sqrt((kurtosis - 1) / 4n); 4 of them
    kurtosis = stats.beta(*ProbabilityDistribution(**SHAPES["inmail_reply_paid"]).shape()).stats(
        moments="k"
    )
    se_sd = 0.05 * np.sqrt((float(kurtosis) + 2) / (4 * DRAWS))
    assert abs(draws.std(ddof=1) - 0.05) < 4 * se_sd


def test_a_drawn_weekly_limit_is_a_whole_number_in_its_range():
    config = scenario("uncertain")
    limits = draws_for_replications(config, 1, 2000)["invitations.weekly_limit"]
    assert limits.dtype.kind == "i"
    assert limits.min() == 15 and limits.max() == 45


def test_draws_do_not_depend_on_other_parameters_or_the_block():
    config = parse_config(uncertain_config(**SHAPES))
    fewer = copy.deepcopy(SHAPES)
    del fewer["accept_without_note"]
    data = uncertain_config(**fewer)
    data["segments"]["mid"]["rates"]["accept_without_note"] = 0.2
    other = parse_config(data)
    whole = draws_for_replications(config, 7, 50)
    part = draw_parameters(config, Streams(7, np.arange(20, 50)))
    without = draws_for_replications(other, 7, 50)
    assert "segments.mid.rates.accept_without_note" not in without
    for path, values in without.items():
        np.testing.assert_array_equal(values, whole[path])
        np.testing.assert_array_equal(part[path], whole[path][20:])


def test_a_delay_drawn_per_replication_samples_as_that_replications_fixed_delay():
    """Row r of a delay table gives, for every uniform, the days of the fixed lognormal
    with row r's median and sigma."""
    medians, sigmas = np.array([0.5, 2.0, 7.5]), np.array([1.0, 0.4, 1.6])
    table = DelayTable(medians, sigmas, 21)
    u = np.linspace(0, 1, 5001, endpoint=False)
    for r, (median, sigma) in enumerate(zip(medians, sigmas, strict=True)):
        fixed = DelaySampler(LognormalDelay(dist="lognormal", median=median, sigma=sigma), 21)
        np.testing.assert_array_equal(table.days(u, np.full(u.size, r)), fixed.days(u))


def test_every_uncertain_field_is_found_by_its_dotted_path():
    found = uncertain_parameters(scenario("uncertain"))
    assert set(found) == {
        "invitations.weekly_limit",
        "segments.senior.rates.accept_without_note",
        "segments.senior.rates.accept_after_inmail_multiplier",
        "segments.senior.rates.inmail_reply_paid",
        "segments.senior.rates.inmail_reply_open",
        "segments.senior.rates.positive_share",
        "segments.senior.rates.meeting_share",
        "segments.mid.rates.accept_with_note",
        "segments.mid.rates.reply_after_accept.0",
        "segments.mid.rates.reinvite_multiplier",
        "segments.senior.delays.inmail_reply.median",
        "segments.mid.delays.accept.median",
        "segments.mid.delays.accept.sigma",
    }


def test_a_replication_runs_on_its_drawn_values():
    """Replication r of an uncertain config gives exactly the counts of replication r of
    the config fixed at r's drawn values (same seed, so the same prospects)."""
    config = scenario("uncertain")
    reps = np.arange(6)
    uncertain = simulate_block(config, reps, 2)["tiers"]
    drawn = draws_for_replications(config, 2, reps.size)
    assert np.ptp(uncertain[:, :, 0].sum(axis=1)) > 0
    for r in reps:
        fixed = with_values(config, {path: values[r] for path, values in drawn.items()})
        assert not uncertain_parameters(fixed)
        alone = simulate_block(fixed, np.array([r]), 2)["tiers"]
        np.testing.assert_array_equal(uncertain[r], alone[0])


def test_runs_table_holds_the_draws_the_same_for_every_strategy(tmp_path):
    data = copy.deepcopy(SCENARIOS["uncertain"])
    data["strategies"]["mid_only"] = {
        "plan": "free",
        "playbook": [{"segment": "mid", "touches": [{"kind": "connect"}]}],
    }
    config = parse_config(data)
    results = run(config, replications=30, seed=4)
    check_results(results)
    runs = results.runs
    columns = [c for c in runs.columns if c.startswith("param.")]
    assert set(columns) == {f"param.{p}" for p in uncertain_parameters(config)}
    tiers = runs[runs["strategy"] == "tiers"][columns].reset_index(drop=True)
    mid = runs[runs["strategy"] == "mid_only"][columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(tiers, mid)
    drawn = draws_for_replications(config, 4, 30)
    np.testing.assert_array_equal(
        tiers["param.segments.mid.rates.accept_with_note"],
        drawn["segments.mid.rates.accept_with_note"],
    )
    folder = write_results(results, tmp_path / "out", command=["test"])
    on_disk = pd.read_parquet(folder / "runs.parquet")
    assert set(columns) <= set(on_disk.columns)


def test_uncertain_results_do_not_depend_on_block_size_or_workers():
    config = scenario("uncertain")
    whole = run(config, replications=40, seed=8)
    pieces = run(config, replications=40, seed=8, block=9)
    spread = run(config, replications=40, seed=8, workers=2)
    for other in (pieces, spread):
        pd.testing.assert_frame_equal(whole.runs, other.runs)
        pd.testing.assert_frame_equal(whole.monthly, other.monthly)
