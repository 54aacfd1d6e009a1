"""The verdict (issue 16): the best strategy on the config's objective, by how much and
how sure, or "too close to call" with the replications that would settle it. Checked on
a config with a known winner, on an exact tie and on runs of known distributions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from checks import check_results
from scipy import stats

from simulator import parse_config, run
from simulator.verdict import PRACTICAL, Z_SETTLE, Z_TIE, objective_verdict, verdict_sentence

ROUTE = [
    {
        "segment": "mid",
        "touches": [{"kind": "connect", "on_accept": [{"wait_days": 0}, {"wait_days": 4}]}],
    }
]
PLAN = {"credits_per_month": 0, "credits_cap": 0}


def config(strategies: dict, **top) -> dict:
    return {
        "horizon_months": 3,
        "plans": {
            "cheap": {"price_per_month": 10, **PLAN},
            "dear": {"price_per_month": 60, **PLAN},
        },
        "segments": {
            "mid": {"size": 300, "rates": {"accept_with_note": 0.3, "meeting_share": 0.3}}
        },
        "strategies": strategies,
        **top,
    }


def runs_of(columns: dict[str, dict[str, np.ndarray]]) -> pd.DataFrame:
    """A runs table from {strategy: {column: values by replication}}, with cost per X."""
    parts = []
    for strategy, values in columns.items():
        part = pd.DataFrame(values)
        part.insert(0, "replication", np.arange(len(part)))
        part.insert(0, "strategy", strategy)
        for ratio, count in (("cost_per_meeting", "meetings"), ("cost_per_reply", "replies")):
            if count in part:
                with np.errstate(divide="ignore"):
                    part[ratio] = np.where(part[count] > 0, part["cost"] / part[count], np.inf)
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    table["strategy"] = pd.Categorical(table["strategy"], categories=list(columns))
    return table


def test_the_same_route_on_a_cheaper_plan_wins_by_the_fee_difference():
    """Same playbook, fees $10 and $60 a month: the same prospects and outcomes (common
    random numbers), so the cheap plan is lower wherever there is a meeting, and its
    pooled cost per meeting is lower by $50 x 3 months / mean meetings exactly."""
    cfg = parse_config(
        config(
            {
                "on_dear": {"plan": "dear", "playbook": ROUTE},
                "on_cheap": {"plan": "cheap", "playbook": ROUTE},
            }
        )
    )
    results = run(cfg, replications=200, seed=3)
    check_results(results)
    runs = results.runs
    verdict = objective_verdict(runs, "cost_per_meeting")
    assert verdict.best == "on_cheap"
    pair = verdict.pairs[0]
    meetings = runs[runs["strategy"] == "on_cheap"]["meetings"].to_numpy()
    assert pair.difference == pytest.approx(150 / meetings.mean(), rel=1e-12)
    assert pair.settled and pair.share_best_better == pytest.approx(np.mean(meetings > 0))
    assert verdict.sentence.startswith("on_cheap gives the lowest cost per meeting: $")
    assert f"below on_dear, lower in {np.mean(meetings > 0):.0%} of paired" in verdict.sentence


def test_two_identical_strategies_are_too_close_to_call_whatever_the_replications():
    cfg = parse_config(
        config(
            {
                "first": {"plan": "cheap", "playbook": ROUTE},
                "second": {"plan": "cheap", "playbook": ROUTE},
            }
        )
    )
    results = run(cfg, replications=100, seed=4)
    check_results(results)
    for objective in ("cost_per_reply", "cost_per_meeting"):
        verdict = objective_verdict(results.runs, objective)
        assert verdict.tied == ["first", "second"]
        assert verdict.pairs[0].identical and verdict.pairs[0].replications_needed == math.inf
        assert verdict.sentence.startswith("Too close to call between first and second at 100")
        assert "the same" in verdict.sentence and "in every replication" in verdict.sentence


N = 4000


def poisson_runs(rate_a: float, rate_b: float, seed: int) -> pd.DataFrame:
    """Both strategies cost $100 a campaign; meetings are independent Poisson counts. The
    pooled cost per meeting is then 100 / rate, and A is lower in a replication exactly
    when it has more meetings (a Skellam difference)."""
    rng = np.random.default_rng(seed)
    cost = np.full(N, 100.0)
    return runs_of(
        {
            "a": {"cost": cost, "meetings": rng.poisson(rate_a, N)},
            "b": {"cost": cost, "meetings": rng.poisson(rate_b, N)},
        }
    )


def test_a_known_winner_with_its_share_of_wins_and_its_margin():
    verdict = objective_verdict(poisson_runs(10.0, 8.0, seed=1), "cost_per_meeting")
    assert verdict.best == "a"
    pair = verdict.pairs[0]
    # the margin: 100/8 - 100/10 = 2.5, within 4 Monte Carlo standard errors
    assert abs(pair.difference - 2.5) < 4 * pair.mcse
    # A lower when it has more meetings; ties when the counts are equal
    wins, ties = stats.skellam(10.0, 8.0).sf(0), stats.skellam(10.0, 8.0).pmf(0)
    for share, truth in ((pair.share_best_better, wins), (pair.share_tied, ties)):
        assert abs(share - truth) < 4 * math.sqrt(truth * (1 - truth) / N)
    assert pair.settled and "lower in" in verdict.sentence


def test_a_near_tie_is_too_close_to_call_with_the_standard_error_of_the_delta_method():
    """Rates 10 and 10.05: a true difference of 100/10 - 100/10.05 = $0.0498. The
    linearised terms are 10 - N (rate 10) and (100 - 9.95 N) / 10.05 (rate 10.05), so
    the paired sd is sqrt(10 + 9.95^2 / 10.05) exactly, about 4.46, and about
    (2.80 x 4.46 / 0.0498)^2 = 63,000 replications would tell the difference."""
    runs = poisson_runs(10.05, 10.0, seed=2)
    verdict = objective_verdict(runs, "cost_per_meeting")
    pair = verdict.pairs[0]
    sd = math.sqrt(10 + (100 / 10.05) ** 2 / 10.05)
    assert abs(pair.sd / sd - 1) < 4 / math.sqrt(2 * N)  # the sd's relative error ~ 1/sqrt(2n)
    assert not pair.settled and abs(pair.difference) <= Z_TIE * pair.mcse
    assert verdict.sentence.startswith("Too close to call between ")
    assert f"at {N:,} replications" in verdict.sentence
    # the difference seen is below 1% of $10: the 1% keeps the estimate steady
    threshold = PRACTICAL * verdict.standings[0].pooled  # 1% of about $10
    assert abs(pair.difference) < threshold < pair.upper_bound  # neither apart nor negligible
    needed = (Z_SETTLE * pair.sd / threshold) ** 2  # about 15,600
    assert pair.replications_needed == math.ceil(needed)
    assert "replications would tell a difference of 1% ($0.10) from none" in verdict.sentence
    assert pair.upper_bound == pytest.approx(abs(pair.difference) + Z_TIE * pair.mcse)


def test_replications_with_no_meeting_count_their_cost_and_no_meeting():
    """A: $100 and 1 meeting in half the replications, none in the others; B: $160 and 1
    meeting always. Pooled: A $200, B $160, whatever A's infinite ratios."""
    a_meetings = np.tile([1, 0], 500)
    runs = runs_of(
        {
            "a": {"cost": np.full(1000, 100.0), "meetings": a_meetings},
            "b": {"cost": np.full(1000, 160.0), "meetings": np.ones(1000, int)},
        }
    )
    verdict = objective_verdict(runs, "cost_per_meeting")
    assert verdict.best == "b"
    assert verdict.standings[0].pooled == 160 and verdict.standings[1].pooled == 200
    pair = verdict.pairs[0]
    assert pair.difference == 40 and pair.share_best_better == 0.5
    # linearised A: (100 - 200 m_i) / 0.5 = +-200, B: 0; sd of the difference 200
    assert pair.sd == pytest.approx(200 * math.sqrt(1000 / 999))


def test_net_benefit_joins_the_sentence_with_a_meeting_s_value():
    """A: $100 and 5 meetings; B: $300 and 8. At $100 a meeting B is ahead by $100."""
    runs = runs_of(
        {
            "a": {"cost": np.full(50, 100.0), "meetings": np.full(50, 5)},
            "b": {"cost": np.full(50, 300.0), "meetings": np.full(50, 8)},
        }
    )
    text = verdict_sentence(runs, "cost_per_meeting", value_per_meeting=100, months=6)
    assert text.startswith("a gives the lowest cost per meeting: $20.00")
    benefit = "b gives the highest expected net benefit: $500 over 6 months, $100 above a"
    assert f"At $100 a meeting, {benefit}" in text


def test_a_single_strategy_and_an_unknown_objective():
    runs = runs_of({"only": {"cost": np.full(10, 50.0), "meetings": np.full(10, 2)}})
    assert "the only strategy" in verdict_sentence(runs)
    with pytest.raises(ValueError, match="objective"):
        objective_verdict(runs, "cost_per_lead")


def test_two_equal_lists_worked_the_same_way_are_a_near_tie_too_close_to_call():
    """Strategies A and B work two lists with the same size and rates, on the same plan:
    the true difference is 0, but their prospects are different people (different
    draws), so the replications differ. At this precision the verdict must not pick one."""
    mid = {"size": 300, "rates": {"accept_with_note": 0.3, "meeting_share": 0.3}}
    route = [{**ROUTE[0], "segment": "twin"}]
    cfg = parse_config(
        {
            **config(
                {
                    "a": {"plan": "cheap", "playbook": ROUTE},
                    "b": {"plan": "cheap", "playbook": route},
                }
            ),
            "segments": {"mid": mid, "twin": mid},
        }
    )
    results = run(cfg, replications=300, seed=6)
    check_results(results)
    verdict = objective_verdict(results.runs, "cost_per_meeting")
    pair = verdict.pairs[0]
    assert not pair.identical  # different people: not the same in every replication
    assert abs(pair.difference) <= Z_TIE * pair.mcse and not pair.settled
    assert verdict.sentence.startswith("Too close to call between ")
    assert pair.replications_needed > 300  # more than this run: a 0 difference is hard to tell


def test_a_strategy_that_never_gets_a_meeting_ranks_last_and_is_said_so():
    runs = runs_of(
        {
            "silent": {"cost": np.full(20, 50.0), "meetings": np.zeros(20, int)},
            "works": {"cost": np.full(20, 100.0), "meetings": np.full(20, 4)},
        }
    )
    verdict = objective_verdict(runs, "cost_per_meeting")
    assert [s.strategy for s in verdict.standings] == ["works", "silent"]
    assert verdict.standings[1].pooled == math.inf and verdict.pairs[0].settled
    assert verdict.sentence == (
        "works gives the lowest cost per meeting: $25.00 (90% interval $25.00 to $25.00), "
        "while silent got no meeting in any replication, lower in 100% of paired replications"
    )
    nobody = runs_of(
        {
            "a": {"cost": np.ones(5), "meetings": np.zeros(5, int)},
            "b": {"cost": np.ones(5), "meetings": np.zeros(5, int)},
        }
    )
    assert objective_verdict(nobody).sentence == (
        "Nothing was booked: no strategy got a meeting in any of the 5 replications, so the "
        "cost per meeting is infinite for every one"
    )
    alone = runs_of(
        {
            "a": {"cost": np.ones(1), "meetings": np.zeros(1, int)},
            "b": {"cost": np.ones(1), "meetings": np.zeros(1, int)},
        }
    )
    assert objective_verdict(alone).sentence.startswith(
        "Nothing was booked: no strategy got a meeting in the one replication, so the "
    )


def alternating(cost: float, best: int, spread: int, n: int = 100) -> pd.DataFrame:
    """A: `cost` and `best` meetings in every replication (cost per meeting R = cost /
    best, linearised terms 0). B: the same cost, and best + spread, best - spread
    meetings in turn: the same pooled R (difference exactly 0), linearised terms
    -+ R spread / best, so the paired sd is R spread / best x sqrt(n / (n - 1))."""
    return runs_of(
        {
            "a": {"cost": np.full(n, cost), "meetings": np.full(n, best)},
            "b": {"cost": np.full(n, cost), "meetings": best + spread * np.tile([1, -1], n // 2)},
        }
    )


def test_a_near_tie_whose_difference_cannot_matter_is_practically_equal():
    """$1,000 and 100 meetings: R = $10; B's spread 4 gives a paired sd of 0.4 x
    sqrt(100/99), so the difference (0) is at most 1.96 x 0.04 = $0.079 (0.8%), under
    the 1% ($0.10) that matters: no number of replications is asked for."""
    verdict = objective_verdict(alternating(1000.0, 100, 4), "cost_per_meeting")
    pair = verdict.pairs[0]
    sd = 0.4 * math.sqrt(100 / 99)
    assert pair.difference == pytest.approx(0, abs=1e-12) and pair.sd == pytest.approx(sd)
    assert pair.threshold == pytest.approx(PRACTICAL * 10) and pair.negligible
    assert not pair.settled
    assert verdict.sentence == (
        "Too close to call between a and b at 100 replications, and practically equal: "
        "cost per meeting $10.00 against $10.00 (a lower in 50% of paired replications), "
        f"at most ${Z_TIE * sd / 10:.2f} (0.8%) apart at this precision, under the 1% that "
        "matters"
    )


def test_a_near_tie_that_could_still_matter_asks_for_a_steady_number_of_replications():
    """The same with a spread of 20: sd 2 x sqrt(100/99), the difference (0) is at most
    1.96 x 0.2 = $0.39 (3.9%). The replications that would tell 1% ($0.10) from 0 are
    (2.80 x sd / 0.10)^2, about 3,200, where the difference seen (0) alone would give
    'no number of replications'."""
    verdict = objective_verdict(alternating(1000.0, 100, 20), "cost_per_meeting")
    pair = verdict.pairs[0]
    sd = 2 * math.sqrt(100 / 99)
    assert not pair.settled and not pair.negligible
    assert pair.replications_needed == math.ceil((Z_SETTLE * sd / 0.1) ** 2)
    assert verdict.sentence.endswith(
        f"a difference of at most ${Z_TIE * sd / 10:.2f} (3.9%) at this precision; "
        "about 3,200 replications would tell a difference of 1% ($0.10) from none"
    )


def test_a_winner_by_a_negligible_margin_is_named_and_said_practically_equal():
    """$10,000 for 1,000 meetings against 996, every replication: $10.00 against
    $10.04, told apart (sd 0) but by 0.4%, under the 1% that matters."""
    runs = runs_of(
        {
            "a": {"cost": np.full(50, 10_000.0), "meetings": np.full(50, 1000)},
            "b": {"cost": np.full(50, 10_000.0), "meetings": np.full(50, 996)},
        }
    )
    verdict = objective_verdict(runs, "cost_per_meeting")
    assert verdict.pairs[0].settled and verdict.pairs[0].negligible
    assert verdict.sentence == (
        "a gives the lowest cost per meeting: $10.00 (90% interval $10.00 to $10.00), $0.04 "
        "below b, lower in 100% of paired replications; practically equal: at most $0.04 "
        "(0.4%) apart at this precision, under the 1% that matters"
    )


def test_one_replication_says_its_precision_is_unknown_not_that_the_difference_is_0():
    """One replication, $0 for 1 meeting against $60 for 2: the difference seen is $30,
    but one replication has no spread to measure it by. The sentence says so; it does not
    claim the difference seen is 0, nor that no number of replications would settle it."""
    runs = runs_of(
        {
            "a": {"cost": np.array([0.0]), "meetings": np.array([1])},
            "b": {"cost": np.array([60.0]), "meetings": np.array([2])},
        }
    )
    assert verdict_sentence(runs, value_per_meeting=100.0, months=1).endswith(
        "At $100 a meeting, the expected net benefit is too close to call between b and a "
        "($140 against $100 over 1 months); one replication cannot measure its own "
        "precision: run more to settle it."
    )
    verdict = objective_verdict(runs, "cost_per_meeting")
    pair = verdict.pairs[0]
    assert pair.difference == 30.0 and math.isnan(pair.sd) and not pair.settled
    assert verdict.sentence == (
        "Too close to call between a and b at 1 replication: cost per meeting $0.00 "
        "against $30.00 (a lower in 100% of paired replications), and one replication "
        "cannot measure its own precision: run more replications to settle it"
    )


def test_strategies_that_cost_nothing_are_not_said_equal_in_every_replication():
    """Two free strategies: both pooled costs per meeting are $0, so nothing separates
    them, but a replication with no meeting has an infinite cost per meeting: where one
    books a meeting and the other none, they differ, and the sentence must not say they
    give the same figure in every replication."""
    runs = runs_of(
        {
            "a": {"cost": np.zeros(4), "meetings": np.array([1, 0, 2, 1])},
            "b": {"cost": np.zeros(4), "meetings": np.array([3, 2, 0, 1])},
        }
    )
    verdict = objective_verdict(runs, "cost_per_meeting")
    pair = verdict.pairs[0]
    assert pair.share_tied == 0.5 and not pair.identical and not pair.settled
    assert "in every replication" not in verdict.sentence
    assert verdict.sentence.endswith(
        "no number of replications would separate them (the difference seen is 0)"
    )
    same = runs_of(
        {
            "a": {"cost": np.zeros(4), "meetings": np.array([1, 0, 2, 1])},
            "b": {"cost": np.zeros(4), "meetings": np.array([3, 0, 1, 1])},
        }
    )
    assert objective_verdict(same, "cost_per_meeting").sentence.endswith(
        "they give the same cost per meeting ($0.00) in every replication"
    )


def test_the_report_table_says_why_a_pair_is_not_told_apart():
    """The 'told apart' column: one replication cannot measure its precision; two free
    strategies are separated by no number of replications (not 'no number of
    replications needed', which reads as if none were)."""
    from simulator.report import _against_best

    one = runs_of(
        {
            "a": {"cost": np.array([0.0]), "meetings": np.array([1])},
            "b": {"cost": np.array([60.0]), "meetings": np.array([2])},
        }
    )
    free = runs_of(
        {
            "a": {"cost": np.zeros(4), "meetings": np.array([1, 0, 2, 1])},
            "b": {"cost": np.zeros(4), "meetings": np.array([3, 2, 0, 1])},
        }
    )
    column = "told apart at this precision?"
    assert _against_best(one, "cost_per_meeting")[column].tolist() == [
        "no: one replication cannot measure its precision"
    ]
    assert _against_best(free, "cost_per_meeting")[column].tolist() == [
        "no: no number of replications would separate them"
    ]
