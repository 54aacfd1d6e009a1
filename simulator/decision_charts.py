"""The pictures of the decision analysis (``simulator.decision``): the acceptability
curve (which strategy gives the highest net benefit, by what a meeting is worth) and the
cost-effectiveness plane (extra cost against extra meetings, replication by replication).

Same conventions as ``simulator.charts``: built without pyplot, dollars on money axes,
each strategy its colour by its place in the config.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from simulator.charts import Dollars, colours, dollars, legend_below, new_figure, plain, style
from simulator.decision import incremental_table, switches
from simulator.tables import strategies

#: the cost-effectiveness plane draws at most this many replications (the first ones)
PLANE_POINTS = 2000


def acceptability_chart(
    curve: pd.DataFrame, table: pd.DataFrame, value_per_meeting: float | None = None
) -> Figure:
    """The acceptability curve (``decision.acceptability``), the strategy with the
    highest expected net benefit drawn thick, the switches of the incremental `table`
    (``decision.incremental_table``) and the config's value of a meeting marked."""
    names = list(dict.fromkeys(curve["strategy"]))
    palette = colours(names)
    with style():
        fig = new_figure(8.6, 3.5)
        ax = fig.subplots()
        for name in names:
            rows = curve[curve["strategy"] == name]
            x, y = rows["value"].to_numpy(), rows["probability_best"].to_numpy()
            ax.plot(x, y, color=palette[name], lw=1.3, label=plain(name))
            lead = rows["highest_expected"].to_numpy()
            ax.plot(x, np.where(lead, y, np.nan), color=palette[name], lw=4.5, alpha=0.55)
        top = float(curve["value"].max())
        said = []
        for k, switch in enumerate(switches(table)):
            value = float(switch["value"])
            if 0 <= value <= top:
                ax.axvline(value, color="0.4", lw=0.8, ls="--")
                ax.annotate(
                    plain(dollars(value)),
                    (value, 0.97 - 0.07 * (k % 2)),
                    xytext=(3, 0),
                    textcoords="offset points",
                    fontsize=7.5,
                    color="0.25",
                )
                said.append(f"{switch['strategy']} over {switch['over']} above {dollars(value)}")
        if value_per_meeting is not None and value_per_meeting <= top:
            ax.axvline(value_per_meeting, color="black", lw=1.4)
            ax.annotate(
                plain(f"your value: {dollars(value_per_meeting)}"),
                (value_per_meeting, 0.02),
                xytext=(3, 0),
                textcoords="offset points",
                fontsize=8,
            )
        ax.set_xlim(0, top)
        ax.set_ylim(0, 1.02)
        ax.xaxis.set_major_formatter(Dollars())
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("What a meeting is worth to you")
        ax.set_ylabel("Replications where it pays best")
        lines = [
            "Which strategy gives the most for the money (value × meetings − cost), by the "
            "value of a meeting",
            "thick: the highest expected net benefit at that value"
            + ("; it pays off: " + "; ".join(said) if said else ""),
        ]
        if not (table["effect"] > 0).any():  # no meeting anywhere: the value cannot matter
            lines.append(
                "no strategy got a meeting in any replication: whatever a meeting is worth, "
                "the cheapest pays best"
            )
        wrapped = "\n".join(textwrap.fill(line, 100) for line in lines)
        ax.set_title(plain(wrapped), loc="left")
        ax.legend(loc="center right", fontsize=8)
    return fig


def ce_plane_chart(runs: pd.DataFrame, value_per_meeting: float | None = None) -> Figure:
    """Extra cost against extra meetings of each strategy over the cheapest (by mean
    cost), one dot per replication (the first PLANE_POINTS), the means as crosses; with
    a value per meeting, the line where the extra meetings pay for the extra cost."""
    names = strategies(runs)
    palette = colours(names)
    table = incremental_table(runs, "meetings")
    reference = str(table.iloc[0]["strategy"])
    wide = {
        column: runs.pivot(index="replication", columns="strategy", values=column)
        for column in ("cost", "meetings")
    }
    wide = {k: v.set_axis([str(c) for c in v.columns], axis=1) for k, v in wide.items()}
    shown = min(PLANE_POINTS, len(wide["cost"]))
    with style():
        fig = new_figure(8.6, 5.0)
        ax = fig.subplots()
        ax.axhline(0, color="black", lw=0.8)
        ax.axvline(0, color="black", lw=0.8)
        for name in names:
            if name == reference:
                continue
            d_cost = (wide["cost"][name] - wide["cost"][reference]).to_numpy(float)
            d_meet = (wide["meetings"][name] - wide["meetings"][reference]).to_numpy(float)
            colour = palette[name]
            ax.scatter(d_meet[:shown], d_cost[:shown], s=5, alpha=0.25, color=colour, lw=0)
            ax.scatter(
                [d_meet.mean()],
                [d_cost.mean()],
                marker="X",
                s=110,
                color=colour,
                edgecolors="black",
                linewidths=0.8,
                label=plain(f"{name} − {reference} (mean: cross)"),
                zorder=3,
            )
        if value_per_meeting is not None:
            left, right = ax.get_xlim()
            bottom, up = ax.get_ylim()
            xs = np.array([left, right])
            ax.plot(
                xs,
                value_per_meeting * xs,
                color="0.3",
                lw=1,
                ls="--",
                label=plain(f"worth it below this line at {dollars(value_per_meeting)} a meeting"),
            )
            ax.set_xlim(left, right)
            ax.set_ylim(bottom, up)
        ax.yaxis.set_major_formatter(Dollars())
        ax.set_xlabel(f"Extra meetings over {reference}, in one replication")
        ax.set_ylabel(plain(f"Extra cost over {reference}"))
        count = f"{shown:,} replications" if shown < len(wide["cost"]) else "every replication"
        ax.set_title(
            plain(
                f"The cost-effectiveness plane: each strategy against the cheapest, {count}\n"
                "up and right: dearer and more meetings; the slope from 0 to a cross is its "
                "extra cost per extra meeting"
            ),
            loc="left",
        )
        legend_below(fig, 2, fontsize=8)
    return fig
