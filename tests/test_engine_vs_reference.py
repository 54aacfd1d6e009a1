"""The vectorised engine against the per-prospect reference oracle (tests/reference.py).

The two share no random numbers: they must agree in distribution. Every count of
MODEL.md section 11 is compared by its mean, within 4 standard errors of the difference
of two independent means; a count that never varies must be equal. Replies also go
through a two-sample Kolmogorov-Smirnov test. Every engine run here is traced and checked
against the day-level limits of section 12.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from checks import run_traced
from reference import simulate_reference
from scenarios import SCENARIOS, scenario
from scipy import stats

from simulator.api import monthly_costs
from simulator.blocks import simulate_block
from simulator.metrics import FLOWS, STOCKS, columns
from simulator.uncertainty import draws_for_replications

ORACLE_RUNS = 300
ENGINE_RUNS = 1200
COMPARED = [
    *FLOWS,
    "credit_balance_end",
    "invitations_pending_end",
    "prospects_in_flight_end",
    "cost",
]


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def both(request):
    config = scenario(request.param)
    strategy = next(iter(config.strategies))
    drawn = draws_for_replications(config, 11, ORACLE_RUNS)  # none for a fixed config
    oracle = simulate_reference(config, strategy, ORACLE_RUNS, seed=11, parameters=drawn)
    monthly, _ = run_traced(config, strategy, ENGINE_RUNS, seed=12)
    engine = {name: monthly[:, :, i].sum(axis=1) for i, name in enumerate(FLOWS)}
    for i, name in enumerate(STOCKS):
        engine[name] = monthly[:, -1, len(FLOWS) + i]
    months = pd.DataFrame(
        monthly.reshape(-1, monthly.shape[2]), columns=columns(list(config.segments))
    )
    cost = monthly_costs(config, strategy, months)["cost"]
    engine["cost"] = cost.reshape(monthly.shape[0], monthly.shape[1]).sum(axis=1)
    return request.param, oracle, engine


def test_every_count_agrees_in_mean(both):
    name, oracle, engine = both
    failures = []
    for metric in COMPARED:
        e = engine[metric].astype(float)
        r = oracle[metric].to_numpy(dtype=float)
        se = np.sqrt(e.var(ddof=1) / e.size + r.var(ddof=1) / r.size)
        if se == 0:
            if e.mean() != r.mean():
                failures.append(f"{metric}: engine {e.mean()} != oracle {r.mean()} (no spread)")
        elif abs(e.mean() - r.mean()) > 4 * se:
            failures.append(
                f"{metric}: engine {e.mean():.3f} vs oracle {r.mean():.3f} (4 se = {4 * se:.3f})"
            )
    assert not failures, f"{name}: " + "; ".join(failures)


def test_replies_agree_in_distribution(both):
    name, oracle, engine = both
    result = stats.ks_2samp(engine["replies"], oracle["replies"].to_numpy())
    assert result.pvalue > 1e-3, f"{name}: KS p = {result.pvalue:.2g}"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_tracing_changes_no_number(name):
    """The traced run (which checks every day-level limit) takes the engine's general
    paths; the untraced one takes its shortcuts. Both must give the same counts."""
    config = scenario(name)
    strategy = next(iter(config.strategies))
    traced, _ = run_traced(config, strategy, 200, seed=3)
    plain = simulate_block(config, np.arange(200), 3, [strategy])[strategy]
    np.testing.assert_array_equal(traced, plain)
