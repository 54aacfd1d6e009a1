"""Speed of the vectorised engine against the per-prospect reference, in one process.

    python benchmarks/engine_speed.py                 # the issue's configs, 10,000 runs
    python benchmarks/engine_speed.py --runs 2000 --oracle-runs 10

For each config and strategy it prints the engine's replications per second, the
reference's on the same scenario, their ratio, and the engine's peak traced memory.
A numpy micro-benchmark taken in the same run makes figures from different machines
comparable (seconds divided by it give "machine-free" units).
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from reference import simulate_reference  # noqa: E402

from simulator import load_config  # noqa: E402
from simulator.engine import simulate_block  # noqa: E402


def numpy_score() -> float:
    """Seconds for a fixed mix of numpy work (sort, gather, arithmetic) on this machine."""
    rng = np.random.default_rng(0)
    x = rng.random(2_000_000)
    idx = rng.integers(0, x.size, x.size)
    start = time.perf_counter()
    for _ in range(5):
        np.sort(x)
        y = x[idx] * 2.0 + 1.0
        np.bincount(idx % 1000, weights=y)
    return time.perf_counter() - start


def measure(config_path: Path, runs: int, oracle_runs: int) -> list[str]:
    config = load_config(config_path)
    lines = []
    for strategy in config.strategies:
        tracemalloc.start()
        start = time.perf_counter()
        simulate_block(config, strategy, np.arange(runs), seed=1)
        engine_s = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        start = time.perf_counter()
        simulate_reference(config, strategy, oracle_runs, seed=1)
        oracle_s = time.perf_counter() - start
        engine_rate, oracle_rate = runs / engine_s, oracle_runs / oracle_s
        lines.append(
            f"{config_path.stem:<20} {strategy:<30} {runs:>7} runs {engine_s:7.2f} s "
            f"{engine_rate:9.0f} runs/s | reference {oracle_rate:7.2f} runs/s | "
            f"ratio {engine_rate / oracle_rate:7.0f}x | peak {peak / 2**20:6.0f} MiB"
        )
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--oracle-runs", type=int, default=20)
    parser.add_argument(
        "configs", nargs="*", default=["configs/connect_only.yaml", "configs/inmail_only.yaml"]
    )
    args = parser.parse_args()
    print(f"numpy micro-benchmark: {numpy_score():.3f} s (lower is a faster machine)")
    for path in args.configs:
        measure(ROOT / path, args.runs, args.oracle_runs)


if __name__ == "__main__":
    main()
