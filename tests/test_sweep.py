"""Sweeps: points put their values in by dotted path, answers that are known come out,
and a bad sweep section is one line naming the field (docs/config.md, "sweep")."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from simulator.cli import main, sweep_text
from simulator.sweep import (
    Range,
    Sweep,
    best_by_budget,
    design,
    inert_axes,
    load_sweep,
    run_sweep,
)

MONTHS = 2
FEE = 60.0  # premium_business, per seat and month
# A connect-only campaign where every reply is a meeting, and a seat's only cost is its
# plan fee plus labour at `costs.hourly_rate`: a point's cost with hourly_rate 0 is
# exactly seats * FEE * MONTHS, and the rate changes costs but no outcome.
CONFIG = {
    "name": "seats",
    "horizon_months": MONTHS,
    "replications": 100,
    "seed": 4,
    "costs": {"minutes_per_touch": {"connect": 1, "message": 2}},
    "segments": {
        "mid": {
            "size": 3000,
            "rates": {
                "accept_with_note": 0.35,
                "reply_after_accept": [0.2],
                "positive_share": 1.0,
                "meeting_share": 1.0,
            },
        }
    },
    "strategies": {
        "connect": {
            "plan": "premium_business",
            "daily_pace": {"connect": 10},
            "playbook": [
                {
                    "segment": "mid",
                    "touches": [{"kind": "connect", "note": True, "on_accept": [{"wait_days": 0}]}],
                }
            ],
        }
    },
}
SWEEP = {
    "method": "grid",
    "axes": {"accounts": [1, 2, 3], "costs.hourly_rate": [0, 30, 60]},
    "budgets": [1.5 * FEE * MONTHS, 2.5 * FEE * MONTHS, 3.5 * FEE * MONTHS],
}


def write(tmp_path: Path, sweep: dict, **config) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({**CONFIG, **config, "sweep": sweep}))
    return path


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> pd.DataFrame:
    return run_sweep(load_sweep(write(tmp_path_factory.mktemp("sweep"), SWEEP)))


def test_every_point_of_the_grid_is_a_row_with_its_values(table):
    assert len(table) == 9
    assert list(table["accounts"]) == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert list(table["costs.hourly_rate"]) == [0, 30, 60] * 3
    assert (table["replications"] == 100).all()


def test_more_seats_give_more_replies_beyond_monte_carlo_error(table):
    by_seats = table[table["costs.hourly_rate"] == 0].set_index("accounts")
    for fewer, more in ((1, 2), (2, 3)):
        gap = by_seats.loc[more, "replies_mean"] - by_seats.loc[fewer, "replies_mean"]
        error = math.hypot(by_seats.loc[more, "replies_mcse"], by_seats.loc[fewer, "replies_mcse"])
        assert gap > 4 * error, (fewer, more, gap, error)


def test_the_hourly_rate_changes_costs_and_no_outcome(table):
    """Every point runs on the same seed: the same prospects answer the same way."""
    for _, group in table.groupby("accounts"):
        assert group["replies_mean"].nunique() == 1
        assert group["meetings_mean"].nunique() == 1
        assert group["cost_mean"].is_monotonic_increasing
    free_labour = table[table["costs.hourly_rate"] == 0]
    assert (free_labour["cost_mean"] == free_labour["accounts"] * FEE * MONTHS).all()
    assert (free_labour["cost_mcse"] == 0).all()


def test_the_cheapest_cost_per_meeting_and_the_best_point_per_budget_are_the_known_ones(table):
    best = table.loc[table["cost_per_meeting_pooled"].idxmin()]
    assert best["costs.hourly_rate"] == 0  # labour is the only difference at a seat count
    within = best_by_budget(table, SWEEP["budgets"])
    # each budget buys one more seat without labour: the most seats it affords are best
    assert list(within["accounts"]) == [1, 2, 3]
    assert list(within["costs.hourly_rate"]) == [0, 0, 0]


def test_best_per_budget_chooses_only_beyond_the_noise_and_says_when_points_tie():
    """Points 0 and 1 differ by 0.03 meetings with an MCSE of 0.5 each: a tie, and the
    cheaper one is chosen; point 2 is 2 meetings ahead, beyond 1.96 x sqrt(0.5^2 + 0.1^2)."""
    table = pd.DataFrame(
        {
            "point": [0, 1, 2],
            "accounts": [1, 1, 2],
            "pace": [10, 20, 10],
            "strategy": ["s", "s", "s"],
            "cost_mean": [100.0, 90.0, 200.0],
            "cost_mcse": [1.0, 1.0, 1.0],
            "meetings_mean": [10.03, 10.00, 12.0],
            "meetings_mcse": [0.5, 0.5, 0.1],
            "cost_per_meeting_pooled": [100 / 10.03, 9.0, 200 / 12],
        }
    )
    best = best_by_budget(table, [150.0, 250.0]).set_index("budget")
    assert best.loc[150.0, "point"] == 1 and best.loc[150.0, "ties"] == 1
    assert best.loc[150.0, "tied_with"] == "accounts=1, pace=10 (s)"
    assert best.loc[250.0, "point"] == 2 and best.loc[250.0, "ties"] == 0
    text = sweep_text(table, "cost_per_meeting", best_by_budget(table, [150.0, 250.0]))
    lines = text.splitlines()
    assert lines[0] == "best cost per meeting: $9.00 at accounts=1, pace=20 (s)"
    assert lines[1].startswith("budget $150.00: 10.0 meetings (mean cost $90.00) at accounts=1")
    assert "ties within the noise with 1 other point" in lines[1]
    assert "ties" not in lines[2]


def test_a_latin_hypercube_puts_one_point_in_each_slice_of_every_axis():
    sweep = Sweep(
        method="latin_hypercube",
        points=20,
        seed=3,
        axes={
            "accounts": Range(low=1, high=20, integer=True),
            "segments.mid.rates.accept_with_note": Range(low=0.2, high=0.4),
            "plan": ["premium_business", "sales_navigator_core"],
        },
    )
    points = design(sweep, seed=0)
    assert points == design(sweep, seed=0)  # seeded by sweep.seed: the same points
    assert sorted(p["accounts"] for p in points) == list(range(1, 21))
    rates = np.array([p["segments.mid.rates.accept_with_note"] for p in points])
    assert sorted(np.floor((rates - 0.2) / 0.01).astype(int)) == list(range(20))
    assert sorted(p["plan"] for p in points).count("premium_business") == 10


def test_sweep_writes_the_table_the_charts_and_refuses_to_overwrite(tmp_path, capsys):
    path = write(tmp_path, {"axes": {"accounts": [1, 2], "plan": ["premium_business"]}})
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--runs", "20", "--out", str(out), "--quiet"]) == 0
    head = capsys.readouterr().out.splitlines()[0]
    assert head == "seats: sweeping 2 points x 20 replications of 1 strategy, seed 4"
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    for name in (
        "sweep.parquet",
        "sweep.csv",
        "sweep.json",
        "run.json",
        "best_by_budget.csv",
        "charts/heatmap.png",
        "charts/heatmap.svg",
        "charts/pareto.png",
        "charts/pareto.svg",
        "config_source.yaml",
    ):
        assert name in files
    written = pd.read_parquet(out / "sweep.parquet")
    assert list(written["accounts"]) == [1, 2] and set(written["plan"]) == {"premium_business"}
    assert main(["sweep", str(path), "--runs", "20", "--out", str(out), "--quiet"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["report", str(out), "--quiet"]) == 2  # it said config.yaml is missing
    assert capsys.readouterr().err.strip().splitlines() == [
        f"outreach-sim: {out}: a sweep's folder: its sweep.csv, best_by_budget.csv and "
        "charts/ are its results; report builds the report of a run's folder"
    ]


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        (
            {"axes": {"accounts": {"low": 1, "high": 3}}},
            "sweep.axes.accounts: a range needs method: latin_hypercube",
        ),
        (
            {"method": "latin_hypercube", "axes": {"accounts": {"low": 1, "high": 3}}},
            "sweep.points: a latin_hypercube needs a number of points",
        ),
        (
            {"axes": {"segments.nope.size": [10]}},
            "sweep.axes.segments.nope.size: no such field 'segments.nope' (known here: mid)",
        ),
        (
            {"axes": {"accounts": [1, 0]}},
            "(sweep point 1: accounts=0): accounts: Input should be greater than or equal to 1",
        ),
        ({"axes": {"plan": ["gold"]}}, "strategies.connect.plan: unknown plan 'gold'"),
        ({"axes": {"accounts": []}}, "sweep.axes.accounts"),
        (
            {"axes": {"accounts": [1]}, "metric": "happiness"},
            "sweep.metric: unknown metric 'happiness'",
        ),
    ],
)
def test_a_bad_sweep_is_one_line_naming_the_field_and_exit_code_2(tmp_path, capsys, sweep, message):
    path = write(tmp_path, sweep)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(str(path)), err
    assert message in err[0], err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- accounts\n- seats\n", ": (top level): expected a mapping of keys, got list"),
        ("", ": (top level): the config is empty"),
    ],
)
def test_a_sweep_file_that_is_no_mapping_says_so(tmp_path, capsys, text, message):
    """It said 'sweep: missing', as if a config mapping without the section."""
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"{path}{message}"]


def test_a_sweep_based_on_a_sweep_config_says_so(tmp_path, capsys):
    """Its base's own base: and sweep: were read as config keys: three lines of fields
    required and not permitted."""
    first = Path(__file__).parents[1] / "configs" / "sweep_tiered_hybrid.yaml"
    path = tmp_path / "again.yaml"
    path.write_text(yaml.safe_dump({"base": str(first), "sweep": {"axes": {"accounts": [1]}}}))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"{path}: base: {first} is a sweep config; give the config it sweeps"
    ]


def test_a_mistake_in_the_base_file_names_the_base_file(tmp_path, capsys):
    """The sweep file has no horizon_months to correct: the line names the file that has."""
    base = tmp_path / "campaign.yaml"
    base.write_text(yaml.safe_dump({**CONFIG, "horizon_months": 0}))
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({"base": "campaign.yaml", "sweep": {"axes": {"accounts": [1]}}}))
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"{base}: horizon_months: Input should be greater than or equal to 1"
    ]
    path.write_text(path.read_text() + "horizon_months: -1\n")  # set here, named here
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"{path}: horizon_months: Input should be greater than or equal to 1"
    ]


def test_a_sweep_of_one_replication_a_point_is_written(tmp_path, capsys):
    """One replication a point has no MCSE (NaN): the best per budget is the one with the
    most meetings, nothing is said to tie. It was a traceback ("attempt to get argmin of
    an empty sequence") once every point had run."""
    path = write(tmp_path, {"axes": {"accounts": [1, 2]}})
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--runs", "1", "--out", str(out), "--quiet"]) == 0
    table = pd.read_parquet(out / "sweep.parquet")
    assert table["meetings_mcse"].isna().all()
    best = best_by_budget(table, [float(table["cost_mean"].max())])
    assert best["meetings_mean"].tolist() == [table["meetings_mean"].max()]


def test_run_on_a_sweep_config_points_to_the_sweep_command(capsys):
    path = Path(__file__).parents[1] / "configs" / "sweep_tiered_hybrid.yaml"
    assert main(["run", str(path), "--runs", "10"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "outreach-sim sweep" in err[0] and "sweep:" in err[0]


def constructed(pace_step: float) -> pd.DataFrame:
    """A grid of seats 1-2 and pace 5-10: seats add 50 meetings and $1,000 (far beyond
    MCSEs of 1 meeting and $20); pace adds `pace_step` MCSEs of both."""
    rows = []
    for point, (seats, pace) in enumerate(itertools.product([1, 2], [5, 10])):
        step = pace_step * (pace == 10)
        rows.append(
            {
                "point": point,
                "accounts": seats,
                "pace": pace,
                "strategy": "s",
                "meetings_mean": 50.0 * seats + step * 1.0,
                "meetings_mcse": 1.0,
                "cost_mean": 1000.0 * seats + step * 20.0,
                "cost_mcse": 20.0,
            }
        )
    return pd.DataFrame(rows)


def test_an_axis_whose_effect_is_within_the_noise_is_said_to_have_none(table):
    """Two points with the same truth differ by up to 1.96 x sqrt(2) = 2.77 MCSEs in 95%
    of sweeps: a pace moving both by 2 MCSEs has no effect to speak of, by 3 it has."""
    [inert] = inert_axes(constructed(2.0))
    assert (inert.axis, inert.meetings_spread, inert.cost_spread) == ("pace", 2.0, 40.0)
    assert inert_axes(constructed(3.0)) == []
    text = sweep_text(constructed(0.5), "meetings", pd.DataFrame())
    assert text.splitlines()[-1].startswith(
        "pace has no effect beyond the noise: at every setting of the other axes, meetings "
        "and cost stay within the Monte Carlo error (at most 0.5 meetings and $10.00 apart)"
    )
    # from a simulated grid: the hourly rate changes no outcome but every cost
    assert inert_axes(table) == []


def test_heatmap_colours_span_the_noise_and_the_pareto_star_is_drawn_whole():
    """Cells $100 and $102 with an MCSE of $1 each: 2 MCSE apart, within the noise, so
    the colour scale spans NOISE_SPAN MCSE ($98 to $104), not $100 to $102. Cells $100
    and $120 keep their own range. The meetings axis rises 8% above the most."""
    from simulator.sweep_charts import NOISE_SPAN, colour_limits, heatmap_chart, pareto_chart

    assert colour_limits(np.array([100.0, 102.0]), 1.0) == (
        101 - NOISE_SPAN / 2,
        101 + NOISE_SPAN / 2,
    )
    assert colour_limits(np.array([100.0, 120.0]), 1.0) == (100.0, 120.0)
    table = constructed(0.0).assign(
        cost_per_meeting_pooled=[100.0, 100.0, 102.0, 102.0], cost_per_meeting_mcse=1.0
    )
    fig = heatmap_chart(table, ["accounts", "pace"], "cost_per_meeting", True)
    [image] = fig.axes[0].get_images()
    assert image.get_clim() == (101 - NOISE_SPAN / 2, 101 + NOISE_SPAN / 2)
    title = fig._suptitle.get_text().replace("\\$", "$").replace("\n", " ")
    assert "within the noise of a cell's MCSE of about $1.00" in title
    fig = pareto_chart(table, ["accounts", "pace"], [1500.0, 2500.0])
    assert fig.axes[0].get_ylim()[1] == pytest.approx(1.08 * 100)


def test_a_hypercube_heatmap_ticks_whole_seats_and_names_the_axes_it_does_not_draw():
    """Dots of a Latin hypercube over seats 1 to 3: no tick at 1.25 seats, and the title
    says the third axis, not drawn, varies from dot to dot."""
    from simulator.sweep_charts import heatmap_chart

    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {
            "point": range(12),
            "accounts": [1, 2, 3] * 4,
            "pace": rng.integers(5, 21, 12),
            "rate": rng.uniform(0.1, 0.25, 12),
            "strategy": "s",
            "cost_per_meeting_pooled": rng.uniform(100, 140, 12),
            "cost_per_meeting_mcse": 1.0,
        }
    )
    fig = heatmap_chart(table, ["accounts", "pace", "rate"], "cost_per_meeting", False)
    fig.canvas.draw()
    ax = fig.axes[0]
    for axis in (ax.xaxis, ax.yaxis):
        ticks = [t for t in axis.get_majorticklocs() if axis.get_view_interval()[0] <= t]
        assert all(t == round(t) for t in ticks), ticks
    title = fig._suptitle.get_text().replace("\n", " ")
    assert "rate vary from dot to dot" in title and "a dot's MCSE" in title
