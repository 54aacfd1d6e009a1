"""The public API: run a config, get pandas DataFrames back (no disk, no printing).

    from simulator import load_config, run
    results = run(load_config("configs/connect_only.yaml"), replications=2000)
    results.summary        # one row per strategy and metric
    results.runs           # one row per strategy and replication
    results.monthly        # one row per strategy, replication and month

Replications are simulated in blocks that bound memory; every draw is keyed by the
replication's global index, so the numbers do not depend on the block size, nor on the
backend that runs the blocks (``simulator.backends``). ``run_streaming`` keeps only
mergeable summaries of each block (``simulator.streaming``): millions of replications
in bounded memory, without the per-replication tables.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from simulator.backends import Backend, InProcess, LocalProcesses
from simulator.blocks import simulate_block
from simulator.calibration import posterior_config
from simulator.config import Config
from simulator.metrics import (
    COUNTS,
    FLOWS,
    RATIOS,
    SENT_BY_KIND,
    STOCKS,
    SUMMARY_METRICS,
    columns,
)
from simulator.playbook import compile_playbook
from simulator.prospects import most_started
from simulator.stats import describe, describe_ratio, ratio_or_inf
from simulator.streaming import QUANTILE_ACCURACY, RunSummary
from simulator.uncertainty import COLUMN_PREFIX, draws_for_replications

# bytes of engine state per block of replications: large blocks amortise the engine's
# per-day work over more replications (10,000 of a typical config fit, under 1 GiB)
MEMORY_PER_BLOCK = 768 * 2**20


@dataclass
class Results:
    """What a run gives back: the config it ran, its seed and three tables."""

    config: Config
    seed: int
    replications: int
    runs: pd.DataFrame
    monthly: pd.DataFrame
    summary: pd.DataFrame

    @cached_property
    def comparisons(self) -> pd.DataFrame:
        """Every pair of strategies, replication by replication (common random numbers):
        the difference in cost per meeting and in replies, and who wins how often."""
        from simulator.compare import compare  # compare builds on tables, which use this

        return compare(self.runs)


def prospects_held(config: Config) -> int:
    """Prospects one replication holds: what it can start over the horizon (the compiled
    loop), or its whole lists (the vectorised engine, ``OUTREACH_SIM_ENGINE=numpy``)."""
    if os.environ.get("OUTREACH_SIM_ENGINE") == "numpy":
        return sum(s.length(config.horizon_months) or 0 for s in config.segments.values())
    return most_started(config)


def bytes_per_replication(config: Config) -> int:
    """Engine state of one replication and one strategy (an upper estimate): what it can
    start over the horizon (the compiled loop), or its whole lists (the vectorised engine,
    ``OUTREACH_SIM_ENGINE=numpy``, which holds every listed prospect)."""
    prospects = prospects_held(config)
    # reply day and touch, last close (int16 each); badge twice, seat (bytes); queue order
    per_prospect = 2 + 2 + 2 + 1 + 1 + 1 + 4
    per_month = len(COUNTS) * 8 * 2
    return (
        prospects * per_prospect
        + config.accounts * bytes_per_seat(config)
        + config.horizon_months * per_month
        + 4096
    )


#: what the compiled loop holds for each prospect a replication starts: its state by
#: prospect (reply calendar, budgets and scratch rows of a batch, queues), sized by
#: doubling (78 to 85 bytes measured with 0.5 to 3 million started in a replication)
STARTED_BYTES = 96


def state_bytes(config: Config) -> int:
    """One replication's engine state as one thread of the compiled loop holds it (an
    upper estimate): by prospect it can start and by seat. Never below
    `bytes_per_replication`, a replication's share of a block of the vectorised engine,
    which counts a started prospect at 13 bytes and sizes the blocks."""
    compiled = (
        most_started(config) * STARTED_BYTES
        + config.accounts * bytes_per_seat(config)
        + config.horizon_months * len(COUNTS) * 8 * 2
        + 4096
    )
    return max(compiled, bytes_per_replication(config))


def bytes_per_seat(config: Config) -> int:
    """What one seat of one replication holds (an upper estimate): the compiled loop's
    int64 day counts (invitations sent, accepted, withdrawn and discarded, by day from
    day 0 to past the horizon by the longest window and wait, and credits arrived),
    five a day, taken as six for each week's base limit, the per-seat tables and the
    allocator's slack (a year: about 16.8 KB measured, 20 KB estimated); the vectorised
    engine holds less a seat-day."""
    longest_wait = max(
        (
            step.wait[1]
            for strategy in config.strategies.values()
            for step in compile_playbook(config, strategy).steps
        ),
        default=0,
    )
    windows = max(config.invitations.invite_window_days, config.response_window_days) + 1
    span = config.horizon_days + windows + longest_wait + 2
    return 6 * 8 * span + 1024


class ResourceError(Exception):
    """A run that would not fit in this machine's memory, with what would."""


def available_memory() -> int:
    """Bytes of memory available to a new allocation (Linux MemAvailable, else physical)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_estimate(config: Config, replications: int, workers: int = 1) -> int:
    """Bytes a run needs at its peak: the results it keeps (the counts and the tables made
    from them, about three copies) and one block of engine state per worker (at least
    one replication's state as the compiled loop holds it)."""
    per_replication = config.horizon_months * (len(COUNTS) + 4) * 8 * len(config.strategies)
    results = 3 * per_replication * replications
    block = min(replications, block_size(config, replications)) * bytes_per_replication(config)
    return results + workers * max(block, state_bytes(config))


def check_memory(
    config: Config,
    replications: int,
    workers: int = 1,
    *,
    stream: bool = False,
    runs_from: str = "replications",
    source: str | None = None,
) -> None:
    """Refuse, with the estimate and what would fit, a run that would exhaust memory.

    Every run, streamed or not, holds one replication's engine state per worker (its
    prospects and seat-days): a config too large for that is refused naming the config.
    A run that keeps its replications must also hold them all: too many are refused
    naming where the number came from (`runs_from`: "--runs" or the config's key)."""
    have = available_memory()
    state = workers * state_bytes(config)
    if state > 0.8 * have:
        prospects = prospects_held(config)
        where = f"{source}: " if source else ""
        raise ResourceError(
            f"{where}segments, accounts: one replication of this config needs about "
            f"{state / 2**30:,.1f} GiB ({prospects:,} prospects, {config.accounts:,} seats"
            f"{f', {workers} workers' if workers > 1 else ''}), {have / 2**30:.1f} GiB is "
            "available; --stream does not help (each worker still simulates whole "
            "replications): use fewer prospects or seats"
        )
    if stream:
        return
    need = memory_estimate(config, replications, workers)
    if need <= 0.8 * have:
        return
    fits = _most_that_fit(config, replications, workers, 0.8 * have)
    where = f"{source}: {runs_from}" if source and not runs_from.startswith("--") else runs_from
    raise ResourceError(
        f"{where}: {replications:,} replications need about {need / 2**30:,.1f} GiB, "
        f"{have / 2**30:.1f} GiB is available; at most about {fits:,} fit "
        f"(or use --stream, which keeps only the summary in memory)"
    )


def _most_that_fit(config: Config, replications: int, workers: int, room: float) -> int:
    """The most replications, below `replications`, whose estimate fits in `room` bytes
    (the estimate grows with them, but not at one rate: bisected)."""
    low, high = 0, replications  # low fits (or is 0), high does not
    while high - low > 1:
        middle = (low + high) // 2
        if memory_estimate(config, middle, workers) <= room:
            low = middle
        else:
            high = middle
    return low


def block_size(config: Config, replications: int) -> int:
    """Replications per block so that a block's state stays within MEMORY_PER_BLOCK."""
    return int(max(1, min(replications, MEMORY_PER_BLOCK // bytes_per_replication(config))))


def _block_task(args: tuple[Config, int, int, int]) -> tuple[int, dict[str, np.ndarray]]:
    config, lo, hi, seed = args
    return lo, simulate_block(config, np.arange(lo, hi), seed)


def _backend(workers: int, backend: Backend | None) -> Backend:
    if backend is not None:
        return backend
    return LocalProcesses(workers) if workers > 1 else InProcess()


def chunks(
    config: Config, replications: int, seed: int, block: int | None, parallelism: int
) -> list[tuple[Config, int, int, int]]:
    """Tasks (config, first, end, seed) covering replications 0 .. replications-1: blocks
    within the memory bound, and at least one per worker."""
    block = block or block_size(config, replications)
    if parallelism > 1:
        block = max(1, min(block, -(-replications // parallelism)))
    return [
        (config, lo, min(replications, lo + block), seed) for lo in range(0, replications, block)
    ]


Blocks = list[tuple[int, dict[str, np.ndarray]]]


def simulate_blocks(
    config: Config,
    replications: int,
    seed: int,
    block: int | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
    backend: Backend | None = None,
) -> Blocks:
    """Monthly counts of replications 0 .. replications - 1, block by block in order:
    each block's first replication and its arrays (replications, months, counts) per
    strategy (kept as they came: the tables copy them once, into their own layout).

    Blocks of replications run in this process, on `workers` processes, or on `backend`;
    every draw is keyed by the replication's global index, so the numbers are the same
    either way."""
    backend = _backend(workers, backend)
    done: Blocks = []

    def collect(result: tuple[int, dict[str, np.ndarray]]) -> None:
        done.append(result)
        if progress is not None:
            counts = result[1]
            progress(next(iter(counts.values())).shape[0] * len(counts))

    tasks = chunks(config, replications, seed, block, backend.parallelism)
    backend.map(_block_task, tasks, collect)
    return sorted(done, key=lambda result: result[0])


def _tables(
    config: Config, blocks: Blocks, drawn: dict[str, np.ndarray]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs and monthly tables of consecutive `blocks` (simulate_blocks); `drawn`:
    the uncertain parameters of each of their replications.

    Columns are built whole, every strategy's rows in turn, and the monthly counts are
    copied once, straight into the layout a table keeps (one row per column): a year of
    10,000 replications is millions of cells."""
    months = config.horizon_months
    names = columns(list(config.segments))
    strategies = list(blocks[0][1])
    rows = sum(next(iter(counts.values())).shape[0] for _, counts in blocks) * months
    table = np.empty((2 + len(names), len(strategies) * rows), dtype=np.int64)
    runs_parts: dict[str, list[np.ndarray]] = {}
    cost_parts: dict[str, list[np.ndarray]] = {}
    at = 0
    for name in strategies:
        for first, counts in blocks:
            array = counts[name]
            n_reps = array.shape[0]
            replication = np.arange(first, first + n_reps)
            part = table[:, at : at + n_reps * months]  # one row per column
            at += n_reps * months
            part[0] = np.repeat(replication, months)
            part[1] = np.tile(np.arange(months), n_reps)
            part[2:] = array.reshape(n_reps * months, len(names)).T
            costs = monthly_costs(config, name, dict(zip(names, part[2:], strict=True)))
            runs = {"replication": replication}
            runs.update(zip(FLOWS, array[:, :, : len(FLOWS)].sum(axis=1).T, strict=True))
            runs.update(zip(STOCKS, array[:, -1, len(FLOWS) : len(COUNTS)].T, strict=True))
            runs.update(
                zip(names[len(COUNTS) :], array[:, :, len(COUNTS) :].sum(axis=1).T, strict=True)
            )
            for cost_part, cost in costs.items():
                runs[cost_part] = cost.reshape(n_reps, months).sum(axis=1)
                cost_parts.setdefault(cost_part, []).append(cost)
            for ratio, denominator in RATIOS.items():
                runs[ratio] = ratio_or_inf(runs["cost"], runs[denominator])
            for column, values in runs.items():
                runs_parts.setdefault(column, []).append(values)
        for path, values in drawn.items():
            runs_parts.setdefault(COLUMN_PREFIX + path, []).append(values)
    runs_table = pd.DataFrame(
        {column: np.concatenate(parts) for column, parts in runs_parts.items()}
    )
    monthly_table = pd.DataFrame(table.T, columns=["replication", "month", *names], copy=False)
    for cost_part, parts in cost_parts.items():
        monthly_table[cost_part] = np.concatenate(parts)
    for frame, size in ((runs_table, rows // months), (monthly_table, rows)):
        codes = np.repeat(np.arange(len(strategies)), size)
        frame.insert(0, "strategy", pd.Categorical.from_codes(codes, categories=strategies))
    return runs_table, monthly_table


COST_PARTS = ("cost_fees", "cost_sends", "cost_labour", "cost")


def monthly_costs(
    config: Config, strategy: str, monthly: Mapping[str, np.ndarray] | pd.DataFrame
) -> dict[str, np.ndarray]:
    """A month's cost (MODEL.md section 11), for each row of `monthly` (its count
    columns): plan fees for every seat, the price of each send, and labour (minutes per
    touch at the hourly rate)."""
    plan = config.plans[config.strategies[strategy].plan]
    costs = config.costs
    length = len(monthly[FLOWS[0]])
    fees = np.full(length, plan.price_per_month * config.accounts, dtype=float)
    sends = np.zeros(length)
    minutes = np.zeros(length)
    for kind, counted in SENT_BY_KIND.items():
        sent = sum(np.asarray(monthly[name]) for name in counted)
        sends += getattr(costs.per_send, kind) * sent
        minutes += getattr(costs.minutes_per_touch, kind) * sent
    labour = minutes * costs.hourly_rate / 60
    return {
        "cost_fees": fees,
        "cost_sends": sends,
        "cost_labour": labour,
        "cost": fees + sends + labour,
    }


def cost_scope(config: Config) -> str | None:
    """What the costs count, said whenever SDR time or a price per send is left out (a
    free plan's $0 per meeting is then no more than the plans' fees); None when both are
    counted."""
    costs = config.costs
    minutes = any(v > 0 for v in costs.minutes_per_touch.model_dump().values())
    labour = minutes and costs.hourly_rate > 0
    sends = any(v > 0 for v in costs.per_send.model_dump().values())
    if labour and sends:
        return None
    counted = ["plan fees", *(["sends"] if sends else []), *(["SDR time"] if labour else [])]
    missing = []
    if not labour:
        unset = [
            name
            for name, given in (
                ("hourly_rate", costs.hourly_rate > 0),
                ("minutes_per_touch", minutes),
            )
            if not given
        ]
        missing.append(f"SDR time (set {' and '.join('costs.' + n for n in unset)})")
    if not sends:
        missing.append("per-send prices (costs.per_send)")
    only = " only" if len(counted) == 1 else ""
    return f"Costs: {' and '.join(counted)}{only}; not counted: {', '.join(missing)}"


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per strategy and metric: mean, mcse, median, p5, p95 (pooled for ratios)."""
    rows = []
    for strategy, group in runs.groupby("strategy", observed=True, sort=False):
        for metric in SUMMARY_METRICS:
            if metric in RATIOS:
                stats = describe_ratio(group["cost"], group[RATIOS[metric]])
            else:
                stats = describe(group[metric])
            rows.append({"strategy": strategy, "metric": metric, **stats})
    columns = ["strategy", "metric", "mean", "mcse", "median", "p5", "p95", "pooled"]
    return pd.DataFrame(rows).reindex(columns=[*columns, "share_infinite"])


def run(
    config: Config,
    replications: int | None = None,
    seed: int | None = None,
    block: int | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
    backend: Backend | None = None,
) -> Results:
    """Simulate every strategy of `config` on common random numbers.

    Rates with `observed:` results run on their posterior (`simulator.calibration`); the
    results' config is that posterior config.

    `workers` > 1 spreads blocks of replications over that many processes, `backend`
    over a Dask cluster (``simulator.backends``); the results are identical to an
    in-process run."""
    replications = replications or config.replications
    seed = config.seed if seed is None else seed
    config = posterior_config(config)  # observed results update their rates' priors
    check_memory(config, replications, workers)
    blocks = simulate_blocks(config, replications, seed, block, progress, workers, backend)
    drawn = draws_for_replications(config, seed, replications)
    runs, monthly = _tables(config, blocks, drawn)
    return Results(config, seed, replications, runs, monthly, summarise(runs))


@dataclass
class StreamedResults:
    """What a streamed run gives back: its summary, without per-replication tables (so
    no paired comparisons either: those need the replications side by side)."""

    config: Config
    seed: int
    replications: int
    summary: pd.DataFrame
    quantile_accuracy: float = QUANTILE_ACCURACY

    @property
    def comparisons(self) -> pd.DataFrame:
        return pd.DataFrame()


def _chunk_summary(args: tuple[Config, int, int, int]) -> RunSummary:
    """Simulate one chunk and keep only its summary (what a worker sends back)."""
    config, lo, hi, seed = args
    counts = simulate_block(config, np.arange(lo, hi), seed)
    runs, _ = _tables(config, [(lo, counts)], {})
    return RunSummary.of_runs(runs)


def summarise_streaming(
    config: Config,
    replications: int,
    seed: int,
    block: int | None = None,
    progress: Callable[[int], None] | None = None,
    backend: Backend | None = None,
) -> RunSummary:
    """The merged summary of every chunk of replications (config already resolved)."""
    backend = backend or InProcess()
    total = RunSummary()

    def collect(summary: RunSummary) -> None:
        total.merge(summary)
        if progress is not None:
            progress(summary.replications * len(summary.strategies))

    backend.map(
        _chunk_summary, chunks(config, replications, seed, block, backend.parallelism), collect
    )
    return total


def run_streaming(
    config: Config,
    replications: int | None = None,
    seed: int | None = None,
    block: int | None = None,
    progress: Callable[[int], None] | None = None,
    backend: Backend | None = None,
) -> StreamedResults:
    """As :func:`run`, keeping only the summary: memory stays that of one block per
    worker, whatever the number of replications. Means, MCSE, pooled ratios and shares
    are those of :func:`run` bit for bit; percentiles are within QUANTILE_ACCURACY."""
    replications = replications or config.replications
    seed = config.seed if seed is None else seed
    config = posterior_config(config)
    summary = summarise_streaming(config, replications, seed, block, progress, backend)
    return StreamedResults(config, seed, replications, summary.table(order=list(config.strategies)))
