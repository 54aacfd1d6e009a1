"""Time from a what-if slider change to the redrawn picture, in one process.

    python benchmarks/whatif_speed.py                       # tiered_hybrid, 2,000 runs
    python benchmarks/whatif_speed.py --config configs/compare_seed_programmes.yaml

The widget is built as a notebook builds it; each change sets a slider's value, which
goes through the same path as a person's move (the change is checked, the config edited,
every strategy re-run on the same seed, the verdict written, the chart drawn to PNG).
The debounce wait (a notebook waits DEBOUNCE_SECONDS for a further move) is not included:
with no event loop the update runs at once. Prints the median, fastest and slowest
change and where the time goes, with a numpy micro-benchmark taken in the same run so
that figures from different machines compare.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from engine_speed import numpy_score  # noqa: E402

from simulator import load_config  # noqa: E402
from simulator.whatif import DEBOUNCE_SECONDS, WhatIf, simulate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "tiered_hybrid.yaml"))
    parser.add_argument("--runs", type=int, default=2000, help="replications per update")
    parser.add_argument("--changes", type=int, default=12, help="slider changes to time")
    args = parser.parse_args()

    config = load_config(args.config)
    print(f"numpy micro-benchmark: {numpy_score():.3f} s (lower is a faster machine)")
    start = time.perf_counter()
    tool = WhatIf(config, replications=args.runs)
    tool.update()  # the first picture (and the compiled loop loaded from numba's cache)
    print(f"first picture: {time.perf_counter() - start:.2f} s (loop loaded, widgets built)")

    # a rate slider the config has, moved back and forth over its range
    rate = next(c for c in tool.controls if "rates." in c.path and c.low is not None)
    assert rate.low is not None and rate.high is not None
    values = [rate.low + (rate.high - rate.low) * (i % 4 + 1) / 5 for i in range(args.changes)]
    slider = tool._widgets[rate.path]
    times = []
    for value in values:
        start = time.perf_counter()
        slider.value = round(value, 3)  # as a person's move: observed, checked, re-run, drawn
        times.append(time.perf_counter() - start)
        assert tool.changes[rate.path] == round(value, 3)

    start = time.perf_counter()
    simulate(config, tool.changes, args.runs, tool.seed)
    engine = time.perf_counter() - start
    print(
        f"{Path(args.config).stem}, {args.runs:,} replications x {len(config.strategies)} "
        f"strateg{'y' if len(config.strategies) == 1 else 'ies'}, slider {rate.path}:"
    )
    print(
        f"  change to redraw: median {statistics.median(times):.3f} s, fastest "
        f"{min(times):.3f} s, slowest {max(times):.3f} s over {len(times)} changes"
    )
    print(f"  of which the run alone (simulate + tables): {engine:.3f} s")
    print(f"  a notebook adds the debounce wait after the last move: {DEBOUNCE_SECONDS} s")
    print(f"  verdict: {tool.verdict}")


if __name__ == "__main__":
    main()
