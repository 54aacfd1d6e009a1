"""`outreach-sim` with a fault put in at a chosen point, for the tests that kill a run.

    python tests/fault_points.py POINT [ARG] -- run CONFIG --out DIR ...

POINT is where the process kills itself with SIGKILL (nothing is cleaned up, as when
the machine loses power or the run is killed outright):

- ``simulating``: as the first block of replications starts;
- ``writing-data``: half way through the second data file (``monthly.parquet``);
- ``writing-report``: after the first chart of the report is saved;

or ``helper-drawing DIR``: once a helper process of the report has started a chart (it
says so with a file in DIR), so that the helper finishes it with its parent gone;
or ``barrier DIR``: just before the finished folder is published, wait until every
process started with the same DIR has got there too (two runs racing for one folder).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

MAIN = os.getpid()


def die() -> None:
    if os.getpid() == MAIN:  # never a forked helper: the run itself
        os.kill(MAIN, signal.SIGKILL)


def arm(point: str, argument: str | None) -> None:
    import pandas as pd

    import simulator.api
    import simulator.charts
    import simulator.folders

    if point == "simulating":
        simulator.api.simulate_block = lambda *args, **kwargs: die()
    elif point == "writing-data":
        to_parquet = pd.DataFrame.to_parquet

        def half_then_die(self, path, *args, **kwargs):
            if Path(path).name == "monthly.parquet":
                Path(path).write_bytes(b"PAR1 half a file")
                die()
            return to_parquet(self, path, *args, **kwargs)

        pd.DataFrame.to_parquet = half_then_die
    elif point == "writing-report":
        save = simulator.charts.save

        def one_then_die(*args, **kwargs):
            paths = save(*args, **kwargs)
            die()
            return paths

        simulator.charts.save = one_then_die
    elif point == "helper-drawing":
        import threading

        import simulator.report

        assert argument is not None
        flag = Path(argument) / "drawing"
        draw = simulator.report._draw_and_save

        def say_then_draw(*args, **kwargs):
            if os.getpid() != MAIN:  # in a helper
                flag.touch()
                time.sleep(0.5)
            return draw(*args, **kwargs)

        def kill_when_drawing() -> None:
            while not flag.exists():
                time.sleep(0.01)
            die()

        simulator.report._draw_and_save = say_then_draw
        threading.Thread(target=kill_when_drawing, daemon=True).start()
    elif point == "barrier":
        assert argument is not None
        meeting = Path(argument)
        publish = simulator.folders.publish

        def together(*args, **kwargs):
            (meeting / str(os.getpid())).touch()
            deadline = time.monotonic() + 60
            while len(list(meeting.iterdir())) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            return publish(*args, **kwargs)

        simulator.folders.publish = together
        import simulator.output

        simulator.output.publish = together
    else:
        raise SystemExit(f"unknown fault point {point!r}")


if __name__ == "__main__":
    split = sys.argv.index("--")
    point, *rest = sys.argv[1:split]
    arm(point, rest[0] if rest else None)
    from simulator.cli import main

    sys.exit(main(sys.argv[split + 1 :]))
