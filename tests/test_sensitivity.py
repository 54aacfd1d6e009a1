"""What drives cost per meeting (MODEL.md section 8): partial rank correlations of the drawn
parameters, per strategy, and their tornado chart."""

from __future__ import annotations

import copy
import io
import itertools

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from simulator import parse_config, run
from simulator.config import load_config
from simulator.sensitivity import (
    noise_band,
    p_value_text,
    partial_rank_correlations,
    readable_sensitivity,
    sensitivity_table,
    too_few_replications,
    uses,
)
from simulator.sensitivity_chart import tornado_chart

RUNS = 300
INERT = {"segments.mid.rates.accept_with_note", "segments.vp.rates.email_reply"}

CONFIG = {
    "horizon_months": 6,
    "segments": {
        "vp": {
            "size": 3000,
            "rates": {
                "inmail_reply_paid": {"dist": "uniform", "low": 0.05, "high": 0.4},
                # inert: no strategy sends an email
                "email_reply": {"dist": "uniform", "low": 0.0, "high": 0.5},
            },
        },
        # inert: no strategy works this segment
        "mid": {
            "size": 10,
            "rates": {"accept_with_note": {"dist": "uniform", "low": 0, "high": 1}},
        },
    },
    "strategies": {
        "inmail": {
            "plan": "sales_navigator_core",
            "daily_pace": {"inmail": 25},
            "playbook": [{"segment": "vp", "touches": [{"kind": "inmail"}]}],
        }
    },
}


@pytest.fixture(scope="module")
def one_driver() -> pd.DataFrame:
    return sensitivity_table(run(parse_config(CONFIG), replications=RUNS, seed=2).runs)


def test_the_only_parameter_that_matters_ranks_first_by_a_wide_margin(one_driver):
    """Cost is the plan's fees; meetings grow with the InMail reply rate alone."""
    table = one_driver.set_index("parameter")
    assert table.loc["segments.vp.rates.inmail_reply_paid", "rank"] == 1
    assert table.loc["segments.vp.rates.inmail_reply_paid", "prcc"] < -0.8
    # an inert parameter's PRCC is about normal with sd 1 / sqrt(n - 3): 4 sd at most
    assert (table.loc[sorted(INERT), "prcc"].abs() < 4 / np.sqrt(RUNS - 3)).all()


def test_two_inert_parameters_rank_last():
    data = copy.deepcopy(CONFIG)
    data["segments"]["vp"]["rates"]["meeting_share"] = {"dist": "uniform", "low": 0.1, "high": 0.6}
    table = sensitivity_table(run(parse_config(data), replications=RUNS, seed=3).runs)
    assert set(table[table["rank"] > 2]["parameter"]) == INERT
    assert (table[table["rank"] <= 2]["prcc"] < -0.5).all()


def test_an_infinite_cost_ranks_as_the_most_expensive():
    """y = 1 / x, infinite below 0.1: the infinite values count as tied above every finite
    one, so PRCC(x) is that of y with them replaced by any larger number, close to -1;
    the other (independent) input's is near 0."""
    rng = np.random.default_rng(0)
    x, z = rng.uniform(size=500), rng.uniform(size=500)
    y = np.where(x < 0.1, np.inf, 1 / x)
    inputs = pd.DataFrame({"x": x, "z": z})
    table = partial_rank_correlations(inputs, y).set_index("parameter")
    capped = np.where(np.isinf(y), 11.0, y)  # 1 / x < 10 wherever it is finite
    pd.testing.assert_frame_equal(
        table, partial_rank_correlations(inputs, capped).set_index("parameter")
    )
    assert table.loc["x", "prcc"] < -0.99
    assert abs(table.loc["z", "prcc"]) < 4 / np.sqrt(500 - 3)


def test_a_config_without_distributions_has_nothing_to_rank():
    data = copy.deepcopy(CONFIG)
    data["segments"]["vp"]["rates"] = {}
    data["segments"]["mid"]["rates"] = {}
    with pytest.raises(ValueError, match="no drawn parameters"):
        sensitivity_table(run(parse_config(data), replications=5, seed=1).runs)


def test_the_tornado_chart_renders_labelled_without_overlap(one_driver):
    fig = tornado_chart(one_driver, "inmail")
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    ax = fig.axes[0]
    assert "cost per meeting" in ax.get_title() and "inmail" in ax.get_title()
    assert ax.get_xlabel() and ax.get_ylabel()
    assert len(ax.patches) == 3 + 1  # a bar per parameter, and the noise band
    renderer = fig.canvas.get_renderer()
    labels = [t.get_window_extent(renderer) for t in ax.get_yticklabels()]
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "vp: InMail reply (paid)"
    for a, b in itertools.combinations(labels, 2):
        assert not a.overlaps(b)
    page = fig.bbox
    for box in [*labels, ax.title.get_window_extent(renderer)]:
        assert box.x0 >= page.x0 and box.x1 <= page.x1 and box.y0 >= page.y0 and box.y1 <= page.y1
    # no text drawn over a bar (the noise note ran over a long top bar): a bar's value
    # is written beside it
    bars = [p.get_window_extent(renderer) for p in ax.patches if p.get_height() < 1]
    for text in ax.texts:
        box = text.get_window_extent(renderer)
        assert not [bar for bar in bars if bar.overlaps(box)], text.get_text()
    assert "grey: noise alone" in ax.get_xlabel()


def test_only_the_parameters_a_strategy_can_use_are_ranked_for_it():
    table = sensitivity_table(
        run(parse_config(CONFIG), replications=RUNS, seed=2).runs, config=parse_config(CONFIG)
    )
    assert list(table["parameter"]) == ["segments.vp.rates.inmail_reply_paid"]
    config = load_config("configs/compare_seed_programmes.yaml")
    reply = "segments.mid_market.rates.reply_after_accept.0"
    assert uses(config, "connect_only", reply) and not uses(config, "inmail_only", reply)
    paid, free = (
        "segments.vp_plus.rates.inmail_reply_paid",
        "segments.vp_plus.rates.inmail_reply_open",
    )
    assert not uses(config, "connect_only", paid) and not uses(config, "connect_only", free)
    assert uses(config, "inmail_only", paid) and uses(config, "inmail_only", free)
    assert uses(config, "open_profile_first", free)
    assert not uses(config, "open_profile_first", paid)  # Open Profiles only, free on Premium
    assert uses(config, "tiered_hybrid", paid)
    assert not uses(config, "tiered_hybrid", "segments.mid_market.rates.inmail_reply_open")


def test_the_noise_band_holds_95_percent_of_null_correlations():
    """Inputs and output independent: |PRCC| stays inside the band in 95% of samples
    (the t approximation of a partial rank correlation), within binomial error."""
    rng = np.random.default_rng(20261206)
    n, k, trials = 60, 3, 1500
    outside = 0
    for _ in range(trials):
        inputs = pd.DataFrame(rng.uniform(size=(n, k)), columns=list("abc"))
        prcc = partial_rank_correlations(inputs, rng.uniform(size=n))["prcc"]
        outside += int((prcc.abs() > noise_band(n, k)).sum())
    share = outside / (trials * k)
    assert abs(share - 0.05) < 4 * np.sqrt(0.05 * 0.95 / (trials * k))


def test_p_values_and_columns_read_as_a_person_writes_them(one_driver):
    assert p_value_text(1e-9) == "< 0.001" and p_value_text(0.0123) == "0.012"
    readable = readable_sensitivity(one_driver)
    assert list(readable.columns) == [
        "strategy",
        "rank",
        "uncertain parameter",
        "partial rank correlation",
        "p-value",
        "beyond the noise?",
    ]
    first = readable.iloc[0]
    assert first["uncertain parameter"] == "vp: InMail reply (paid)"
    assert first["p-value"] == "< 0.001" and first["beyond the noise?"] == "yes"


def test_too_few_replications_to_tell_the_parameters_apart_rank_none():
    """With n replications and k parameters the other k - 1 ranks and a constant fit n
    points exactly once n <= k + 1: the residuals are 0 or fit perfectly, and a PRCC of
    +-1 would rank pure noise first (it did, with '(noise reaches +-nan)' beside it). Such
    a strategy is not ranked, and the report says why."""
    rng = np.random.default_rng(1)
    inputs = pd.DataFrame(rng.uniform(size=(4, 3)), columns=["a", "b", "c"])
    table = partial_rank_correlations(inputs, rng.uniform(size=4))  # d = 4 - 2 - 2 = 0
    assert table["prcc"].isna().all() and table["p_value"].isna().all()
    assert not partial_rank_correlations(inputs.iloc[:, :1], rng.uniform(size=4))["prcc"].isna()[0]

    data = copy.deepcopy(CONFIG)
    data["segments"]["vp"]["rates"]["positive_share"] = {"dist": "uniform", "low": 0.2, "high": 0.8}
    data["segments"]["vp"]["rates"]["meeting_share"] = {"dist": "uniform", "low": 0.2, "high": 0.8}
    config = parse_config(data)
    four = run(config, replications=4, seed=2).runs  # 3 parameters the strategy uses
    assert sensitivity_table(four, config=config).empty
    five = run(config, replications=5, seed=2).runs
    assert not sensitivity_table(five, config=config)["prcc"].isna().any()
    assert too_few_replications(4, 3) == (
        "4 replications cannot tell 3 uncertain parameters apart (it takes at least 5)"
    )
    assert too_few_replications(5, 3) is None


def test_a_parameter_that_never_varies_has_no_correlation():
    """A uniform with low equal to high is allowed: drawn the same in every replication,
    it cannot be correlated with anything (its ranks all tie). It read +0.02 with a p of
    0.93, from rounding noise; now n/a, and the tornado draws it without a warning."""
    import warnings

    data = copy.deepcopy(CONFIG)
    data["segments"]["vp"]["rates"]["positive_share"] = {"dist": "uniform", "low": 0.4, "high": 0.4}
    config = parse_config(data)
    table = sensitivity_table(run(config, replications=30, seed=1).runs, config=config)
    row = table.set_index("parameter").loc["segments.vp.rates.positive_share"]
    assert np.isnan(row["prcc"]) and np.isnan(row["p_value"])
    shown = readable_sensitivity(table).set_index("uncertain parameter")
    assert shown.loc["vp: share of replies that are positive", "partial rank correlation"] == "n/a"
    assert shown.loc["vp: share of replies that are positive", "beyond the noise?"] == (
        "n/a (the same in every replication)"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FigureCanvasAgg(tornado_chart(table, "inmail")).print_png(io.BytesIO())
