"""An interrupted run leaves nothing that looks like a result, and loses nothing earlier."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import time
from pathlib import Path

import pytest

from simulator import load_config, run
from simulator.output import write_results

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "inmail_only.yaml"


def fingerprint(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def start(args: list[str]) -> subprocess.Popen:
    """`outreach-sim run CONFIG ARGS` as a terminal starts it: with Ctrl-C at its default
    (a shell that runs this suite in the background hands its children SIGINT ignored)."""
    return subprocess.Popen(
        ["outreach-sim", "run", str(CONFIG), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


@pytest.fixture
def earlier(tmp_path: Path) -> Path:
    done = subprocess.run(
        [
            "outreach-sim",
            "run",
            str(CONFIG),
            "--runs",
            "20",
            "--no-report",
            "--out",
            str(tmp_path / "earlier"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "results written" in done.stdout
    return tmp_path / "earlier"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_a_killed_run_leaves_no_result_and_the_earlier_one_intact(tmp_path, earlier, sig):
    before = fingerprint(earlier)
    target = tmp_path / "long"
    process = start(["--runs", "200000", "--out", str(target)])
    assert "simulating" in process.stdout.readline()  # the run has started
    time.sleep(1)  # well into the simulation
    assert process.poll() is None, process.communicate()
    started = time.monotonic()
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert time.monotonic() - started < 20  # stops promptly
        assert process.returncode == 130
        assert err.strip().splitlines() == ["outreach-sim: interrupted; no results were written"]
    else:  # its worker processes die with it (and so close its output promptly)
        assert process.returncode == -signal.SIGKILL
        assert time.monotonic() - started < 20
    assert not target.exists()
    assert visible(tmp_path) == ["earlier"]
    assert fingerprint(earlier) == before


def test_an_interrupted_write_leaves_nothing_behind(tmp_path, monkeypatch):
    results = run(load_config(CONFIG), replications=5, seed=1)
    import pandas as pd

    def broken(self, path, **kwargs):
        Path(path).write_bytes(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken)
    with pytest.raises(KeyboardInterrupt):
        write_results(results, tmp_path / "result")
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_the_workers_start_still_stops_the_run(tmp_path):
    """A SIGINT that lands while a worker is being forked would be raised inside an
    at-fork hook, where Python ignores it; the run holds it back until they started."""
    for delay in (0.0, 0.01, 0.02, 0.03, 0.05, 0.08):
        process = start(["--runs", "200000", "--no-report", "--out", str(tmp_path / "long")])
        assert "simulating" in process.stdout.readline()
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 130, (delay, err)
        assert not (tmp_path / "long").exists()
