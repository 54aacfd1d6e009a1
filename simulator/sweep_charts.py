"""The two pictures of a sweep: a heatmap of one metric over the first two axes, and the
Pareto front of cost against meetings across points, the best point per budget marked.

Same conventions as ``simulator.charts`` (built without pyplot, dollars on money axes,
each strategy its colour).
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from simulator.charts import Dollars, colours, dollars, legend_below, new_figure, plain, style
from simulator.sweep import best_by_budget, headline_value, pareto_front, point_label
from simulator.tables import is_money, label, strategies


def _lower_is_better(metric: str) -> bool:
    return is_money(metric) or metric in ("credits_forfeited", "credits_expired")


def _fmt(metric: str, value: float, precise: bool = False) -> str:
    if math.isnan(value):
        return "–"
    if is_money(metric):
        return plain(f"${value:,.2f}" if precise else dollars(value))
    return f"{value:,.0f}" if abs(value) >= 100 and not precise else f"{value:,.1f}"


def _whole(values: pd.Series) -> bool:
    """Whether an axis holds whole numbers only (seats, paces), as numbers."""
    numbers = pd.to_numeric(values, errors="coerce")
    return bool(numbers.notna().all() and (numbers == numbers.round()).all())


def _tick(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def heatmap_chart(table: pd.DataFrame, axes: list[str], metric: str, grid: bool) -> Figure:
    """`metric` (pooled for a cost per reply, else the mean) over the first two axes, one
    panel per strategy. With more axes, each cell shows the best point over the others;
    a Latin hypercube's scattered points are drawn as coloured dots."""
    names = strategies(table)
    x_axis = axes[0]
    y_axis = axes[1] if len(axes) > 1 else None
    better_low = _lower_is_better(metric)
    with style():
        fig = new_figure(min(4.6 * len(names), 14) + 2.4, 4.6)
        panels = np.atleast_1d(fig.subplots(1, len(names), squeeze=False)[0])
        value = headline_value(table, metric)
        finite = value[np.isfinite(value)]
        noise = cell_noise(table, metric)
        vmin, vmax = colour_limits(finite.to_numpy(), noise)
        precise = vmax - vmin < 0.05 * max(abs(vmax), 1e-9)  # close values: show cents
        cmap = "viridis_r" if better_low else "viridis"
        image = None
        for ax, name in zip(panels, names, strict=True):
            rows = table[table["strategy"] == name].assign(value=value)
            ax.set_title(plain(name))
            ax.set_xlabel(short(x_axis))
            ax.set_ylabel(short(y_axis) if y_axis else "")
            ax.grid(False)
            if not grid and y_axis is not None:
                image = ax.scatter(
                    rows[x_axis],
                    rows[y_axis],
                    c=rows["value"],
                    cmap=cmap,
                    vmin=vmin,
                    vmax=vmax,
                    s=36,
                    edgecolors="none",
                )
                for axis, column in ((ax.xaxis, rows[x_axis]), (ax.yaxis, rows[y_axis])):
                    if _whole(column):  # seats or a pace: no tick at 1.25 seats
                        axis.set_major_locator(MaxNLocator(integer=True))
                continue
            keys = [x_axis] if y_axis is None else [y_axis, x_axis]
            best = rows.groupby(keys, sort=False)["value"].agg("min" if better_low else "max")
            xs = list(dict.fromkeys(rows[x_axis]))
            ys = list(dict.fromkeys(rows[y_axis])) if y_axis else [None]
            cells = np.full((len(ys), len(xs)), np.nan)
            for (i, y), (j, x) in ((a, b) for a in enumerate(ys) for b in enumerate(xs)):
                cells[i, j] = best.get(x if y_axis is None else (y, x), np.nan)
            image = ax.imshow(cells, cmap=cmap, vmin=vmin, vmax=vmax, origin="lower", aspect="auto")
            ax.set_xticks(range(len(xs)), [_tick(x) for x in xs])
            ax.set_yticks(range(len(ys)), [_tick(y) for y in ys] if y_axis else [""])
            middle = (vmin + vmax) / 2
            for (i, j), cell in np.ndenumerate(cells):
                dark = (cell > middle) == better_low  # text on the dark end of the map
                ax.text(
                    j,
                    i,
                    _fmt(metric, cell, precise),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "black",
                )
        what = "pooled" if metric.startswith("cost_per") else "mean"
        title = f"{label(metric)} ({what}) by {short(x_axis)}"
        title += f" and {short(y_axis)}" if y_axis else ""
        if grid and len(axes) > 2:
            title += f"; each cell the best over {', '.join(map(short, axes[2:]))}"
        elif len(axes) > 2:  # a dot's colour is not set by the two axes drawn alone
            title += f"; {', '.join(map(short, axes[2:]))} vary from dot to dot"
        if len(finite):
            spread = float(finite.max() - finite.min())
            title += "\n" + _noise_note(metric, spread, noise, "cell" if grid else "dot")
        lines = [textwrap.fill(line, 80) for line in title.split("\n")]
        fig.suptitle(plain("\n".join(lines)), fontsize=9.5)
        if image is not None:
            bar = fig.colorbar(image, ax=list(panels), shrink=0.9)
            bar.set_label(plain(label(metric)))
            if is_money(metric):
                bar.formatter = Dollars()
    return fig


#: the colour scale of a heatmap spans at least this many Monte Carlo standard errors,
#: so that differences the noise alone makes stay pale: two equal cells differ by up to
#: 1.96 x sqrt(2) = 2.8 MCSE in 95% of sweeps, the highest and lowest of a dozen equal
#: cells by up to about 4.6
NOISE_SPAN = 6.0


def cell_noise(table: pd.DataFrame, metric: str) -> float:
    """A cell's typical Monte Carlo standard error: the median of the metric's MCSE
    column (for a cost-per ratio, that of the mean of ratios, about the size of the
    pooled figure's); NaN when the table has none."""
    column = f"{metric}_mcse"
    if column not in table:
        return math.nan
    values = table[column].to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else math.nan


def colour_limits(values: np.ndarray, noise: float) -> tuple[float, float]:
    """The colour scale's ends: the lowest and highest value, widened about their middle
    to NOISE_SPAN standard errors when they are closer than that."""
    if not len(values):
        return 0.0, 1.0
    low, high = float(np.min(values)), float(np.max(values))
    least = NOISE_SPAN * noise if math.isfinite(noise) else 0.0
    if high - low < least:
        middle = (low + high) / 2
        low, high = middle - least / 2, middle + least / 2
    return low, high


def _noise_note(metric: str, spread: float, noise: float, one: str = "cell") -> str:
    """What the colours can be read as: the spread against a cell's standard error (a
    dot's, on a Latin hypercube)."""

    def shown(x: float) -> str:
        return f"${x:,.2f}" if is_money(metric) else f"{x:,.3g}"

    if not math.isfinite(noise):
        return f"(highest minus lowest: {shown(spread)}; its MCSE is not known here)"
    if spread <= 1.96 * math.sqrt(2) * noise:
        return (
            f"(highest minus lowest: {shown(spread)}, within the noise of a {one}'s MCSE "
            f"of about {shown(noise)}: the colours span at least {NOISE_SPAN:.0f} MCSE, "
            "so noise stays pale)"
        )
    return (
        f"(highest minus lowest: {shown(spread)}; a {one}'s MCSE is about {shown(noise)}, "
        "so differences under 3 MCSE may be noise)"
    )


def short(path: str) -> str:
    """An axis's dotted path, short enough for a chart (its last two parts)."""
    return ".".join(path.split(".")[-2:])


def _describe_point(row: pd.Series, axes: list[str]) -> str:
    text = point_label(row, axes)
    if row.get("ties"):
        text += f", tied within the noise with {row['ties']} other point"
        text += "s (the cheapest shown)" if row["ties"] > 1 else " (the cheaper shown)"
    return text


def headroom(meetings: pd.Series) -> float:
    """The top of the meetings axis: 8% above the most, room for a star's marker."""
    top = float(np.nanmax(meetings.to_numpy(dtype=float))) if len(meetings) else 0.0
    return 1.08 * top if top > 0 else 1.0


def pareto_chart(table: pd.DataFrame, axes: list[str], budgets: list[float]) -> Figure:
    """Mean cost against mean meetings of every point and strategy; the front (no point
    gives more meetings for less) joined; at each budget, the point with the most
    meetings within it starred."""
    names = strategies(table)
    palette = colours(names)
    front = pareto_front(table)
    best = best_by_budget(table, budgets, axes)
    with style():
        fig = new_figure(8.5, 5.2)
        ax = fig.subplots()
        for name in names:
            rows = table[table["strategy"] == name]
            ax.scatter(
                rows["cost_mean"],
                rows["meetings_mean"],
                s=18,
                alpha=0.55,
                color=palette[name],
                label=plain(name),
                edgecolors="none",
            )
        ax.plot(
            front["cost_mean"],
            front["meetings_mean"],
            color="0.25",
            lw=1.2,
            drawstyle="steps-post",
            label="Pareto front",
            zorder=3,
        )
        for budget in best["budget"] if len(best) else []:
            ax.axvline(budget, color="0.5", lw=0.8, ls="--", zorder=1)
        for _, group in best.groupby("point", sort=False) if len(best) else []:
            row = group.iloc[0]
            within = " and ".join(dollars(b) for b in group["budget"])
            ax.scatter(
                [row["cost_mean"]],
                [row["meetings_mean"]],
                marker="*",
                s=220,
                color=palette[row["strategy"]],
                edgecolors="black",
                linewidths=0.8,
                zorder=4,
                label=plain(
                    textwrap.fill(
                        f"best within {within}: {_describe_point(row, axes)}, "
                        f"{row['meetings_mean']:,.1f} meetings for {dollars(row['cost_mean'])}",
                        110,
                        subsequent_indent="  ",
                    )
                ),
            )
        ax.set_xlabel("Mean cost over the horizon")
        ax.set_ylabel("Mean meetings over the horizon")
        ax.xaxis.set_major_formatter(Dollars())
        ax.set_ylim(0, headroom(table["meetings_mean"]))  # a star at the top is drawn whole
        ax.set_title(
            f"Cost against meetings across {table['point'].nunique()} points "
            "(dashed lines: budgets; each mean's MCSE is in sweep.csv)"
        )
        legend_below(fig, 1)
    return fig
