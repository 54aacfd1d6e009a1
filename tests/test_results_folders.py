"""No run destroys, replaces or mislabels data: --force replaces only a results folder
this tool wrote, two runs never both win one folder, a killed run leaves nothing that
looks complete, and its left-overs are cleaned by the next run (results/README.md)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from small_runs import REQUESTS_AND_INMAILS

from simulator import folders
from simulator.cli import main

TESTS = Path(__file__).resolve().parent
SMALL = {
    "horizon_months": 2,
    "replications": 20,
    "segments": {"mid": {"size": 100, "open_profile_share": 0.2}},
    "strategies": REQUESTS_AND_INMAILS,
}
QUIET = ["--quiet", "--no-report"]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    return path


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under `folder` (names relative to it) and its SHA-256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def hidden(folder: Path) -> list[str]:
    """Hidden left-overs in `folder` (its list of files written here is not one)."""
    return sorted(
        p.name for p in folder.iterdir() if p.name.startswith(".") and p.name != folders.MANIFEST
    )


def run_cli(config: Path, out: Path, *extra: str) -> int:
    return main(["run", str(config), "--out", str(out), "--runs", "10", *QUIET, *extra])


# --- class 1: --force replaces only a folder this tool wrote -------------------------


def test_force_refuses_a_folder_without_run_json_and_leaves_it_untouched(tmp_path, config, capsys):
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("keep me")
    (work / "sub").mkdir()
    (work / "sub" / "data.csv").write_text("1,2,3")
    before = fingerprint(work)
    assert run_cli(config, work, "--force") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--force replaces only a results folder" in err[0], err
    assert "left untouched" in err[0]
    assert fingerprint(work) == before
    assert hidden(tmp_path) == []


def test_force_refuses_the_current_folder(tmp_path, config, capsys, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    (here / "campaign.yaml").write_text(config.read_text())
    monkeypatch.chdir(here)
    assert main(["run", "campaign.yaml", "--out", ".", "--force", *QUIET]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is the current folder" in err[0]
    assert sorted(p.name for p in here.iterdir()) == ["campaign.yaml"]


def test_force_refuses_a_folder_that_holds_the_current_one(tmp_path, config, capsys, monkeypatch):
    result = tmp_path / "result"
    assert run_cli(config, result) == 0
    (result / "inside").mkdir()
    monkeypatch.chdir(result / "inside")
    before = fingerprint(result)
    assert run_cli(config, result, "--force") == 2
    assert "holds it" in capsys.readouterr().err
    assert fingerprint(result) == before


def test_force_refuses_a_file_and_a_foreign_run_json(tmp_path, config, capsys):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me")
    assert run_cli(config, a_file, "--force") == 2
    assert a_file.read_text() == "keep me"
    foreign = tmp_path / "other-tool"
    foreign.mkdir()
    (foreign / "run.json").write_text('{"some": "other tool"}')
    assert run_cli(config, foreign, "--force") == 2
    assert (foreign / "run.json").read_text() == '{"some": "other tool"}'
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("--force replaces only" in line for line in err)


def test_force_refuses_a_link_to_a_results_folder(tmp_path, config, capsys):
    result = tmp_path / "result"
    assert run_cli(config, result) == 0
    link = tmp_path / "link"
    link.symlink_to(result)
    before = fingerprint(result)
    for force in ("--force", "--quiet"):  # it said "not a results folder" (a link is not)
        assert run_cli(config, link, force, "--seed", "9") == 2
        assert capsys.readouterr().err.strip().splitlines() == [
            f"outreach-sim: {link}: a link (to {result}); a run never writes through a link "
            "(--force would replace what it points to): give the results folder itself or "
            "another --out"
        ]
    assert link.is_symlink() and fingerprint(result) == before


def test_force_replaces_a_results_folder_whole(tmp_path, config):
    result = tmp_path / "result"
    assert main(["run", str(config), "--out", str(result), "--runs", "10", "--quiet"]) == 0
    assert (result / "report.html").is_file()
    assert run_cli(config, result, "--force", "--seed", "2") == 0  # --no-report this time
    assert json.loads((result / "run.json").read_text())["seed"] == 2
    assert not (result / "report.html").exists()  # the old folder went as a whole
    assert not (result / "charts").exists()
    assert hidden(tmp_path) == []


@pytest.mark.parametrize(
    "yours", ["my_analysis.xlsx", "notes/call-list.csv", "charts/annotated.png", "drafts/"]
)
def test_force_refuses_a_results_folder_holding_a_file_it_did_not_write(
    tmp_path, config, capsys, yours
):
    """An analyst's spreadsheet saved beside the results (or in a folder of its own, or
    among the charts) is never deleted: --force is refused and nothing changes."""
    result = tmp_path / "result"
    assert main(["run", str(config), "--out", str(result), "--runs", "10", "--quiet"]) == 0
    path = result / yours
    if yours.endswith("/"):
        path.mkdir()
    else:
        path.parent.mkdir(exist_ok=True)
        path.write_text("mine")
    before = fingerprint(result)
    assert run_cli(config, result, "--force", "--seed", "2") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did not write" in err[0] and yours in err[0]
    assert fingerprint(result) == before and path.exists()
    assert json.loads((result / "run.json").read_text())["seed"] != 2


@pytest.mark.parametrize("edited", ["report.md", "charts/funnel.png", "summary.json"])
def test_force_and_report_refuse_a_file_of_theirs_changed_since(tmp_path, config, capsys, edited):
    """An analyst annotates a chart and saves it under its name, or types notes into
    report.md: --force replaced the folder and a new report the file, and the work was
    lost. Each file's SHA-256 is kept in the list of files written here; a changed one
    stops both, named, in one line."""
    result = tmp_path / "result"
    assert main(["run", str(config), "--out", str(result), "--runs", "10", "--quiet"]) == 0
    path = result / edited
    assert path.is_file(), sorted(folders.recorded_files(result))
    path.write_bytes(path.read_bytes() + b"\n(my notes)")
    before = fingerprint(result)
    assert run_cli(config, result, "--force", "--seed", "2") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "changed since outreach-sim wrote them" in err[0], err
    assert edited in err[0]
    if edited != "summary.json":  # run.json's record refuses that one first, as edited
        assert main(["report", str(result), "--quiet"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"changed since outreach-sim wrote them ({edited})" in err[0]
    assert fingerprint(result) == before


def test_a_list_of_files_kept_without_digests_still_lets_force_replace(tmp_path, config):
    """Folders written before the digests were kept (a plain list of names) work as before."""
    result = tmp_path / "result"
    assert run_cli(config, result, "--seed", "1") == 0
    names = folders.recorded_files(result)
    (result / folders.MANIFEST).write_text(json.dumps(names))
    assert run_cli(config, result, "--force", "--seed", "2") == 0
    assert json.loads((result / "run.json").read_text())["seed"] == 2


def test_a_file_that_arrives_during_the_run_stops_the_replacement(tmp_path, config):
    result = tmp_path / "result"
    assert run_cli(config, result, "--seed", "1") == 0
    staging = folders.make_staging(tmp_path, "result")
    (staging / "run.json").write_text("{}")
    (result / "late.txt").write_text("saved while the run ran")
    with pytest.raises(folders.FolderError, match=r"late\.txt"):
        folders.publish(staging, result, force=True)
    assert (result / "late.txt").read_text() == "saved while the run ran"
    assert json.loads((result / "run.json").read_text())["seed"] == 1


def test_force_refuses_a_folder_from_before_the_list_of_files(tmp_path, config, capsys):
    result = tmp_path / "result"
    assert run_cli(config, result, "--seed", "1") == 0
    (result / folders.MANIFEST).unlink()  # as an earlier version wrote it
    assert run_cli(config, result, "--force", "--seed", "2") == 2
    assert "earlier outreach-sim" in capsys.readouterr().err
    assert json.loads((result / "run.json").read_text())["seed"] == 1


def test_a_report_built_later_is_recorded_and_never_replaces_a_chart_of_yours(
    tmp_path, config, capsys
):
    result = tmp_path / "result"
    assert run_cli(config, result, "--seed", "1") == 0  # no report
    assert main(["report", str(result), "--quiet"]) == 0
    assert folders.foreign_files(result) == []  # the report's files are on the list
    (result / "charts" / "mine.png").write_bytes(b"mine")
    assert main(["report", str(result), "--quiet"]) == 2
    assert "mine.png" in capsys.readouterr().err
    assert (result / "charts" / "mine.png").read_bytes() == b"mine"


@pytest.mark.parametrize("yours", ["report.md", "report.html"])
def test_a_report_never_replaces_a_report_file_of_yours(tmp_path, config, capsys, yours):
    """A run written with --no-report, then an analyst's own write-up saved as report.md
    in it: building the report refuses in one line and leaves the write-up as it was."""
    result = tmp_path / "result"
    assert run_cli(config, result, "--seed", "1") == 0  # no report
    (result / yours).write_text("# My write-up for the VP")
    before = fingerprint(result)
    assert main(["report", str(result), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did not write" in err[0] and yours in err[0], err
    assert fingerprint(result) == before


@pytest.mark.parametrize("inside", ["inner", "a/b/inner"])
def test_a_run_is_not_written_inside_another_results_folder(tmp_path, config, capsys, inside):
    """--out inside an earlier result would put the new run's files among its own (and
    stop --force on it for good): refused in one line, the earlier result as it was."""
    result = tmp_path / "result"
    assert run_cli(config, result, "--seed", "1") == 0
    before = fingerprint(result)
    assert run_cli(config, result / inside, "--seed", "2") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"inside {result}, a results folder" in err[0], err
    assert fingerprint(result) == before and not (result / inside.split("/")[0]).exists()


def test_report_through_a_link_to_a_results_folder_builds_it_there(tmp_path, config, capsys):
    """`results/latest` linked to the newest run: it said the folder held "no run.json
    written by outreach-sim". --force still never replaces through a link."""
    result = tmp_path / "result"
    assert run_cli(config, result, "--seed", "1") == 0
    latest = tmp_path / "latest"
    latest.symlink_to(result)
    assert main(["report", str(latest), "--quiet"]) == 0, capsys.readouterr().err
    assert (result / "report.html").is_file() and latest.is_symlink()


def test_a_report_in_a_copy_without_the_hidden_list_keeps_a_chart_of_yours(
    tmp_path, config, capsys
):
    """`cp -r result/* copy/` leaves the hidden list of files behind; a chart the analyst
    then saves in copy/charts/ was deleted by the next report (the charts folder is
    replaced whole). What this report draws is known by name: anything else stops it."""
    import shutil

    result = tmp_path / "result"
    assert main(["run", str(config), "--out", str(result), "--runs", "10", "--quiet"]) == 0
    copy = tmp_path / "copy"
    copy.mkdir()
    for entry in result.iterdir():
        if not entry.name.startswith("."):
            (shutil.copytree if entry.is_dir() else shutil.copy2)(entry, copy / entry.name)
    assert main(["report", str(copy), "--quiet"]) == 0  # its own charts: rebuilt
    (copy / "charts" / "for_vp.png").write_bytes(b"mine")
    assert main(["report", str(copy), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "charts/for_vp.png" in err[-1], err
    assert (copy / "charts" / "for_vp.png").read_bytes() == b"mine"
    assert run_cli(config, copy, "--force") == 2  # it said "written by an earlier version"
    assert "a copy may have left the hidden" in capsys.readouterr().err
    assert (copy / "charts" / "for_vp.png").read_bytes() == b"mine"


def test_a_refused_force_is_decided_before_the_simulation(tmp_path, config, monkeypatch, capsys):
    import simulator.api

    def never(*args, **kwargs):
        raise AssertionError("simulated although the target was refused")

    monkeypatch.setattr(simulator.api, "simulate_blocks", never)
    (tmp_path / "work").mkdir()
    assert run_cli(config, tmp_path / "work", "--force") == 2
    assert "--force replaces only" in capsys.readouterr().err


def test_an_unwritable_parent_is_one_line_before_the_simulation(tmp_path, config, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert run_cli(config, blocker / "result") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot write there" in err[0]


def test_sweep_force_refuses_a_folder_it_did_not_write(tmp_path, capsys):
    sweep = {**SMALL, "sweep": {"axes": {"accounts": [1, 2]}, "replications": 5}}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep))
    work = tmp_path / "work"
    work.mkdir()
    (work / "keep.txt").write_text("keep")
    assert main(["sweep", str(path), "--out", str(work), "--force", "--quiet"]) == 2
    assert "--force replaces only a sweep folder" in capsys.readouterr().err
    assert (work / "keep.txt").read_text() == "keep"
    done = tmp_path / "done"
    assert main(["sweep", str(path), "--out", str(done), "--quiet"]) == 0
    (done / "my_pivot.xlsx").write_text("mine")
    assert main(["sweep", str(path), "--out", str(done), "--force", "--quiet"]) == 2
    assert "my_pivot.xlsx" in capsys.readouterr().err
    assert (done / "my_pivot.xlsx").read_text() == "mine"


def test_calibrate_force_replaces_only_its_own_table(tmp_path, capsys):
    data = json.loads(json.dumps(SMALL))
    data["segments"]["mid"]["rates"] = {
        "inmail_reply_paid": {"dist": "uniform", "low": 0.1, "high": 0.25}
    }
    data["segments"]["mid"]["observed"] = {"inmail": {"sent": 40, "replied": 6}}
    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["calibrate", str(path), "--out", str(path), "--force"]) == 2
    assert "replaces only a posterior table" in capsys.readouterr().err
    assert yaml.safe_load(path.read_text()) == data
    table = tmp_path / "posterior.csv"
    assert main(["calibrate", str(path), "--out", str(table)]) == 0
    assert main(["calibrate", str(path), "--out", str(table)]) == 2
    assert main(["calibrate", str(path), "--out", str(table), "--force"]) == 0
    assert hidden(tmp_path) == []


@pytest.mark.parametrize("events", [False, True], ids=["posterior", "events"])
def test_calibrate_out_under_a_file_is_one_line_and_exit_2(tmp_path, capsys, events):
    """--out notes.txt/table.csv: it was exit 1 and "notes.txt: File exists; nothing was
    written", as if the disk had failed."""
    root = Path(__file__).resolve().parents[1]
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    out = notes / ("calibrated.yaml" if events else "posterior.csv")
    args = ["calibrate", str(root / "configs" / "observed_pilot.yaml"), "--out", str(out)]
    if events:
        args[1] = str(root / "configs" / "tiered_hybrid.yaml")
        examples = root / "docs" / "examples"
        args += ["--events", str(examples / "automation_export.csv"),
                 "--mapping", str(examples / "automation_mapping.yaml")]  # fmt: skip
    assert main(args) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"outreach-sim: {out}: cannot write there ({notes} is not a writable folder)"
    ]
    assert notes.read_text() == "mine"


@pytest.mark.parametrize("events", [False, True], ids=["posterior", "events"])
def test_calibrate_never_offers_force_for_a_file_force_would_not_replace(tmp_path, capsys, events):
    """--out at the config itself, without --force: it said "already exists (use --force
    to replace it)", and --force was then refused. It says at once what --force takes."""
    root = Path(__file__).resolve().parents[1]
    name = "tiered_hybrid.yaml" if events else "observed_pilot.yaml"
    config = tmp_path / name
    config.write_text((root / "configs" / name).read_text())
    args = ["calibrate", str(config), "--out", str(config)]
    if events:
        examples = root / "docs" / "examples"
        args += ["--events", str(examples / "automation_export.csv"),
                 "--mapping", str(examples / "automation_mapping.yaml")]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--force replaces only" in err[0] and "use --force" not in err[0]
    assert config.read_text() == (root / "configs" / name).read_text()


# --- class 2: claiming the final folder is exclusive ---------------------------------


def test_publishing_never_replaces_a_folder_that_appeared_meanwhile(tmp_path):
    target = tmp_path / "result"
    mine = folders.make_staging(tmp_path, "result")
    (mine / "run.json").write_text("{}")
    target.mkdir()  # another run got there first (or a user made it)
    (target / "theirs.txt").write_text("theirs")
    with pytest.raises(folders.ResultsExistError, match="another run wrote it"):
        folders.publish(mine, target, force=False)
    assert (target / "theirs.txt").read_text() == "theirs"


def test_publishing_never_replaces_even_an_empty_folder(tmp_path):
    target = tmp_path / "result"
    target.mkdir()
    mine = folders.make_staging(tmp_path, "result")
    with pytest.raises(folders.ResultsExistError):
        folders.publish(mine, target, force=False)


def test_the_portable_exclusive_rename_refuses_an_existing_folder(tmp_path, monkeypatch):
    """Where renameat2 is missing, the claim is a mkdir, which only one process wins."""
    monkeypatch.setattr(folders, "_renameat2", lambda *args: False)
    source = tmp_path / "source"
    source.mkdir()
    (source / "a").write_text("new")
    target = tmp_path / "target"
    folders.rename_exclusive(source, target)
    assert (target / "a").read_text() == "new" and not source.exists()
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(FileExistsError):
        folders.rename_exclusive(other, target)
    assert (target / "a").read_text() == "new"


def test_the_portable_exchange_swaps_two_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(folders, "_renameat2", lambda *args: False)
    new, old = tmp_path / "new", tmp_path / "old"
    new.mkdir()
    old.mkdir()
    (new / "f").write_text("new")
    (old / "f").write_text("old")
    folders.exchange(new, old)
    assert (old / "f").read_text() == "new" and (new / "f").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "old"]


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(TESTS / "fault_points.py"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_runs_on_one_folder_exactly_one_wins_and_its_data_is_on_disk(tmp_path, config):
    out = tmp_path / "result"
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    runs = {
        seed: start("barrier", str(meeting), "--", "run", str(config), "--out", str(out),
                    "--runs", "10", "--seed", str(seed), *QUIET)
        for seed in (1, 2)
    }  # fmt: skip
    done = {seed: (p.wait(timeout=120), *p.communicate()) for seed, p in runs.items()}
    assert sorted(code for code, _, _ in done.values()) == [0, 2], done
    winner = next(seed for seed, (code, _, _) in done.items() if code == 0)
    loser = 3 - winner
    _, _, err = done[loser]
    assert err.strip().splitlines() == [
        f"outreach-sim: {out} already exists (another run wrote it while this one ran; "
        "use --force to replace it)"
    ]
    meta = json.loads((out / "run.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert meta["seed"] == summary["seed"] == winner
    assert str(winner) in meta["command"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["campaign.yaml", "meeting", "result"]


def test_runs_started_together_without_out_each_get_a_folder(tmp_path, config, monkeypatch):
    """Without --out the folder's name is the tool's (results/<config>-<time>): runs of
    one config started in the same second (a loop over seeds with &) each get one, the
    later ones -2, -3, instead of all but one failing after their simulation."""
    import simulator.output

    monkeypatch.chdir(tmp_path)
    same_second = tmp_path / "results" / "campaign-20261207-101500"
    monkeypatch.setattr(simulator.output, "default_folder", lambda root, name: same_second)
    for seed in (1, 2, 3):
        assert main(["run", str(config), "--runs", "10", "--seed", str(seed), *QUIET]) == 0
    named = [same_second, *(same_second.with_name(f"{same_second.name}-{n}") for n in (2, 3))]
    seeds = [json.loads((folder / "run.json").read_text())["seed"] for folder in named]
    assert seeds == [1, 2, 3]


def test_a_default_folder_another_run_publishes_first_sends_this_one_to_the_next_name(
    tmp_path,
):
    """The race itself: another run publishes the same default name while this one
    writes; this one goes to -2 (the other's folder untouched), while a folder the user
    named is still refused (test_two_runs_on_one_folder_exactly_one_wins...)."""
    from simulator import load_config, run
    from simulator.output import write_results

    config = tmp_path / "campaign.yaml"
    config.write_text(yaml.safe_dump(SMALL))
    default = tmp_path / "results" / "campaign-20261207-101500"

    def other_run_publishes(staging: Path) -> None:
        default.mkdir(parents=True)
        (default / "theirs.txt").write_text("the other run's")

    results = run(load_config(config), replications=5, seed=1)
    written = write_results(results, default, numbered=True, extra=other_run_publishes)
    assert written == default.with_name(f"{default.name}-2") and (written / "run.json").is_file()
    assert [p.name for p in default.iterdir()] == ["theirs.txt"]


# --- class 10 and the fault injection: a killed run leaves nothing complete-looking ----


@pytest.mark.parametrize("point", ["simulating", "writing-data", "writing-report"])
def test_a_run_killed_at_any_phase_leaves_the_earlier_result_and_the_next_run_is_clean(
    tmp_path, config, point
):
    out = tmp_path / "result"
    assert run_cli(config, out, "--seed", "1") == 0
    before = fingerprint(out)
    report = [] if point == "writing-report" else ["--no-report"]
    args = ["run", str(config), "--out", str(out), "--runs", "10", "--seed", "2", "--force"]
    killed = start(point, "--", *args, "--quiet", *report)
    _, err = killed.communicate(timeout=120)
    assert killed.returncode == -9, err
    assert "Traceback" not in err
    assert fingerprint(out) == before  # the earlier result, whole
    visible = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert visible == ["campaign.yaml", "result"]
    left = hidden(tmp_path)
    if point != "simulating":  # killed while writing: its staging folder stays, hidden
        assert len(left) == 1 and left[0].startswith(".result.partial-"), left
    assert run_cli(config, out, "--seed", "3", "--force") == 0
    assert json.loads((out / "run.json").read_text())["seed"] == 3
    assert hidden(tmp_path) == []  # the next run removed the dead run's left-overs


def test_left_overs_of_a_live_run_are_kept_and_of_a_dead_or_old_one_removed(tmp_path):
    live = folders.make_staging(tmp_path, "result")  # this process: alive
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = gone.stdout.strip()
    dead = tmp_path / f".result.partial-{dead_pid}-0123abcd"
    dead.mkdir()
    old = tmp_path / f".other.partial-{os.getppid()}-89abcdef"  # a live process, but a day old
    old.mkdir()
    day_ago = time.time() - folders.STALE_AFTER_SECONDS - 60
    os.utime(old, (day_ago, day_ago))
    legacy = tmp_path / ".result.partial-a1b2c3d4"  # an earlier version's, a day old
    legacy.mkdir()
    os.utime(legacy, (day_ago, day_ago))
    fresh_legacy = tmp_path / ".result.partial-zzzzzzzz"
    fresh_legacy.mkdir()
    users = [tmp_path / ".git", tmp_path / ".result.partial-notes", tmp_path / "result"]
    for folder in users:
        folder.mkdir()
    removed = folders.remove_stale(tmp_path)
    assert sorted(removed) == sorted([dead, old, legacy])
    assert live.exists() and fresh_legacy.exists()
    assert all(folder.exists() for folder in users)


def test_a_stale_left_over_that_is_a_file_or_a_link_is_never_touched(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "data").write_text("keep")
    (tmp_path / ".result.partial-999999999-0123abcd").symlink_to(target)
    (tmp_path / ".other.partial-999999999-0123abcd").write_text("a file")
    assert folders.remove_stale(tmp_path) == []
    assert (target / "data").read_text() == "keep"


def test_a_report_killed_half_way_is_cleaned_by_the_next_report(tmp_path, config):
    out = tmp_path / "result"
    assert run_cli(config, out) == 0
    killed = start("writing-report", "--", "report", str(out), "--quiet")
    _, err = killed.communicate(timeout=120)
    assert killed.returncode == -9 and "Traceback" not in err
    assert hidden(out)  # its staging
    assert not (out / "report.html").exists()
    assert main(["report", str(out), "--quiet"]) == 0
    assert hidden(out) == []
    assert (out / "report.html").exists()


@pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="the report uses helper processes on spare cores"
)
def test_a_report_helper_whose_parent_was_killed_prints_nothing(tmp_path, config):
    out = tmp_path / "result"
    assert run_cli(config, out) == 0
    killed = start("helper-drawing", str(tmp_path), "--", "report", str(out), "--quiet")
    _, err = killed.communicate(timeout=120)  # returns once the helper has gone too
    assert (tmp_path / "drawing").exists()
    assert killed.returncode == -9
    assert err == ""


# --- class 12: results follow the umask ----------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_results_folders_follow_the_umask(tmp_path, config, umask):
    previous = os.umask(umask)
    try:
        assert run_cli(config, tmp_path / "result") == 0
    finally:
        os.umask(previous)
    mode = stat.S_IMODE((tmp_path / "result").stat().st_mode)
    assert mode == 0o777 & ~umask, oct(mode)


def test_an_existing_working_folder_is_refused_without_suggesting_force(tmp_path, config, capsys):
    """--force would be refused there too: the message points to another --out."""
    work = tmp_path / "work"
    work.mkdir()
    assert run_cli(config, work) == 2
    err = capsys.readouterr().err
    assert "is not a results folder of outreach-sim; give another --out" in err
    assert "use --force" not in err
    result = tmp_path / "result"
    assert run_cli(config, result) == 0
    assert run_cli(config, result) == 2
    assert "already exists (use --force to replace it)" in capsys.readouterr().err
