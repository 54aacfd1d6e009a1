"""The report: built from a results folder written by the CLI, HTML that parses, every
chart referenced, assumptions with their sources, written whole or not at all."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from small_runs import CONFIGS

from simulator import charts, load_config
from simulator.assumptions import DEFAULT_SOURCE, NO_SOURCE, assumptions_table, source_comments
from simulator.cli import main
from simulator.folders import MANIFEST
from simulator.report import (
    CHARTS_FOLDER,
    _chart_specs,
    _scenario_tables,
    chart_names,
    read_folder,
)
from simulator.verdict import objective_verdict, verdict_sentence

VOID = {"meta", "img", "br", "hr", "link", "input"}


class StrictHTML(HTMLParser):
    """Every element closed, in order; collects images and ids."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.append(str(attributes["id"]))
        if tag == "img":
            self.images.append(attributes)
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()


def parse(text: str) -> StrictHTML:
    parser = StrictHTML()
    parser.feed(text)
    parser.close()
    assert parser.open == [], parser.open
    return parser


COMMENTED = """\
# a campaign with sources in comments
horizon_months: 3            # three months is enough for a pilot
segments:
  mid:
    size: 400                # our list
    open_profile_share: 0.2
    rates:
      accept_with_note: 0.35   # seed guide: 25-45% with a note (midpoint)
      reply_after_accept: [0.15, 0.06]  # seed guide: ~15% on acceptance; the
                                        # second message is an assumption
      inmail_reply_paid: 0.1
  few:
    size: 12
    rates: {inmail_reply_paid: 0.05, inmail_followup_reply: 0.03}  # a tough list
"""


def write_config(tmp_path: Path) -> Path:
    data = yaml.safe_load(COMMENTED)
    data["strategies"] = CONFIGS["several"]["strategies"]
    text = COMMENTED + yaml.safe_dump({"strategies": data["strategies"]}, sort_keys=False)
    path = tmp_path / "pilot.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    out = tmp / "results" / "pilot"
    assert main(["run", str(write_config(tmp)), "--runs", "60", "--out", str(out), "--quiet"]) == 0
    return out


def fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_run_writes_the_report_with_the_results(folder):
    names = {p.name for p in folder.iterdir()}
    assert {"report.html", "report.md", CHARTS_FOLDER, "config_source.yaml"} <= names
    assert not [n for n in names if n.startswith(".") and n != MANIFEST]  # no staging left
    expected = chart_names(read_folder(folder))
    # several strategies, credits and invitations: every chart (the acceptability curve,
    # the objective's cost, the pairs with the best, the plane, months, credits,
    # invitations, the funnel)
    assert len(expected) == 8
    for name in expected:
        for suffix in (".png", ".svg"):
            assert (folder / CHARTS_FOLDER / f"{name}{suffix}").stat().st_size > 1000


def undocumented_charts(folder: Path) -> list[str]:
    """The charts a report drew that results/README.md's list of `charts/` does not name
    (the tornadoes, one per strategy, are named once, as `what_drives_cost_<n>`)."""
    readme = (Path(__file__).resolve().parents[1] / "results" / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `charts/` |"))
    names = {re.sub(r"_\d+$", "_<n>", p.stem) for p in (folder / CHARTS_FOLDER).iterdir()}
    return sorted(name for name in names if f"`{name}`" not in row)


def test_results_readme_names_every_chart_a_report_draws(folder):
    assert undocumented_charts(folder) == []


def test_the_html_parses_and_embeds_every_chart(folder):
    text = (folder / "report.html").read_text()
    parsed = parse(text)
    expected = chart_names(read_folder(folder))
    assert sorted(parsed.ids) == sorted(expected)
    assert len(parsed.images) == len(expected)
    for image in parsed.images:
        assert str(image["src"]).startswith("data:image/png;base64,") and image["alt"]
    assert 'src="charts/' not in text  # self-contained: no file it would need beside it


def test_the_markdown_links_every_chart_png_and_svg(folder):
    text = (folder / "report.md").read_text()
    for name in chart_names(read_folder(folder)):
        assert f"]({CHARTS_FOLDER}/{name}.png)" in text
        assert f"]({CHARTS_FOLDER}/{name}.svg)" in text
    linked = set(re.findall(r"\]\((charts/[^)]+)\)", text))
    assert all((folder / link).exists() for link in linked)


def test_the_report_holds_the_scenario_headline_comparisons_and_sources(folder):
    text = (folder / "report.md").read_text()
    for heading in (
        "## The evidence",
        "### Each strategy against the best on cost per meeting",
        "### What an extra meeting costs",
        "### Summary over replications",
        "### The scenario",
        "### Assumptions and their sources",
        "### How this was run",
    ):
        assert heading in text
    assert "Quote the pooled ratio" in text
    # the chart's mean difference is not the table's difference of pooled figures beside it
    assert "not the difference of the pooled figures in the table above" in text
    assert "three months is enough for a pilot" in text
    assert "seed guide: ~15% on acceptance; the second message is an assumption" in text
    assert "| segments.few.rates.inmail_reply_paid | 5% | a tough list |" in text
    assert f"| segments.mid.rates.inmail_reply_paid | 10% | {NO_SOURCE} |" in text
    assert f"| inmail.credit_expiry_days | 90 | {DEFAULT_SOURCE} |" in text


def test_the_answer_comes_first_the_evidence_after(folder):
    """The verdict, the headline table and the acceptability curve, then the evidence;
    each strategy compared with the best only."""
    saved = read_folder(folder)
    text = (folder / "report.md").read_text()
    blocks = text.split("\n\n")
    sentence = verdict_sentence(saved.runs, "cost_per_meeting", None, 3)
    assert blocks[1] == f"**{sentence}**"
    assert ": worth it when a meeting is worth more than that" in blocks[2]  # the trade-off
    assert blocks[3].startswith("Costs: plan fees only; not counted: SDR time")  # no hourly rate
    assert blocks[4].startswith("| strategy | cost per meeting, pooled |")
    evidence = text.index("## The evidence")
    assert text.index("(charts/acceptability.png)") < evidence
    best = objective_verdict(saved.runs).best
    start = text.index("### Each strategy against the best")
    table = [line for line in text[start:].split("\n\n")[2].splitlines() if line.startswith("| ")]
    others = set(saved.config.strategies) - {best}
    assert len(table) == 1 + len(others)  # the header and one row per other strategy
    assert {line.split(" | ")[0].removeprefix("| ") for line in table[1:]} == others
    html = (folder / "report.html").read_text()
    # the long reference tables are folded in the HTML (every row still in report.md)
    assert html.count("<details><summary>Show the table (") == 2
    assert "| segments.mid.size |" in text
    assert (
        html.index('class="answer"') < html.index('id="acceptability"') < html.index("The evidence")
    )


def test_the_report_command_rebuilds_a_report_in_place(folder, capsys):
    (folder / "report.md").unlink()
    data = {p: fingerprint(folder)[p] for p in ("runs.parquet", "monthly.parquet", "run.json")}
    assert main(["report", str(folder)]) == 0
    assert (folder / "report.md").exists()
    assert "report written to" in capsys.readouterr().out
    after = fingerprint(folder)
    assert all(after[p] == digest for p, digest in data.items())  # results untouched
    assert not [p for p in folder.iterdir() if p.name.startswith(".") and p.name != MANIFEST]


def test_a_failed_report_leaves_the_folder_as_it_was(folder, monkeypatch, capsys):
    before = fingerprint(folder)

    def broken(*args, **kwargs):
        raise RuntimeError("no chart today")

    monkeypatch.setattr(charts, "cost_per_reply_chart", broken)  # the first chart drawn
    assert main(["report", str(folder)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no chart today" in err[0]
    assert fingerprint(folder) == before
    assert not [p for p in folder.iterdir() if p.name.startswith(".") and p.name != MANIFEST]


def test_a_failed_report_does_not_lose_the_results_of_a_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(charts, "cost_per_reply_chart", lambda *a, **k: 1 / 0)
    out = tmp_path / "kept"
    assert main(["run", str(write_config(tmp_path)), "--runs", "20", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "report was not written" in captured.err and "outreach-sim report" in captured.err
    names = {p.name for p in out.iterdir()}
    assert {"runs.parquet", "monthly.parquet", "summary.json", "run.json"} <= names
    assert "report.html" not in names and CHARTS_FOLDER not in names


def test_report_refuses_a_folder_that_holds_no_results(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a results folder" in err[0]


def test_sources_come_from_trailing_comments_and_their_continuations():
    comments = source_comments(COMMENTED)
    assert comments["horizon_months"] == "three months is enough for a pilot"
    assert comments["segments.mid.size"] == "our list"
    assert comments["segments.mid.rates.reply_after_accept"] == (
        "seed guide: ~15% on acceptance; the second message is an assumption"
    )
    assert comments["segments.few.rates"] == "a tough list"
    assert comments["segments.few.rates.inmail_followup_reply"] == "a tough list"  # {...} keys
    assert "segments.mid.open_profile_share" not in comments
    table = assumptions_table({"horizon_months": 3, "segments": {}}, COMMENTED)
    assert table.set_index("key").loc["horizon_months", "source"] == comments["horizon_months"]


UNALIGNED = """\
segments:
  mid:
    rates:
      accept_with_note: {dist: uniform, low: 0.25, high: 0.45}  # seed guide:
                                  # 25-45% with a note
      reply_after_accept: [{dist: beta, mean: 0.15, sd: 0.03}, 0.06]
      inmail_reply_paid: {dist: triangular, low: 0.1, mode: 0.15, high: 0.25}
    delays:
      reply: {dist: lognormal, median: 1, sigma: 1.0}
      accept: {dist: fixed, days: 2}
    # a comment at the key's own indentation belongs to what follows
    size: 100   # our list
"""


def test_assumptions_read_as_a_person_writes_them_with_whole_sources():
    resolved = yaml.safe_load(UNALIGNED)
    table = assumptions_table(resolved, UNALIGNED).set_index("key")
    rates = "segments.mid.rates."
    assert table.loc[rates + "accept_with_note", "value"] == "uniform 25% to 45%"
    assert table.loc[rates + "accept_with_note", "source"] == "seed guide: 25-45% with a note"
    assert table.loc[rates + "reply_after_accept", "value"] == (
        "message 1: Beta, mean 15%, sd 3%; message 2: 6%"
    )
    delays = "segments.mid.delays."
    assert table.loc[delays + "reply", "value"] == "lognormal, median 1 day, sigma 1"
    assert table.loc[delays + "accept", "value"] == "fixed, 2 days"
    assert table.loc[rates + "inmail_reply_paid", "value"] == (
        "triangular 10% to 25%, most likely 15%"
    )
    assert table.loc["segments.mid.size", "source"] == "our list"
    assert table.loc[rates + "inmail_reply_paid", "source"] == NO_SOURCE


def test_assumptions_without_the_config_text_point_to_the_docs():
    table = assumptions_table({"horizon_months": 12, "accounts": 1}, None)
    assert set(table["source"]) == {DEFAULT_SOURCE}


def test_uncertain_rates_get_a_tornado_per_strategy_and_a_table(tmp_path):
    """A rate drawn per replication: the report ranks what drives cost per meeting."""
    data = yaml.safe_load(COMMENTED)
    data["strategies"] = CONFIGS["several"]["strategies"]
    segment = next(iter(data["segments"].values()))
    segment.setdefault("rates", {})["accept_with_note"] = {
        "dist": "uniform",
        "low": 0.25,
        "high": 0.45,
    }
    path = tmp_path / "uncertain.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "uncertain"
    assert main(["run", str(path), "--runs", "60", "--out", str(out), "--quiet"]) == 0
    names = chart_names(read_folder(out))
    drivers = [n for n in names if n.startswith("what_drives_cost_")]
    # the rate is mid's: inmail_few works the other list, so it has nothing to rank
    assert drivers == ["what_drives_cost_1", "what_drives_cost_3"]
    for name in drivers:
        assert (out / CHARTS_FOLDER / f"{name}.png").stat().st_size > 5000
    assert undocumented_charts(out) == []
    markdown = (out / "report.md").read_text()
    assert "## What drives cost per meeting" in markdown
    assert "| mid: acceptance, with a note |" in markdown
    assert "What drives cost per meeting, inmail_few: it uses no uncertain parameter." in markdown


def test_fixed_rates_say_why_there_is_no_tornado(folder):
    assert "no rate of the config is a distribution" in (folder / "report.md").read_text()


def test_many_seats_cut_the_traced_re_run_to_what_fits_in_its_memory(folder, monkeypatch):
    """The weekly picture re-runs replications day by day with the trace on, which holds
    every seat's days: with many seats, 200 replications could take more memory than the
    run itself. It re-runs what fits in weekly.TRACE_MEMORY, and none (the chart left
    out, with the reason) where not even one fits."""
    import simulator.weekly as weekly
    from simulator.report import _chart_specs

    saved = read_folder(folder)
    config = saved.config
    per_seat = config.horizon_days * weekly.TRACED_BYTES_PER_SEAT_DAY
    one = config.accounts * per_seat  # one replication's trace
    assert weekly.traced_replications(config, 60) == 60  # a small config: all of them
    many = config.model_copy(update={"accounts": 1_000})
    assert weekly.traced_replications(many, 10_000) == weekly.TRACE_MEMORY // (1_000 * per_seat)
    monkeypatch.setattr(weekly, "TRACE_MEMORY", 7 * one + 1)
    specs, _ = _chart_specs(saved)
    (spec,) = [s for s in specs if s.name == "invitations_per_week"]
    assert spec.args[2] == 7 and spec.caption.startswith("The first 7 replications")
    monkeypatch.setattr(weekly, "TRACE_MEMORY", one - 1)
    specs, skipped = _chart_specs(saved)
    assert "invitations_per_week" not in [s.name for s in specs]
    seats = f"{config.accounts:,} seat{'s' if config.accounts != 1 else ''}"
    assert f"Invitations per week: re-running even one replication day by day with {seats} " in (
        " ".join(skipped)
    )


def test_the_scenario_gives_one_route_per_segment_with_its_open_profile_route():
    """'; ' parts a strategy's routes by segment: an Open Profile route stays in its own."""
    config = load_config(Path(__file__).resolve().parents[1] / "configs/open_profile_first.yaml")
    _, strategies = _scenario_tables(config)
    for name, strategy in config.strategies.items():
        route = strategies.set_index("strategy").loc[name, "route"]
        parts = route.split("; ")
        assert [p.split(":")[0] for p in parts] == [e.segment for e in strategy.playbook]
    assert ", to an Open Profile: inmail" in " ".join(strategies["route"])


def test_a_segment_called_no_keeps_its_sources():
    """`no` (Norway) is a name, as the config is read; YAML 1.1 read it as false, and its
    values set in the config were said to be defaults."""
    text = "segments:\n  no:\n    size: 100\n    new_per_month: 10\n"
    table = assumptions_table({"segments": {"no": {"size": 100, "new_per_month": 10}}}, text)
    sources = table.set_index("key")["source"]
    assert sources["segments.no.size"] == NO_SOURCE
    assert sources["segments.no.new_per_month"] == NO_SOURCE


def test_one_strategy_s_report_names_every_chart_it_leaves_out(tmp_path):
    """The charts of two strategies or more (acceptability, paired differences, the plane)
    are each named where a single strategy's report says what it does not draw."""
    config = Path(__file__).resolve().parents[1] / "configs" / "tiered_hybrid.yaml"
    out = tmp_path / "one"
    assert main(["run", str(config), "--runs", "20", "--out", str(out), "--no-report"]) == 0
    specs, skipped = _chart_specs(read_folder(out))
    assert not {"acceptability", "paired_differences", "cost_effectiveness_plane"} & {
        spec.name for spec in specs
    }
    said = " ".join(skipped).lower()
    for chart in ("acceptability", "paired differences", "cost-effectiveness plane"):
        assert chart in said, said
