"""Runs and reports that cannot be right are refused up front in one line (exit 2): too
large for memory (saying where the number came from), a results folder whose files are
not its run's, a Dask scheduler that does not answer (issue 15, classes 7, 8 and 9)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from simulator.cli import main

SMALL = {
    "horizon_months": 2,
    "replications": 20,
    "segments": {"mid": {"size": 100}},
    "strategies": {
        "connect": {
            "plan": "free",
            "playbook": [{"segment": "mid", "touches": [{"kind": "connect"}]}],
        }
    },
}
GIB = 2**30


def write(tmp_path: Path, data: dict, name: str = "campaign.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    return err[0]


@pytest.fixture
def four_gib(monkeypatch):
    """A machine with 4 GiB available, whatever this one has."""
    import simulator.api

    monkeypatch.setattr(simulator.api, "available_memory", lambda: 4 * GIB)


# --- class 7: resources ----------------------------------------------------------------


def test_a_list_of_a_billion_with_stream_is_refused_naming_the_config(tmp_path, capsys, four_gib):
    data = {**SMALL, "segments": {"mid": {"size": 10**9}}}
    config = write(tmp_path, data)
    out = tmp_path / "never"
    assert main(["run", str(config), "--stream", "--out", str(out), "--quiet"]) == 2
    line = one_line(capsys)
    assert line.startswith(f"outreach-sim: {config}: segments, accounts: one replication")
    assert "1,000,000,000 prospects" in line and "--stream does not help" in line
    assert not out.exists()


def test_a_million_seats_with_stream_is_refused_naming_the_seats(tmp_path, capsys, four_gib):
    data = {**SMALL, "horizon_months": 24, "accounts": 10**6}
    config = write(tmp_path, data)
    assert main(["run", str(config), "--stream", "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert "1,000,000 seats" in one_line(capsys)


def test_too_many_replications_from_the_config_names_the_config_key(tmp_path, capsys, four_gib):
    config = write(tmp_path, {**SMALL, "replications": 10**9})
    assert main(["run", str(config), "--out", str(tmp_path / "x"), "--quiet"]) == 2
    line = one_line(capsys)
    assert line.startswith(f"outreach-sim: {config}: replications: 1,000,000,000 replications")
    assert "--runs" not in line and "use --stream" in line


def test_too_many_replications_from_runs_names_runs(tmp_path, capsys, four_gib):
    config = write(tmp_path, SMALL)
    args = ["run", str(config), "--runs", "900000000", "--out", str(tmp_path / "x"), "--quiet"]
    assert main(args) == 2
    assert one_line(capsys).startswith("outreach-sim: --runs: 900,000,000 replications")


def test_the_same_replications_stream_in_flat_memory(tmp_path, four_gib, monkeypatch):
    """--stream needs one block per worker, not the replications: it is not refused."""
    import simulator.api

    seen = []
    monkeypatch.setattr(simulator.api, "run_streaming", lambda *a, **k: seen.append(a) or 1 / 0)
    config = write(tmp_path, {**SMALL, "replications": 10**9})
    with pytest.raises(ZeroDivisionError):  # got past the check, into the run
        main(["run", str(config), "--stream", "--out", str(tmp_path / "x"), "--quiet"])
    assert seen


@pytest.mark.parametrize(
    ("option", "value", "reason"),
    [
        ("--runs", str(10**13), "must be at most 1,000,000,000"),
        ("--seed", str(2**64), "must be at most 9,223,372,036,854,775,807"),
        ("--workers", "100000", "must be at most 1,024"),
        ("--chunk", "0", "must be at least 1"),
    ],
)
def test_command_line_numbers_are_bounded(tmp_path, capsys, option, value, reason):
    config = write(tmp_path, SMALL)
    assert main(["run", str(config), option, value, "--out", str(tmp_path / "x")]) == 2
    line = one_line(capsys)
    assert line.startswith(f"{option}: ") and reason in line


# --- class 8: the files a report reads are the run's ---------------------------------------


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    config = write(tmp_path, SMALL)
    folders = tmp_path / "a", tmp_path / "b"
    for seed, folder in enumerate(folders, start=1):
        args = ["run", str(config), "--seed", str(seed), "--out", str(folder), "--quiet"]
        assert main([*args, "--no-report", "--runs", "10"]) == 0
    return folders


def test_run_json_records_the_sha256_of_every_data_file(two_runs):
    import hashlib

    folder = two_runs[0]
    recorded = json.loads((folder / "run.json").read_text())["files"]
    assert set(recorded) == {
        "runs.parquet",
        "monthly.parquet",
        "summary.json",
        "config.yaml",
        "config_source.yaml",
    }
    for name, digest in recorded.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest


def test_report_refuses_runs_parquet_copied_from_another_run(two_runs, capsys):
    a, b = two_runs
    shutil.copy(b / "runs.parquet", a / "runs.parquet")
    assert main(["report", str(a), "--quiet"]) == 2
    line = one_line(capsys)
    assert line.startswith(f"outreach-sim: {a}: runs.parquet differs from what its run.json")
    assert not (a / "report.html").exists()


def test_report_refuses_a_missing_data_file(two_runs, capsys):
    (two_runs[0] / "monthly.parquet").unlink()
    assert main(["report", str(two_runs[0]), "--quiet"]) == 2
    assert "monthly.parquet is missing" in one_line(capsys)


def test_report_refuses_an_edited_config(two_runs, capsys):
    config = two_runs[0] / "config.yaml"
    config.write_text(config.read_text().replace("size: 100", "size: 90"))
    assert main(["report", str(two_runs[0]), "--quiet"]) == 2
    assert "config.yaml differs" in one_line(capsys)


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("seed", "abc", "seed: expected a whole number of at least 0, got 'abc'"),
        ("replications", None, "replications: expected a whole number of at least 1, got None"),
        ("files", ["runs.parquet"], "files: expected a mapping of file names to SHA-256"),
        ("command", 5, "command: expected a list of words, got 5"),
    ],
)
def test_report_refuses_a_run_json_edited_by_hand(two_runs, capsys, key, value, reason):
    """It was exit 1 and Python's words ("the report was not written (ValueError: invalid
    literal for int() with base 10: 'abc')"), as if the machine had failed."""
    folder = two_runs[0]
    meta = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**meta, key: value}))
    assert main(["report", str(folder), "--quiet"]) == 2
    assert one_line(capsys).startswith(f"outreach-sim: {folder / 'run.json'}: {reason}")
    assert not (folder / "report.html").exists()


def test_report_builds_on_an_untouched_folder_and_on_one_from_before_the_record(two_runs):
    a, b = two_runs
    assert main(["report", str(a), "--quiet"]) == 0
    meta = json.loads((b / "run.json").read_text())
    del meta["files"]  # as run.json was written before hashes were recorded
    (b / "run.json").write_text(json.dumps(meta))
    assert main(["report", str(b), "--quiet"]) == 0


def test_report_on_a_streamed_run_says_it_has_no_replications(tmp_path, capsys):
    config = write(tmp_path, SMALL)
    out = tmp_path / "streamed"
    assert main(["run", str(config), "--stream", "--runs", "10", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["report", str(out), "--quiet"]) == 2
    assert "a streamed run (--stream) keeps no replications" in one_line(capsys)


# --- class 9: an unreachable scheduler -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_scheduler_address_where_nothing_listens_is_one_line_at_once(tmp_path, capsys, command):
    data = {**SMALL, "sweep": {"axes": {"accounts": [1, 2]}}} if command == "sweep" else SMALL
    config = write(tmp_path, data)
    address = f"tcp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    args = [command, str(config), "--scheduler", address, "--out", str(tmp_path / "x")]
    assert main([*args, "--quiet"]) == 2
    assert time.monotonic() - started < 5
    line = one_line(capsys)
    assert line == (
        f"outreach-sim: --scheduler: no Dask scheduler answers at {address} "
        "(Connection refused); is `dask scheduler` running there?"
    )
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:99999", "http://host:1", "tcp://:8786"])
def test_a_malformed_scheduler_address_is_one_line(tmp_path, capsys, address):
    config = write(tmp_path, SMALL)
    assert main(["run", str(config), "--scheduler", address, "--quiet"]) == 2
    assert "is not an address like tcp://HOST:8786" in one_line(capsys)


def test_the_console_script_says_it_in_one_line_too(tmp_path):
    config = write(tmp_path, SMALL)
    address = f"tcp://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "run", str(config), "--scheduler", address],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"outreach-sim: --scheduler: no Dask scheduler answers at {address} "
        "(Connection refused); is `dask scheduler` running there?"
    ]


# --- the machine fails, not the input ----------------------------------------------------


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    import errno

    import pandas as pd

    def full(self, path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    config = write(tmp_path, SMALL)
    out = tmp_path / "out"
    assert main(["run", str(config), "--runs", "5", "--out", str(out), "--quiet"]) == 1
    line = one_line(capsys)
    assert line.startswith("outreach-sim: ") and "No space left on device" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["campaign.yaml"]


def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    config = write(tmp_path, SMALL)
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "validate", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # as `| head -0` does
    _, err = process.communicate(timeout=60)
    assert err.decode() == ""
    assert process.returncode == 1


@pytest.mark.parametrize("text", ["{not json", "[]", '{"seed": 1}'])
def test_report_on_a_folder_whose_run_json_is_not_this_tools_is_refused(tmp_path, capsys, text):
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "run.json").write_text(text)
    assert main(["report", str(folder), "--quiet"]) == 2
    assert "not a results folder" in one_line(capsys)
    assert [p.name for p in folder.iterdir()] == ["run.json"]


def test_a_sweep_point_too_large_is_refused_naming_the_point_before_any_runs(
    tmp_path, capsys, four_gib, monkeypatch
):
    import simulator.sweep

    monkeypatch.setattr(simulator.sweep, "_point_chunk", lambda job: 1 / 0)  # never reached
    data = {**SMALL, "horizon_months": 24, "sweep": {"axes": {"accounts": [1, 10**6]}}}
    config = write(tmp_path, data)
    assert main(["sweep", str(config), "--out", str(tmp_path / "x"), "--quiet"]) == 2
    line = one_line(capsys)
    assert f"{config} (sweep point 1: accounts=1000000): segments, accounts" in line
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("threads", ["abc", "0", "-2", "1.5"])
def test_a_thread_count_in_the_environment_that_is_not_one_is_one_line(
    tmp_path, capsys, monkeypatch, threads
):
    monkeypatch.setenv("OUTREACH_SIM_THREADS", threads)
    config = write(tmp_path, SMALL)
    assert main(["run", str(config), "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert one_line(capsys).startswith("OUTREACH_SIM_THREADS: expected a whole number")


@pytest.mark.parametrize(
    ("sweep", "field", "reason"),
    [
        ({"axes": {"accounts": [1]}, "replications": 10**20}, "sweep.replications", "less than"),
        (
            {
                "axes": {"accounts": {"low": 1, "high": 3, "integer": True}},
                "method": "latin_hypercube",
                "points": 3,
                "seed": 10**30,
            },
            "sweep.seed",
            "less than 9223372036854775808",
        ),
        (
            {
                "axes": {"accounts": {"low": 1, "high": float("inf")}},
                "method": "latin_hypercube",
                "points": 2,
            },
            "sweep.axes.accounts.high",
            "finite number",
        ),
        ({"axes": {"accounts": [1]}, "budgets": [float("inf")]}, "sweep.budgets.0", "finite"),
        ({"axes": {"a\x00b": [1]}}, "sweep.axes.'a\\x00b'", "no such field"),
    ],
)
def test_a_sweep_section_out_of_bounds_is_one_line(tmp_path, capsys, sweep, field, reason):
    sweep_config = write(tmp_path, {**SMALL, "sweep": sweep}, "sweep.yaml")
    assert main(["sweep", str(sweep_config), "--out", str(tmp_path / "x"), "--quiet"]) == 2
    line = one_line(capsys)
    assert line.startswith(f"{sweep_config}: {field}: ") and reason in line, line
