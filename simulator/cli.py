"""The command line: ``outreach-sim run``, ``sweep``, ``report``, ``validate`` and ``calibrate``.

A thin shell around the API. A config mistake prints one line per error (file, field
path, reason) and exits with code 2, never a traceback; Ctrl-C stops with one line.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from simulator import __version__
from simulator.config import ConfigError, load_config, read_source

if TYPE_CHECKING:
    from simulator.api import Results

EXIT_CONFIG = 2
EXIT_REPORT_FAILED = 1
EXIT_FAILED = 1  # the machine failed the run (a full disk), not the input
EXIT_INTERRUPTED = 130


#: --force never reaches past what this tool wrote (simulator.folders, calibration)
FORCE_HELP = (
    "replace an existing --out, only if outreach-sim wrote it (never another file or "
    "folder, nor through a link)"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="outreach-sim",
        description="Monte Carlo simulator of LinkedIn outreach campaigns.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="simulate a config and write a results folder")
    run_cmd.add_argument("config", type=Path, help="a YAML config (see docs/config.md)")
    run_cmd.add_argument("--runs", type=int, help="replications (default: the config's)")
    run_cmd.add_argument("--seed", type=int, help="seed (default: the config's)")
    run_cmd.add_argument(
        "--out", type=Path, help="results folder (default: results/<config>-<time>)"
    )
    run_cmd.add_argument("--force", action="store_true", help=FORCE_HELP)
    run_cmd.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes to run blocks on; the numbers are the same for any count "
        "(default 1: the engine already uses every core)",
    )
    _add_backend_options(run_cmd)
    run_cmd.add_argument(
        "--stream",
        action="store_true",
        help="keep only the summary (summary.json, no runs.parquet, monthly.parquet nor "
        "report): memory stays flat whatever --runs; percentiles within 0.5%%",
    )
    run_cmd.add_argument("--quiet", action="store_true", help="no progress bar, no table")
    run_cmd.add_argument(
        "--no-report",
        action="store_true",
        help="write the data files only (build the report later with: outreach-sim report DIR)",
    )
    _add_event_options(run_cmd)
    sweep_cmd = commands.add_parser(
        "sweep",
        help="run a config at every point of its sweep: section (a grid or a Latin "
        "hypercube) and write a table and charts",
    )
    sweep_cmd.add_argument("config", type=Path, help="a config with a sweep: section")
    sweep_cmd.add_argument(
        "--runs", type=int, help="replications per point (default: sweep.replications)"
    )
    sweep_cmd.add_argument("--seed", type=int, help="seed (default: the config's)")
    sweep_cmd.add_argument(
        "--out", type=Path, help="results folder (default: results/<config>-sweep-<time>)"
    )
    sweep_cmd.add_argument("--force", action="store_true", help=FORCE_HELP)
    sweep_cmd.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes (default 1: the engine already uses every core)",
    )
    _add_backend_options(sweep_cmd)
    sweep_cmd.add_argument("--quiet", action="store_true", help="no progress bar, no table")
    report_cmd = commands.add_parser(
        "report", help="write report.html and report.md (charts in charts/) into a results folder"
    )
    report_cmd.add_argument("folder", type=Path, help="a results folder written by run")
    report_cmd.add_argument("--quiet", action="store_true", help="no progress bar")
    validate = commands.add_parser("validate", help="check a config without running it")
    validate.add_argument(
        "config", type=Path, help="a YAML config, or one with a sweep: section (docs/config.md)"
    )
    calibrate = commands.add_parser(
        "calibrate",
        help="update the rates' priors with the segments' observed results, or fit rates "
        "and delays to a campaign's events (--events); print and write the posteriors",
    )
    calibrate.add_argument(
        "config",
        type=Path,
        help="a YAML config whose segments have observed: results, or whose rates --events "
        "informs (docs/config.md, docs/calibration.md)",
    )
    calibrate.add_argument(
        "--events",
        type=Path,
        metavar="FILE",
        help="a campaign's events, one row per touch (CSV or parquet; docs/calibration.md): "
        "writes a calibrated config",
    )
    calibrate.add_argument(
        "--mapping",
        type=Path,
        metavar="YAML",
        help="with --events: the tool's column names, date format and touch names",
    )
    calibrate.add_argument(
        "--export-date",
        type=_date,
        metavar="YYYY-MM-DD",
        help="with --events: the day the file was exported (when no column gives it)",
    )
    calibrate.add_argument(
        "--out",
        type=Path,
        help="file to write (default beside the config: <config>.posterior.csv, or "
        "<config>.calibrated.yaml with --events)",
    )
    calibrate.add_argument("--force", action="store_true", help=FORCE_HELP)
    return parser


def _add_backend_options(command: argparse.ArgumentParser) -> None:
    """--scheduler and --chunk, shared by run and sweep (--workers is each one's own)."""
    command.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the chunks on Dask: 'local' starts a local cluster of --workers processes "
        "(default 2), an address (tcp://host:8786) uses a running `dask scheduler`",
    )
    command.add_argument(
        "--chunk",
        type=int,
        metavar="N",
        help="replications per chunk (default: as many as fit in memory, one chunk per "
        "worker at least); the numbers are the same for any chunk size",
    )


def _add_event_options(command: argparse.ArgumentParser) -> None:
    """--events, --export-day and --start-date: a run's events in the schema of
    docs/calibration.md (simulator.events)."""
    command.add_argument(
        "--events",
        type=int,
        metavar="N",
        help="also write the events of the first N replications, one row per touch "
        "(events-<strategy>.csv in the results folder; docs/calibration.md)",
    )
    command.add_argument(
        "--export-day",
        type=int,
        metavar="D",
        help="with --events: the export as taken at the end of day D (touches and outcomes "
        "after it not yet known; default: the horizon's last day)",
    )
    command.add_argument(
        "--start-date",
        type=_date,
        metavar="YYYY-MM-DD",
        help="with --events: the calendar date of day 0 (default 2026-01-05)",
    )


def _date(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _check_event_options(args: argparse.Namespace, config, replications: int) -> None:
    """--events within the run's replications, --export-day within its horizon."""
    if args.events is None:
        if args.export_day is not None or args.start_date is not None:
            raise ConfigError(["--export-day, --start-date: only with --events N"])
        return
    if not 1 <= args.events <= replications:
        raise ConfigError([f"--events: must be 1 to {replications} (--runs), got {args.events}"])
    last = config.horizon_days - 1
    if args.export_day is not None and not 0 <= args.export_day <= last:
        raise ConfigError(
            [f"--export-day: must be 0 to {last} (the horizon), got {args.export_day}"]
        )
    import datetime as dt

    latest = dt.date.max - dt.timedelta(days=last)  # the horizon's dates are calendar dates
    if args.start_date is not None and args.start_date > latest:
        raise ConfigError([f"--start-date: must be {latest} or earlier, got {args.start_date}"])


def _events_writer(config, args: argparse.Namespace, seed: int):
    """Write each strategy's events into the results folder as it is staged."""
    from simulator.events import DEFAULT_START, events_file_name, write_campaign_export

    def write(folder: Path) -> None:
        for strategy in config.strategies:
            write_campaign_export(
                config,
                strategy,
                args.events,
                seed,
                args.export_day,
                args.start_date or DEFAULT_START,
                folder / events_file_name(strategy),
            )

    return write


def _check_run_options(args: argparse.Namespace) -> None:
    """--runs, --seed, --workers, --chunk and --scheduler, shared by run and sweep: each
    within the bounds a config's own numbers have (docs/config.md)."""
    from simulator.config import MOST_COUNT

    problems = []
    for option, value, low, high in (
        ("--runs", args.runs, 1, MOST_COUNT),
        ("--seed", args.seed, 0, 2**63 - 1),
        ("--workers", args.workers, 1, 1024),
        ("--chunk", args.chunk, 1, MOST_COUNT),
    ):
        if value is not None and value < low:
            problems.append(f"{option}: must be at least {low}, got {value}")
        elif value is not None and value > high:
            problems.append(f"{option}: must be at most {high:,}, got {value:,}")
    threads = os.environ.get("OUTREACH_SIM_THREADS", "").strip()
    if threads and not (threads.isdigit() and int(threads) >= 1):
        problems.append(
            f"OUTREACH_SIM_THREADS: expected a whole number of threads (1 or more), got {threads!r}"
        )
    if problems:
        raise ConfigError(problems)
    if args.scheduler not in (None, "local"):  # one line now, not a traceback later
        from simulator.backends import check_reachable

        check_reachable(args.scheduler)


def _open_backend(args: argparse.Namespace, replications: int):
    from simulator.backends import open_backend

    if args.scheduler == "local":
        return open_backend(args.workers or 2, "local")
    return open_backend(args.workers or default_workers(replications), args.scheduler)


def headline_table(results: Results) -> str:
    """The figures a sales lead asks for first, one line per strategy, led by the
    config's objective (cost per meeting by default), then each strategy against the best."""
    from simulator.metrics import RATIOS
    from simulator.tables import money
    from simulator.verdict import WORDS

    objective = results.config.objective
    what, counted = WORDS[objective]
    s = results.summary.set_index(["strategy", "metric"])
    months = results.config.horizon_months
    width = max(8, *(len(name) for name in results.config.strategies))
    head = f"{what.replace('cost per ', 'cost/')} pooled"
    none = f"no {counted}"
    header = (
        f"{'strategy':<{width}}  {head:>22} {'median':>9} {'p5 - p95':>21} "
        f"{none:>14} {'replies/month':>13} {f'meetings in {months} mo':>15}"
    )
    lines = [header, "-" * len(header)]
    for strategy in results.config.strategies:
        ratio = s.loc[(strategy, objective)]
        replies = s.loc[(strategy, "replies")]
        meetings = s.loc[(strategy, "meetings")]
        spread = f"{money(ratio['p5'])} - {money(ratio['p95'])}"
        lines.append(
            f"{strategy:<{width}}  {money(ratio['pooled']):>22} {money(ratio['median']):>9} "
            f"{spread:>21} {ratio['share_infinite']:>14.1%} {replies['mean'] / months:>13.1f} "
            f"{meetings['mean']:>15.1f}"
        )
    runs = getattr(results, "runs", None)
    if runs is not None and len(results.config.strategies) > 1 and RATIOS[objective] in runs:
        from simulator.compare import compare, verdict
        from simulator.verdict import objective_verdict

        ranked = objective_verdict(runs, objective)
        pairs = [(ranked.best, p.other) for p in ranked.pairs]  # nearest first
        lines += ["", "against the best, replication by replication (common random numbers):"]
        for row in compare(runs, [objective], pairs).to_dict(orient="records"):
            lines.append(f"  {verdict(row)}")
    return "\n".join(lines)


def _streamed_verdict(results) -> str:
    """A streamed run keeps no replications: one strategy's verdict comes from its
    summary as a run's does; several cannot be paired, and the line says so."""
    from simulator.verdict import WORDS, Standing, only_strategy_sentence

    config = results.config
    if len(config.strategies) > 1:
        return (
            "No verdict: a streamed run keeps no replications to compare the strategies "
            "on (run without --stream for one); the table has each one's figures."
        )
    strategy = next(iter(config.strategies))
    row = results.summary.set_index(["strategy", "metric"]).loc[(strategy, config.objective)]
    best = Standing(strategy, row["pooled"], row["p5"], row["p95"], row["share_infinite"])
    return only_strategy_sentence(best, WORDS[config.objective][0]) + "."


def verdict_text(results: Results) -> str | None:
    """The verdict (simulator.verdict) of a run: for a streamed run (no replications to
    pair), from its summary."""
    from simulator.api import cost_scope
    from simulator.verdict import verdict_sentence

    scope = cost_scope(results.config)
    counted = "" if scope is None else f"\n{scope}."
    runs = getattr(results, "runs", None)
    if runs is None:
        return _streamed_verdict(results) + counted
    from simulator.decision import trade_offs

    config = results.config
    months = config.horizon_months
    text = verdict_sentence(runs, config.objective, config.value_per_meeting, months)
    if "meetings" in runs.columns and len(config.strategies) > 1:
        text += "".join(f"\n{line}" for line in trade_offs(runs, months, config.value_per_meeting))
    return text + counted


def _progress(total: int, quiet: bool, unit: str = "rep", desc: str = "simulating"):
    """A progress bar on stderr that shows only once the work has taken a second, and
    never with --quiet or when stderr is not a terminal (a log, a pipe, CI)."""
    if quiet or not sys.stderr.isatty():
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, mininterval=1.0, delay=1.0)
    return bar, bar.update


def _reporter(quiet: bool, warn_folder: Path | None = None):
    """Build a results folder's report with its progress bar. With `warn_folder` (inside
    `run`), a failure is one line on stderr and the results are written without a report."""
    from simulator.report import write_report

    bars: list = []

    def step(done: int, total: int) -> None:
        if not bars:
            bars.append(_progress(total, quiet, unit="chart", desc="report")[0])
        if bars[0] is not None and done:
            bars[0].update(1)

    def build(folder: Path) -> None:
        try:
            write_report(folder, progress=step)
        except Exception as error:
            if warn_folder is None:
                raise
            print(
                f"outreach-sim: the report was not written ({type(error).__name__}: {error}); "
                f"the results were. Try again with: outreach-sim report {warn_folder}",
                file=sys.stderr,
            )
        finally:
            if bars and bars[0] is not None:
                bars[0].close()

    return build


def default_workers(replications: int) -> int:
    """One process: the engine's compiled loop already runs on every core (threads of
    the process); worker processes would add their start-up and nothing else."""
    return 1


def _run(args: argparse.Namespace) -> int:
    from simulator.api import check_memory, run, run_streaming
    from simulator.calibration import posterior_config
    from simulator.folders import check_target, free_name
    from simulator.output import default_folder, write_results

    source_text = read_source(args.config)  # read once: what runs is what is kept
    config = load_config(args.config, source_text)
    _check_run_options(args)
    folder = args.out or free_name(default_folder(Path("results"), config.name))
    check_target(folder, args.force)  # refused before the simulation, not after it
    replications = args.runs or config.replications
    seed = config.seed if args.seed is None else args.seed
    _check_event_options(args, config, replications)
    check_memory(  # refused up front, before a cluster starts
        posterior_config(config),
        replications,
        args.workers or 1,
        stream=args.stream,
        runs_from="--runs" if args.runs else "replications",
        source=str(args.config),
    )
    print(
        f"{config.name}: simulating {_count(replications, 'replication')} of "
        f"{_count(len(config.strategies), 'strategy', 'strategies')}, seed {seed}",
        flush=True,
    )
    bar, update = _progress(replications * len(config.strategies), args.quiet)
    try:
        with _open_backend(args, replications) as backend:
            if args.stream:
                results = run_streaming(
                    config, args.runs, args.seed, args.chunk, update, backend=backend
                )
            else:
                results = run(config, args.runs, args.seed, args.chunk, update, backend=backend)
    finally:
        if bar is not None:
            bar.close()
    extras = [] if args.events is None else [_events_writer(config, args, seed)]
    if not (args.no_report or args.stream):
        extras.append(_reporter(args.quiet, folder))

    def extra(staging: Path) -> None:
        for write in extras:
            write(staging)

    written = write_results(
        results,
        folder,
        force=args.force,
        command=["outreach-sim", *sys.argv[1:]],
        source_text=source_text,
        extra=extra if extras else None,
        numbered=args.out is None,
    )
    verdict = verdict_text(results)
    if verdict is not None:
        print(verdict)
    if not args.quiet:
        print(headline_table(results))
    print(f"results written to {written}")
    if args.events is not None:
        from simulator.events import events_file_name

        names = ", ".join(events_file_name(strategy) for strategy in config.strategies)
        print(f"events of the first {_count(args.events, 'replication')} in {written}: {names}")
    if (written / "report.html").exists():
        print(f"report: {written / 'report.html'}")
    return 0


def sweep_text(table, metric: str, best) -> str:
    """The sweep's best points, as a sales lead reads them: dollars, and each point named
    by its axis values."""
    from simulator.sweep import axis_columns, headline_value, inert_axes, point_label
    from simulator.tables import is_money, label, money

    axes = axis_columns(table)
    value = headline_value(table, metric)
    pick = value.idxmin() if metric.startswith("cost") else value.idxmax()
    row = table.loc[pick]
    figure = money(value[pick]) if is_money(metric) else f"{value[pick]:,.1f}"
    what = label(metric).removesuffix(" ($)").lower()
    lines = [f"best {what}: {figure} at {point_label(row, axes)}"]
    for item in best.to_dict(orient="records"):
        line = (
            f"budget {money(item['budget'])}: {item['meetings_mean']:.1f} meetings "
            f"(mean cost {money(item['cost_mean'])}) at {point_label(item, axes)}"
        )
        if item.get("ties"):
            line += (
                f"; it ties within the noise with {item['ties']} other point"
                f"{'s' if item['ties'] > 1 else ''} (the cheapest is shown): {item['tied_with']}"
            )
        lines.append(line)
    for inert in inert_axes(table, axes):
        lines.append(
            f"{inert.axis} has no effect beyond the noise: at every setting of the other "
            f"axes, meetings and cost stay within the Monte Carlo error (at most "
            f"{inert.meetings_spread:.1f} meetings and {money(inert.cost_spread)} apart); "
            "something else limits it (for a pace: the plan's InMail credits or the weekly "
            "invitation limit)"
        )
    return "\n".join(lines)


def _sweep(args: argparse.Namespace) -> int:
    from simulator.folders import check_target, free_name
    from simulator.output import default_folder, write_sweep
    from simulator.sweep import best_by_budget, default_budgets, design, load_sweep, run_sweep

    source_text = read_source(args.config)  # read once: what runs is what is kept
    plan = load_sweep(args.config, source_text)
    _check_run_options(args)
    folder = args.out or free_name(default_folder(Path("results"), f"{plan.base.name}-sweep"))
    check_target(folder, args.force, what="sweep folder")
    replications = args.runs or plan.sweep.replications or plan.base.replications
    seed = plan.base.seed if args.seed is None else args.seed
    points = len(design(plan.sweep, plan.base.seed if plan.sweep.seed is None else plan.sweep.seed))
    total = points * replications * len(plan.base.strategies)
    print(
        f"{plan.base.name}: sweeping {_count(points, 'point')} x "
        f"{_count(replications, 'replication')} of "
        f"{_count(len(plan.base.strategies), 'strategy', 'strategies')}, seed {seed}",
        flush=True,
    )
    bar, update = _progress(total, args.quiet, desc="sweeping")
    try:
        with _open_backend(args, total) as backend:
            table = run_sweep(plan, replications, seed, args.chunk, update, backend)
    finally:
        if bar is not None:
            bar.close()
    written = write_sweep(
        table,
        plan,
        folder,
        replications=replications,
        seed=seed,
        force=args.force,
        command=["outreach-sim", *sys.argv[1:]],
        source_text=source_text,
        numbered=args.out is None,
    )
    if not args.quiet:
        budgets = plan.sweep.budgets or default_budgets(table)
        print(sweep_text(table, plan.metric, best_by_budget(table, budgets)))
    print(f"sweep written to {written} (sweep.csv, sweep.parquet, charts/)")
    return 0


def _report(args: argparse.Namespace) -> int:
    from simulator.folders import FolderError, written_here

    folder = args.folder
    if not folder.exists():
        raise _Refused(f"{folder}: does not exist (give a results folder written by run)")
    if folder.is_symlink():  # results/latest, a link to a run: its report goes there
        folder = folder.resolve()
    if not written_here(folder):
        raise _Refused(
            f"{folder}: not a results folder (no run.json written by outreach-sim; "
            "see results/README.md)"
        )
    try:
        _reporter(args.quiet)(folder)
    except (ConfigError, FolderError):
        raise
    except Exception as error:
        print(
            f"outreach-sim: the report was not written ({type(error).__name__}: {error}); "
            f"{folder} is as it was",
            file=sys.stderr,
        )
        return EXIT_REPORT_FAILED
    print(f"report written to {folder / 'report.html'} and {folder / 'report.md'}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    text = read_source(args.config)  # read once (a pipe reads empty the second time)
    if _has_sweep(args.config, text):
        from simulator.sweep import design, load_sweep, point_config

        plan = load_sweep(args.config, text)
        seed = plan.base.seed if plan.sweep.seed is None else plan.sweep.seed
        points = design(plan.sweep, seed)
        for index, point in enumerate(points):
            point_config(plan, index, point)
        print(f"{args.config}: ok (a sweep of {len(points)} points, every one valid)")
        return 0
    config = load_config(args.config, text)
    print(
        f"{args.config}: ok ({_count(len(config.segments), 'segment')}, "
        f"{_count(len(config.strategies), 'strategy', 'strategies')}, "
        f"{_count(config.horizon_months, 'month')})"
    )
    return 0


def _count(n: int, one: str, many: str | None = None) -> str:
    """'1 segment', '3 segments': a count with its noun agreeing."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def _has_sweep(path: Path, text: str) -> bool:
    """Whether a config file has a sweep: section (read loosely: errors come later)."""
    from simulator.config import read_yaml

    try:
        data = read_yaml(path, text)
    except ConfigError:
        return False
    return isinstance(data, dict) and "sweep" in data


def calibration_text(table) -> str:
    """The posterior table as a sales analyst reads it: one line per observed rate."""
    header = ["segment", "rate", "prior", "observed", "posterior mean", "90% interval"]
    rows = [
        [row.segment, row.rate, row.prior, f"{row.successes} / {row.trials}",
         f"{row.posterior_mean:.3f}", f"{row.posterior_p5:.3f} - {row.posterior_p95:.3f}"]
        for row in table.itertuples()
    ]  # fmt: skip
    return "\n".join(aligned(header, rows, left=3))


def _interval(low: float, high: float) -> str:
    return f"{low:.3f}-{high:.3f}"


def aligned(header: list[str], rows: list[list[str]], left: int) -> list[str]:
    """A table as text lines, each column as wide as its widest cell: the first `left`
    columns and the last aligned left (the last may hold a remark), the others right.
    (A long prior or segment name widens its column instead of pushing its row out.)"""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    last = len(header) - 1

    def line(cells: list[str]) -> str:
        parts = [
            cell.ljust(width) if i < left or i == last else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return [line(header), "-" * len(line(header)), *(line(row) for row in rows)]


def _event_table_legend() -> list[str]:
    """What the columns of `calibrate --events`' rate table mean, under it (100 columns)."""
    from simulator.calibration import MIN_RESOLVED_FOR_FIXED_RATE

    return [
        "prior 90%: the config's prior, 5th to 95th percentile (fixed: a plain number). "
        "open: no outcome yet,",
        "watched for less than the window. data 90%: the file alone, open touches counted "
        "as waiting.",
        "The posterior weighs the prior against the file and lies between them. A fixed "
        "number is kept",
        f"(too little data) until the file resolves {MIN_RESOLVED_FOR_FIXED_RATE} touches "
        "of it, open ones counting in part.",
    ]


def event_calibration_text(rates, delays) -> str:
    """Prior, data and posterior of each rate, with 90% intervals; then the delays."""
    header = ["segment", "touch", "prior 90%", "sent", "outcomes", "open", "data 90%"]
    header += ["posterior", "posterior 90%"]
    rows = []
    for row in rates.itertuples():
        if row.rate == "-":
            prior = "-"
        elif row.prior_p5 == row.prior_p95:
            prior = f"{row.prior_mean:g} fixed"
        else:
            prior = _interval(row.prior_p5, row.prior_p95)
        if row.kept:
            posterior, remark = (
                f"{row.posterior_mean:g} kept",
                f"n resolved {math.floor(row.resolved)}",
            )
        else:
            posterior = f"{row.posterior_mean:.3f}"
            remark = _interval(row.posterior_p5, row.posterior_p95)
        rows.append(
            [row.segment, row.touch, prior, str(row.touches), str(row.outcomes),
             str(row.still_open), _interval(row.data_p5, row.data_p95), posterior, remark]
        )  # fmt: skip
    lines = [*aligned(header, rows, left=2), *_event_table_legend(), ""]
    delay_rows = [
        [row.segment, row.delay, str(row.outcomes),
         f"median {row.median:.2f}, sigma {row.sigma:.2f}" if row.fitted
         else "kept from the config (too few outcomes to fit)"]
        for row in delays.itertuples()
    ]  # fmt: skip
    lines += aligned(["segment", "delay", "outcomes", "fitted lognormal (days)"], delay_rows, 2)
    return "\n".join(lines)


def _calibrate_events(args: argparse.Namespace) -> int:
    """calibrate --events: fit rates and delays to an export, write a new config."""
    from simulator.calibration import (
        calibrate_events,
        calibrated_config_text,
        check_calibrated_target,
        disagreement_warnings,
        event_delay_table,
        event_rate_table,
        write_calibrated_config,
    )
    from simulator.config import parse_config, read_yaml
    from simulator.events import load_mapping, read_events

    source = read_source(args.config)  # read once: the text calibrated is the text that ran
    config = load_config(args.config, source)
    out = args.out or args.config.with_name(f"{args.config.stem}.calibrated.yaml")
    check_calibrated_target(out, args.force)
    mapping = load_mapping(args.mapping) if args.mapping is not None else None
    events = read_events(args.events, config, mapping, args.export_date)
    for line in events.warnings:
        print(line, file=sys.stderr)
    calibration = calibrate_events(config, events)
    text = calibrated_config_text(source, config, calibration, args.events.name)
    parse_config(read_yaml(out, text), source=str(out))  # what is written must run, read
    # as `run` will read it (with YAML 1.1's reading, a segment called `no` was False)
    print(event_calibration_text(event_rate_table(calibration), event_delay_table(calibration)))
    for line in disagreement_warnings(calibration):
        print(line, file=sys.stderr)
    write_calibrated_config(text, out, args.force)
    print(f"calibrated config written to {out}; run it with: outreach-sim run {out}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from simulator.calibration import calibration_table, check_posterior_target, write_posterior

    if args.events is not None:
        return _calibrate_events(args)
    if args.mapping is not None or args.export_date is not None:
        raise ConfigError(["--mapping, --export-date: only with --events FILE"])
    config = load_config(args.config)
    table = calibration_table(config)
    if table.empty:
        raise ConfigError(
            [
                f"{args.config}: nothing to calibrate: add observed: results to a segment "
                "(docs/config.md) or give --events FILE (docs/calibration.md)"
            ]
        )
    out = args.out or args.config.with_name(f"{args.config.stem}.posterior.csv")
    check_posterior_target(out, args.force)
    print(calibration_text(table))
    write_posterior(table, out, force=args.force)
    print(
        f"posterior table written to {out}, for reading (`outreach-sim run {args.config}` "
        "recomputes the posterior from observed: itself)"
    )
    return 0


class _Refused(Exception):
    """A run refused before it starts (its target exists, or it would not fit)."""


def _end_without_collecting() -> None:
    """Spare the process's end a last walk of every object numpy, pandas and numba made
    (about 0.2 s here): the garbage collector is told to leave them, and the operating
    system takes the memory back. atexit handlers run before that walk; registered
    once, however often `main` runs in one process (the tests)."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)


def main(argv: list[str] | None = None) -> int:
    _end_without_collecting()
    try:
        args = _parser().parse_args(argv)
        from simulator.api import ResourceError
        from simulator.backends import SchedulerError
        from simulator.folders import FolderError

        commands = {
            "run": _run,
            "sweep": _sweep,
            "report": _report,
            "calibrate": _calibrate,
            "validate": _validate,
        }
        try:
            code = commands[args.command](args)
        except (FolderError, ResourceError, SchedulerError) as error:
            raise _Refused(str(error)) from None
        sys.stdout.flush()  # a closed pipe shows here, where it is handled, not at exit
        return code
    except ConfigError as error:
        for line in error.lines:
            print(line, file=sys.stderr)
        return EXIT_CONFIG
    except _Refused as error:
        print(f"outreach-sim: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        print("outreach-sim: interrupted; no results were written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader of the output went away (`| head`): say nothing
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    except OSError as error:  # a full disk, a folder gone: one line, nothing half written
        where = f"{error.filename}: " if error.filename else ""
        reason = error.strerror or str(error) or type(error).__name__
        print(f"outreach-sim: {where}{reason}; nothing was written", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
