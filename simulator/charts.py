"""Charts of a run, readable at a glance (the report's pictures; MODEL.md section 11).

Each function takes the tables of a run (``runs``, ``monthly``) and returns a matplotlib
:class:`~matplotlib.figure.Figure` built without pyplot, so that saving uses the Agg
(PNG) and SVG backends whatever backend a notebook has, and nothing is left open in a
global figure list. Conventions, the same on every chart: dollars on money axes, counts
start at 0, each strategy keeps its colour, runs whose cost per reply is infinite (no
reply) are counted on the chart, never dropped silently, and an axis cut short of the
data says how many runs lie beyond it.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import re
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from anyascii import anyascii
from matplotlib import font_manager, ticker
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text

from simulator.compare import difference, lower_is_better, strategy_pairs, win_shares
from simulator.config import Config, InMail
from simulator.metrics import COUNT_WORDS, SENT_BY_KIND
from simulator.tables import is_money, label, strategies
from simulator.weekly import InvitationDays

#: fonts tried in turn for each character (matplotlib falls back glyph by glyph): the
#: default, then CJK and symbol fonts, those of them this machine has
FONT_FAMILIES = (
    "DejaVu Sans",
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK KR",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Noto Sans Symbols 2",
    "Symbola",
)


@functools.cache
def font_families() -> tuple[str, ...]:
    """The families of FONT_FAMILIES installed here (DejaVu Sans comes with matplotlib)."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return tuple(f for f in FONT_FAMILIES if f in installed) or ("DejaVu Sans",)


@functools.cache
def _drawable() -> frozenset[int]:
    """The characters some chart font has a glyph for."""
    codes: set[int] = set()
    for family in font_families():
        try:
            path = font_manager.findfont(
                font_manager.FontProperties(family=family), fallback_to_default=False
            )
            codes |= set(FT2Font(path).get_charmap())
        except (ValueError, RuntimeError, OSError):
            continue
    return frozenset(codes)


def readable(text: str) -> str:
    """Text as the chart fonts can draw it: a character no installed font has (CJK on a
    machine without a CJK font, an emoji) is transliterated (策略 -> CeLue, 🚀 -> :rocket:),
    so a label stays readable instead of a row of boxes."""
    drawable = _drawable()
    if all(ord(c) in drawable or c.isspace() for c in text):
        return text
    return "".join(c if ord(c) in drawable or c.isspace() else anyascii(c) for c in text)


_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")


def _as_drawn(label: str) -> str:
    """A label drawn as written: readable, and a `$` in a name is a dollar, not math."""
    return _UNESCAPED_DOLLAR.sub(r"\\$", readable(label))


def _readable_labels(fig: Figure) -> None:
    """Every text of a figure, and the fixed tick labels it draws later, as drawn."""
    for text in fig.findobj(Text):
        label = text.get_text()
        if label and _as_drawn(label) != label:
            text.set_text(_as_drawn(label))
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            formatter = axis.get_major_formatter()
            if isinstance(formatter, ticker.FixedFormatter):
                formatter.seq = [_as_drawn(str(label)) for label in formatter.seq]


STYLE = {
    "font.family": list(font_families()),
    "font.size": 9.5,
    "axes.titlesize": 10,
    "axes.labelsize": 9.5,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "svg.hashsalt": "outreach-sim",  # the same SVG for the same figure
    "svg.fonttype": "none",  # text stays text in the SVG (smaller, searchable)
}
PALETTE = mpl.colormaps["tab10"].colors
BANDS = ((0.05, 0.95, 0.18, "90% of runs"), (0.25, 0.75, 0.38, "50% of runs"))
#: the report's pictures' resolution (dots per inch)
PNG_DPI = 110
#: a histogram's axis stops at this quantile of the pooled values when the tail is long
TAIL_QUANTILE = 0.995


@contextlib.contextmanager
def style() -> Iterator[None]:
    """The charts' look, for figures made inside the block."""
    with mpl.rc_context(STYLE):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure outside pyplot, with an Agg canvas and a constrained layout."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _wrapped(text: Text, room: float, renderer) -> str:
    """The text with each line too wide for `room` pixels broken at spaces."""
    written = text.get_text()

    def width(line: str) -> float:
        text.set_text(line)
        return _length(text, renderer)

    lines = []
    for line in written.split("\n"):
        words = line.split(" ")
        current = words[0]
        for word in words[1:]:
            if width(f"{current} {word}") <= room:
                current = f"{current} {word}"
            else:
                lines.append(current)
                current = word
        lines.append(current)
    text.set_text(written)
    return "\n".join(lines)


def _length(text: Text, renderer) -> float:
    """A text's length in pixels along its direction (a y-axis label runs upwards)."""
    box = text.get_window_extent(renderer)
    return box.height if text.get_rotation() % 180 == 90 else box.width


def _room(text: Text, box, fig: Figure) -> float:
    """How long `text` can be, anchored where it is drawn, within the figure's sides."""
    if text.get_rotation() % 180 == 90:  # a y-axis label, centred on its panel
        centre, side = (box.y0 + box.y1) / 2, fig.bbox.height
        return 2 * min(centre, side - centre)
    align, side = text.get_horizontalalignment(), fig.bbox.width
    if align == "left":
        return side - box.x0
    if align == "right":
        return box.x1
    centre = (box.x0 + box.x1) / 2
    return 2 * min(centre, side - centre)


def _wrap_cut(fig: Figure) -> bool:
    """Wrap at spaces each text of the drawn figure that runs past its sides (a long
    strategy name in a title or an axis label); whether any was. Tick labels are the
    layout's; legends fit by their columns (:func:`legend_below`)."""
    renderer = fig.canvas.get_renderer()
    ticks = {
        id(label)
        for ax in fig.axes
        for axis in (ax.xaxis, ax.yaxis)
        for label in axis.get_ticklabels(which="both")
    }
    edge = fig.bbox.padded(-2)
    wrapped = False
    for text in fig.findobj(Text):
        if id(text) in ticks or not (text.get_visible() and text.get_text().strip()):
            continue
        box = text.get_window_extent(renderer)
        if box.x0 < edge.x0 or box.x1 > edge.x1 or box.y0 < edge.y0 or box.y1 > edge.y1:
            before = text.get_text()
            text.set_text(_wrapped(text, 0.98 * _room(text, box, fig), renderer))
            wrapped |= text.get_text() != before
    return wrapped


def _print_png(fig: Figure, target: Path | io.BytesIO) -> None:
    """Draw the figure as PNG into `target`; where a text ran past the figure's sides, it
    is wrapped and the figure drawn again (the layout then makes room for its lines)."""
    FigureCanvasAgg(fig).print_png(target, metadata={"Software": None})
    for _ in range(2):  # (a wrapped title can move what lies under it)
        if not _wrap_cut(fig):
            return
        if isinstance(target, io.BytesIO):
            target.seek(0)
            target.truncate()
        FigureCanvasAgg(fig).print_png(target, metadata={"Software": None})


def legend_below(fig: Figure, most: int, **kwargs) -> Legend:
    """A legend under the figure's panels in as many columns, up to `most`, as fit within
    the figure's width (long strategy names, or many kinds of touch, take fewer)."""
    renderer = fig.canvas.get_renderer()
    columns = max(most, 1)
    legend = fig.legend(loc="outside lower center", ncols=columns, **kwargs)
    with _glyphs_unwarned():
        while columns > 1 and legend.get_window_extent(renderer).width > fig.bbox.width * 0.98:
            legend.remove()  # (its columns are laid out as it is made: made again, narrower)
            columns -= 1
            legend = fig.legend(loc="outside lower center", ncols=columns, **kwargs)
    return legend


@contextlib.contextmanager
def _drawing(fig: Figure) -> Iterator[None]:
    """The figure's labels as the fonts can draw them, in the charts' style, for a draw."""
    _readable_labels(fig)
    with style(), _glyphs_unwarned():
        yield


@contextlib.contextmanager
def _glyphs_unwarned() -> Iterator[None]:
    """A glyph no font has would warn once per character and chart: labels are drawn
    readable (:func:`readable`), and measured before they are."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
        yield


def png_bytes(fig: Figure, dpi: int = 72) -> bytes:
    """The figure as PNG bytes, drawn as :func:`save` draws it (a notebook's picture)."""
    buffer = io.BytesIO()
    with _drawing(fig):
        fig.set_dpi(dpi)
        _print_png(fig, buffer)
    return buffer.getvalue()


def save(fig: Figure, folder: Path, name: str, dpi: int = PNG_DPI) -> dict[str, Path]:
    """Write `name`.png and `name`.svg into `folder`; return their paths.

    The figure is laid out once, by the PNG's draw, and the SVG reuses that layout
    (``savefig`` would lay it out again for each file: half the report's time)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"png": folder / f"{name}.png", "svg": folder / f"{name}.svg"}
    engine = fig.get_layout_engine()
    with _drawing(fig):
        fig.set_dpi(dpi)
        _print_png(fig, paths["png"])
        fig.set_layout_engine("none")
        try:
            FigureCanvasSVG(fig).print_svg(paths["svg"], metadata={"Date": None, "Creator": None})
        finally:
            fig.set_layout_engine(engine)
            FigureCanvasAgg(fig)
    return paths


def colours(names: list[str]) -> dict[str, tuple]:
    """Each strategy's colour, by its place in the config (the same on every chart)."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def dollars(x: float) -> str:
    """Dollars for chart text (pass the text through `plain` before drawing it)."""
    if math.isinf(x):
        return "inf"
    sign = "−" if x < 0 else ""
    digits = 0 if abs(x) >= 100 or float(x).is_integer() else 2
    return f"{sign}${abs(x):,.{digits}f}"


class Dollars(ticker.Formatter):
    """Tick labels in dollars: whole dollars when every tick is whole, else cents."""

    def __init__(self) -> None:
        self.digits = 2

    def set_locs(self, locs: list[float]) -> None:
        self.digits = 0 if all(float(v).is_integer() for v in locs) else 2

    def __call__(self, x: float, pos: int | None = None) -> str:
        sign = "−" if x < 0 else ""
        return f"{sign}\\${abs(x):,.{self.digits}f}"


def plain(text: str) -> str:
    """Text for a chart, with any dollar sign escaped."""
    return text.replace("$", "\\$")


def _placeholder(title: str, message: str, xlabel: str, ylabel: str) -> Figure:
    """A chart that has nothing to draw says why (and keeps its labelled axes)."""
    fig = new_figure(7, 3)
    ax = fig.subplots()
    ax.set_title(plain(title))
    ax.text(0.5, 0.5, plain(message), ha="center", va="center", transform=ax.transAxes, wrap=True)
    ax.set_xlabel(plain(xlabel))
    ax.set_ylabel(plain(ylabel))
    ax.set_xticks([])
    ax.set_yticks([])
    return fig


def _by_month(monthly: pd.DataFrame, strategy: str, metric: str) -> np.ndarray:
    """One strategy's metric as an array (replications, months)."""
    part = monthly[monthly["strategy"] == strategy]
    order = np.lexsort((part["month"].to_numpy(), part["replication"].to_numpy()))
    months = int(part["month"].max()) + 1
    return part[metric].to_numpy(dtype=float)[order].reshape(-1, months)


def _fan(ax: Axes, x: np.ndarray, values: np.ndarray, colour: tuple) -> float:
    """Median line with 50% and 90% bands over replications (values: replications x
    points); returns the top of the 90% band, for axis limits shared between panels."""
    quantiles = np.nanquantile if np.isnan(values).any() else np.quantile
    top = 0.0
    for lo, hi, alpha, _ in BANDS:
        low, high = quantiles(values, [lo, hi], axis=0)
        ax.fill_between(x, low, high, color=colour, alpha=alpha, linewidth=0)
        top = max(top, float(high.max()))
    marker = "o" if x.size <= 24 else None
    median = quantiles(values, 0.5, axis=0)
    ax.plot(x, median, color=colour, linewidth=1.8, marker=marker, ms=3)
    return max(top, float(median.max()))


def _top(value: float) -> float:
    """An upper axis limit with room above the data (never 0: an empty axis still reads)."""
    return value * 1.08 if value > 0 else 1.0


def _fan_legend(fig: Figure, colour: tuple = (0.3, 0.3, 0.3), extra: list | None = None) -> None:
    handles = [Line2D([], [], color=colour, linewidth=1.8, label="median")]
    handles += [
        Patch(color=colour, alpha=alpha, linewidth=0, label=name) for _, _, alpha, name in BANDS
    ]
    handles += extra or []
    legend_below(fig, min(4, len(handles)), handles=handles)


def _integer_months(ax: Axes, months: int) -> None:
    ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True, nbins=min(months, 12)))
    ax.set_xlim(0.5, months + 0.5)


def _range_with_tail(values: np.ndarray) -> tuple[float, float]:
    """Axis limits for a histogram: the values up to TAIL_QUANTILE and their near tail
    (a quarter of the range further); a tail beyond that is left off the axis."""
    lo, top = float(values.min()), float(values.max())
    cut = float(np.quantile(values, TAIL_QUANTILE))
    reach = cut + 0.25 * (cut - lo)  # the bulk and its near tail stay on the axis
    high = top if top <= reach else float(values[values <= reach].max())
    if high - lo < 1e-9:
        lo, high = lo - 1, high + 1
    return lo, high


def _bins(lo: float, high: float, integers: bool, most: int = 40) -> np.ndarray:
    """About `most` bins; for whole numbers, bins of a whole width centred on them."""
    if integers:
        width = max(1, math.ceil((high - lo + 1) / most))
        return np.arange(math.floor(lo) - 0.5, math.ceil(high) + width, width)
    return np.linspace(lo, high, most + 1)


# --- 1. cost per reply -------------------------------------------------------------------


def cost_per_reply_chart(runs: pd.DataFrame, metric: str = "cost_per_reply") -> Figure:
    """Histogram and cumulative share of a cost-per ratio, one colour per strategy.

    Runs with no reply have an infinite cost per reply: the legend counts them, and the
    cumulative curve stops short of 100% by their share."""
    with style():
        names = strategies(runs)
        colour = colours(names)
        values = {n: runs.loc[runs["strategy"] == n, metric].to_numpy(dtype=float) for n in names}
        finite_all = np.concatenate([v[np.isfinite(v)] for v in values.values()])
        what = label(metric).split(" (")[0]
        fig = new_figure(11, 4.6)
        ax_hist, ax_cum = fig.subplots(1, 2)
        n_runs = max(v.size for v in values.values())
        fig.suptitle(
            plain(
                f"{what}: how it varies from one simulated campaign to the next "
                f"({n_runs:,} replications per strategy)"
            ),
            fontsize=11,
        )
        if finite_all.size:
            lo, high = _range_with_tail(finite_all)
            bins = _bins(lo, high, integers=False)
        else:
            lo, high, bins = 0.0, 1.0, np.linspace(0, 1, 2)
        beyond = []
        for name in names:
            v = values[name]
            finite = v[np.isfinite(v)]
            n_inf = int(np.isinf(v).sum())
            tag = (
                f"{name}: no {_count_word(metric)} (infinite) in {n_inf:,} of {v.size:,} "
                f"runs ({n_inf / max(v.size, 1):.1%})"
            )
            shown = finite[finite <= high]
            if shown.size:
                ax_hist.hist(
                    shown, bins=bins, color=colour[name], alpha=0.18, histtype="stepfilled"
                )
                ax_hist.hist(shown, bins=bins, color=colour[name], histtype="step", linewidth=1.6)
            if finite.size > shown.size:
                beyond.append(f"{name}: {finite.size - shown.size:,}")
            kept = np.sort(shown)
            share = np.arange(1, kept.size + 1) / max(v.size, 1)
            x = np.r_[lo, kept, high]
            y = np.r_[0.0, share, share[-1] if kept.size else 0.0]
            ax_cum.step(x, y, where="post", color=colour[name], linewidth=1.8, label=plain(tag))
            if n_inf:  # the gap up to 100%: the runs whose ratio is infinite
                reached = y[-1]
                ax_cum.vlines(high, reached, 1.0, color=colour[name], linestyle=":", linewidth=1.8)
                ax_cum.text(
                    high,
                    (reached + 1.0) / 2,
                    f"no {_count_word(metric)}: {n_inf / v.size:.0%}  ",
                    color=colour[name],
                    ha="right",
                    va="center",
                    fontsize=8,
                )
        for ax in (ax_hist, ax_cum):
            ax.set_xlim(lo - 0.02 * (high - lo), high + 0.02 * (high - lo))
            ax.xaxis.set_major_formatter(
                Dollars() if is_money(metric) else ticker.ScalarFormatter()
            )
            ax.set_xlabel(plain(label(metric) + " in one replication"))
        if not finite_all.size:  # nothing to draw: say why rather than leave it blank
            ax_hist.text(
                0.5,
                0.5,
                f"no {_count_word(metric)} in any replication of any strategy",
                transform=ax_hist.transAxes,
                ha="center",
                va="center",
            )
        ax_hist.set_ylabel("Replications")
        ax_hist.set_ylim(bottom=0)
        ax_hist.set_title(f"Distribution over the runs with at least one {_count_word(metric)}")
        ax_cum.set_ylim(0, 1.02)
        ax_cum.yaxis.set_major_formatter(ticker.PercentFormatter(1.0, decimals=0))
        ax_cum.set_ylabel("Share of all runs at or below the cost")
        ax_cum.set_title(
            f"Cumulative share: the gap below 100% is the runs with no {_count_word(metric)}"
        )
        if beyond:  # the axis stops short of the longest tail: say so under it, once
            # (the panels share the axis; written under both, it ran off the figure's edge)
            cut = dollars(high) if is_money(metric) else f"{high:,.1f}"
            note = f"\n→ axis cut at {cut}; runs beyond it: " + ", ".join(beyond)
            ax_hist.set_xlabel(ax_hist.get_xlabel() + plain(note))
        legend_below(fig, 1 if len(names) > 2 else len(names))
        return fig


def _count_word(metric: str) -> str:
    return COUNT_WORDS.get(metric, "count")


# --- 2. replies and meetings per month --------------------------------------------------


def monthly_fan_chart(
    monthly: pd.DataFrame, metrics: tuple[str, ...] = ("replies", "meetings")
) -> Figure:
    """Per month: the median and the 50% and 90% bands over replications, per strategy."""
    with style():
        names = strategies(monthly)
        colour = colours(names)
        metrics = tuple(m for m in metrics if m in monthly.columns)
        months = int(monthly["month"].max()) + 1
        fig = new_figure(max(7.0, 1.2 + 3.6 * len(names)), 0.9 + 2.7 * len(metrics))
        axes = fig.subplots(len(metrics), len(names), sharex=True, sharey="row", squeeze=False)
        x = np.arange(1, months + 1)
        for row, metric in enumerate(metrics):
            top = 0.0
            for col, name in enumerate(names):
                ax = axes[row, col]
                top = max(top, _fan(ax, x, _by_month(monthly, name, metric), colour[name]))
                _integer_months(ax, months)
                if row == 0:
                    ax.set_title(plain(name))
                if col == 0:
                    ax.set_ylabel(plain(f"{label(metric)} per month"))
                if row == len(metrics) - 1:
                    ax.set_xlabel("Month of the campaign")
            axes[row, 0].set_ylim(0, _top(top))  # shared along the row: set once, after all
            axes[row, 0].yaxis.set_major_locator(ticker.MaxNLocator(integer=True))  # counts
        fig.suptitle(
            plain(
                " and ".join(label(m).lower() for m in metrics).capitalize()
                + " per month: the spread over replications"
            ),
            fontsize=11,
        )
        _fan_legend(fig)
        return fig


# --- 3. InMail credits ------------------------------------------------------------------


def credit_flows(config: Config | None = None) -> tuple[tuple[str, str, int, str], ...]:
    """A month's credit flows: into the balance (drawn above 0) and out of it (below 0),
    labelled with the config's refund window and expiry (the defaults' 90 days without
    a config)."""
    inmail = config.inmail if config is not None else InMail()
    refunded = (
        f"refunded (a response within {inmail.refund_window_days} days)"
        if inmail.refunds
        else "refunded (refunds off)"
    )
    return (
        ("credits_granted", "granted", 1, "#4daf4a"),
        ("credits_refunded", refunded, 1, "#984ea3"),
        ("credits_spent", "spent on InMails", -1, "#377eb8"),
        ("credits_forfeited", "forfeited (grant over the cap)", -1, "#e41a1c"),
        ("credits_expired", f"expired ({inmail.credit_expiry_days} days unused)", -1, "#ff7f00"),
    )


def credit_strategies(monthly: pd.DataFrame) -> list[str]:
    """Strategies whose plan grants InMail credits."""
    if "credits_granted" not in monthly.columns:
        return []
    granted = monthly.groupby("strategy", observed=True)["credits_granted"].sum()
    return [n for n in strategies(monthly) if granted.get(n, 0) > 0]


def credit_chart(monthly: pd.DataFrame, config: Config | None = None) -> Figure:
    """The credit balance at each month's end (fan, top) and the month's grants and
    refunds (up) against spending, forfeits and expiries (down), as means (bottom), for
    each strategy whose plan grants credits."""
    with style():
        names = credit_strategies(monthly)
        if not names:
            return _placeholder(
                "InMail credits",
                "No strategy here is on a plan that grants InMail credits.",
                "Month of the campaign",
                "Credits",
            )
        colour = colours(strategies(monthly))
        months = int(monthly["month"].max()) + 1
        x = np.arange(1, months + 1)
        fig = new_figure(max(9.0, 1.2 + 4.2 * len(names)), 6.6)
        axes = fig.subplots(2, len(names), sharex=True, sharey="row", squeeze=False)
        balance_top, flow_top, flow_bottom = 0.0, 0.0, 0.0
        flows = [f for f in credit_flows(config) if f[0] in monthly.columns]
        for col, name in enumerate(names):
            top, bottom = axes[0, col], axes[1, col]
            balance_top = max(
                balance_top,
                _fan(top, x, _by_month(monthly, name, "credit_balance_end"), colour[name]),
            )
            if config is not None:
                plan = config.plans[config.strategies[name].plan]
                cap = plan.credits_cap * config.accounts
                top.axhline(cap, color="0.3", linestyle="--", linewidth=1)
                top.annotate(
                    f"banking cap {cap:,}",
                    (0.02, cap),
                    xycoords=("axes fraction", "data"),
                    xytext=(0, 3),
                    textcoords="offset points",
                    fontsize=8,
                )
                balance_top = max(balance_top, cap * 1.1)
            top.set_title(plain(name))
            up, down = np.zeros(months), np.zeros(months)
            for column, _, sign, flow_colour in flows:
                mean = _by_month(monthly, name, column).mean(axis=0)
                base = up if sign > 0 else down
                bottom.bar(x, sign * mean, bottom=sign * base, width=0.7, color=flow_colour)
                base += mean
            flow_top, flow_bottom = max(flow_top, up.max()), max(flow_bottom, down.max())
            bottom.axhline(0, color="black", linewidth=0.8)
            _integer_months(bottom, months)
            bottom.set_xlabel("Month of the campaign")
        axes[0, 0].set_ylabel("Credit balance at month end")
        axes[0, 0].set_ylim(0, _top(balance_top))
        axes[0, 0].yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        axes[1, 0].set_ylabel("Credits in the month (mean)\nin: up, out: down")
        axes[1, 0].set_ylim(-_top(flow_bottom), _top(flow_top))
        axes[1, 0].yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{abs(v):,g}"))
        fig.suptitle(
            "InMail credits: the balance at each month's end (top), and where credits "
            "come from and go each month (bottom)",
            fontsize=11,
        )
        handles = [Patch(color=c, label=what) for _, what, _, c in flows]
        _fan_legend(fig, extra=handles)
        return fig


# --- 4. invitations per week -------------------------------------------------------------


def invitation_chart(days: dict[str, InvitationDays], config: Config) -> Figure:
    """Invitations sent per week against the limit in force (top) and the acceptance rate
    that sets account health (bottom), over the traced replications."""
    with style():
        if not days:
            return _placeholder(
                "Invitations per week",
                "No strategy here sends connection requests.",
                "Week of the campaign",
                "Invitations per 7 days",
            )
        names = list(days)
        colour = colours(list(config.strategies))
        rules = config.invitations
        fig = new_figure(max(9.0, 1.2 + 4.4 * len(names)), 6.8)
        axes = fig.subplots(2, len(names), sharex=True, sharey="row", squeeze=False)
        highest = 0.0
        for col, name in enumerate(names):
            trace = days[name]
            top, bottom = axes[0, col], axes[1, col]
            weekly = trace.sent_per_week()
            weeks = np.arange(weekly.shape[1]) + 0.5  # a week's count at its middle
            highest = max(highest, _fan(top, weeks, weekly, colour[name]))
            day_x = np.arange(trace.limit.shape[1]) / 7
            lim_low, lim_mid, lim_high = np.quantile(trace.limit, [0.05, 0.5, 0.95], axis=0)
            top.fill_between(
                day_x, lim_low, lim_high, step="post", color="0.1", alpha=0.12, linewidth=0
            )
            top.step(day_x, lim_mid, where="post", color="0.1", linewidth=1.3, linestyle="--")
            highest = max(highest, float(lim_high.max()))
            top.set_title(plain(name))
            accept = trace.acceptance_in_window
            has = ~np.isnan(accept).all(axis=0)  # days with anything resolved in the window
            if has.any():
                _fan(bottom, day_x[has], accept[:, has], colour[name])
            bottom.axhline(rules.good_acceptance, color="tab:green", linestyle="--", linewidth=1)
            bottom.axhline(rules.poor_acceptance, color="tab:red", linestyle="--", linewidth=1)
            bottom.set_xlabel("Week of the campaign")
        axes[0, 0].set_ylim(0, _top(highest))
        axes[0, 0].set_ylabel("Invitations per 7 days (all seats)")
        axes[1, 0].set_ylim(0, 1)
        axes[1, 0].yaxis.set_major_formatter(ticker.PercentFormatter(1.0, decimals=0))
        axes[1, 0].set_ylabel(f"Acceptance over the last {rules.health_window_days} days")
        axes[1, 0].set_xlim(0, next(iter(days.values())).limit.shape[1] / 7)
        n = next(iter(days.values())).sent.shape[0]
        fig.suptitle(
            "Connection requests sent per week against the limit in force (top),\n"
            "and the acceptance rate that sets account health (bottom)\n"
            f"first {n:,} replications re-simulated day by day; all seats together",
            fontsize=11,
        )
        grey = (0.3, 0.3, 0.3)
        handles = [
            Line2D([], [], color=grey, linewidth=1.8, label="median"),
            *(
                Patch(color=grey, alpha=alpha, linewidth=0, label=name)
                for _, _, alpha, name in BANDS
            ),
            Line2D(
                [], [], color="0.1", linewidth=1.3, linestyle="--", label="limit in force (median)"
            ),
            Patch(color="0.1", alpha=0.12, label="limit in force, 90% of runs"),
            Line2D(
                [],
                [],
                color="tab:green",
                linestyle="--",
                label=f"at or above {rules.good_acceptance:.0%}: the full limit",
            ),
            Line2D(
                [],
                [],
                color="tab:red",
                linestyle="--",
                label=f"at or below {rules.poor_acceptance:.0%}: "
                f"the limit × {rules.floor_factor:g}",
            ),
        ]
        legend_below(fig, 4, handles=handles)
        return fig


# --- 5. paired differences ----------------------------------------------------------------


def paired_chart(
    runs: pd.DataFrame,
    metrics: tuple[str, ...] = ("cost_per_meeting", "replies"),
    pairs: list[tuple[str, str]] | None = None,
) -> Figure:
    """For each pair of strategies (default: every pair), the replication-by-replication
    difference A - B and the share of replications each wins (common random numbers make
    them paired)."""
    with style():
        pairs = strategy_pairs(runs) if pairs is None else pairs
        metrics = tuple(m for m in metrics if m in runs.columns)
        if not pairs:
            return _placeholder(
                "Paired differences between strategies",
                "Only one strategy: there is nothing to compare it with.",
                "Difference A − B in one replication",
                "Replications",
            )
        # one metric: the pairs side by side, three to a row; else a row per pair
        across = min(3, len(pairs)) if len(metrics) == 1 else len(metrics)
        down = math.ceil(len(pairs) / across) if len(metrics) == 1 else len(pairs)
        fig = new_figure(1.0 + 5.2 * across, 0.9 + 3.3 * down)
        grid = fig.subplots(down, across, squeeze=False)
        panels = list(grid.flat)
        for ax in panels[len(pairs) * len(metrics) :]:
            ax.set_visible(False)
        wide = {m: runs.pivot(index="replication", columns="strategy", values=m) for m in metrics}
        for row, (a, b) in enumerate(pairs):
            for col, metric in enumerate(metrics):
                ax = panels[row * len(metrics) + col]
                va = wide[metric][a].to_numpy(dtype=float)
                vb = wide[metric][b].to_numpy(dtype=float)
                _difference_panel(ax, a, b, metric, va, vb)
        fig.suptitle(
            "Paired differences, replication by replication (same prospects, same luck)",
            fontsize=11,
        )
        return fig


def _difference_panel(
    ax: Axes, a: str, b: str, metric: str, va: np.ndarray, vb: np.ndarray
) -> None:
    d = difference(va, vb)
    finite = d[np.isfinite(d)]
    lower = lower_is_better(metric)
    a_wins, b_wins, ties = win_shares(va, vb, lower)
    word = "lower" if lower else "higher"
    keep = "\u00a0"  # a no-break space: a wrapped line never leaves "in 0%" on its own
    lines = [
        f"{a} − {b}",
        f"{word} for {a} in{keep}{a_wins:.0%} of runs, for {b} in{keep}{b_wins:.0%}, "
        f"tied{keep}in{keep}{ties:.0%}",
    ]
    if finite.size:
        mean = float(np.mean(finite))
        lines.append(f"mean difference {_signed(metric, mean)} (dashed); 0 marks no difference")
        integers = bool(np.all(finite == np.round(finite)))
        lo, high = _range_with_tail(finite)
        low_cut = float(np.quantile(finite, 1 - TAIL_QUANTILE))
        reach = low_cut - 0.25 * (high - low_cut)
        if lo < reach:
            lo = float(finite[finite >= reach].min())
        shown = finite[(finite >= lo) & (finite <= high)]
        bins = _bins(min(lo, 0.0), max(high, 0.0), integers)
        ax.hist(shown, bins=bins, color="0.45", alpha=0.8)
        ax.axvline(0, color="black", linewidth=1.2)
        ax.axvline(mean, color="tab:orange", linewidth=1.5, linestyle="--")
        off = finite.size - shown.size
        if off:
            lines.append(f"axis cut: {_runs(off)} beyond it not shown")
        margin = 0.02 * (bins[-1] - bins[0])
        ax.set_xlim(bins[0] - margin, bins[-1] + margin)
    else:
        ax.text(
            0.5, 0.5, "no replication where both are finite", ha="center", transform=ax.transAxes
        )
    n_pos, n_neg = int(np.sum(d == np.inf)), int(np.sum(d == -np.inf))
    n_nan = int(np.isnan(d).sum())
    if n_pos or n_neg or n_nan:
        none = _count_word(metric)
        lines.append(
            f"not drawn, infinite (no {none}): {a} alone {_runs(n_pos)}, {b} alone "
            f"{_runs(n_neg)}, both {_runs(n_nan)}"
        )
    wrapped = [textwrap.fill(line, 84, subsequent_indent="  ") for line in lines]
    ax.set_title(plain("\n".join(wrapped)), fontsize=8.5, loc="left")
    ax.set_xlabel(plain(f"Difference in {label(metric).lower()}, {a} − {b}"))
    ax.set_ylabel("Replications")
    ax.set_ylim(bottom=0)
    if is_money(metric):
        ax.xaxis.set_major_formatter(Dollars())


def _signed(metric: str, x: float) -> str:
    if is_money(metric):
        return ("+" if x > 0 else "") + dollars(x)
    return f"{x:+,.1f}".replace("-", "−")


def _runs(count: int) -> str:
    return f"{count:,} run" + ("" if count == 1 else "s")


# --- 6. funnel ---------------------------------------------------------------------------

#: how the funnel names each count of touches sent
TOUCH_LABELS = {
    "connects_sent": "connection requests",
    "messages_sent": "messages after acceptance",
    "inmails_paid": "InMails (paid)",
    "inmails_free": "InMails (free, Open Profile)",
    "followups_paid": "follow-up InMails (paid)",
    "followups_free": "follow-up InMails (free)",
    "emails_sent": "emails",
    "whatsapps_sent": "WhatsApp messages",
    "engagements": "engagements (no reply asked)",
}


def touch_columns(runs: pd.DataFrame) -> list[str]:
    """Every count of touches sent in a runs table: those of metrics.SENT_BY_KIND, then any
    other ``*_sent`` column (a touch kind added later); re-invitations are inside
    ``connects_sent``."""
    known = [c for counts in SENT_BY_KIND.values() for c in counts if c in runs.columns]
    other = [
        c for c in runs.columns if c.endswith("_sent") and c not in known and c != "reinvites_sent"
    ]
    return known + other


def funnel_chart(runs: pd.DataFrame, horizon_months: int | None = None) -> Figure:
    """From touches to meetings: the mean per replication of each stage, per strategy."""
    with style():
        names = strategies(runs)
        colour = colours(names)
        touches = touch_columns(runs)
        has_connects = "connects_sent" in runs.columns and runs["connects_sent"].sum() > 0
        stages = [("Touches sent", None), ("Prospects contacted", "prospects_started")]
        if has_connects:
            stages.append(("Invitations accepted", "acceptances"))
        stages += [
            ("Replies", "replies"),
            ("Positive replies", "positive_replies"),
            ("Meetings", "meetings"),
        ]
        stages = [(s, c) for s, c in stages if c is None or c in runs.columns]
        ncols = 2 if len(names) == 4 else min(3, len(names))  # rows filled where they can be
        nrows = math.ceil(len(names) / ncols)
        fig = new_figure(max(7.0, 1.8 + 4.2 * ncols), 0.9 + 2.9 * nrows)
        axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
        kind_palette = mpl.colormaps["Pastel1"].colors
        kind_colour = {c: kind_palette[i % len(kind_palette)] for i, c in enumerate(touches)}
        largest = 0.0
        for i, name in enumerate(names):
            ax = axes[i // ncols, i % ncols]
            group = runs[runs["strategy"] == name]
            means = {c: float(group[c].mean()) for c in [*touches, *(c for _, c in stages if c)]}
            y = np.arange(len(stages))[::-1]
            left = 0.0
            for column in touches:
                ax.barh(
                    y[0],
                    means[column],
                    left=left,
                    color=kind_colour[column],
                    edgecolor="0.5",
                    linewidth=0.5,
                )
                left += means[column]
            total_touches = left
            largest = max(largest, total_touches)
            values = [total_touches]
            for (_, column), yy in zip(stages[1:], y[1:], strict=True):
                ax.barh(yy, means[column], color=colour[name], alpha=0.85)
                values.append(means[column])
            for k, ((stage, _), yy) in enumerate(zip(stages, y, strict=True)):
                whole = values[k] >= 100 or values[k] == 0
                text = f"{values[k]:,.0f}" if whole else f"{values[k]:,.1f}"
                rate = _stage_rate(stage, means, values, k)
                if rate:
                    text += f"  ({rate})"
                ax.text(values[k], yy, "  " + text, va="center", fontsize=8)
            ax.set_yticks(y, [s for s, _ in stages])
            ax.set_title(plain(name))
            if i % ncols == 0:
                ax.set_ylabel("Stage")
            ax.grid(axis="y", visible=False)
            if i + ncols >= len(names):  # nothing below it: its axis is the one to read
                span = f" over {horizon_months} months" if horizon_months else ""
                ax.set_xlabel(f"Mean per replication{span}")
                ax.xaxis.set_tick_params(labelbottom=True)
        for j in range(len(names), nrows * ncols):
            axes[j // ncols, j % ncols].set_visible(False)
        axes[0, 0].set_xlim(0, largest * 1.55 if largest > 0 else 1)
        handles = [
            Patch(facecolor=kind_colour[c], edgecolor="0.5", label=TOUCH_LABELS.get(c, c))
            for c in touches
            if runs[c].sum() > 0
        ]
        if handles:
            legend_below(fig, min(4, len(handles)), handles=handles, title="Touches sent, by kind")
        fig.suptitle("From touches to meetings (percentages: of the stage named)", fontsize=11)
        return fig


def _stage_rate(stage: str, means: dict[str, float], values: list[float], k: int) -> str:
    """The conversion shown beside a stage, against the stage it naturally follows."""

    def share(num: float, den: float, of: str) -> str:
        return f"{num / den:.1%} of {of}" if den > 0 else ""

    if stage == "Invitations accepted":
        return share(values[k], means.get("connects_sent", 0.0), "requests")
    if stage == "Replies":
        return share(values[k], means.get("prospects_started", 0.0), "prospects")
    if stage == "Positive replies":
        return share(values[k], means.get("replies", 0.0), "replies")
    if stage == "Meetings":
        return share(values[k], means.get("positive_replies", 0.0), "positive")
    return ""
