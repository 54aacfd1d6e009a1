"""Sweeps: one config run at many points of a parameter grid or a Latin hypercube.

"Which plan, how many seats, what share of InMail, at what pace?" A sweep config is a
normal config with a ``sweep:`` section naming the axes to vary by dotted path
(``accounts``, ``segments.vp_plus.rates.inmail_reply_paid``,
``strategies.tiered_hybrid.daily_pace.connect``, ``strategies.*.plan`` for every
strategy, ``plan`` for short); ``base: other.yaml`` sweeps another config file. Each
point is the config with its values put in and validated again (a bad value names its
path). Every point runs on the same seed, so points differ by their parameters, not by
luck (common random numbers), and each point keeps only a streamed summary
(``simulator.streaming``). The result is a tidy table: one row per point and strategy,
the summary metrics with their MCSE.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import AfterValidator, Field, ValidationError, model_validator
from scipy.stats import qmc

from simulator.api import _chunk_summary, check_memory, chunks
from simulator.backends import Backend, InProcess
from simulator.calibration import posterior_config
from simulator.config import (
    MOST_COUNT,
    Config,
    ConfigError,
    Model,
    loc_part,
    parse_config,
    read_yaml,
)
from simulator.metrics import RATIOS, SUMMARY_METRICS
from simulator.streaming import RunSummary

#: a sweep is a few hundred points; more is a typo (or a job for several sweeps)
MOST_POINTS = 10_000
#: shorthand axes: what a sales lead says, and the dotted path it means
ALIASES = {"plan": "strategies.*.plan"}


class Range(Model):
    """A continuous axis of a Latin hypercube: from low to high (whole numbers if
    `integer`: seats, paces)."""

    low: float
    high: float
    integer: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self


def _axis(value: Any) -> list[Any] | Range:
    """An axis is a list of values (a grid, or choices on a hypercube) or a range."""
    if isinstance(value, list):
        if not value:
            raise ValueError("an axis needs at least one value")
        return value
    if isinstance(value, dict):
        return Range.model_validate(value)
    if isinstance(value, Range):
        return value
    raise ValueError(f"expected a list of values or {{low, high}}, got {value!r}")


Axis = Annotated[Any, AfterValidator(_axis)]


class Sweep(Model):
    """The ``sweep:`` section of a config."""

    method: Literal["grid", "latin_hypercube"] = "grid"
    axes: Annotated[dict[str, Axis], Field(min_length=1)]
    points: Annotated[int, Field(ge=1, le=MOST_POINTS)] | None = None
    seed: Annotated[int, Field(ge=0, lt=2**63)] | None = None
    replications: Annotated[int, Field(ge=1, le=MOST_COUNT)] | None = None
    metric: str | None = None  # None: the config's objective
    budgets: list[Annotated[float, Field(gt=0)]] | None = None

    @model_validator(mode="after")
    def _method_fits_axes(self) -> Sweep:
        problems = []
        if self.metric is not None and self.metric not in SUMMARY_METRICS:
            problems.append(
                f"metric: unknown metric {self.metric!r} (known: {', '.join(SUMMARY_METRICS)})"
            )
        if self.method == "grid":
            for path, axis in self.axes.items():
                if isinstance(axis, Range):
                    problems.append(
                        f"axes.{path}: a range needs method: latin_hypercube; a grid takes "
                        f"a list of values"
                    )
            if self.points is not None:
                problems.append("points: a grid has one point per combination; drop points")
            size = math.prod(len(a) for a in self.axes.values() if isinstance(a, list))
            if size > MOST_POINTS:
                problems.append(f"axes: the grid has {size} points, more than {MOST_POINTS}")
        elif self.points is None:
            problems.append("points: a latin_hypercube needs a number of points")
        if problems:
            raise ValueError("\n".join(problems))
        return self


@dataclass
class SweepPlan:
    """A sweep config read and checked: the base config, its raw mapping (what the
    points change) and the sweep section."""

    base: Config
    data: dict[str, Any]
    sweep: Sweep
    source: str

    @property
    def metric(self) -> str:
        """The metric the sweep ranks points by: its own, else the config's objective."""
        return self.sweep.metric or self.base.objective

    @property
    def paths(self) -> list[str]:
        return [ALIASES.get(path, path) for path in self.sweep.axes]


def _sweep_errors(source: str, error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"] if p not in ("list[any]", "Range"))
        for part in item["msg"].removeprefix("Value error, ").split("\n"):
            head = part.split(": ", 1)[0]
            if ": " in part and " " not in head:
                lines.append(f"{source}: sweep.{f'{loc}.' if loc else ''}{part}")
            else:
                lines.append(f"{source}: sweep{f'.{loc}' if loc else ''}: {part}")
    return lines


def _missing(tree: Any, parts: list[str]) -> str | None:
    """Why the dotted path `parts` names no field of `tree` (None if it does)."""
    for depth, part in enumerate(parts):
        where = ".".join(parts[: depth + 1])
        if isinstance(tree, dict):
            if part == "*":
                subtrees = list(tree.values())
                rest = [_missing(t, parts[depth + 1 :]) for t in subtrees]
                return next((r for r in rest if r), None)
            if part not in tree:
                known = ", ".join(str(k) for k in tree)
                return f"no such field {where!r} (known here: {known})"
            tree = tree[part]
        elif isinstance(tree, list):
            if not part.isdigit() or int(part) >= len(tree):
                return f"{where!r}: a list of {len(tree)}: give an index below {len(tree)}"
            tree = tree[int(part)]
        else:
            return f"{'.'.join(parts[:depth])!r} is a value, it has no field {part!r}"
    return None


def load_sweep(path: str | Path, text: str | None = None) -> SweepPlan:
    """Read a sweep config: the base config validated, then the sweep section, then every
    axis path checked against the base config's fields. `text`: the file's text already
    read (`read_source`), the very text kept beside the results."""
    path = Path(path)
    source = str(path)
    data = read_yaml(path, text)
    if not isinstance(data, dict):
        parse_config(data, source)  # says what the file holds instead of a config
    if "sweep" not in data:
        raise ConfigError([f"{source}: sweep: missing (a sweep config has a sweep: section)"])
    data = dict(data)
    raw_sweep = data.pop("sweep")
    if "base" in data:  # a config file to sweep, its top-level keys overridden by ours
        base_path = path.parent / str(data.pop("base"))
        try:
            base_data = read_yaml(base_path)
        except ConfigError as error:
            raise ConfigError([f"{source}: base: {line}" for line in error.lines]) from None
        if not isinstance(base_data, dict):
            raise ConfigError([f"{source}: base: {base_path} is not a config mapping"])
        if "sweep" in base_data:  # its own base and sweep would be read as config keys
            raise ConfigError(
                [f"{source}: base: {base_path} is a sweep config; give the config it sweeps"]
            )
        from_base = set(base_data) - set(data)
        data = {**base_data, **data}
    else:
        base_path, from_base = path, set()
    data.setdefault("name", path.stem)
    try:
        base = parse_config(data, source)
    except ConfigError as error:  # a mistake in a key the base file gave is in that file
        raise ConfigError(
            [_in_file(line, source, base_path, from_base) for line in error.lines]
        ) from None
    try:
        sweep = Sweep.model_validate(raw_sweep)
    except ValidationError as error:
        raise ConfigError(_sweep_errors(source, error)) from None
    plan = SweepPlan(base, data, sweep, source)
    tree = base.model_dump(mode="python")
    problems = []
    for given, dotted in zip(sweep.axes, plan.paths, strict=True):
        why = _missing(tree, dotted.split("."))
        if why:
            problems.append(f"{source}: sweep.axes.{loc_part(given)}: {why}")
    if problems:
        raise ConfigError(problems)
    return plan


def _in_file(line: str, source: str, base_path: Path, from_base: set[str]) -> str:
    """A config mistake named in the file that holds it: the base file for a top-level
    key the sweep file does not set."""
    field = line.removeprefix(f"{source}: ").split(":", 1)[0].split(".", 1)[0]
    return f"{base_path}: {line.removeprefix(f'{source}: ')}" if field in from_base else line


def _plain(value: Any) -> Any:
    """numpy scalars as Python ones (YAML and pydantic take those)."""
    return value.item() if isinstance(value, np.generic) else value


def design(sweep: Sweep, seed: int) -> list[dict[str, Any]]:
    """The points: every combination of a grid, or a Latin hypercube sample
    (scipy.stats.qmc, seeded: the same sweep gives the same points)."""
    names = list(sweep.axes)
    if sweep.method == "grid":
        combos = itertools.product(*(sweep.axes[n] for n in names))
        return [dict(zip(names, map(_plain, combo), strict=True)) for combo in combos]
    assert sweep.points is not None
    sample = qmc.LatinHypercube(d=len(names), seed=seed).random(sweep.points)
    points = []
    for row in sample:
        point = {}
        for name, u in zip(names, row, strict=True):
            axis = sweep.axes[name]
            if isinstance(axis, Range) and axis.integer:
                lo, hi = math.ceil(axis.low), math.floor(axis.high)
                point[name] = int(min(hi, lo + math.floor(u * (hi - lo + 1))))
            elif isinstance(axis, Range):
                point[name] = float(axis.low + u * (axis.high - axis.low))
            else:  # a list on a hypercube: each value an equal share of the axis
                point[name] = _plain(axis[min(len(axis) - 1, math.floor(u * len(axis)))])
        points.append(point)
    return points


def _put(tree: Any, parts: list[str], value: Any) -> None:
    """Set the dotted path in a raw config mapping (`*`: every key at that level),
    creating the mappings a config may leave out (a built-in plan's fields)."""
    head, rest = parts[0], parts[1:]
    if head == "*":
        for key in list(tree):
            _put(tree, [key, *rest], value)
        return
    key: Any = int(head) if isinstance(tree, list) else head
    if not rest:
        tree[key] = copy.deepcopy(value)
        return
    if isinstance(tree, dict) and not isinstance(tree.get(key), dict | list):
        tree[key] = {}
    _put(tree[key], rest, value)


def _where(plan: SweepPlan, index: int, point: dict[str, Any]) -> str:
    values = ", ".join(f"{k}={v}" for k, v in point.items())
    return f"{plan.source} (sweep point {index}: {values})"


def point_config(plan: SweepPlan, index: int, point: dict[str, Any]) -> Config:
    """The base config with a point's values put in, validated (errors name the point)."""
    data = copy.deepcopy(plan.data)
    for given, dotted in zip(point, plan.paths, strict=True):
        _put(data, dotted.split("."), point[given])
    return posterior_config(parse_config(data, _where(plan, index, point)))


def _point_chunk(job: tuple[int, tuple[Config, int, int, int]]) -> tuple[int, RunSummary]:
    point, task = job
    return point, _chunk_summary(task)


def run_sweep(
    plan: SweepPlan,
    replications: int | None = None,
    seed: int | None = None,
    block: int | None = None,
    progress: Callable[[int], None] | None = None,
    backend: Backend | None = None,
) -> pd.DataFrame:
    """Simulate every point, all points' chunks on one backend, and tabulate them."""
    sweep = plan.sweep
    replications = replications or sweep.replications or plan.base.replications
    seed = plan.base.seed if seed is None else seed
    points = design(sweep, plan.base.seed if sweep.seed is None else sweep.seed)
    configs = [point_config(plan, i, p) for i, p in enumerate(points)]  # all checked first
    backend = backend or InProcess()
    for index, config in enumerate(configs):  # a point too large is refused before any runs
        check_memory(
            config,
            replications,
            backend.parallelism,
            stream=True,
            source=_where(plan, index, points[index]),
        )
    jobs = [
        (i, task)
        for i, config in enumerate(configs)
        for task in chunks(config, replications, seed, block, backend.parallelism)
    ]
    summaries = [RunSummary() for _ in points]

    def collect(result: tuple[int, RunSummary]) -> None:
        point, summary = result
        summaries[point].merge(summary)
        if progress is not None:
            progress(summary.replications * len(summary.strategies))

    backend.map(_point_chunk, jobs, collect)
    return sweep_table(plan, points, summaries)


def sweep_table(
    plan: SweepPlan, points: list[dict[str, Any]], summaries: list[RunSummary]
) -> pd.DataFrame:
    """One row per point and strategy: the axes' values, then per metric its mean, mcse,
    median, p5, p95 (and pooled and share_infinite for ratios)."""
    rows = []
    for index, (point, summary) in enumerate(zip(points, summaries, strict=True)):
        for strategy in plan.base.strategies:
            row: dict[str, Any] = {"point": index, **point, "strategy": strategy}
            row["replications"] = summary.replications
            for metric in SUMMARY_METRICS:
                stats = summary.strategies[strategy][metric].describe(metric in RATIOS)
                row.update({f"{metric}_{name}": value for name, value in stats.items()})
            rows.append(row)
    table = pd.DataFrame(rows)
    table["strategy"] = pd.Categorical(table["strategy"], categories=list(plan.base.strategies))
    return table


def headline_value(table: pd.DataFrame, metric: str) -> pd.Series:
    """The figure to quote per row: the pooled ratio for a cost per reply (total cost over
    total replies), the mean for anything else."""
    return table[f"{metric}_pooled" if metric in RATIOS else f"{metric}_mean"]


def pareto_front(table: pd.DataFrame) -> pd.DataFrame:
    """Rows no other row beats on both mean cost (lower) and mean meetings (higher),
    cheapest first."""
    ordered = table.sort_values(["cost_mean", "meetings_mean"], ascending=[True, False])
    keep, best = [], -math.inf
    for index, meetings in ordered["meetings_mean"].items():
        if meetings > best:
            keep.append(index)
            best = meetings
    return ordered.loc[keep]


def default_budgets(table: pd.DataFrame) -> list[float]:
    """Three spend levels across the front's costs, rounded to two significant figures."""
    front = pareto_front(table)["cost_mean"].to_numpy()
    levels = np.quantile(front, [0.25, 0.5, 0.75]) if front.size > 1 else front
    out = []
    for level in levels:
        if level > 0:
            digits = 1 - math.floor(math.log10(level))
            out.append(float(round(level, digits)))
    return sorted(set(out))


#: two points' mean meetings within this many standard errors of each other tie (95%)
Z_TIE = 1.959963984540054


def point_label(row: pd.Series | dict, axes: list[str]) -> str:
    """A point named by its axis values: 'accounts=2, hourly_rate=30 (connect)'."""
    values = ", ".join(f"{axis.split('.')[-1]}={_shown(row[axis])}" for axis in axes)
    return f"{values} ({row['strategy']})"


def _shown(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def best_by_budget(
    table: pd.DataFrame, budgets: list[float], axes: list[str] | None = None
) -> pd.DataFrame:
    """For each budget (mean cost over the horizon), the row with the most meetings whose
    mean cost stays within it. Rows whose mean meetings lie within Z_TIE standard errors
    of the most (sqrt(mcse_a^2 + mcse_b^2): the points are not paired here, so this
    errs towards calling a tie) tie with it: the cheapest of them is chosen, and
    `tied_with` names the others. Without an MCSE (one replication a point) none tie."""
    axes = axes if axes is not None else axis_columns(table)
    rows = []
    for budget in budgets:
        within = table[table["cost_mean"] <= budget]
        if within.empty:
            continue
        top = within.loc[within["meetings_mean"].idxmax()]
        noise = Z_TIE * np.hypot(within["meetings_mcse"], top["meetings_mcse"])
        noise = noise.fillna(0.0)  # one replication a point has no MCSE: no tie is claimed
        tied = within[top["meetings_mean"] - within["meetings_mean"] <= noise]
        best = tied.loc[tied["cost_mean"].idxmin()]
        others = [point_label(row, axes) for i, row in tied.iterrows() if i != best.name]
        rows.append(
            {
                "budget": budget,
                **best.to_dict(),
                "tied_with": "; ".join(others),
                "ties": len(others),
            }
        )
    return pd.DataFrame(rows)


def axis_columns(table: pd.DataFrame) -> list[str]:
    """The axis columns of a sweep table: those between `point` and `strategy`."""
    columns = list(table.columns)
    return columns[columns.index("point") + 1 : columns.index("strategy")]


@dataclass(frozen=True)
class Inert:
    """An axis whose every change moves neither mean meetings nor mean cost beyond the
    noise; the widest spreads seen, for the sentence."""

    axis: str
    meetings_spread: float
    cost_spread: float


def inert_axes(table: pd.DataFrame, axes: list[str] | None = None) -> list[Inert]:
    """The axes with no effect beyond the noise: for every strategy and every setting of
    the other axes, the points along the axis keep their mean meetings and mean cost
    within Z_TIE x sqrt(2) x their largest MCSE of each other (what two points with the
    same truth reach in 95% of sweeps). Only axes with at least two values met at the
    same setting of the others (a grid) can be judged; a Latin hypercube's cannot."""
    axes = axes if axes is not None else axis_columns(table)
    out = []
    for axis in axes:
        others = [a for a in axes if a != axis]
        keys = ["strategy", *others]
        judged, inert = False, True
        spreads = {"meetings": 0.0, "cost": 0.0}
        for _, group in table.groupby(keys, observed=True, sort=False, dropna=False):
            if group[axis].nunique() < 2:
                continue
            judged = True
            for metric in spreads:
                mean, mcse = group[f"{metric}_mean"], group[f"{metric}_mcse"]
                spread = float(mean.max() - mean.min())
                spreads[metric] = max(spreads[metric], spread)
                if not spread <= Z_TIE * math.sqrt(2) * float(mcse.max()):
                    inert = False
        if judged and inert:
            out.append(Inert(axis, spreads["meetings"], spreads["cost"]))
    return out
