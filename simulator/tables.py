"""Summary tables over replications: the figures a report quotes (MODEL.md section 11).

For each strategy and metric: the mean with its Monte Carlo standard error and a 95%
interval for the mean, the median, the 5th and 95th percentiles, and the share of
replications with no reply. A cost-per ratio (cost per reply, per positive reply, per
meeting) is infinite in a replication whose count is 0: its mean is over the finite
ones, next to the share of infinite ones, and the pooled ratio (total cost over total
count) stands beside it. Tables work on whatever columns a ``runs`` table holds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import special

from simulator.metrics import RATIOS, SUMMARY_METRICS
from simulator.stats import describe, describe_ratio

#: the metrics a report summarises, in report order (those present in a runs table): the
#: summary's, with the parts of the cost after the cost
_COST_AT = SUMMARY_METRICS.index("cost") + 1
METRICS: tuple[str, ...] = (
    *SUMMARY_METRICS[:_COST_AT],
    "cost_fees",
    "cost_sends",
    "cost_labour",
    *SUMMARY_METRICS[_COST_AT:],
)

#: how a metric reads in a table or on an axis (units in brackets)
LABELS: dict[str, str] = {
    "cost_per_reply": "Cost per reply ($)",
    "cost_per_positive_reply": "Cost per positive reply ($)",
    "cost_per_meeting": "Cost per meeting ($)",
    "replies": "Replies",
    "positive_replies": "Positive replies",
    "meetings": "Meetings",
    "cost": "Cost ($)",
    "cost_fees": "Cost: plan fees ($)",
    "cost_sends": "Cost: per-send prices ($)",
    "cost_labour": "Cost: labour ($)",
    "credits_granted": "InMail credits granted",
    "credits_spent": "InMail credits spent",
    "credits_refunded": "InMail credits refunded",
    "credits_forfeited": "InMail credits forfeited (over the cap)",
    "credits_expired": "InMail credits expired",
    "credit_balance_end": "InMail credit balance",
    "connects_sent": "Invitations sent",
    "prospects_exhausted": "Prospects burnt (no reply, route ended)",
    "prospects_started": "Prospects contacted",
}

#: which figure to quote for a cost-per ratio, shown under every table that has both
POOLED_NOTE = (
    "Quote the pooled ratio (total cost over total replies, over all replications) for "
    "the long-run cost per reply of a programme: it weighs every reply equally. The mean "
    "of per-replication ratios answers a different question (what one campaign costs per "
    "reply, on average, over the campaigns that got any reply) and is higher by Jensen's "
    "inequality; the median and the 5th to 95th percentiles say how far one campaign can "
    "stray."
)

COLUMNS: tuple[str, ...] = (
    "strategy",
    "metric",
    "label",
    "replications",
    "mean",
    "mcse",
    "ci95_low",
    "ci95_high",
    "median",
    "p5",
    "p95",
    "pooled",
    "share_infinite",
    "share_no_reply",
)


def label(metric: str) -> str:
    """A metric's name as a sales analyst reads it."""
    return LABELS.get(metric, metric.replace("_", " ").capitalize())


def is_money(metric: str) -> bool:
    return metric == "cost" or metric.startswith("cost_")


def present_metrics(runs: pd.DataFrame, metrics: tuple[str, ...] | list[str] = METRICS) -> list:
    """The metrics of `metrics` that this runs table holds."""
    return [m for m in metrics if m in runs.columns]


def strategies(table: pd.DataFrame) -> list[str]:
    """Strategy names in the config's order (the categorical order when there is one)."""
    column = table["strategy"]
    if isinstance(column.dtype, pd.CategoricalDtype):
        present = set(column.unique())
        return [str(s) for s in column.cat.categories if s in present]
    return [str(s) for s in pd.unique(column)]


def describe_metric(group: pd.DataFrame, metric: str) -> dict[str, float]:
    """mean, mcse, median, p5, p95 (and pooled and share_infinite for ratios) of one metric."""
    if metric in RATIOS and {"cost", RATIOS[metric]} <= set(group.columns):
        return describe_ratio(group["cost"].to_numpy(), group[RATIOS[metric]].to_numpy())
    values = group[metric].to_numpy(dtype=float)
    if np.isinf(values).any():  # a ratio the report does not know: as MODEL.md section 11
        out = describe_ratio(values, np.ones(values.size))  # finite mean, percentiles of all
        out["pooled"] = math.nan
        return out
    return describe(values)


def summary_table(
    runs: pd.DataFrame, metrics: tuple[str, ...] | list[str] | None = None, level: float = 0.95
) -> pd.DataFrame:
    """One row per strategy and metric (see the module docstring).

    The interval is mean +/- z * mcse (z from the normal distribution at `level`): the
    uncertainty of the mean that comes from simulating a finite number of replications."""
    z = float(special.ndtri(0.5 + level / 2))
    chosen = present_metrics(runs, METRICS if metrics is None else tuple(metrics))
    rows = []
    for strategy in strategies(runs):
        group = runs[runs["strategy"] == strategy]
        no_reply = float((group["replies"] == 0).mean()) if "replies" in group else math.nan
        for metric in chosen:
            stats = describe_metric(group, metric)
            mcse = stats.get("mcse", math.nan)
            rows.append(
                {
                    "strategy": strategy,
                    "metric": metric,
                    "label": label(metric),
                    "replications": len(group),
                    **stats,
                    "ci95_low": stats["mean"] - z * mcse,
                    "ci95_high": stats["mean"] + z * mcse,
                    "share_no_reply": no_reply,
                }
            )
    return pd.DataFrame(rows).reindex(columns=list(COLUMNS))


def headline_table(
    runs: pd.DataFrame,
    horizon_months: int,
    objective: str = "cost_per_meeting",
    value_per_meeting: float | None = None,
) -> pd.DataFrame:
    """The figures a sales lead asks for first, one row per strategy (display strings),
    led by the objective (a cost per reply, positive reply or meeting): its pooled value,
    the range of one campaign, the share of campaigns with no count, then replies a
    month, meetings, the mean cost and, with a value per meeting, the net benefit."""
    count = RATIOS[objective]
    wanted = [objective, "replies", "meetings", "cost"]
    table = summary_table(runs, wanted)
    indexed = table.set_index(["strategy", "metric"])
    what = label(objective).removesuffix(" ($)").lower()
    noun = label(count).lower().removesuffix("s").replace("replie", "reply")
    rows = []
    for strategy in strategies(runs):
        ratio = indexed.loc[(strategy, objective)]
        row = {
            "strategy": strategy,
            f"{what}, pooled": money(ratio["pooled"]),
            "5th - 95th percentile": f"{money(ratio['p5'])} - {money(ratio['p95'])}",
            f"runs with no {noun}": f"{ratio['share_infinite']:.1%}",
            "replies / month": f"{indexed.loc[(strategy, 'replies'), 'mean'] / horizon_months:.1f}",
        }
        if (strategy, "meetings") in indexed.index:
            meetings = indexed.loc[(strategy, "meetings")]
            row[f"meetings in {horizon_months} months"] = (
                f"{meetings['mean']:.1f} (median {meetings['median']:.0f})"
            )
        row[f"mean cost over {horizon_months} months"] = money(
            indexed.loc[(strategy, "cost"), "mean"]
        )
        if value_per_meeting is not None and (strategy, "meetings") in indexed.index:
            gain = value_per_meeting * indexed.loc[(strategy, "meetings"), "mean"]
            row[f"expected net benefit over {horizon_months} months"] = money(
                gain - indexed.loc[(strategy, "cost"), "mean"]
            )
        rows.append(row)
    return pd.DataFrame(rows)


def money(x: float) -> str:
    """Dollars for a table: $1,234.50; 'inf' (no reply) and 'n/a' (undefined) spelt out."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"-${-x:,.2f}" if x < 0 else f"${x:,.2f}"


def number(x: float, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if math.isinf(x):
        return "inf"
    return f"{x:,.{digits}f}"


def readable_summary(table: pd.DataFrame) -> pd.DataFrame:
    """`summary_table` as display strings: dollars for costs, shares as percentages."""
    rows = []
    for row in table.to_dict(orient="records"):
        fmt = money if is_money(row["metric"]) else number
        rows.append(
            {
                "strategy": row["strategy"],
                "metric": row["label"],
                "mean ± mcse": f"{fmt(row['mean'])} ± {number(row['mcse'], 2)}",
                "95% interval for the mean": f"{fmt(row['ci95_low'])} - {fmt(row['ci95_high'])}",
                "median": fmt(row["median"]),
                "5th - 95th percentile": f"{fmt(row['p5'])} - {fmt(row['p95'])}",
                "pooled": "" if math.isnan(row["pooled"]) else fmt(row["pooled"]),
                "infinite (count 0)": ""
                if math.isnan(row["share_infinite"])
                else f"{row['share_infinite']:.1%}",
            }
        )
    return pd.DataFrame(rows)
