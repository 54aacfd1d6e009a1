"""The command line as a user meets it: run, validate, bad input, results on disk."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from checks import check_monthly
from small_runs import REQUESTS_AND_INMAILS

from simulator import load_config
from simulator.cli import main
from simulator.folders import MANIFEST

ROOT = Path(__file__).resolve().parents[1]
SMALL = {
    "horizon_months": 2,
    "replications": 50,
    "segments": {"mid": {"size": 200, "open_profile_share": 0.2}},
    "strategies": REQUESTS_AND_INMAILS,
}


def write(tmp_path: Path, data: object, name: str = "campaign.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_run_writes_a_complete_results_folder(tmp_path, capsys):
    config = write(tmp_path, SMALL)
    out = tmp_path / "results" / "first"
    assert main(["run", str(config), "--out", str(out), "--runs", "40", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "connect" in printed and "inmail" in printed and str(out) in printed
    names = {p.name for p in out.iterdir()}
    assert names == {
        "summary.json",
        "runs.parquet",
        "monthly.parquet",
        "config.yaml",
        "config_source.yaml",
        "run.json",
        "report.html",
        "report.md",
        "charts",
        MANIFEST,  # the list of files written here: what --force may replace
    }
    assert (out / "config_source.yaml").read_text() == config.read_text()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 3 and summary["replications"] == 40
    for strategy in ("connect", "inmail"):
        stats = summary["strategies"][strategy]
        for metric in ("cost_per_reply", "replies", "cost", "credits_forfeited", "credits_expired"):
            assert {"mean", "median", "p5", "p95"} <= set(stats[metric])
        assert {"pooled", "share_infinite", "mcse"} <= set(stats["cost_per_reply"])
    runs = pd.read_parquet(out / "runs.parquet")
    monthly = pd.read_parquet(out / "monthly.parquet")
    assert len(runs) == 2 * 40 and len(monthly) == 2 * 40 * 2
    resolved = load_config(out / "config.yaml")
    for strategy in resolved.strategies:
        check_monthly(resolved, strategy, monthly)
    meta = json.loads((out / "run.json").read_text())
    assert meta["seed"] == 3 and len(meta["config_sha256"]) == 64
    # the pair, replication by replication: shares of wins counted here independently
    pairs = {(c["strategy_a"], c["strategy_b"], c["metric"]): c for c in summary["comparisons"]}
    assert set(pairs) == {("connect", "inmail", m) for m in ("cost_per_meeting", "replies")}
    wide = runs.pivot(index="replication", columns="strategy", values="replies")
    replies = pairs[("connect", "inmail", "replies")]
    assert replies["share_a_better"] == pytest.approx((wide["connect"] > wide["inmail"]).mean())
    assert replies["mean_difference"] == pytest.approx((wide["connect"] - wide["inmail"]).mean())
    assert "against the best, replication by replication" in printed
    # the answer comes first, once the run is done: the verdict on the objective
    from simulator.verdict import verdict_sentence

    assert printed.splitlines()[1] == verdict_sentence(runs, "cost_per_meeting", months=2)


def test_same_config_and_seed_give_identical_files(tmp_path):
    config = write(tmp_path, SMALL)
    quiet = ["--quiet", "--no-report"]
    assert main(["run", str(config), "--out", str(tmp_path / "a"), *quiet]) == 0
    spread = ["--workers", "2", "--runs", "50"]  # the config's 50, on two processes
    assert main(["run", str(config), "--out", str(tmp_path / "b"), *quiet, *spread]) == 0
    for file in ("summary.json", "runs.parquet", "monthly.parquet", "config.yaml"):
        assert digest(tmp_path / "a" / file) == digest(tmp_path / "b" / file), file


def test_an_existing_result_is_never_overwritten_without_force(tmp_path, capsys):
    config = write(tmp_path, SMALL)
    out = tmp_path / "kept"
    quiet = ["--quiet", "--no-report"]
    assert main(["run", str(config), "--out", str(out), "--seed", "1", *quiet]) == 0
    before = digest(out / "runs.parquet")
    assert main(["run", str(config), "--out", str(out), "--seed", "2", *quiet]) == 2
    assert "already exists" in capsys.readouterr().err
    assert digest(out / "runs.parquet") == before
    assert main(["run", str(config), "--out", str(out), "--seed", "2", "--force", *quiet]) == 0
    assert not (out / "report.html").exists()  # --no-report: the data files only
    assert digest(out / "runs.parquet") != before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_validate_accepts_every_shipped_config(capsys):
    for config in sorted((ROOT / "configs").glob("*.yaml")):
        assert main(["validate", str(config)]) == 0, config
    assert capsys.readouterr().out.count(": ok") == len(list((ROOT / "configs").glob("*.yaml")))


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda c: c.update(horizon_monts=3), "horizon_monts: Extra inputs are not permitted"),
        (
            lambda c: c["segments"]["mid"].update(rates={"accept_with_note": 1.4}),
            "segments.mid.rates.accept_with_note: Input should be less than or equal to 1",
        ),
        (
            lambda c: c["segments"]["mid"].update(size=-5),
            "segments.mid.size: Input should be greater than or equal to 0",
        ),
        (
            lambda c: c["strategies"]["connect"].update(plan="gold"),
            "strategies.connect.plan: unknown plan 'gold'",
        ),
        (
            lambda c: c["strategies"]["inmail"]["playbook"][0].update(segment="enterprise"),
            "strategies.inmail.playbook.0.segment: unknown segment 'enterprise'",
        ),
    ],
)
def test_a_config_mistake_is_one_line_with_its_field_and_exit_code_2(
    tmp_path, capsys, change, fragment
):
    data = json.loads(json.dumps(SMALL))
    change(data)
    config = write(tmp_path, data)
    assert main(["run", str(config), "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(str(config)) and fragment in err[0]
    assert "Traceback" not in err[0]
    assert not (tmp_path / "never").exists()


def test_the_console_script_and_python_dash_m_run(tmp_path):
    config = write(tmp_path, SMALL)
    for command in (["outreach-sim"], [sys.executable, "-m", "simulator"]):
        done = subprocess.run(
            [*command, "validate", str(config)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0 and "ok" in done.stdout
    broken = write(tmp_path, "segments: [1, 2\n", "broken.yaml")
    done = subprocess.run(
        ["outreach-sim", "run", str(broken)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "not valid YAML" in done.stderr and "Traceback" not in done.stderr


#: what `run --no-report` has no use for: other commands' modules, the report's charts,
#: event fitting (scipy.stats, scipy.optimize), Dask; each would add to every run's start
NOT_IMPORTED_BY_A_RUN = (
    "simulator.assumptions",
    "simulator.break_even",
    "simulator.charts",
    "simulator.decision_charts",
    "simulator.document",
    "simulator.events",
    "simulator.report",
    "simulator.sensitivity",
    "simulator.sensitivity_chart",
    "simulator.survival",
    "simulator.sweep",
    "simulator.sweep_charts",
    "simulator.weekly",
    "simulator.whatif",
    "matplotlib",
    "scipy.stats",
    "scipy.optimize",
    "dask",
    "distributed",
    "ruamel.yaml",
    "tqdm",
)


def test_a_run_imports_only_what_it_needs(tmp_path):
    """A fresh process runs `run --no-report --quiet` to the end and lists its modules."""
    config = write(tmp_path, SMALL)
    script = (
        "import sys\n"
        "from simulator.cli import main\n"
        f"code = main(['run', {str(config)!r}, '--runs', '20', '--no-report', '--quiet', "
        f"'--out', {str(tmp_path / 'out')!r}])\n"
        "print(code, *sorted(sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    code, *modules = done.stdout.split("\n")[-2].split()
    assert code == "0" and "simulator.kernel" in modules  # the run ran, compiled loop and all
    loaded = [name for name in NOT_IMPORTED_BY_A_RUN if name in modules]
    assert loaded == []


def test_progress_shows_after_a_second_on_a_terminal_and_never_elsewhere(monkeypatch):
    """tqdm's delay keeps short runs silent; a log or a pipe, or --quiet, gets no bar."""
    from simulator import cli

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert cli._progress(100, quiet=False) == (None, None)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert cli._progress(100, quiet=True) == (None, None)
    bar, update = cli._progress(100, quiet=False)
    try:
        assert bar.delay == 1.0 and update is not None
    finally:
        bar.close()


def test_version_validate_wording_and_every_config_argument_described(capsys):
    from simulator import __version__
    from simulator.cli import _parser

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"outreach-sim {__version__}"
    assert main(["validate", str(ROOT / "configs" / "observed_pilot.yaml")]) == 0
    assert "ok (1 segment, 2 strategies, 6 months)" in capsys.readouterr().out
    commands = next(a for a in _parser()._actions if a.dest == "command").choices
    for name, command in commands.items():
        for action in command._actions:
            if action.dest == "config":
                assert action.help and "config" in action.help, name


def test_the_shipped_pilot_calibrates_at_once(tmp_path, capsys):
    out = tmp_path / "posterior.csv"
    config = ROOT / "configs" / "observed_pilot.yaml"
    assert main(["calibrate", str(config), "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert set(table["rate"]) == {"accept_with_note", "reply_after_accept.0", "inmail_reply_paid"}
    assert "63 / 180" in capsys.readouterr().out


def test_nothing_booked_the_run_and_the_report_say_so(tmp_path, capsys):
    """The Quickstart config with a weekly limit of 0: no invitation, no meeting, in any
    replication of either strategy (costs $0 on the free plan, $99 a month on Sales
    Navigator). Run and report both write, and say plainly that nothing was booked."""
    data = yaml.safe_load((ROOT / "configs" / "connect_only.yaml").read_text())
    data["invitations"]["weekly_limit"] = 0
    data["horizon_months"] = 2
    config = write(tmp_path, data)
    out = tmp_path / "none"
    assert main(["run", str(config), "--out", str(out), "--runs", "30"]) == 0
    captured = capsys.readouterr()
    assert "not written" not in captured.err
    said = "Nothing was booked: no strategy got a meeting in any of the 30 replications"
    assert said in captured.out
    runs = pd.read_parquet(out / "runs.parquet")
    assert (runs["meetings"] == 0).all() and (runs["cost_per_meeting"] == float("inf")).all()
    resolved = load_config(out / "config.yaml")
    monthly = pd.read_parquet(out / "monthly.parquet")
    for strategy in resolved.strategies:
        check_monthly(resolved, strategy, monthly)
    scope = (
        "Costs: plan fees only; not counted: SDR time (set costs.hourly_rate and "
        "costs.minutes_per_touch), per-send prices (costs.per_send)."
    )
    assert scope in captured.out.splitlines()[:4]  # on the first screen, by the verdict
    report = (out / "report.md").read_text()
    assert said in report and "no: neither got a meeting" in report
    assert report.index(scope) < report.index("| strategy |")  # above the headline table
    assert "the cost per meeting is the same in every replication (no meeting in any)" in report
    (out / "report.md").unlink()
    assert main(["report", str(out), "--quiet"]) == 0  # the retry a failed report suggests
    assert said in (out / "report.md").read_text()


def test_one_strategy_reads_1_strategy_and_a_streamed_run_gives_its_verdict(tmp_path, capsys):
    one = {**SMALL, "strategies": {"connect": SMALL["strategies"]["connect"]}}
    config = write(tmp_path, one)
    assert main(["run", str(config), "--out", str(tmp_path / "a"), "--no-report"]) == 0
    plain_run = capsys.readouterr().out.splitlines()
    assert plain_run[0].endswith("simulating 50 replications of 1 strategy, seed 0")
    assert main(["run", str(config), "--out", str(tmp_path / "b"), "--stream"]) == 0
    streamed = capsys.readouterr().out.splitlines()
    assert streamed[0] == plain_run[0]
    # the same sentence: pooled exactly; the percentiles within the stream's 0.5%
    head = plain_run[1].split(" (90% interval")[0]
    assert head.startswith("connect gives cost per meeting of $")
    assert streamed[1].startswith(head + " (90% interval ") and streamed[1].endswith(
        ", the only strategy."
    )
    assert (
        main(
            [
                "run",
                str(write(tmp_path, SMALL, "two.yaml")),
                "--stream",
                "--out",
                str(tmp_path / "c"),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.splitlines()[1].startswith("No verdict: a streamed run")


def test_report_on_a_folder_that_does_not_exist_says_so(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"outreach-sim: {tmp_path / 'nowhere'}: does not exist (give a results folder "
        "written by run)"
    )


@pytest.mark.parametrize(
    ("costs", "said"),
    [
        (
            {},
            "Costs: plan fees only; not counted: SDR time (set costs.hourly_rate and "
            "costs.minutes_per_touch), per-send prices (costs.per_send)",
        ),
        (
            {"hourly_rate": 40},
            "Costs: plan fees only; not counted: SDR time (set "
            "costs.minutes_per_touch), per-send prices (costs.per_send)",
        ),
        (
            {"hourly_rate": 40, "minutes_per_touch": {"connect": 1}},
            "Costs: plan fees and SDR time; not counted: per-send prices (costs.per_send)",
        ),
        (
            {"per_send": {"email": 0.02}},
            "Costs: plan fees and sends; not counted: SDR time "
            "(set costs.hourly_rate and costs.minutes_per_touch)",
        ),
        (
            {"hourly_rate": 40, "minutes_per_touch": {"connect": 1}, "per_send": {"email": 0.02}},
            None,
        ),
    ],
)
def test_what_the_costs_count_is_said_whenever_time_or_sends_are_left_out(costs, said):
    from simulator.api import cost_scope
    from simulator.config import parse_config

    assert cost_scope(parse_config({**SMALL, "costs": costs})) == said


def test_the_config_kept_is_the_one_that_ran_though_edited_during_the_run(
    tmp_path, capsys, monkeypatch
):
    """A long run; meanwhile the analyst edits the config for the next try. The folder's
    config_source.yaml (the assumptions' sources in the report) is the text that ran."""
    import simulator.api

    config = write(tmp_path, "# the text that ran\n" + yaml.safe_dump(SMALL))
    ran = config.read_text()
    simulate = simulator.api.run

    def edited_meanwhile(*args, **kwargs):
        config.write_text("# the next try\n" + yaml.safe_dump({**SMALL, "horizon_months": 3}))
        return simulate(*args, **kwargs)

    monkeypatch.setattr(simulator.api, "run", edited_meanwhile)
    out = tmp_path / "result"
    assert main(["run", str(config), "--out", str(out), "--runs", "10", "--no-report"]) == 0
    assert (out / "config_source.yaml").read_text() == ran


def pipe(text: str) -> Path:
    """`text` behind a pipe, as `cat campaign.yaml | outreach-sim run /dev/stdin` gives
    it: it reads whole once, then empty."""
    import os

    read_end, write_end = os.pipe()
    os.write(write_end, text.encode())
    os.close(write_end)
    return Path(f"/dev/fd/{read_end}")


@pytest.mark.skipif(not Path("/dev/fd").is_dir(), reason="no /dev/fd")
def test_a_config_read_from_a_pipe_is_read_once(tmp_path, capsys):
    """It was read twice: `validate` said the config is empty, `run` kept an empty copy."""
    import os

    text = "# piped in\n" + yaml.safe_dump(SMALL)
    sweep = yaml.safe_dump({**SMALL, "sweep": {"axes": {"accounts": [1, 2]}}})
    out = tmp_path / "result"
    for args, said in (
        (["validate"], ": ok (1 segment"),
        (["validate"], ": ok (a sweep of 2 points"),
        (["run", "--out", str(out), "--runs", "10", "--no-report"], "results written"),
    ):
        source = pipe(sweep if "sweep" in said else text)
        code = main([args[0], str(source), *args[1:]])
        os.close(int(source.name))
        assert code == 0, capsys.readouterr().err
        assert said in capsys.readouterr().out
    assert (out / "config_source.yaml").read_text() == text
