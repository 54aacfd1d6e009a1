"""What drives cost: uncertain parameters ranked by their influence (MODEL.md section 8).

Partial rank correlation (PRCC) of each drawn parameter with a metric, per strategy: both
are rank-transformed, the other parameters are regressed out of each, and the residuals
are correlated. Ranks make it robust to the metric's skew and to monotone non-linear
effects (cost per meeting falls as 1 / rate); an infinite cost per meeting (no meeting)
ranks above every finite one, as the most expensive outcome. +1: the parameter raises
the metric; -1: it lowers it; near 0: no influence of its own.

Only the parameters a strategy can use are ranked for it (a strategy that sends no
InMail cannot depend on the InMail reply rate: any correlation there is noise). Noise
alone gives a PRCC too: with n replications and k parameters, a parameter without
influence has t = r sqrt(d / (1 - r^2)) distributed about as Student's t with
d = n - 2 - (k - 1) degrees of freedom, so |PRCC| stays below
`noise_band(n, k)` = t_0.975 / sqrt(d + t_0.975^2) in 95% of runs. A bar inside the band
is indistinguishable from no influence at this number of replications.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from simulator.config import Config
from simulator.playbook import parameters_used
from simulator.uncertainty import COLUMN_PREFIX

#: how a rate reads in a table or on a chart
RATE_LABELS: dict[str, str] = {
    "accept_with_note": "acceptance, with a note",
    "accept_without_note": "acceptance, without a note",
    "reply_after_accept": "reply to message {n} after acceptance",
    "reinvite_multiplier": "acceptance of a re-invite (multiplier)",
    "accept_after_inmail_multiplier": "acceptance after an InMail (multiplier)",
    "inmail_reply_paid": "InMail reply (paid)",
    "inmail_reply_open": "InMail reply (Open Profile)",
    "inmail_followup_reply": "follow-up InMail reply",
    "email_reply": "email reply",
    "whatsapp_reply": "WhatsApp reply",
    "engage_accept_multiplier": "acceptance after engaging (multiplier)",
    "engage_reply_multiplier": "reply after engaging (multiplier)",
    "positive_share": "share of replies that are positive",
    "meeting_share": "share of positive replies that book a meeting",
}

COLUMNS = ("strategy", "metric", "rank", "parameter", "prcc", "p_value", "noise_band")


def parameter_label(parameter: str) -> str:
    """`segments.vp.rates.inmail_reply_paid` -> `vp: InMail reply (paid)`."""
    parts = parameter.removeprefix(COLUMN_PREFIX).split(".")
    if parts[0] == "segments" and len(parts) >= 4 and parts[2] == "rates":
        text = RATE_LABELS.get(parts[3], parts[3].replace("_", " "))
        if len(parts) > 4 and parts[4].isdigit():
            text = text.format(n=int(parts[4]) + 1)
        return f"{parts[1]}: {text}"
    if parts[0] == "segments" and len(parts) >= 5 and parts[2] == "delays":
        return f"{parts[1]}: {parts[3].replace('_', ' ')} delay ({parts[4]}, days)"
    if parts == ["invitations", "weekly_limit"]:
        return "weekly invitation limit"
    return ".".join(parts)


def uses(config: Config, strategy: str, parameter: str) -> bool:
    """Whether a drawn parameter (dotted path) can change what `strategy` gets (a
    parameter outside the segments' rates and delays and the weekly limit is kept)."""
    path = parameter.removeprefix(COLUMN_PREFIX)
    parts = path.split(".")
    known = path == "invitations.weekly_limit" or (
        parts[0] == "segments" and len(parts) >= 4 and parts[2] in ("rates", "delays")
    )
    return not known or path in parameters_used(config, strategy)


def degrees_of_freedom(replications: int, parameters: int) -> int:
    """What is left of the replications to correlate with once the other parameters are
    regressed out: n - 2 - (k - 1). At 0 or below the residuals fit exactly and every
    PRCC comes out +-1 (or undefined) whatever the parameters do."""
    return replications - 2 - (parameters - 1)


def too_few_replications(replications: int, parameters: int) -> str | None:
    """Why `parameters` cannot be ranked from `replications` (None: they can)."""
    if degrees_of_freedom(replications, parameters) > 0:
        return None
    noun = "parameter" if parameters == 1 else "parameters"
    return (
        f"{replications:,} replications cannot tell {parameters} uncertain {noun} apart "
        f"(it takes at least {parameters + 2})"
    )


def noise_band(replications: int, parameters: int, level: float = 0.95) -> float:
    """The |PRCC| a parameter without influence stays below in `level` of runs."""
    dof = degrees_of_freedom(replications, parameters)
    if dof <= 0:
        return math.nan
    t = float(stats.t.ppf(0.5 + level / 2, dof))
    return t / math.sqrt(dof + t * t)


def partial_rank_correlations(inputs: pd.DataFrame, output: np.ndarray) -> pd.DataFrame:
    """PRCC of each column of `inputs` with `output`, with its two-sided p-value."""
    n, k = inputs.shape
    x = np.column_stack([stats.rankdata(inputs[c]) for c in inputs.columns]) if k else None
    y = stats.rankdata(output)
    rows = []
    dof = degrees_of_freedom(n, k)
    for j, column in enumerate(inputs.columns):
        assert x is not None
        if dof <= 0 or is_constant(inputs[column].to_numpy()):
            # the other parameters' ranks fit the replications exactly, or this one never
            # varied (a uniform with low equal to high): no correlation to measure
            rows.append({"parameter": column, "prcc": math.nan, "p_value": math.nan})
            continue
        others = np.column_stack([np.ones(n), np.delete(x, j, axis=1)])
        res_x = x[:, j] - others @ np.linalg.lstsq(others, x[:, j], rcond=None)[0]
        res_y = y - others @ np.linalg.lstsq(others, y, rcond=None)[0]
        spread = np.sqrt((res_x @ res_x) * (res_y @ res_y))
        r = float(res_x @ res_y / spread) if spread > 0 else float("nan")
        if np.isnan(r):
            p = float("nan")
        else:
            t = r * np.sqrt(dof / max(1e-300, 1.0 - r * r))
            p = float(2 * stats.t.sf(abs(t), dof))
        rows.append({"parameter": column, "prcc": r, "p_value": p})
    return pd.DataFrame(rows, columns=["parameter", "prcc", "p_value"])


def is_constant(values: np.ndarray) -> bool:
    """The same value in every replication (every one infinite: no meeting in any run):
    no parameter can move it, and a rank correlation with it is undefined."""
    values = np.asarray(values, dtype=float)
    return values.size == 0 or bool(np.all(values == values[0]))


def sensitivity_table(
    runs: pd.DataFrame, metric: str = "cost_per_meeting", config: Config | None = None
) -> pd.DataFrame:
    """Per strategy, the uncertain parameters ranked by |PRCC| with `metric` (rank 1 is
    the most influential), with the noise band at this number of replications;
    parameters are the runs table's `param.` columns, and with `config` only those the
    strategy can use."""
    columns = [c for c in runs.columns if c.startswith(COLUMN_PREFIX)]
    if not columns:
        raise ValueError("the runs have no drawn parameters (no rate is a distribution)")
    parts = []
    for strategy, group in runs.groupby("strategy", observed=True, sort=False):
        used = columns
        if config is not None and str(strategy) in config.strategies:
            used = [c for c in columns if uses(config, str(strategy), c)]
        values = group[metric].to_numpy()
        if not used or is_constant(values) or too_few_replications(len(group), len(used)):
            continue  # nothing to rank: no parameter, nothing varies, or too few runs
        table = partial_rank_correlations(group[used], values)
        table["parameter"] = table["parameter"].str.removeprefix(COLUMN_PREFIX)
        table = table.assign(influence=table["prcc"].abs().fillna(0.0))
        table = table.sort_values("influence", ascending=False, kind="stable")
        table.insert(0, "rank", np.arange(1, len(table) + 1))
        table.insert(0, "metric", metric)
        table.insert(0, "strategy", strategy)
        table["noise_band"] = noise_band(len(group), len(used))
        parts.append(table.drop(columns="influence"))
    if not parts:
        return pd.DataFrame(columns=list(COLUMNS))
    return pd.concat(parts, ignore_index=True).reindex(columns=list(COLUMNS))


def p_value_text(p: float) -> str:
    """A p-value as printed: '< 0.001' below it, else three decimals."""
    if math.isnan(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def readable_sensitivity(table: pd.DataFrame) -> pd.DataFrame:
    """`sensitivity_table` as a report shows it: human names, p-values as '< 0.001'."""
    return pd.DataFrame(
        {
            "strategy": table["strategy"].astype(str),
            "rank": table["rank"],
            "uncertain parameter": [parameter_label(p) for p in table["parameter"]],
            "partial rank correlation": [
                "n/a" if math.isnan(r) else f"{r:+.2f}" for r in table["prcc"]
            ],
            "p-value": [p_value_text(p) for p in table["p_value"]],
            "beyond the noise?": [
                "n/a (the same in every replication)"
                if math.isnan(r)
                else "yes"
                if abs(r) > band
                else f"no (noise reaches ±{band:.2f})"
                for r, band in zip(table["prcc"], table["noise_band"], strict=True)
            ],
        }
    )
