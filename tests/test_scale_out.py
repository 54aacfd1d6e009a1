"""Chunks, streaming summaries and backends: the numbers never depend on how the work is
split or where it runs (docs/scale-out.md)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from small_runs import CONFIGS

from simulator import parse_config, run
from simulator.api import _chunk_summary, chunks, run_streaming, summarise_streaming
from simulator.backends import DaskBackend, InProcess
from simulator.cli import main
from simulator.folders import MANIFEST
from simulator.stats import quantile
from simulator.streaming import QUANTILE_ACCURACY, MetricSummary, RunSummary

CONFIG = parse_config(CONFIGS["several"], source="several")  # 3 strategies, 3 months
REPLICATIONS = 240
SEED = 11


@pytest.fixture(scope="module")
def dask_cluster():
    """A local Dask cluster of 2 worker processes, started and stopped by this module."""
    with DaskBackend(workers=2) as backend:
        yield backend


@pytest.fixture(scope="module")
def in_memory():
    return run(CONFIG, replications=REPLICATIONS, seed=SEED, block=REPLICATIONS)


def test_one_chunk_many_chunks_and_a_dask_cluster_give_identical_tables(in_memory, dask_cluster):
    many = run(CONFIG, replications=REPLICATIONS, seed=SEED, block=48)
    on_dask = run(CONFIG, replications=REPLICATIONS, seed=SEED, block=40, backend=dask_cluster)
    for other in (many, on_dask):
        pd.testing.assert_frame_equal(other.runs, in_memory.runs, check_exact=True)
        pd.testing.assert_frame_equal(other.monthly, in_memory.monthly, check_exact=True)
        pd.testing.assert_frame_equal(other.summary, in_memory.summary, check_exact=True)


def test_streamed_summaries_are_identical_whatever_the_chunks_and_backend(dask_cluster):
    one = run_streaming(CONFIG, REPLICATIONS, SEED, block=REPLICATIONS).summary
    many = run_streaming(CONFIG, REPLICATIONS, SEED, block=45).summary
    on_dask = run_streaming(CONFIG, REPLICATIONS, SEED, block=60, backend=dask_cluster).summary
    pd.testing.assert_frame_equal(many, one, check_exact=True)
    pd.testing.assert_frame_equal(on_dask, one, check_exact=True)


def test_streamed_means_counts_and_shares_equal_the_in_memory_ones_exactly(in_memory):
    streamed = summarise_streaming(CONFIG, REPLICATIONS, SEED, block=31)
    assert streamed.replications == REPLICATIONS
    table = streamed.table(order=list(CONFIG.strategies)).set_index(["strategy", "metric"])
    exact = in_memory.summary.set_index(["strategy", "metric"])
    for column in ("mean", "mcse", "pooled", "share_infinite"):
        pd.testing.assert_series_equal(table[column], exact[column], check_exact=True)
    for metrics in streamed.strategies.values():
        assert all(summary.count == REPLICATIONS for summary in metrics.values())
    # the short list leaves ~40% of inmail_few's replications without a reply
    assert exact.loc[("inmail_few", "cost_per_reply"), "share_infinite"] > 0.05


def within_sketch_error(streamed: float, values: np.ndarray, q: float) -> bool:
    """The sketch gives an order statistic next to the rank (n - 1) q within its relative
    accuracy; the in-memory quantile interpolates between the two around that rank."""
    x = np.sort(values)
    rank = (x.size - 1) * q
    lo, hi = x[max(0, math.floor(rank) - 1)], x[min(x.size - 1, math.ceil(rank) + 1)]
    if math.isinf(quantile(values, q)):
        return math.isinf(streamed)
    return lo * (1 - QUANTILE_ACCURACY) - 1e-12 <= streamed <= hi * (1 + QUANTILE_ACCURACY)


def test_streamed_percentiles_are_within_the_sketch_accuracy_of_the_in_memory_ones(in_memory):
    streamed = summarise_streaming(CONFIG, REPLICATIONS, SEED, block=50)
    runs = in_memory.runs
    for strategy, metrics in streamed.strategies.items():
        group = runs[runs["strategy"] == strategy]
        for metric, summary in metrics.items():
            values = group[metric].to_numpy(dtype=float)
            for q in (0.05, 0.5, 0.95):
                assert within_sketch_error(summary.quantile(q), values, q), (strategy, metric, q)


@pytest.mark.parametrize("share_infinite", [0.0, 0.03, 0.2])
def test_percentiles_of_values_some_infinite_merge_from_any_chunks(share_infinite):
    """Lognormal costs with a share of runs without a reply (infinite cost per reply):
    a p95 is infinite exactly when more than 5% are."""
    rng = np.random.default_rng(7)
    values = rng.lognormal(6, 1, 5000)
    values[rng.random(5000) < share_infinite] = np.inf
    merged = MetricSummary()
    for piece in np.array_split(values, [10, 11, 700, 2500]):
        merged.merge(MetricSummary.of(piece))
    whole = MetricSummary.of(values)
    for q in (0.0, 0.01, 0.05, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0):
        assert merged.quantile(q) == whole.quantile(q)
        assert within_sketch_error(merged.quantile(q), values, q), q
    assert math.isinf(merged.quantile(0.95)) == (share_infinite > 0.05)
    assert merged.infinite == np.isinf(values).sum()


def dies_the_first_time(job: tuple[tuple, str]) -> RunSummary:
    """A chunk whose worker process dies the first time it runs it (a lost machine)."""
    task, marker = job
    if not os.path.exists(marker):
        Path(marker).touch()
        os._exit(1)
    return _chunk_summary(task)


def test_a_chunk_whose_worker_dies_is_rerun_and_the_numbers_do_not_change(tmp_path, dask_cluster):
    tasks = chunks(CONFIG, REPLICATIONS, SEED, 60, 2)
    marker = str(tmp_path / "died-once")
    jobs = [(task, marker if i == 1 else str(tmp_path)) for i, task in enumerate(tasks)]
    total = RunSummary()
    dask_cluster.map(dies_the_first_time, jobs, total.merge)
    assert Path(marker).exists()  # a worker did die
    expected = RunSummary()
    InProcess().map(_chunk_summary, tasks, expected.merge)
    pd.testing.assert_frame_equal(total.table(), expected.table(), check_exact=True)


def test_run_stream_writes_the_summary_and_no_per_replication_files(tmp_path, capsys):
    source = tmp_path / "several.yaml"
    source.write_text(yaml.safe_dump({"name": "several", **CONFIGS["several"]}))
    args = ["run", str(source), "--runs", "60", "--seed", "3", "--quiet"]
    assert main([*args, "--stream", "--chunk", "25", "--out", str(tmp_path / "s")]) == 0
    assert main([*args, "--no-report", "--out", str(tmp_path / "m")]) == 0
    files = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert files == [MANIFEST, "config.yaml", "config_source.yaml", "run.json", "summary.json"]
    streamed = json.loads((tmp_path / "s" / "summary.json").read_text())
    in_memory = json.loads((tmp_path / "m" / "summary.json").read_text())
    assert streamed["percentiles"] == {"method": "ddsketch", "relative_accuracy": 0.005}
    for strategy, metrics in in_memory["strategies"].items():
        for metric, stats in metrics.items():
            got = streamed["strategies"][strategy][metric]
            assert (got["mean"], got["mcse"]) == (stats["mean"], stats["mcse"])
    assert "no results" not in capsys.readouterr().err
