"""The report of a results folder: ``report.html`` and ``report.md`` with its charts.

A sales lead reads the HTML (one self-contained file, charts embedded): the scenario,
the headline table, the charts, the paired comparisons, the full summary and the
assumptions with their sources. ``report.md`` says the same and links the PNGs (and
SVGs) in ``charts/``. The report is built from the folder's files alone, so
``outreach-sim report DIR`` on any results folder gives what ``run`` gives, and it is
written beside them atomically: built in a hidden folder, then moved into place.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator import charts
from simulator.api import cost_scope
from simulator.assumptions import assumptions_table
from simulator.config import Config, load_config
from simulator.decision import (
    acceptability,
    incremental_table,
    switches,
    trade_offs,
    value_grid,
)
from simulator.decision_charts import acceptability_chart, ce_plane_chart
from simulator.document import Bullets, Document, Figure, Heading, Paragraph, Table, to_html
from simulator.document import to_markdown as document_markdown
from simulator.folders import (
    FolderError,
    edited_files,
    exchange,
    foreign_files,
    make_staging,
    record_files,
    recorded_files,
    remove_stale,
)
from simulator.metrics import RATIOS
from simulator.output import SOURCE_FILE, check_files
from simulator.sensitivity import (
    is_constant,
    readable_sensitivity,
    sensitivity_table,
    too_few_replications,
    uses,
)
from simulator.sensitivity_chart import tornado_chart
from simulator.tables import (
    POOLED_NOTE,
    headline_table,
    label,
    money,
    number,
    readable_summary,
    summary_table,
)
from simulator.uncertainty import COLUMN_PREFIX
from simulator.verdict import (
    PRACTICAL,
    WORDS,
    Z_TIE,
    Paired,
    about,
    net_benefit,
    objective_verdict,
    verdict_sentence,
)
from simulator.weekly import (
    invitation_days,
    sends_invitations,
    traced_replications,
    untraced_reason,
)
from simulator.workers import die_with

CHARTS_FOLDER = "charts"
REPORT_FILES = ("report.html", "report.md")


@dataclass
class SavedRun:
    """A results folder read back: the config as it ran, the seed and the tables."""

    folder: Path
    config: Config
    seed: int
    replications: int
    runs: pd.DataFrame
    monthly: pd.DataFrame
    meta: dict[str, Any]
    source_text: str | None


def read_folder(folder: Path) -> SavedRun:
    """Read a results folder written by ``outreach-sim run``."""
    folder = Path(folder)
    meta = json.loads((folder / "run.json").read_text())
    if (folder / "sweep.json").is_file():  # it said config.yaml could not be read
        raise FolderError(
            f"{folder}: a sweep's folder: its sweep.csv, best_by_budget.csv and charts/ are "
            "its results; report builds the report of a run's folder"
        )
    if meta.get("per_replication_files") is False:
        raise FolderError(
            f"{folder}: a streamed run (--stream) keeps no replications, so it has no report"
        )
    check_files(folder, meta)
    source = folder / SOURCE_FILE
    return SavedRun(
        folder=folder,
        config=load_config(folder / "config.yaml"),
        seed=int(meta["seed"]),
        replications=int(meta["replications"]),
        runs=pd.read_parquet(folder / "runs.parquet"),
        monthly=pd.read_parquet(folder / "monthly.parquet"),
        meta=meta,
        source_text=source.read_text(encoding="utf-8") if source.exists() else None,
    )


@dataclass
class ChartSpec:
    """A chart of the report: its file name, title, how to read it, and how to draw it
    (a module-level function and its arguments, so that another process can draw it)."""

    name: str
    title: str
    caption: str
    draw: Callable[..., Any]
    args: tuple
    slow: bool = False  # a re-simulation: handed to a helper process first


def _acceptability_figure(runs: pd.DataFrame, value_per_meeting: float | None) -> Any:
    curve = acceptability(runs, value_grid(runs))
    return acceptability_chart(curve, incremental_table(runs), value_per_meeting)


def _invitation_figure(config: Config, seed: int, traced: int) -> Any:
    return charts.invitation_chart(invitation_days(config, seed, traced), config)


def _draw_and_save(spec: ChartSpec, folder: Path) -> None:
    charts.save(spec.draw(*spec.args), folder, spec.name)


#: the charts of the report being drawn, set before the helper processes are forked so
#: that they inherit the tables: a task sends only a chart's index, never the tables
_INHERITED: list[ChartSpec] = []


def _draw_inherited(index: int, folder: Path) -> None:
    _draw_and_save(_INHERITED[index], folder)


def _quiet_worker(parent: int) -> None:
    """A helper process leaves Ctrl-C to the main process, which stops it at once, and
    dies with it (no BrokenPipe traceback from a helper whose parent was killed)."""
    die_with(parent)


def _helper_pool() -> tuple[Any, int]:
    """Forked helper processes, one per spare core (up to 3), and their number.

    Forking shares the imported modules and the tables; where fork is unavailable, or
    there is one core, every chart is drawn in this process."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    helpers = min(3, (cores or 1) - 1)
    if helpers < 1 or "fork" not in multiprocessing.get_all_start_methods():
        return None, 0
    context = multiprocessing.get_context("fork")
    return context.Pool(helpers, initializer=_quiet_worker, initargs=(os.getpid(),)), helpers


def _share_out(specs: list[ChartSpec], helpers: int) -> list[bool]:
    """Which charts the helpers draw: the slow ones first, then others while the helpers'
    share of the work (a re-simulation counting as three charts) stays below this
    process's."""
    on_helper = [False] * len(specs)
    if helpers < 1:
        return on_helper
    cost = [3 if spec.slow else 1 for spec in specs]
    load = {"main": 0.0, "helpers": 0.0}
    for i in sorted(range(len(specs)), key=lambda i: -cost[i]):
        helper_load = (load["helpers"] + cost[i]) / helpers
        if specs[i].slow or helper_load < load["main"] + cost[i]:
            on_helper[i] = True
            load["helpers"] += cost[i]
        else:
            load["main"] += cost[i]
    return on_helper


def _chart_specs(saved: SavedRun) -> tuple[list[ChartSpec], list[str]]:
    """The charts this run can show, and a sentence for each one it cannot."""
    config, runs, monthly = saved.config, saved.runs, saved.monthly
    traced = traced_replications(config, saved.replications)
    objective = config.objective
    what, counted = WORDS[objective]
    several = len(config.strategies) > 1
    skipped = []
    specs = []
    if several:
        specs.append(
            ChartSpec(
                "acceptability",
                "When each strategy pays best, by what a meeting is worth",
                "For each value of a meeting, the share of replications in which each "
                "strategy gives the highest net benefit (value × meetings − cost); the thick "
                "stretch is the strategy with the highest expected net benefit there. Dashed "
                "lines: the values at which a dearer strategy starts to pay off (the "
                "incremental costs per extra meeting below).",
                _acceptability_figure,
                (runs, config.value_per_meeting),
            )
        )
    specs.append(
        ChartSpec(
            objective,
            f"{what.capitalize()}, run by run",
            f"Left: how the {what} varies from one simulated campaign to the next, over the "
            f"runs with at least one {counted}. Right: the share of all runs at or below each "
            f"cost; the curve stops short of 100% by the share of runs with no {counted} "
            f"({what} infinite), which the legend counts.",
            charts.cost_per_reply_chart,
            (runs, objective),
        )
    )
    if several:
        best = objective_verdict(runs, objective)
        specs.append(
            ChartSpec(
                "paired_differences",
                f"Each strategy against the best, {best.best}, replication by replication",
                "Each panel: the difference A − B within the same replication (the same "
                "prospects and the same luck), with the share of runs each strategy wins. "
                "The black line marks no difference, the dashed one the mean of the "
                "differences, replication by replication: not the difference of the pooled "
                "figures in the table above, where a campaign with many meetings weighs more. "
                "Every other pair is in summary.json (comparisons).",
                charts.paired_chart,
                (runs, (objective,), [(best.best, p.other) for p in best.pairs]),
            )
        )
        specs.append(
            ChartSpec(
                "cost_effectiveness_plane",
                "Extra cost against extra meetings",
                "Each dot is one replication: a strategy's extra cost and extra meetings over "
                "the cheapest strategy in the same replication; the crosses are the means.",
                ce_plane_chart,
                (runs, config.value_per_meeting),
            )
        )
    else:
        skipped.append(
            "Acceptability, paired differences, the cost-effectiveness plane: the config has "
            "one strategy."
        )
    specs += [
        ChartSpec(
            "replies_meetings_per_month",
            "Replies and meetings per month",
            "The line is the median month over the replications; the dark band holds the "
            "middle 50% of runs and the light band 90%.",
            charts.monthly_fan_chart,
            (monthly,),
        ),
    ]
    if charts.credit_strategies(monthly):
        specs.append(
            ChartSpec(
                "inmail_credits",
                "InMail credits",
                "Top: the credit balance at each month's end (median and bands over runs), "
                "with the plan's banking cap. Bottom: the credits of a month, as means over "
                "runs: grants and refunds in (up), and spent, forfeited (a grant over the cap) "
                f"and expired ({config.inmail.credit_expiry_days} days unused) out (down).",
                charts.credit_chart,
                (monthly, config),
            )
        )
    else:
        skipped.append("InMail credits: no strategy here is on a plan that grants credits.")
    requests = any(sends_invitations(config, s) for s in config.strategies)
    if requests and traced == 0:
        skipped.append(f"Invitations per week: {untraced_reason(config)}.")
    elif requests:
        specs.append(
            ChartSpec(
                "invitations_per_week",
                "Invitations per week, the limit in force and account health",
                f"The first {traced:,} replications re-run day by day (the same numbers as "
                "in the tables). Top: connection requests sent per week against the limit in "
                "force over a rolling 7 days, which account health scales down. Bottom: the "
                "acceptance rate over the health window that sets it. In the first weeks only "
                "quick acceptances have resolved (withdrawals come at the end of the "
                "invitation window), so the rate starts high.",
                _invitation_figure,
                (config, saved.seed, traced),
                slow=True,
            )
        )
    else:
        skipped.append("Invitations per week: no strategy here sends connection requests.")
    specs.append(
        ChartSpec(
            "funnel",
            "From touches to meetings",
            "Means per replication over the horizon: touches sent by kind, prospects "
            "contacted, invitations accepted, replies, positive replies and meetings, with "
            "each stage's conversion.",
            charts.funnel_chart,
            (runs, config.horizon_months),
        )
    )
    drivers = _drivers(runs, objective, config)
    if drivers is None:
        skipped.append(f"What drives {what}: no rate of the config is a distribution.")
    else:
        for i, strategy in enumerate(config.strategies):
            if not (drivers["strategy"].astype(str) == strategy).any():
                own = runs.loc[runs["strategy"].astype(str) == strategy, objective].to_numpy()
                used = [
                    c
                    for c in runs.columns
                    if c.startswith(COLUMN_PREFIX) and uses(config, strategy, c)
                ]
                why = (
                    f"the {what} is the same in every replication"
                    + (f" (no {counted} in any)" if np.isinf(own).all() else "")
                    if is_constant(own)
                    else too_few_replications(len(own), len(used))
                    or "it uses no uncertain parameter"
                )
                skipped.append(f"What drives {what}, {strategy}: {why}.")
                continue
            specs.append(
                ChartSpec(
                    f"what_drives_cost_{i + 1}",
                    f"What drives {what}: {strategy}",
                    "Each bar is an uncertain parameter's partial rank correlation with the "
                    f"{what} over the replications, the others held fixed: a long "
                    "bar matters, a short one does not; red raises the cost, blue lowers it.",
                    tornado_chart,
                    (drivers, strategy),
                )
            )
    return specs, skipped


def _drivers(
    runs: pd.DataFrame, objective: str = "cost_per_meeting", config: Config | None = None
) -> pd.DataFrame | None:
    """The sensitivity table of the run's drawn parameters (None: nothing was drawn)."""
    if not any(c.startswith(COLUMN_PREFIX) for c in runs.columns):
        return None
    return sensitivity_table(runs, objective, config)


def _route(entry: Any) -> str:
    """A playbook entry in a few words: 'mid: connect (note) + 2 messages on acceptance',
    and its Open Profile route if it has one ('..., to an Open Profile: inmail')."""

    def touch(t: Any) -> str:
        text = t.kind
        if getattr(t, "note", False):
            text += " (note)"
        if getattr(t, "reinvite", False):
            text += " (re-invite)"
        messages = getattr(t, "on_accept", None)
        if messages:
            text += f" + {len(messages)} message{'s' if len(messages) > 1 else ''} on acceptance"
        return text

    text = f"{entry.segment}: " + " → ".join(touch(t) for t in entry.touches)
    if entry.open_profile_touches:
        # a comma, not "; ": a semicolon separates segments, and "Open Profiles" read as one
        text += ", to an Open Profile: " + " → ".join(touch(t) for t in entry.open_profile_touches)
    return text


def _scenario_tables(config: Config) -> tuple[pd.DataFrame, pd.DataFrame]:
    segments = pd.DataFrame(
        [
            {
                "segment": name,
                "prospects at the start": "unlimited" if s.unlimited else f"{s.size:,}",
                "added each month": f"{s.new_per_month:,}",
                "Open Profile share": f"{s.open_profile_share:.0%}",
            }
            for name, s in config.segments.items()
        ]
    )
    rows = []
    for name, strategy in config.strategies.items():
        plan = config.plans[strategy.plan]
        pace = {k: v for k, v in strategy.daily_pace.model_dump().items() if v is not None}
        rows.append(
            {
                "strategy": name,
                "plan": strategy.plan,
                "price per seat per month": money(plan.price_per_month),
                "InMail credits per month": plan.credits_per_month,
                "daily pace": ", ".join(f"{k} {v}" for k, v in pace.items()) or "none",
                "route": "; ".join(_route(entry) for entry in strategy.playbook),
            }
        )
    return segments, pd.DataFrame(rows)


def _draw_charts(
    specs: list[ChartSpec], folder: Path, progress: Callable[[int, int], None] | None
) -> None:
    """Draw and save every chart, sharing them with helper processes on spare cores."""
    folder.mkdir(parents=True, exist_ok=True)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, len(specs))

    if progress is not None:
        progress(0, len(specs))
    global _INHERITED
    _INHERITED = specs
    pool, helpers = _helper_pool() if len(specs) > 1 else (None, 0)
    try:
        on_helper = _share_out(specs, helpers)
        pending = [
            pool.apply_async(_draw_inherited, (i, folder))
            for i in range(len(specs))
            if on_helper[i]
        ]
        for i, spec in enumerate(specs):
            if not on_helper[i]:
                _draw_and_save(spec, folder)
                tick()
        for result in pending:
            result.get()
            tick()
    finally:
        _INHERITED = []
        if pool is not None:
            pool.terminate()
            pool.join()


def _against_best(runs: pd.DataFrame, objective: str) -> pd.DataFrame:
    """Each strategy against the best on the objective (display strings)."""
    verdict = objective_verdict(runs, objective)
    what = WORDS[objective][0]
    rows = []
    for pair, standing in zip(verdict.pairs, verdict.standings[1:], strict=True):
        rows.append(
            {
                "strategy": pair.other,
                f"{what}, pooled": money(standing.pooled),
                f"above {pair.best}": "n/a (neither got one)"
                if pair.neither_counted
                else f"{money(pair.difference)} ± {money(Z_TIE * pair.mcse)}",
                f"{pair.best} lower in": f"{pair.share_best_better:.0%} of replications",
                "this one lower in": f"{pair.share_other_better:.0%}",
                "told apart at this precision?": _told_apart(pair, WORDS[objective][1]),
            }
        )
    return pd.DataFrame(rows)


def _told_apart(pair: Paired, counted: str) -> str:
    """Whether the paired difference is told from 0, and if not why not."""
    if pair.negligible:
        equal = f"practically equal (under {PRACTICAL:.0%})"
        return f"yes, but {equal}" if pair.settled else f"no: {equal}"
    if pair.settled:
        return "yes"
    if pair.neither_counted:
        return f"no: neither got a {counted}"
    if pair.identical:
        return "no: identical"
    if pair.precision_unknown:
        return "no: one replication cannot measure its precision"
    needed = pair.replications_needed
    if math.isinf(needed):
        return "no: no number of replications would separate them"
    return f"no: {about(needed)} replications needed"


def _incremental_rows(table: pd.DataFrame, effect: str) -> pd.DataFrame:
    """The incremental table (decision.incremental_table) as display strings."""
    unit = "meeting" if effect == "meetings" else "reply"
    rows = []
    for row in table.to_dict(orient="records"):
        icer = ""
        if isinstance(row["compared_with"], str):
            low, high = row["icer_low"], row["icer_high"]
            bounded = math.isfinite(low) and math.isfinite(high)
            interval = f"{money(low)} to {money(high)}" if bounded else "unbounded"
            icer = f"{money(row['icer'])} ({interval})"
        rows.append(
            {
                "strategy": row["strategy"],
                "mean cost": money(row["cost"]),
                f"mean {effect}": number(row["effect"]),
                "status": row["status"],
                "compared with": row["compared_with"]
                if isinstance(row["compared_with"], str)
                else "",
                f"extra {effect}": number(row["incremental_effect"])
                if isinstance(row["compared_with"], str)
                else "",
                f"extra cost per extra {unit} (95% interval)": icer,
            }
        )
    return pd.DataFrame(rows)


def _net_benefit_rows(runs: pd.DataFrame, value: float) -> pd.DataFrame:
    values = net_benefit(runs, value)
    top = values.to_numpy() == values.to_numpy().max(axis=1, keepdims=True)
    share = (top / top.sum(axis=1, keepdims=True)).mean(axis=0)
    rows = []
    for j, strategy in enumerate(values.columns):
        column = values[strategy]
        mcse = column.std(ddof=1) / math.sqrt(len(column)) if len(column) > 1 else math.nan
        rows.append(
            {
                "strategy": strategy,
                "expected net benefit": f"{money(column.mean())} ± {money(Z_TIE * mcse)}",
                "5th - 95th percentile": f"{money(column.quantile(0.05))} - "
                f"{money(column.quantile(0.95))}",
                "highest in": f"{share[j]:.0%} of replications",
            }
        )
    return pd.DataFrame(rows)


def build(
    saved: SavedRun, into: Path, progress: Callable[[int, int], None] | None = None
) -> Document:
    """Draw the charts into `into`/charts and return the report as a document: the answer
    first (the verdict, the headline table, the acceptability curve), then the evidence."""
    config, runs = saved.config, saved.runs
    objective, months = config.objective, config.horizon_months
    what = WORDS[objective][0]
    specs, skipped = _chart_specs(saved)
    _draw_charts(specs, Path(into) / CHARTS_FOLDER, progress)
    figures = {
        spec.name: Figure(
            spec.title,
            spec.caption,
            f"{CHARTS_FOLDER}/{spec.name}.png",
            f"{CHARTS_FOLDER}/{spec.name}.svg",
        )
        for spec in specs
    }
    several = len(config.strategies) > 1
    doc = Document(f"{config.name}: which strategy, and how sure")
    doc.add(
        Paragraph(verdict_sentence(runs, objective, config.value_per_meeting, months), strong=True),
    )
    if several:
        said = trade_offs(runs, months, config.value_per_meeting)
        if said:
            doc.add(Paragraph(" ".join(said)))
    scope = cost_scope(config)
    if scope is not None:
        doc.add(Paragraph(f"{scope}."))
    doc.add(
        Table(
            headline_table(runs, months, objective, config.value_per_meeting),
            note=f"{saved.replications:,} simulated campaigns of {months} months per "
            f"strategy. Pooled: total cost over total {label(RATIOS[objective]).lower()}, the "
            "long-run figure to quote; the percentiles say how far one campaign can stray.",
        ),
    )
    if "acceptability" in figures:
        doc.add(figures["acceptability"])
    doc.add(Heading("The evidence"))
    if several:
        doc.add(
            Heading(f"Each strategy against the best on {what}", 3),
            Paragraph(
                "All strategies ran on common random numbers: replication i of each met the "
                "same prospects with the same latent responses, so each is compared with the "
                "best within each replication. The difference is that of the pooled figures, "
                "± its 95% Monte Carlo margin from the paired replications; every other pair "
                "and metric is in summary.json (comparisons)."
            ),
            Table(_against_best(runs, objective)),
            figures["paired_differences"],
            Heading("What an extra meeting costs", 3),
        )
        for effect in ("meetings", "replies"):
            table = incremental_table(runs, effect)
            unit = "meeting" if effect == "meetings" else "reply"
            said = [
                f"{s['strategy']} pays off over {s['over']} once a {unit} is worth more than "
                f"{money(float(s['value']))}"
                for s in switches(table)
            ]
            doc.add(
                Table(
                    _incremental_rows(table, effect),
                    note=("; ".join(said) + ". " if said else "")
                    + "Cheapest first; a dominated strategy costs more for fewer "
                    f"{effect}, an extendedly dominated one buys them dearer than a mix of "
                    "its neighbours (docs/report.md).",
                )
            )
        doc.add(figures["cost_effectiveness_plane"])
        if config.value_per_meeting is not None:
            doc.add(
                Heading(f"Net benefit at {money(config.value_per_meeting)} a meeting", 3),
                Table(
                    _net_benefit_rows(runs, config.value_per_meeting),
                    note="value × meetings − cost per replication, over the horizon; ± the "
                    "95% Monte Carlo margin of the mean.",
                ),
            )
    doc.add(Heading("Charts", 3))
    for spec in specs:
        if spec.name not in ("acceptability", "paired_differences", "cost_effectiveness_plane"):
            if not spec.name.startswith("what_drives_cost_"):
                doc.add(figures[spec.name])
    if skipped:
        doc.add(Paragraph("Not drawn for this run:"), Bullets(skipped))
    drivers = _drivers(runs, objective, config)
    if drivers is not None and not drivers.empty:
        doc.add(
            Heading(f"What drives {what}", 3),
            Table(
                readable_sensitivity(drivers),
                note=f"Partial rank correlation of each parameter drawn per replication with "
                f"the {what}, the other parameters held fixed: +1 raises it, −1 lowers it; "
                "rank 1 matters most. Only the parameters a strategy can use are ranked for "
                "it. A correlation inside the noise band (what a parameter without influence "
                f"reaches in 95% of runs at {saved.replications:,} replications) is not told "
                f"from none. A replication with no {WORDS[objective][1]} ranks above every "
                "finite cost.",
            ),
        )
        for spec in specs:
            if spec.name.startswith("what_drives_cost_"):
                doc.add(figures[spec.name])
    doc.add(
        Heading("Summary over replications", 3),
        _folded(readable_summary(summary_table(runs)), SUMMARY_NOTE + " " + POOLED_NOTE),
    )
    segments, strategies = _scenario_tables(config)
    doc.add(Heading("The scenario", 3), Table(segments), Table(strategies))
    doc.add(
        Heading("Assumptions and their sources", 3),
        _folded(
            assumptions_table(config.model_dump(mode="json"), saved.source_text),
            "Sources are the comments of the config file as written (config_source.yaml). "
            "Every key is explained in docs/config.md.",
        ),
    )
    meta = saved.meta
    doc.add(
        Heading("How this was run", 3),
        Paragraph(
            f"{saved.replications:,} simulated campaigns of {months} months for each of "
            f"{len(config.strategies)} strateg{'ies' if several else 'y'}, "
            f"{config.accounts} sending seat{'s' if config.accounts > 1 else ''}, seed "
            f"{saved.seed}. Made by outreach-sim {meta.get('package_version', '?')} "
            f"(finished {meta.get('finished_utc', '?')}) with: "
            f"{' '.join(str(c) for c in meta.get('command', []))}"
        ),
    )
    return doc


def _folded(frame: pd.DataFrame, note: str) -> Table:
    """A long reference table, folded in the HTML behind a line that says what it holds."""
    return Table(frame, note=note, folded=f"Show the table ({len(frame):,} rows)")


SUMMARY_NOTE = (
    "mcse: Monte Carlo standard error of the mean; the 95% interval is for the mean (mean ± "
    "1.96 mcse), not for one campaign (see the percentiles). Means of cost-per ratios are "
    "over the runs where the ratio is finite, percentiles over all runs."
)


def write_report(
    folder: Path, progress: Callable[[int, int], None] | None = None
) -> dict[str, Path]:
    """Build the report of a results folder and move it into place whole.

    Nothing of an earlier report is replaced until the new one is complete; a failure
    leaves the folder as it was (the simulation's files are never touched)."""
    folder = Path(folder)
    saved = read_folder(folder)
    ours = set(recorded_files(folder))
    replaced = (*REPORT_FILES, CHARTS_FOLDER)  # the charts folder is replaced whole
    theirs = [n for n in foreign_files(folder) if n.split("/")[0] in replaced]
    if ours and theirs:  # never a file of yours: a report.md of your own, a chart you added
        raise FolderError(
            f"{folder}: holds files outreach-sim did not write where the report goes "
            f"({', '.join(theirs[:3])}); move them, and build the report again"
        )
    charts = folder / CHARTS_FOLDER
    if not ours and charts.is_dir():  # no list (copied without its hidden files, or from
        # an earlier version): what this report draws is known by name, anything else not
        drawn = {f"{name}.{kind}" for name in chart_names(saved) for kind in ("png", "svg")}
        theirs = [
            f"{CHARTS_FOLDER}/{entry.name}"
            for entry in sorted(charts.iterdir())
            if entry.name not in drawn or entry.is_symlink() or not entry.is_file()
        ]
        if theirs:
            raise FolderError(
                f"{folder}: its {CHARTS_FOLDER}/ holds files this report does not draw "
                f"({', '.join(theirs[:3])}) and the folder has no list of what outreach-sim "
                "wrote, so they may be yours: move them, and build the report again"
            )
    edited = [n for n in edited_files(folder) if n.split("/")[0] in replaced]
    if edited:  # nor a chart annotated under its own name, notes typed into report.md
        raise FolderError(
            f"{folder}: holds report files changed since outreach-sim wrote them "
            f"({', '.join(edited[:3])}); move them, and build the report again"
        )
    remove_stale(folder)  # a report killed half way left its staging folder
    staging = make_staging(folder, "report")
    try:
        doc = build(saved, staging, progress)
        (staging / "report.md").write_text(document_markdown(doc), encoding="utf-8")
        (staging / "report.html").write_text(to_html(doc, staging), encoding="utf-8")
        target = folder / CHARTS_FOLDER
        if target.exists():  # the new charts in, the old ones into the staging folder
            exchange(staging / CHARTS_FOLDER, target)
        else:
            os.replace(staging / CHARTS_FOLDER, target)
        for name in REPORT_FILES:
            os.replace(staging / name, folder / name)
        if ours:  # a folder from before the list of files keeps none
            charts = [f"{CHARTS_FOLDER}/{p.name}" for p in target.iterdir() if p.is_file()]
            record_files(folder, [*REPORT_FILES, *charts])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {name: folder / name for name in REPORT_FILES}


def chart_names(saved: SavedRun) -> list[str]:
    """The file names (without extension) of the charts the report of `saved` draws."""
    return [spec.name for spec in _chart_specs(saved)[0]]
