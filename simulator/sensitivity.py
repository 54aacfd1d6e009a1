"""What drives cost: uncertain parameters ranked by their influence (MODEL.md section 8).

Partial rank correlation (PRCC) of each drawn parameter with a metric, per strategy: both
are rank-transformed, the other parameters are regressed out of each, and the residuals
are correlated. Ranks make it robust to the metric's skew and to monotone non-linear
effects (cost per meeting falls as 1 / rate); an infinite cost per meeting (no meeting)
ranks above every finite one, as the most expensive outcome. +1: the parameter raises
the metric; -1: it lowers it; near 0 (within the noise shown by the p-value): no
influence of its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from simulator.uncertainty import COLUMN_PREFIX


def partial_rank_correlations(inputs: pd.DataFrame, output: np.ndarray) -> pd.DataFrame:
    """PRCC of each column of `inputs` with `output`, with its two-sided p-value."""
    n, k = inputs.shape
    x = np.column_stack([stats.rankdata(inputs[c]) for c in inputs.columns]) if k else None
    y = stats.rankdata(output)
    rows = []
    for j, column in enumerate(inputs.columns):
        assert x is not None
        others = np.column_stack([np.ones(n), np.delete(x, j, axis=1)])
        res_x = x[:, j] - others @ np.linalg.lstsq(others, x[:, j], rcond=None)[0]
        res_y = y - others @ np.linalg.lstsq(others, y, rcond=None)[0]
        spread = np.sqrt((res_x @ res_x) * (res_y @ res_y))
        r = float(res_x @ res_y / spread) if spread > 0 else float("nan")
        dof = n - 2 - (k - 1)
        if np.isnan(r) or dof <= 0:
            p = float("nan")
        else:
            t = r * np.sqrt(dof / max(1e-300, 1.0 - r * r))
            p = float(2 * stats.t.sf(abs(t), dof))
        rows.append({"parameter": column, "prcc": r, "p_value": p})
    return pd.DataFrame(rows, columns=["parameter", "prcc", "p_value"])


def sensitivity_table(runs: pd.DataFrame, metric: str = "cost_per_meeting") -> pd.DataFrame:
    """Per strategy, the uncertain parameters ranked by |PRCC| with `metric` (rank 1 is
    the most influential); parameters are the runs table's `param.` columns."""
    columns = [c for c in runs.columns if c.startswith(COLUMN_PREFIX)]
    if not columns:
        raise ValueError("the runs have no drawn parameters (no rate is a distribution)")
    parts = []
    for strategy, group in runs.groupby("strategy", observed=True, sort=False):
        table = partial_rank_correlations(group[columns], group[metric].to_numpy())
        table["parameter"] = table["parameter"].str.removeprefix(COLUMN_PREFIX)
        table = table.assign(influence=table["prcc"].abs().fillna(0.0))
        table = table.sort_values("influence", ascending=False, kind="stable")
        table.insert(0, "rank", np.arange(1, len(table) + 1))
        table.insert(0, "metric", metric)
        table.insert(0, "strategy", strategy)
        parts.append(table.drop(columns="influence"))
    return pd.concat(parts, ignore_index=True)
