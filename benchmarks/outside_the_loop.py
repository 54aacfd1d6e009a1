"""A whole `outreach-sim` process's wall time, and how much of it is outside the compiled loop.

    python benchmarks/outside_the_loop.py                          # this checkout, 5 runs
    python benchmarks/outside_the_loop.py --vs /path/to/other/checkout -n 7
    python benchmarks/outside_the_loop.py -- run configs/tiered_hybrid.yaml --runs 2000 \\
        --no-report --quiet --out /tmp/speed --force

Each run is a fresh process (start-up, imports, set-up, tables, files, exit: all of it);
inside it, the time spent in `simulator.kernel.run_compiled` (the compiled loop, with
numba's start on its first call) is added up, and the rest is the time outside the loop.
With --vs, the two checkouts run in turn (A B A B ...) so that a drift of the machine's
load falls on both; one warm-up pair is not counted. Prints each checkout's medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = [
    "run",
    str(ROOT / "configs" / "connect_only.yaml"),
    "--runs",
    "10000",
    "--no-report",
    "--quiet",
    "--out",
    str(Path(tempfile.gettempdir()) / "outside_the_loop"),
    "--force",
]

# the child: the command line's own main, with the loop's time summed and written at exit
CHILD = """
import atexit, sys, time
import simulator.kernel as kernel
from simulator.cli import main
inner, spent = kernel.run_compiled, [0.0]
def timed(*args, **kwargs):
    start = time.perf_counter()
    try:
        return inner(*args, **kwargs)
    finally:
        spent[0] += time.perf_counter() - start
kernel.run_compiled = timed
atexit.register(lambda: open(sys.argv[1], "w").write(repr(spent[0])))
sys.exit(main(sys.argv[2:]))
"""


def one_run(checkout: Path, command: list[str], loop_file: Path) -> tuple[float, float]:
    """Wall seconds of one process and the seconds it spent in the compiled loop."""
    # -P: the checkout on PYTHONPATH is imported, not a `simulator` in the current folder
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-P", "-c", CHILD, str(loop_file), *command],
        env=env,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    wall = time.perf_counter() - start
    return wall, float(loop_file.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=5, help="counted runs of each checkout")
    parser.add_argument("--vs", type=Path, help="a second checkout to run in turn")
    parser.add_argument("command", nargs="*", help="the outreach-sim arguments (after --)")
    args = parser.parse_args()
    command = args.command or DEFAULT
    checkouts = [ROOT, *([args.vs.resolve()] if args.vs else [])]
    times: dict[Path, list[tuple[float, float]]] = {c: [] for c in checkouts}
    with tempfile.TemporaryDirectory() as scratch:
        loop_file = Path(scratch) / "loop"
        for i in range(args.n + 1):
            for checkout in checkouts:
                result = one_run(checkout, command, loop_file)
                if i > 0:  # the first round warms caches (and compiles a new loop)
                    times[checkout].append(result)
    print(f"outreach-sim {' '.join(command)}: medians of {args.n} runs")
    for checkout, runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        loop = statistics.median(lp for _, lp in runs)
        outside = statistics.median(w - lp for w, lp in runs)
        print(
            f"{checkout}: wall {wall:.2f} s, compiled loop {loop:.2f} s, "
            f"outside the loop {outside:.2f} s"
        )


if __name__ == "__main__":
    main()
