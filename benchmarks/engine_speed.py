"""Speed of the engine against the per-prospect reference, in one process.

    python benchmarks/engine_speed.py                 # the issue's configs, 10,000 runs
    python benchmarks/engine_speed.py --runs 2000 --oracle-runs 10

First the time to compile the engine's loop (numba; once per machine, then cached).
Then, for each config and strategy: the compiled loop's time and replications per
second in this process on every core, and on one thread; the vectorised numpy engine's
replications per second (on at most --numpy-runs); the reference's replications per
second on the same scenario; the ratio of the compiled loop to the reference; and the
peak resident memory of a fresh process running that strategy through the API (as
`outreach-sim run` does). Last, the wall time of the whole config through the API in
one process and with 2 worker processes. A numpy micro-benchmark taken in the same run
makes figures from different machines comparable.

Then the floor: the uniforms each strategy's replications draw (counted by the compiled
loop itself, in a process with OUTREACH_SIM_COUNT_DRAWS=1), the time the same compiled
counter-based generator takes on one thread in a tight loop to produce as many, and the
ratio of the compiled loop's one-thread time to that floor. And the cost of a list's
length: open_profile_first, connect_only and tiered_hybrid with their lists at 3,000,
60,000 and unlimited, on one thread and the same seed: time, touches sent and peak memory.

    python benchmarks/engine_speed.py --floor-only     # the floor and the list sizes only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# this checkout's package and its tests' reference, whatever is installed; the child
# processes are given the same (-P: not a `simulator` in the current folder)
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
CHILD_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

from numba import njit  # noqa: E402
from reference import simulate_reference  # noqa: E402

from simulator import load_config, run  # noqa: E402
from simulator.delays import lognormal_cdf  # noqa: E402
from simulator.engine import ProspectLists, Simulation  # noqa: E402
from simulator.kernel import _delay, _guide_rows, _uniform, run_compiled  # noqa: E402
from simulator.uncertainty import draws_for_replications  # noqa: E402

PEAK = """
import resource, sys
from simulator import load_config, run
config = load_config(sys.argv[1])
config = config.model_copy(update={"strategies": {sys.argv[2]: config.strategies[sys.argv[2]]}})
run(config, replications=int(sys.argv[3]), seed=1, workers=1)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_mib(config_path: Path, strategy: str, runs: int) -> float:
    """Peak resident memory (MiB) of a fresh Python process running one strategy through
    the API in one process (blocks of replications bound the engine's state)."""
    out = subprocess.run(
        [sys.executable, "-P", "-c", PEAK, str(config_path), strategy, str(runs)],
        capture_output=True,
        text=True,
        check=True,
        env=CHILD_ENV,
    )
    return int(out.stdout.split()[-1]) / 1024


COUNT = """
import json, sys
import numpy as np
from simulator import load_config
from simulator.engine import ProspectLists, Simulation
from simulator.kernel import run_compiled
out = []
for path, size, strategy, runs in json.loads(sys.argv[1]):
    config = load_config(path)
    if size is not None:
        segments = {k: v.model_copy(update={"size": size}) for k, v in config.segments.items()}
        config = config.model_copy(update={"segments": segments})
    draws = np.zeros(runs, dtype=np.int64)
    lists = ProspectLists(config, np.arange(runs), 1, badges=False)
    run_compiled(Simulation(config, strategy, lists), None, draws)
    out.append(int(draws.sum()))
print(json.dumps(out))
"""


def count_draws(jobs: list[tuple[str, object, str, int]]) -> list[int]:
    """Uniforms drawn by each job (config path, list size or None, strategy, runs), counted
    by the compiled loop in a fresh process (the counting build is compiled there)."""
    done = subprocess.run(
        [sys.executable, "-P", "-c", COUNT, json.dumps(jobs)],
        capture_output=True,
        text=True,
        check=True,
        env={**CHILD_ENV, "OUTREACH_SIM_COUNT_DRAWS": "1"},
    )
    return json.loads(done.stdout.split("\n")[-2])


@njit
def _uniforms(key, n):
    """The floor: the compiled loop's own generator, n uniforms in a tight loop."""
    total = 0.0
    for i in range(n):
        total += _uniform(key, i)
    return total


@njit
def _bare_requests(key, n, p, cdfs):
    """n connection requests and nothing else: a uniform, the acceptance test, the delay
    (the compiled loop's own `_delay`, step 0 of `cdfs`) and one count by the day."""
    accepted = np.zeros(400, dtype=np.int64)
    withdrawn = 0
    for i in range(n):
        u = _uniform(key, i)
        if u < p:
            accepted[i % 300 + _delay(cdfs, 0, 0, u / p)] += 1
        else:
            withdrawn += 1
    return accepted.sum() + withdrawn


@njit
def _split_requests(key, n, p, cdfs):
    """The same requests and counts without a branch on the outcome: each batch of 20
    draws first, the accepted indices kept by a count that adds the test's 0 or 1, then
    the accepted get their delays in a loop of their own."""
    accepted = np.zeros(400, dtype=np.int64)
    index = np.empty(20, dtype=np.int64)
    ratio = np.empty(20)
    withdrawn = 0
    for start in range(0, n, 20):
        end, k = min(n, start + 20), 0
        for i in range(start, end):
            u = _uniform(key, i)
            index[k], ratio[k] = i, u / p
            k += u < p
        withdrawn += end - start - k
        for j in range(k):
            accepted[index[j] % 300 + _delay(cdfs, 0, 0, ratio[j])] += 1
    return accepted.sum() + withdrawn


def _median_seconds(loop, n: int, *args, repeats: int = 3) -> float:
    """The median time of `repeats` calls of a compiled loop over n items (compiled first)."""
    loop(np.uint64(1), 10, *args)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        loop(np.uint64(12345), n, *args)
        times.append(time.perf_counter() - start)
    return sorted(times)[repeats // 2]


def floor_seconds(draws: int) -> float:
    """Seconds the compiled loop's own generator takes on one thread, in a tight loop, to
    produce `draws` uniforms (the median of three)."""
    return _median_seconds(_uniforms, draws)


def bare_request_ns(n: int = 20_000_000) -> tuple[float, float, float]:
    """Nanoseconds a uniform takes in the floor's tight loop, and the least a connection
    request can cost in the same loop: its uniform, the acceptance test (35%), its delay
    through the loop's own guide table (MODEL.md's 2-day median acceptance delay) and one
    count by the day it resolves, with a branch on the outcome and without one; medians of
    five. The gap is what any request costs before the rest of the model (budgets,
    calendar, follow-ups) is paid."""
    cdf = np.cumsum(np.diff(lognormal_cdf(np.arange(0.0, 91.0), 1.0, 2.0)))
    cdf[-1] = 1.0
    # the compiled loop's delay table for one step of one CDF row (kernel._cdfs)
    cdfs = (
        cdf,
        np.zeros(1, dtype=np.int64),
        np.array([cdf.size]),
        np.zeros(1, dtype=np.bool_),
        _guide_rows(cdf, 1, cdf.size),
        np.zeros(1, dtype=np.int64),
    )
    uniform = _median_seconds(_uniforms, n, repeats=5)
    request = _median_seconds(_bare_requests, n, 0.35, cdfs, repeats=5)
    split = _median_seconds(_split_requests, n, 0.35, cdfs, repeats=5)
    assert _bare_requests(np.uint64(7), 10_000, 0.35, cdfs) == _split_requests(
        np.uint64(7), 10_000, 0.35, cdfs
    )
    return uniform / n * 1e9, request / n * 1e9, split / n * 1e9


def sized(config, size):
    if size is None:
        return config
    segments = {k: v.model_copy(update={"size": size}) for k, v in config.segments.items()}
    return config.model_copy(update={"segments": segments})


def floor_table(config_paths: list[str], runs: int) -> None:
    """Each strategy on one thread against the floor of the uniforms it draws."""
    jobs = []
    for path in config_paths:
        config = load_config(ROOT / path)
        jobs += [(str(ROOT / path), None, strategy, runs) for strategy in config.strategies]
    op = str(ROOT / "configs" / "open_profile_first.yaml")
    jobs += [(op, size, "open_profile_first", runs) for size in (60_000, "unlimited")]
    draws = count_draws(jobs)
    uniform_ns, request_ns, split_ns = bare_request_ns()
    print(
        f"\na uniform in a tight loop: {uniform_ns:.2f} ns; the least a connection request "
        f"costs (its uniform, acceptance, delay, one count): {request_ns:.2f} ns "
        f"({request_ns / uniform_ns:.1f}x a uniform), {split_ns:.2f} ns without a branch "
        f"on the outcome ({split_ns / uniform_ns:.1f}x)"
    )
    print(f"\nthe floor: {runs} replications, one thread")
    for (path, size, strategy, _), n in zip(jobs, draws, strict=True):
        config = sized(load_config(path), size)
        engine_s = min(compiled_seconds(config, strategy, runs, 1) for _ in range(2))
        floor_s = floor_seconds(n)
        label = Path(path).stem + ("" if size is None else f" (size {size})")
        print(
            f"{label:<37} {strategy:<29} {n / runs:9.0f} uniforms/run  engine {engine_s:6.2f} s  "
            f"floor {floor_s:6.3f} s  ratio {engine_s / floor_s:5.1f}x",
            flush=True,
        )


PEAK_SIZED = """
import resource, sys, time
import numpy as np
from simulator import load_config
from simulator.engine import ProspectLists, Simulation
from simulator.kernel import run_compiled
from simulator.metrics import COUNTS
config = load_config(sys.argv[1])
size = sys.argv[2] if sys.argv[2] == "unlimited" else int(sys.argv[2])
segments = {k: v.model_copy(update={"size": size}) for k, v in config.segments.items()}
config = config.model_copy(update={"segments": segments})
runs = int(sys.argv[3])
warm = ProspectLists(config, np.arange(2), 1, badges=False)
run_compiled(Simulation(config, sys.argv[4], warm), 1)
start = time.perf_counter()
lists = ProspectLists(config, np.arange(runs), 1, badges=False)
monthly = run_compiled(Simulation(config, sys.argv[4], lists), 1)
seconds = time.perf_counter() - start
from simulator.metrics import SENT_BY_KIND
sent = [c for counts in SENT_BY_KIND.values() for c in counts]
touches = sum(monthly[:, :, COUNTS.index(c)].sum() for c in sent) / runs
print(seconds, touches, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


#: (config, strategy) whose lists the size table lengthens: open_profile_first's 3,000 list
#: runs out of Open Profiles (a longer one sends more), connect_only's and tiered_hybrid's
#: paces keep the work about the same
SIZED = (
    ("open_profile_first", "open_profile_first"),
    ("connect_only", "connect_only"),
    ("tiered_hybrid", "tiered_hybrid"),
)


def sizes_table(runs: int) -> None:
    """Each of SIZED at three list sizes, one thread, same seed, a fresh process each."""
    for name, strategy in SIZED:
        path = ROOT / "configs" / f"{name}.yaml"
        print(f"\nthe list's length: {name}, {runs} replications, one thread, seed 1")
        base = None
        for size in ("3000", "60000", "unlimited"):
            done = subprocess.run(
                [sys.executable, "-P", "-c", PEAK_SIZED, str(path), size, str(runs), strategy],
                env=CHILD_ENV,
                capture_output=True,
                text=True,
                check=True,
            )
            seconds, touches, peak = (float(x) for x in done.stdout.split())
            base = base or (seconds, touches)
            print(
                f"size {size:>9}: {seconds:6.2f} s ({seconds / base[0]:4.2f}x)  "
                f"{touches:7.0f} touches/run ({touches / base[1]:4.2f}x)  "
                f"{1e6 * seconds / (runs * touches):5.2f} us/touch  peak {peak:5.0f} MiB",
                flush=True,
            )


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


def compiled_seconds(config, strategy: str, runs: int, threads: int | None) -> float:
    start = time.perf_counter()
    lists = ProspectLists(config, np.arange(runs), 1, badges=False)
    run_compiled(Simulation(config, strategy, lists), threads)
    return time.perf_counter() - start


def measure(config_path: Path, runs: int, oracle_runs: int, numpy_runs: int) -> None:
    config = load_config(config_path)
    for strategy in config.strategies:
        engine_s = compiled_seconds(config, strategy, runs, None)
        one_thread_s = compiled_seconds(config, strategy, min(runs, 2000), 1)
        n_numpy = min(runs, numpy_runs)
        start = time.perf_counter()
        Simulation(config, strategy, ProspectLists(config, np.arange(n_numpy), 1)).run()
        numpy_rate = n_numpy / (time.perf_counter() - start)
        start = time.perf_counter()
        drawn = draws_for_replications(config, 1, oracle_runs)  # rates drawn per replication
        simulate_reference(config, strategy, oracle_runs, seed=1, parameters=drawn)
        oracle_s = time.perf_counter() - start
        engine_rate, oracle_rate = runs / engine_s, oracle_runs / oracle_s
        print(
            f"{config_path.stem:<19} {strategy:<29} {runs:>6} runs {engine_s:6.2f} s "
            f"{engine_rate:7.0f} runs/s (1 thread {min(runs, 2000) / one_thread_s:6.0f}) | "
            f"numpy {numpy_rate:5.0f} runs/s | reference {oracle_rate:6.2f} runs/s | "
            f"ratio {engine_rate / oracle_rate:5.0f}x | peak "
            f"{peak_mib(config_path, strategy, runs):5.0f} MiB",
            flush=True,
        )
    for workers in (1, 2):
        start = time.perf_counter()
        run(config, replications=runs, seed=1, workers=workers)
        print(
            f"{config_path.stem:<19} all {len(config.strategies)} strategies, API, "
            f"{workers} worker(s): {time.perf_counter() - start:6.2f} s",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--oracle-runs", type=int, default=20)
    parser.add_argument("--numpy-runs", type=int, default=2000)
    parser.add_argument("--floor-only", action="store_true", help="the floor and list sizes only")
    parser.add_argument(
        "configs",
        nargs="*",
        default=[
            "configs/connect_only.yaml",
            "configs/inmail_only.yaml",
            "configs/open_profile_first.yaml",
            "configs/tiered_hybrid.yaml",
        ],
    )
    args = parser.parse_args()
    print(f"numpy micro-benchmark: {numpy_score():.3f} s (lower is a faster machine)")
    start = time.perf_counter()
    first = load_config(ROOT / args.configs[0])
    compiled_seconds(first, next(iter(first.strategies)), 1, 1)
    print(
        f"compiling the engine's loop (or loading it from numba's cache): "
        f"{time.perf_counter() - start:.1f} s"
    )
    if not args.floor_only:
        for path in args.configs:
            measure(ROOT / path, args.runs, args.oracle_runs, args.numpy_runs)
    floor_table(args.configs, args.runs)
    sizes_table(args.runs)


if __name__ == "__main__":
    main()
