"""Scale-out figures of issue #7, in one run: speed in-process and on a local Dask cluster,
peak memory of streamed runs of growing size, and the time of a sweep.

    python benchmarks/scale_out.py                      # the issue's sizes (hours today)
    python benchmarks/scale_out.py --speed-runs 2000 --memory-runs 1000 4000 16000 \\
        --sweep-points 4 --sweep-runs 200               # a quick look

It prints
- replications per second of `tiered_hybrid` streamed in this process on one thread and
  on every core, and on a local Dask cluster of 2 single-threaded workers (against one
  thread, the ratios near 2 on 2 cores for runs long enough to hide the cluster's
  start-up and each chunk's fixed cost);
- the peak resident memory of a fresh process streaming each of --memory-runs
  replications (it should stay flat: only one chunk is ever held);
- the wall time of a sweep of --sweep-points points of --sweep-runs replications each.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from simulator import load_config
from simulator.api import run_streaming
from simulator.backends import DaskBackend, InProcess
from simulator.sweep import Sweep, SweepPlan, run_sweep

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "tiered_hybrid.yaml"

PEAK = """
import resource, sys
from simulator import load_config
from simulator.api import run_streaming
run_streaming(load_config(sys.argv[1]), replications=int(sys.argv[2]), seed=1)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def speed(replications: int, chunk: int | None) -> tuple[float, float, float]:
    """Replications per second streamed in this process on one thread and on every core,
    and on a local Dask cluster of 2 single-threaded workers (start-up included)."""
    config = load_config(CONFIG)

    def timed(backend, threads: str | None = None) -> tuple[float, object]:
        if threads is not None:
            os.environ["OUTREACH_SIM_THREADS"] = threads
        try:
            started = time.perf_counter()
            summary = run_streaming(config, replications, 1, chunk, backend=backend).summary
            return replications / (time.perf_counter() - started), summary
        finally:
            os.environ.pop("OUTREACH_SIM_THREADS", None)

    run_streaming(config, 2, 1)  # compile the loop (or load it from the cache) untimed
    one_thread, alone = timed(InProcess(), "1")
    every_core, _ = timed(InProcess())
    with DaskBackend(workers=2) as backend:
        on_two, spread = timed(backend)
    assert alone.equals(spread), "the Dask run must give the in-process numbers"
    return one_thread, every_core, on_two


def peak_memory(replications: int) -> float:
    """Peak resident memory (MiB) of a fresh process streaming `replications`."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK, str(CONFIG), str(replications)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip().splitlines()[-1]) / 1024


def sweep_time(points: int, replications: int, workers: int) -> float:
    """Seconds for a Latin-hypercube sweep of `points` points of `tiered_hybrid`."""
    import yaml

    data = yaml.safe_load(CONFIG.read_text())
    sweep = Sweep.model_validate(
        {
            "method": "latin_hypercube",
            "points": points,
            "seed": 1,
            "axes": {
                "accounts": {"low": 1, "high": 3, "integer": True},
                "strategies.tiered_hybrid.daily_pace.inmail": {
                    "low": 5,
                    "high": 20,
                    "integer": True,
                },
            },
        }
    )
    plan = SweepPlan(load_config(CONFIG), data, sweep, str(CONFIG))
    started = time.perf_counter()
    if workers > 1:
        with DaskBackend(workers=workers) as backend:
            run_sweep(plan, replications, 1, backend=backend)
    else:
        run_sweep(plan, replications, 1)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--speed-runs", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=None, help="replications per chunk")
    parser.add_argument(
        "--memory-runs", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000]
    )
    parser.add_argument("--sweep-points", type=int, default=100)
    parser.add_argument("--sweep-runs", type=int, default=2000)
    parser.add_argument(
        "--sweep-workers", type=int, default=1, help="Dask workers (1: in this process)"
    )
    args = parser.parse_args()

    one_thread, every_core, on_two = speed(args.speed_runs, args.chunk)
    print(f"tiered_hybrid, {args.speed_runs:,} replications streamed:")
    print(f"  in-process, 1 thread       {one_thread:8.1f} replications/s")
    print(
        f"  in-process, every core     {every_core:8.1f} replications/s  "
        f"({every_core / one_thread:.2f}x)"
    )
    print(
        f"  2 Dask workers, 1 thread   {on_two:8.1f} replications/s  ({on_two / one_thread:.2f}x)"
    )
    print("peak resident memory of a streamed run (fresh process, in-process):")
    for replications in args.memory_runs:
        print(f"  {replications:>12,} replications  {peak_memory(replications):8.0f} MiB")
    seconds = sweep_time(args.sweep_points, args.sweep_runs, args.sweep_workers)
    print(
        f"sweep of {args.sweep_points} points x {args.sweep_runs:,} replications of "
        f"tiered_hybrid on {args.sweep_workers} worker(s): {seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
