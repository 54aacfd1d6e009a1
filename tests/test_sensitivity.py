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
from simulator.sensitivity import partial_rank_correlations, sensitivity_table
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
    assert len(ax.patches) == 3
    renderer = fig.canvas.get_renderer()
    labels = [t.get_window_extent(renderer) for t in ax.get_yticklabels()]
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "vp: inmail_reply_paid"
    for a, b in itertools.combinations(labels, 2):
        assert not a.overlaps(b)
    page = fig.bbox
    for box in [*labels, ax.title.get_window_extent(renderer)]:
        assert box.x0 >= page.x0 and box.x1 <= page.x1 and box.y0 >= page.y0 and box.y1 <= page.y1
