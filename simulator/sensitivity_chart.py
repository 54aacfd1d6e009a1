"""The tornado chart of what drives cost: one bar per uncertain parameter, longest on top.

Built on a figure of :func:`simulator.charts.new_figure` (no pyplot, no display), so it
renders the same on a server (Agg) as in a notebook; the report embeds it as an image.
"""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.figure import Figure

from simulator.charts import new_figure
from simulator.sensitivity import parameter_label

_RAISES, _LOWERS = "#c0504d", "#4f81bd"


def short_name(parameter: str) -> str:
    """`segments.vp.rates.inmail_reply_paid` -> `vp: InMail reply (paid)` (the report's label)."""
    return parameter_label(parameter)


def tornado_chart(table: pd.DataFrame, strategy: str) -> Figure:
    """One strategy's partial rank correlations (from `sensitivity_table`) as a tornado."""
    rows = table[table["strategy"] == strategy].sort_values("rank", ascending=False)
    if rows.empty:
        raise ValueError(f"no sensitivity rows for strategy {strategy!r}")
    metric = str(rows["metric"].iloc[0]).replace("_", " ")
    labels = [short_name(p) for p in rows["parameter"]]
    values = rows["prcc"].fillna(0.0).to_numpy()
    height = 1.2 + 0.4 * len(rows)
    fig = new_figure(9, height)
    ax = fig.add_subplot()
    ax.barh(labels, values, color=[_RAISES if v > 0 else _LOWERS for v in values])
    band = float(rows["noise_band"].iloc[0]) if "noise_band" in rows else math.nan
    how = "+: raises it, −: lowers it"
    if math.isfinite(band):
        ax.axvspan(-band, band, color="0.85", zorder=0)
        # said under the axis: written inside it, the note ran over a long top bar
        how += f"; grey: noise alone (±{band:.2f}, 95%)"
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlim(-1.2, 1.2)  # room for the labels of bars near +-1
    ax.set_xlabel(f"partial rank correlation with {metric}\n({how})")
    ax.set_ylabel("uncertain parameter")
    ax.set_title(f"What drives {metric}: {strategy}")
    for y, v in enumerate(values):
        ax.annotate(
            f"{v:+.2f}",
            (v, y),
            xytext=(4 if v >= 0 else -4, 0),
            textcoords="offset points",
            ha="left" if v >= 0 else "right",
            va="center",
            fontsize=8,
        )
    return fig
