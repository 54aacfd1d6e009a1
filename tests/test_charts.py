"""Every chart renders without a warning for one strategy and for several, for plans with
credits and without, and for runs where some replications get no reply; each saved PNG
is a real image and every drawn axis says what it shows."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.text import Text
from small_runs import small_run

from simulator import charts, parse_config, run
from simulator.output import write_results
from simulator.report import _chart_specs, read_folder
from simulator.weekly import invitation_days

CHARTS = {
    "cost_per_reply": lambda r: charts.cost_per_reply_chart(r.runs),
    "monthly": lambda r: charts.monthly_fan_chart(r.monthly),
    "credits": lambda r: charts.credit_chart(r.monthly, r.config),
    "invitations": lambda r: charts.invitation_chart(
        invitation_days(r.config, r.seed, replications=20), r.config
    ),
    "paired": lambda r: charts.paired_chart(r.runs),
    "funnel": lambda r: charts.funnel_chart(r.runs, r.config.horizon_months),
}
ROOT = Path(__file__).resolve().parents[1]
RUNS = ("several", "one_with_credits", "one_without_credits")


@pytest.mark.parametrize("run_name", RUNS)
@pytest.mark.parametrize("chart", list(CHARTS))
def test_every_chart_renders_with_labelled_axes_and_saves_a_png_and_an_svg(
    tmp_path, chart, run_name
):
    results = small_run(run_name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = CHARTS[chart](results)
        paths = charts.save(fig, tmp_path, chart)
    png = paths["png"].read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    assert paths["svg"].read_text().lstrip().startswith("<?xml")
    drawn = [ax for ax in fig.axes if ax.get_visible()]
    assert drawn
    for ax in drawn:
        assert ax.get_xlabel().strip() or _shares_x_with_a_labelled_axis(ax, drawn)
        assert ax.get_ylabel().strip() or _shares_y_with_a_labelled_axis(ax, drawn)
    assert fig.get_suptitle() or all(ax.get_title() for ax in drawn)
    assert _cut_off(fig) == []


def _cut_off(fig) -> list[str]:
    """The texts of a saved figure that run past its edges in its PNG (a person would see
    them cut). Tick labels are left out: matplotlib keeps those of ticks beyond an axis's
    limits, not drawn, and the layout keeps the drawn ones inside."""
    fig.set_dpi(charts.PNG_DPI)  # drawn again as the PNG was (the SVG leaves it at 72)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    edge = fig.bbox.padded(1)  # (a pixel of rounding)
    ticks = {
        id(label)
        for ax in fig.axes
        for axis in (ax.xaxis, ax.yaxis)
        for label in axis.get_ticklabels(which="both")
    }
    cut = []
    for text in fig.findobj(Text):
        if id(text) not in ticks and text.get_visible() and text.get_text().strip():
            box = text.get_window_extent(renderer)
            if box.x0 < edge.x0 or box.x1 > edge.x1 or box.y0 < edge.y0 or box.y1 > edge.y1:
                cut.append(text.get_text())
    return cut


def _shares_x_with_a_labelled_axis(ax, axes) -> bool:
    """Panels stacked over a shared x axis are labelled once, under the bottom one."""
    return any(other.get_xlabel() and ax.get_shared_x_axes().joined(ax, other) for other in axes)


def _shares_y_with_a_labelled_axis(ax, axes) -> bool:
    """Panels side by side on a shared y axis are labelled once, at the left."""
    return any(other.get_ylabel() and ax.get_shared_y_axes().joined(ax, other) for other in axes)


def test_runs_with_no_reply_are_counted_on_the_cost_per_reply_chart():
    results = small_run("several")
    runs = results.runs
    fig = charts.cost_per_reply_chart(runs)
    legend = " ".join(t.get_text() for legend in fig.legends for t in legend.get_texts())
    for name in ("connect", "inmail_few", "open_profile_first"):
        part = runs[runs["strategy"] == name]
        none = int((part["replies"] == 0).sum())
        assert f"{name}: no reply (infinite) in {none:,} of {len(part):,} runs" in legend
    assert int((runs[runs["strategy"] == "inmail_few"]["replies"] == 0).sum()) > 0


def test_an_axis_cut_short_of_the_data_says_how_many_runs_lie_beyond():
    rng = np.random.default_rng(1)
    values = np.r_[rng.normal(50, 5, 995), [900.0, 950.0, 2000.0, 5000.0, np.inf]]
    runs = pd.DataFrame(
        {"strategy": "long_tail", "replication": np.arange(values.size), "cost_per_reply": values}
    )
    fig = charts.cost_per_reply_chart(runs)
    hist = fig.axes[0]
    assert hist.get_xlim()[1] < 900
    assert re.search(r"axis cut at .*long_tail: 4\b", hist.get_xlabel())


def test_fans_on_a_shared_axis_show_every_band_whole():
    """Panels share their y axis along a row: the axis must reach the highest band of
    any strategy, not only the first one drawn."""
    monthly = small_run("several").monthly
    fig = charts.monthly_fan_chart(monthly, metrics=("replies",))
    top = fig.axes[0].get_ylim()[1]
    highest = monthly.groupby(["strategy", "month"], observed=True)["replies"].quantile(0.95)
    assert top >= highest.max()
    assert all(ax.get_ylim()[0] == 0 for ax in fig.axes)


def test_the_funnel_counts_every_touch_kind_including_new_ones():
    runs = small_run("several").runs.copy()
    for column in ("emails_sent", "whatsapps_sent", "engagements"):
        assert column in charts.touch_columns(runs)  # every kind the engine counts
    runs["letters_sent"] = 3  # a touch kind the chart does not know by name
    assert charts.touch_columns(runs)[-1] == "letters_sent"
    assert "reinvites_sent" not in charts.touch_columns(runs)  # inside connects_sent
    fig = charts.funnel_chart(runs, 3)
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert "letters_sent" in labels and "connection requests" in labels


def test_chart_text_escapes_dollars_so_matplotlib_draws_them():
    assert charts.plain("$5 to $10") == "\\$5 to \\$10"
    assert charts.dollars(-1234.6) == "−$1,235" and charts.dollars(99) == "$99"
    assert charts.dollars(3.5) == "$3.50" and charts.dollars(float("inf")) == "inf"


def test_every_report_chart_keeps_its_text_within_the_figure(tmp_path):
    """Two strategies with long names and every kind of touch (tiered_hybrid sends them
    all): no title, label or legend of any chart of the report runs past its edges."""
    raw = yaml.safe_load((ROOT / "configs" / "tiered_hybrid.yaml").read_text())
    strategy = raw["strategies"].pop("tiered_hybrid")
    raw["horizon_months"] = 3
    raw["strategies"] = {
        "tiered_hybrid_on_sales_navigator_core_for_emea": strategy,
        "tiered_hybrid_on_premium_business_for_north_america": {
            **strategy,
            "plan": "premium_business",
        },
    }
    folder = write_results(run(parse_config(raw), replications=60, seed=3), tmp_path / "run")
    specs, _ = _chart_specs(read_folder(folder))
    assert {"acceptability", "paired_differences", "invitations_per_week", "funnel"} <= {
        spec.name for spec in specs
    }
    for spec in specs:
        fig = spec.draw(*spec.args)
        charts.save(fig, tmp_path / "charts", spec.name)
        assert _cut_off(fig) == [], spec.name


def test_the_credit_legend_gives_the_config_s_own_expiry_and_refund_window():
    """A config with credits that expire after 30 days and refunds within 60 is not
    labelled with the defaults' 90 days; with refunds off the legend says so."""
    result = small_run("one_with_credits")
    inmail = {"credit_expiry_days": 30, "refund_window_days": 60}
    config = result.config.model_copy(
        update={"inmail": result.config.inmail.model_copy(update=inmail)}
    )
    fig = charts.credit_chart(result.monthly, config)
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert "expired (30 days unused)" in labels
    assert "refunded (a response within 60 days)" in labels
    off = config.model_copy(update={"inmail": config.inmail.model_copy(update={"refunds": False})})
    fig = charts.credit_chart(result.monthly, off)
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert "refunded (refunds off)" in labels


def test_a_wrapped_paired_title_never_leaves_a_share_alone_on_its_line():
    """Long strategy names wrap the line of wins; 'tied' and its 'in 0%' stay together."""
    runs = pd.DataFrame(
        {
            "strategy": ["connect_only"] * 3 + ["connect_only_sales_navigator"] * 3,
            "replication": [0, 1, 2] * 2,
            "cost_per_meeting": [0.0, 0.0, 0.0, 17.0, 18.0, 19.0],
        }
    )
    fig = charts.paired_chart(runs, ("cost_per_meeting",))
    lines = fig.axes[0].get_title(loc="left").splitlines()
    assert len(lines) > 3  # wrapped
    assert not [line for line in lines if re.match(r"\s*(in|tied)?\s*\d+%", line)], lines
