"""Calibration from a campaign's events (docs/calibration.md): the censored fit recovers
known rates and delays from a simulated export taken mid-campaign, ignoring censoring
would not, and a bad file is one line per mistake with exit code 2."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from simulator import load_config, parse_config
from simulator.calibration import (
    CALIBRATED_HEADER,
    MIN_RESOLVED_FOR_FIXED_RATE,
    EventCalibration,
    FittedRate,
    calibrate_events,
    calibrated_config_text,
    calibrations,
    event_rate_table,
    touch_rate,
    watched_touches,
)
from simulator.cli import main
from simulator.delays import lognormal_pmf
from simulator.events import (
    ROWS_SHOWN,
    campaign_export,
    load_mapping,
    read_events,
    touch_kinds_sent,
    write_events,
)
from simulator.survival import Watched, best_rate, log_likelihood, posterior

# known rates and delays: fixed numbers, so that the truth is one value
TRUTH = {
    "horizon_months": 3,
    "segments": {
        "mid": {
            "size": 4000,
            "rates": {"accept_with_note": 0.3, "reply_after_accept": [0.2, 0.1]},
            "delays": {
                "accept": {"dist": "lognormal", "median": 5, "sigma": 0.8},
                "message_reply": {"dist": "lognormal", "median": 3, "sigma": 1.0},
            },
        },
        "vp": {
            "size": 3000,
            "open_profile_share": 0.5,
            "rates": {
                "inmail_reply_paid": 0.2,
                "inmail_reply_open": 0.12,
                "inmail_followup_reply": 0.08,
            },
            "delays": {"inmail_reply": {"dist": "lognormal", "median": 4, "sigma": 1.0}},
        },
    },
    "strategies": {
        "both": {
            "plan": "sales_navigator_core",
            "daily_pace": {"connect": 20, "inmail": 25},
            "playbook": [
                {
                    "segment": "mid",
                    "touches": [
                        {"kind": "connect", "on_accept": [{"wait_days": 0}, {"wait_days": 5}]}
                    ],
                },
                {"segment": "vp", "touches": [{"kind": "inmail"}, {"kind": "inmail_followup"}]},
            ],
        }
    },
}
RATES = {
    ("mid", "accept_with_note"): 0.3,
    ("mid", "reply_after_accept.0"): 0.2,
    ("mid", "reply_after_accept.1"): 0.1,
    ("vp", "inmail_reply_paid"): 0.2,
    ("vp", "inmail_reply_open"): 0.12,
    ("vp", "inmail_followup_reply"): 0.08,
}
DELAYS = {  # (median, sigma); the follow-ups' delay is the default reply delay
    ("mid", "accept"): (5.0, 0.8),
    ("mid", "message_reply"): (3.0, 1.0),
    ("vp", "inmail_reply"): (4.0, 1.0),
    ("vp", "followup_reply"): (1.0, 1.0),
}
EXPORT_DAY = 45  # mid-campaign: half the requests and InMails still have their answer to come
REPLICATIONS = 20
SEED = 4


def _each_on_one_line(expected: list[str], lines: list[str]) -> None:
    """Each expected mistake is reported on exactly one line."""
    for part in expected:
        assert sum(part in line for line in lines) == 1, (part, lines)


def _refused(tmp_path: Path, capsys, name: str, content: str | bytes) -> tuple[Path, list[str]]:
    """`calibrate --events` of the truth's config on a file `name` holding `content`: the
    file's path, and the lines of its refusal (exit 2)."""
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(TRUTH))
    events = tmp_path / name
    if isinstance(content, bytes):
        events.write_bytes(content)
    else:
        events.write_text(content)
    assert main(["calibrate", str(config), "--events", str(events)]) == 2
    return events, capsys.readouterr().err.strip().splitlines()


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """The truth's export mid-campaign, written as a tool would, and read back."""
    config = parse_config(TRUTH)
    folder = tmp_path_factory.mktemp("round_trip")
    path = write_events(
        campaign_export(config, "both", REPLICATIONS, SEED, EXPORT_DAY), folder / "events.csv"
    )
    (folder / "truth.yaml").write_text(yaml.safe_dump(TRUTH, sort_keys=False))
    return config, read_events(path, config), folder


def test_every_rate_comes_back_within_4_posterior_sds(export):
    config, events, _ = export
    table = event_rate_table(calibrate_events(config, events)).set_index(["segment", "rate"])
    assert set(table.index) == set(RATES)
    for key, truth in RATES.items():
        row = table.loc[key]
        assert row["still_open"] > 0.1 * row["touches"], "censoring must matter here"
        assert abs(row["posterior_mean"] - truth) < 4 * row["posterior_sd"], (key, row)
        assert row["posterior_p5"] < row["posterior_mean"] < row["posterior_p95"]


def test_ignoring_censoring_biases_the_rates(export):
    """On the same export, counting every open touch as a failure (outcomes / touches)
    puts the rate below the truth; for the rates with most touches in the export's last
    weeks, by more than 4 posterior standard deviations."""
    config, events, _ = export
    table = event_rate_table(calibrate_events(config, events)).set_index(["segment", "rate"])
    for key, truth in RATES.items():
        assert table.loc[key, "naive_rate"] < truth, key
    for key in [("mid", "accept_with_note"), ("vp", "inmail_reply_open")]:
        row = table.loc[key]
        assert RATES[key] - row["naive_rate"] > 4 * row["posterior_sd"], (key, row)


def test_every_delay_passes_a_likelihood_ratio_test_against_the_known_one(export):
    """2 (log L at the fitted delay - log L at the known delay, the rates refitted) is
    chi-square with 2 degrees of freedom (median and sigma) when the known delay is true."""
    config, events, _ = export
    calibration = calibrate_events(config, events)
    watched = watched_touches(events, config)
    assert {(d.segment, d.field) for d in calibration.delays} == set(DELAYS)
    for d in calibration.delays:
        assert d.fit is not None and d.outcomes > 200
        groups = [
            w
            for (segment, touch), w in watched.items()
            if segment == d.segment and touch_rate(touch)[1] == d.field
        ]
        median, sigma = DELAYS[(d.segment, d.field)]
        known = lognormal_pmf(np.array([median]), np.array([sigma]), d.window)[0]
        at_known = sum(log_likelihood(g, best_rate(g, known), known) for g in groups)
        statistic = 2 * (d.fit.log_likelihood - at_known)
        assert statistic > -1e-6  # the fit is a maximum
        assert stats.chi2.sf(statistic, 2) > 0.01, (d, statistic)


def test_the_posterior_is_the_conjugate_beta_when_every_touch_was_watched_to_the_end():
    window = 21
    pmf = lognormal_pmf(np.array([3.0]), np.array([1.0]), window)[0]
    delays = np.repeat(np.arange(1, window + 1), np.round(pmf * 40).astype(int))
    watched = Watched.from_days(delays, np.full(160, window), window)
    a, b = 2.0, 5.0
    exact = stats.beta(a + watched.seen, b + watched.touches - watched.seen)
    found = posterior(watched, pmf, (a, b))
    assert found.mean == pytest.approx(exact.mean(), abs=1e-7)
    assert found.sd == pytest.approx(exact.std(), rel=1e-5)
    assert found.p5 == pytest.approx(exact.ppf(0.05), abs=1e-6)
    assert found.p95 == pytest.approx(exact.ppf(0.95), abs=1e-6)
    assert found.beta_shape == pytest.approx(exact.args, rel=1e-4)


def test_calibrate_writes_a_new_config_that_runs_on_the_posteriors(export, capsys):
    config, events, folder = export
    source, out = folder / "truth.yaml", folder / "truth.calibrated.yaml"
    assert main(["calibrate", str(source), "--events", str(folder / "events.csv")]) == 0
    printed = capsys.readouterr().out
    assert "prior 90%" in printed and "posterior 90%" in printed
    calibrated = load_config(out)
    table = event_rate_table(calibrate_events(config, events)).set_index(["segment", "rate"])
    text = out.read_text()
    for (segment, rate), _ in RATES.items():
        rates = calibrated.segments[segment].rates
        if rate.startswith("reply_after_accept"):
            value = rates.reply_after_accept[int(rate.split(".")[1])]
        else:
            value = getattr(rates, rate)
        assert value.dist == "beta"
        a, b = value.shape()
        assert a / (a + b) == pytest.approx(table.loc[(segment, rate), "posterior_mean"], rel=1e-3)
    n = table.loc[("mid", "accept_with_note"), "touches"]
    assert "accept_with_note: {dist: beta" in text
    assert f"# fitted from events.csv, n = {n} connect_note touches" in text
    accept = calibrated.segments["mid"].delays.accept
    assert accept.dist == "lognormal" and abs(accept.median - 5.0) < 0.5
    # never over an existing file without --force
    before = out.read_text()
    assert main(["calibrate", str(source), "--events", str(folder / "events.csv")]) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_text() == before
    assert main(["calibrate", str(source), "--events", str(folder / "events.csv"), "--force"]) == 0
    # and --force replaces only a config calibrate wrote: never the config itself
    original = source.read_text()
    code = main(
        ["calibrate", str(source), "--events", str(folder / "events.csv"), "--out", str(source),
         "--force"]
    )  # fmt: skip
    assert code == 2
    assert "replaces only a config written by outreach-sim calibrate" in capsys.readouterr().err
    assert source.read_text() == original
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no staging left


@pytest.mark.parametrize("name", ["connect_only", "inmail_only", "tiered_hybrid"])
def test_a_calibrated_config_keeps_the_file_as_written(name):
    """Where nothing is fitted, the calibrated config is the config file line for line,
    comments, flow lists and layout included, under its first line."""
    path = TIERED.parent / f"{name}.yaml"
    source = path.read_text()
    nothing = EventCalibration("events.csv", [], [])
    text = calibrated_config_text(source, load_config(path), nothing, "events.csv")
    first, rest = text.split("\n", 1)
    assert first.startswith(CALIBRATED_HEADER)
    assert rest == source


BAD_ROWS = """prospect_id,segment,touch,sent_date,accepted_date,replied_date,export_date
a1,mid,connect_note,2026-01-05,2026-01-08,,2026-02-01
a1,mid,message_1,2026-01-08,,2026-01-07,2026-02-01
a2,mid,connect_note,2026-01-05,,,2026-02-01
a3,mid,voice_note,2026-01-06,,,2026-02-01
a2,mid,connect_note,2026-01-05,,,2026-02-01
a4,mid,connect_note,05/01/2026,,,2026-02-01
a5,nowhere,connect_note,2026-01-06,,,2026-02-01
a6,mid,message_1,2026-01-09,,2026-02-03,2026-02-01
"""


def test_a_bad_file_is_one_line_per_mistake_naming_row_and_column(tmp_path, capsys):
    out = tmp_path / "c.calibrated.yaml"
    events, lines = _refused(tmp_path, capsys, "bad.csv", BAD_ROWS)
    expected = [
        "row 3: column replied_date: 2026-01-07 is before the sent date 2026-01-08",
        "row 5: column touch: 'voice_note' is not a touch kind",
        "row 6: duplicates row 4",
        "row 7: column sent_date: '05/01/2026' is not a date",
        "row 8: column segment: 'nowhere' is not a segment",
        "row 9: column replied_date: 2026-02-03 is after the export date 2026-02-01",
    ]
    _each_on_one_line(expected, lines)
    assert len(lines) == len(expected)
    assert all(line.startswith(f"{events}: ") for line in lines)
    assert not out.exists()


def test_a_missing_column_is_named(tmp_path, capsys):
    header_only = "prospect_id,segment,touch,sent_date\na1,mid,connect_note,2026-01-05\n"
    events, lines = _refused(tmp_path, capsys, "bad.csv", header_only)
    assert lines == [
        f"{events}: column replied_date: missing",
        f"{events}: column accepted_date: missing",
        f"{events}: column export_date: missing",
    ]


EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
TIERED = Path(__file__).resolve().parents[1] / "configs" / "tiered_hybrid.yaml"


@pytest.mark.parametrize(
    ("name", "kinds", "segment"),
    [
        ("automation", {"connect_note", "message_1", "message_2"}, "mid_market"),
        ("inmail", {"inmail_paid", "inmail_open"}, "vp_plus"),
    ],
)
def test_the_documented_mappings_read_their_example_exports(tmp_path, capsys, name, kinds, segment):
    """docs/calibration.md's two worked mappings: a LinkedIn-automation tool's export and
    an InMail export, each read through its mapping and calibrated against tiered_hybrid."""
    export, mapping = EXAMPLES / f"{name}_export.csv", EXAMPLES / f"{name}_mapping.yaml"
    config = load_config(TIERED)
    events = read_events(export, config, load_mapping(mapping))
    raw = pd.read_csv(export, dtype=str, keep_default_na=False)
    assert len(events.touches) == len(raw)
    assert set(events.touches["touch"]) == kinds
    assert set(events.touches["segment"]) == {segment}
    assert events.start == dt.date(2026, 1, 5)
    assert events.export_day == (dt.date(2026, 2, 14) - events.start).days
    replies = raw[events_columns(mapping)["replied_date"]] != ""
    assert events.touches["replied_day"].notna().sum() == replies.sum()
    out = tmp_path / "calibrated.yaml"
    code = main(
        ["calibrate", str(TIERED), "--events", str(export), "--mapping", str(mapping),
         "--out", str(out)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert f"fitted from {name}_export.csv" in out.read_text()
    assert load_config(out).segments[segment].rates is not None


def events_columns(mapping: Path) -> dict[str, str]:
    return yaml.safe_load(mapping.read_text())["columns"]


def test_a_bad_mapping_is_one_line_per_mistake(tmp_path, capsys):
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {sent_on: Sent}\ntouches: {Ping: poke}\ndate_fmt: '%d'\nexport_date: soon\n"
    )
    code = main(
        ["calibrate", str(TIERED), "--events", str(EXAMPLES / "inmail_export.csv"),
         "--mapping", str(mapping), "--out", str(tmp_path / "o.yaml")]
    )  # fmt: skip
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 4
    expected = [
        "date_fmt: unknown key",
        "columns.sent_on: not a schema column",
        "touches.Ping: 'poke' is not a touch kind",
        "export_date: must be a date",
    ]
    _each_on_one_line(expected, lines)
    assert not (tmp_path / "o.yaml").exists()


def test_observed_results_are_the_priors_and_are_folded_into_the_calibrated_config(tmp_path):
    """A config with `observed:` counts: its posteriors are the events' priors, and the
    written config carries every posterior with `observed` used up."""
    path = TIERED.parent / "observed_pilot.yaml"
    config = load_config(path)
    export = campaign_export(config, "connect_only", 1, 3, 100)
    events = read_events(write_events(export, tmp_path / "e.csv"), config)
    calibration = calibrate_events(config, events)
    first = next(r for r in calibration.rates if r.rate == "accept_with_note")
    observed = next(c for c in calibrations(config) if c.rate == "accept_with_note")
    assert first.prior_shape == pytest.approx(observed.posterior_shape)
    text = calibrated_config_text(path.read_text(), config, calibration, "e.csv")
    written = load_config_text(text)
    assert all(segment.observed is None for segment in written.segments.values())
    assert "# updated by observed: " in text and "# fitted from e.csv" in text
    a, b = written.segments["mid_market"].rates.accept_with_note.shape()
    assert a / (a + b) == pytest.approx(first.posterior.mean, rel=1e-3)


def load_config_text(text: str):
    return parse_config(yaml.safe_load(text))


def _calibrate_example(tmp_path, mapping_text: str, name: str = "automation", events=None):
    """calibrate tiered_hybrid on a docs/examples export through `mapping_text`: the
    exit code, stderr's lines, and whether a config was written."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text(mapping_text)
    out = tmp_path / "o.yaml"
    events = events or EXAMPLES / f"{name}_export.csv"
    code = main(
        ["calibrate", str(TIERED), "--events", str(events), "--mapping", str(mapping),
         "--out", str(out)]
    )  # fmt: skip
    return code, out.exists()


def _example_mapping(name: str = "automation") -> str:
    return (EXAMPLES / f"{name}_mapping.yaml").read_text()


def test_a_mapping_to_a_message_the_config_has_no_rate_for_is_refused(tmp_path, capsys):
    """tiered_hybrid's mid_market has two message rates: a step mapped to message_9 is
    one line naming the mapping's key and what the config has, exit 2, nothing written."""
    text = _example_mapping().replace("Message 2: message_2", "Message 2: message_9")
    code, written = _calibrate_example(tmp_path, text)
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not written
    assert lines == [
        f"{tmp_path / 'm.yaml'}: touches.Message 2: message_9: segment mid_market has rates "
        "for message_1 to message_2 only (rates.reply_after_accept)"
    ]


def test_a_mapping_to_a_segment_the_config_lacks_is_one_line_naming_the_key(tmp_path, capsys):
    """It was a line per row (the first five, then a count) saying the file's own name
    'Mid-market EU - Q1' is not a segment, though the mapping had translated it."""
    text = _example_mapping().replace(": mid_market", ": mid_markets")
    code, written = _calibrate_example(tmp_path, text)
    assert code == 2 and not written
    assert capsys.readouterr().err.strip().splitlines() == [
        f"{tmp_path / 'm.yaml'}: segments.Mid-market EU - Q1: 'mid_markets' is not a segment "
        "of the config (key_accounts, vp_plus, mid_market)"
    ]


def test_a_mapping_may_name_segments_of_other_configs_the_file_does_not_use(tmp_path, capsys):
    text = _example_mapping() + "  EMEA enterprise - Q1: enterprise\n"  # not in this file
    code, written = _calibrate_example(tmp_path, text)
    assert code == 0 and written, capsys.readouterr().err


def test_a_message_the_config_has_no_rate_for_is_refused_by_row(tmp_path, capsys):
    """The same in the schema's own names: the rows, the first few, then how many more."""
    rows = [f"a{i},mid,message_3,2026-01-{5 + i:02d},,,2026-02-01" for i in range(ROWS_SHOWN + 3)]
    text = "\n".join([BAD_ROWS.splitlines()[0], *rows]) + "\n"
    events, lines = _refused(tmp_path, capsys, "e.csv", text)
    assert len(lines) == ROWS_SHOWN + 1
    assert lines[0] == (
        f"{events}: row 2: column touch: 'message_3': segment mid has rates for message_1 "
        "to message_2 only (rates.reply_after_accept)"
    )
    assert lines[-1] == f"{events}: column touch: and 3 more rows with the same mistake"


def test_a_touch_no_strategy_sends_is_fitted_with_a_warning(tmp_path, capsys):
    """tiered_hybrid never emails vp_plus: its email touches are fitted (email_reply has a
    rate) with one warning line naming the mapping key and what the routes send."""
    text = _example_mapping("inmail").replace(
        "Open Profile message: inmail_open", "Open Profile message: email"
    )
    code, written = _calibrate_example(tmp_path, text, "inmail")
    err = [line for line in capsys.readouterr().err.splitlines() if "no strategy" in line]
    assert code == 0 and written
    assert len(err) == 1
    assert "email touches to vp_plus (from the mapping: touches.Open Profile message)" in err[0]
    assert "no strategy of the config sends email to vp_plus" in err[0]
    assert "its routes send connect_note, inmail_open, inmail_paid, message_1" in err[0]
    assert (
        "# fitted from inmail_export.csv, n = 33 email touches" in (tmp_path / "o.yaml").read_text()
    )


def test_touch_kinds_sent_follow_the_playbooks():
    config = load_config(TIERED)
    sent = touch_kinds_sent(config)
    assert sent["mid_market"] == {"connect_note", "message_1", "message_2"}
    assert sent["key_accounts"] == {
        "inmail_paid", "inmail_open", "inmail_followup", "email", "connect_note", "message_1",
        "message_2",
    }  # fmt: skip


def test_a_bad_date_format_is_one_line_naming_the_key(tmp_path, capsys):
    text = _example_mapping().replace('date_format: "%d/%m/%Y %H:%M"', 'date_format: "%Q"')
    code, written = _calibrate_example(tmp_path, text)
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not written
    assert len(lines) == 1
    assert lines[0].startswith(f"{tmp_path / 'm.yaml'}: date_format: '%Q' is not a date format")


def test_a_date_format_that_matches_no_value_is_one_line_per_column(tmp_path, capsys):
    text = _example_mapping().replace('date_format: "%d/%m/%Y %H:%M"', 'date_format: "%Y-%m-%d"')
    code, written = _calibrate_example(tmp_path, text)
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not written
    raw = pd.read_csv(EXAMPLES / "automation_export.csv", dtype=str, keep_default_na=False)
    expected = []
    for column, field in [("Executed at", "sent_date"), ("Invite accepted at", "accepted_date"),
                          ("Replied at", "replied_date")]:  # fmt: skip
        values = raw[column][raw[column] != ""]
        expected.append(
            f"{EXAMPLES / 'automation_export.csv'}: column '{column}' ({field}): none of "
            f"{len(values)} values match %Y-%m-%d (first: '{values.iloc[0]}')"
        )
    assert lines == expected


def test_a_mistake_on_many_rows_shows_the_first_few_then_counts(tmp_path, capsys):
    rows = [f",mid,connect_note,2026-01-{5 + i:02d},,,2026-02-01" for i in range(12)]
    text = "\n".join([BAD_ROWS.splitlines()[0], *rows]) + "\n"
    events, lines = _refused(tmp_path, capsys, "e.csv", text)
    assert lines[:ROWS_SHOWN] == [
        f"{events}: row {i + 2}: column prospect_id: empty" for i in range(ROWS_SHOWN)
    ]
    assert lines[ROWS_SHOWN:] == [
        f"{events}: column prospect_id: and {12 - ROWS_SHOWN} more rows with the same mistake"
    ]


def test_an_export_date_before_every_send_is_one_line(tmp_path, capsys):
    text = _example_mapping().replace("export_date: 2026-02-14", "export_date: 2025-01-01")
    code, written = _calibrate_example(tmp_path, text)
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not written
    assert lines == [
        f"{EXAMPLES / 'automation_export.csv'}: column 'Executed at' (sent_date): every send "
        f"is after the export date 2025-01-01 (from {tmp_path / 'm.yaml'}'s export_date; the "
        "first send is on 2026-01-05): is the export date right?"
    ]


def test_a_mapping_that_is_not_valid_yaml_is_one_line(tmp_path, capsys):
    text = _example_mapping().replace("touches:  ", "touches: [ ")
    code, written = _calibrate_example(tmp_path, text)
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not written
    assert len(lines) == 1 and lines[0].startswith(
        f"{tmp_path / 'm.yaml'}: (top level): not valid YAML"
    )


def test_a_mapping_export_date_that_is_no_date_is_one_line(tmp_path, capsys):
    text = _example_mapping().replace("export_date: 2026-02-14", "export_date: 2026-13-01")
    code, written = _calibrate_example(tmp_path, text)
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not written
    assert lines == [
        f"{tmp_path / 'm.yaml'}: export_date: '2026-13-01' is not a date (month must be in 1..12)"
    ]


@pytest.mark.parametrize(
    "content", ["", "Lead ID,Campaign,Step type,Executed at,Invite accepted at,Replied at\n"]
)
def test_a_file_without_touches_is_one_line(tmp_path, capsys, content):
    events = tmp_path / "empty.csv"
    events.write_text(content)
    code, written = _calibrate_example(tmp_path, _example_mapping(), events=events)
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not written
    assert len(lines) == 1 and lines[0].startswith(f"{events}: no touches in the file")


def test_a_fixed_rate_the_file_barely_informs_is_kept(tmp_path, capsys):
    """tiered_hybrid's mid_market nudge (message_2) is a plain 0.06; the example export has
    8 such touches, none answered and all still open: too little data to replace it. The
    table says so, the written config keeps 0.06, and the rates it informs are fitted."""
    code, written = _calibrate_example(tmp_path, _example_mapping())
    assert code == 0 and written
    printed = capsys.readouterr().out
    config = load_config(TIERED)
    events = read_events(
        EXAMPLES / "automation_export.csv",
        config,
        load_mapping(EXAMPLES / "automation_mapping.yaml"),
    )
    table = event_rate_table(calibrate_events(config, events)).set_index("touch")
    nudge = table.loc["message_2"]
    assert nudge["kept"] and nudge["resolved"] < MIN_RESOLVED_FOR_FIXED_RATE
    assert nudge["posterior_mean"] == 0.06 and nudge["prior_mean"] == 0.06
    assert not table.loc["connect_note", "kept"]  # a distribution is always updated
    line = next(line for line in printed.splitlines() if "message_2" in line)
    assert line.endswith(f"0.06 kept  n resolved {int(nudge['resolved'])}")
    assert "0.06 fixed" in line
    calibrated = load_config(tmp_path / "o.yaml")
    assert calibrated.segments["mid_market"].rates.reply_after_accept[1] == 0.06
    assert calibrated.segments["mid_market"].rates.reply_after_accept[0].dist == "beta"


def test_a_fixed_rate_is_replaced_from_enough_resolved_touches(export):
    """The round trip's rates are plain numbers with thousands of resolved touches: each
    is replaced by the file's own estimate (the flat prior's posterior)."""
    config, events, _ = export
    for r in calibrate_events(config, events).rates:
        assert r.fixed and not r.kept and r.resolved >= MIN_RESOLVED_FOR_FIXED_RATE
        assert r.posterior == r.data


def test_a_prior_the_file_contradicts_is_a_warning_naming_the_rate(export, capsys):
    """A narrow prior far from the truth (0.30-0.35 for a true 0.12), and a fixed number
    far from it (0.6 for a true 0.3): one warning line each, naming the rate."""
    _, _, folder = export
    data = yaml.safe_load((folder / "truth.yaml").read_text())
    data["segments"]["vp"]["rates"]["inmail_reply_open"] = {
        "dist": "uniform", "low": 0.30, "high": 0.35,
    }  # fmt: skip
    data["segments"]["mid"]["rates"]["accept_with_note"] = 0.6
    config = folder / "wrong.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    out = folder / "wrong.calibrated.yaml"
    assert main(["calibrate", str(config), "--events", str(folder / "events.csv")]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) >= 2
    prior = [w for w in warnings if "segments.vp.rates.inmail_reply_open" in w]
    fixed = [w for w in warnings if "segments.mid.rates.accept_with_note" in w]
    assert len(prior) == 1 and "the file and the prior disagree" in prior[0]
    assert len(fixed) == 1 and "the config's fixed 0.6 is outside" in fixed[0]
    assert out.exists()


def test_the_disagreement_rule():
    """The file and the prior disagree when their 90% ranges do not overlap, or when the
    posterior falls outside the file's own range; not when the file is merely uncertain."""
    window = 21
    pmf = lognormal_pmf(np.array([3.0]), np.array([1.0]), window)[0]

    def fitted(seen: int, touches: int, prior: tuple[float, float]) -> FittedRate:
        watched = Watched.from_days(np.full(seen, 2), np.full(touches - seen, window), window)
        data = posterior(watched, pmf, (1.0, 1.0))
        post = posterior(watched, pmf, prior)
        return FittedRate(
            "s", "accept_with_note", "connect_note", prior_of(prior), watched, post, data,
            best_rate(watched, pmf), float(touches),
        )  # fmt: skip

    assert not fitted(3, 10, (12.0, 88.0)).disagrees  # 30% of 10 vs a 12% prior: too few
    assert fitted(300, 1000, (120.0, 880.0)).disagrees  # 30% of 1000 vs 12% +- 1%
    assert not fitted(120, 1000, (120.0, 880.0)).disagrees


def prior_of(prior):
    """A Beta(alpha, beta) prior as the config's distribution."""
    from simulator.config import Distribution

    a, b = prior
    return Distribution(dist="beta", alpha=a, beta=b)


def _cells(line: str) -> list[tuple[int, int]]:
    """The spans of a table line's cells: text separated by two spaces or more."""
    return [m.span() for m in re.finditer(r"\S+(?: \S+)*", line)]


@pytest.mark.parametrize("name", ["automation", "inmail"])
def test_the_rate_table_is_aligned_and_fits_100_columns(tmp_path, capsys, name):
    """Each column as wide as its widest cell (names and remarks to the left, numbers to
    the right), the table and its legend within 100 columns."""
    code, _ = _calibrate_example(tmp_path, _example_mapping(name), name)
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    table = lines[: lines.index("") - 4]  # down to the legend's 4 lines
    header, rule, rows = table[0], table[1], table[2:]
    assert set(rule) == {"-"} and len(rule) == len(header)
    assert rows and all(len(line) <= 100 for line in lines[: lines.index("")])
    spans = _cells(header)
    assert len(spans) == 9
    for row in rows:
        cells = _cells(row)
        assert len(cells) == len(spans), row
        for i, (cell, head) in enumerate(zip(cells, spans, strict=True)):
            if i in (0, 1, 8):
                assert cell[0] == head[0], (row, i)
            else:
                assert cell[1] == head[1], (row, i)


# --- a team's CSV as spreadsheets save it ----------------------------------------------


def _example_touches(events: Path) -> pd.DataFrame:
    config = load_config(TIERED)
    mapping = load_mapping(EXAMPLES / "automation_mapping.yaml")
    return read_events(events, config, mapping).touches


@pytest.mark.parametrize(
    ("separator", "encoding"),
    [(";", "utf-8"), (";", "utf-8-sig"), ("\t", "utf-16")],
    ids=["semicolons", "semicolons-excel-utf8", "excel-unicode-text"],
)
def test_a_csv_saved_with_semicolons_or_as_unicode_text_reads_as_the_comma_file(
    tmp_path, separator, encoding
):
    """Excel saves "CSV" with semicolons in many languages, and "Unicode text" as UTF-16
    with tabs: the same touches as the comma-separated file (it was six "missing" lines)."""
    text = (EXAMPLES / "automation_export.csv").read_text()
    events = tmp_path / "export.csv"
    events.write_bytes(text.replace(",", separator).encode(encoding))
    expected = _example_touches(EXAMPLES / "automation_export.csv")
    pd.testing.assert_frame_equal(_example_touches(events), expected)


def test_rows_keep_their_spreadsheet_numbers_after_a_blank_row(tmp_path, capsys):
    """A blank line and a row of empty cells hold no touch and are skipped, and the rows
    after them are still numbered as a spreadsheet shows them (they were one less)."""
    rows = BAD_ROWS.splitlines()  # row 3 (line 3) has a reply before its send
    text = "\n".join([rows[0], "", ",,,,,,", *rows[1:4]]) + "\n"
    events, lines = _refused(tmp_path, capsys, "blank.csv", text)
    assert lines == [
        f"{events}: row 5: column replied_date: 2026-01-07 is before the sent date 2026-01-08"
    ]


def test_a_row_with_more_values_than_the_header_is_one_line_naming_it(tmp_path, capsys):
    """An unquoted comma in a cell: one line naming the row (it was pandas' "Error
    tokenizing data. C error: ..." over two lines)."""
    rows = BAD_ROWS.splitlines()
    text = "\n".join([rows[0], rows[3], rows[3].replace("a2", "Smith, J")]) + "\n"
    events, lines = _refused(tmp_path, capsys, "ragged.csv", text)
    assert lines == [
        f"{events}: row 3: 8 values, the header has 7 columns (a value with a ',' in it "
        "needs quotes)"
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            "prospect_id,segment\nRené,mid\n".encode("latin-1"),
            "line 2: not text in UTF-8 (byte 0xe9)",
        ),
        (b"PK\x03\x04\x14\x00\x06\x00", "a spreadsheet workbook, not CSV text"),
    ],
    ids=["latin-1", "xlsx"],
)
def test_a_file_that_is_not_utf_8_csv_is_one_line_saying_how_to_save_it(
    tmp_path, capsys, content, reason
):
    events, lines = _refused(tmp_path, capsys, "export.csv", content)
    assert lines == [f"{events}: {reason}: save it as CSV UTF-8"]


def test_a_second_reply_of_one_prospect_is_one_line_naming_both_rows(tmp_path, capsys):
    """A prospect replies once: a file that repeats a lead's reply on each of its rows
    would have each counted as an outcome of its touch (both messages 'replied')."""
    text = (
        "prospect_id,segment,touch,sent_date,accepted_date,replied_date,export_date\n"
        "a1,mid,connect_note,2026-01-05,2026-01-08,,2026-02-01\n"
        "a1,mid,message_1,2026-01-08,,2026-01-13,2026-02-01\n"
        "a1,mid,message_2,2026-01-12,,2026-01-13,2026-02-01\n"
    )
    events, lines = _refused(tmp_path, capsys, "replies.csv", text)
    assert lines == [
        f"{events}: row 4: column replied_date: a second reply of prospect 'a1' (row 3 has "
        "one): a prospect replies once, to one touch (does the file repeat a lead's reply on "
        "each of its rows?)"
    ]


def test_timestamps_with_time_zones_read_as_the_dates_written(tmp_path):
    """A CRM's API export: ISO timestamps with offsets, which change at summer time. It
    was a traceback ("Mixed timezones detected", or "Invalid comparison between
    datetime64 and DatetimeArray" for a single offset); the date is the one written,
    in the tool's own zone (23:30 at -05:00 on the 8th is the 8th, not the 9th in UTC)."""
    config = load_config_text(yaml.safe_dump(TRUTH))
    plain = (
        "prospect_id,segment,touch,sent_date,accepted_date,replied_date,export_date\n"
        "a1,mid,connect_note,2026-01-05,2026-01-08,,2026-04-01\n"
        "a1,mid,message_1,2026-01-08,,2026-01-09,2026-04-01\n"
        "a2,mid,connect_note,2026-03-30,,,2026-04-01\n"
    )
    zoned = (
        plain.replace("2026-01-05,", "2026-01-05T09:03:00Z,")
        .replace("2026-01-08,2026-01-09", "2026-01-08T23:30:00-05:00,2026-01-09T08:00:00-0500")
        .replace("2026-03-30,", "2026-03-30T00:30:00+02:00,")
    )
    (tmp_path / "plain.csv").write_text(plain)
    (tmp_path / "zoned.csv").write_text(zoned)
    expected = read_events(tmp_path / "plain.csv", config)
    got = read_events(tmp_path / "zoned.csv", config)
    pd.testing.assert_frame_equal(got.touches, expected.touches)
    assert got.export_day == expected.export_day


def test_a_header_with_spaces_around_a_name_finds_the_column(tmp_path):
    """`Lead ID ` (a spreadsheet keeps a trailing space): it was "column 'Lead ID'
    (prospect_id): missing", of a column the user could see."""
    text = (EXAMPLES / "automation_export.csv").read_text()
    header, rest = text.split("\n", 1)
    events = tmp_path / "export.csv"
    events.write_text(", ".join(f" {name} " for name in header.split(",")) + "\n" + rest)
    expected = _example_touches(EXAMPLES / "automation_export.csv")
    pd.testing.assert_frame_equal(_example_touches(events), expected)


def test_several_export_dates_are_held_against_the_first_given(tmp_path, capsys):
    """Row 2 leaves the export date empty: it said every other row's date "differs from
    row 2's NaT"; the first date given is the one the others are held against."""
    text = (
        "prospect_id,segment,touch,sent_date,accepted_date,replied_date,export_date\n"
        "a1,mid,connect_note,2026-01-05,,,\n"
        "a2,mid,connect_note,2026-01-05,,,2026-02-01\n"
        "a3,mid,connect_note,2026-01-05,,,2026-02-02\n"
    )
    events, lines = _refused(tmp_path, capsys, "export.csv", text)
    assert lines == [
        f"{events}: row 4: column export_date: 2026-02-02 differs from row 3's 2026-02-01 "
        "(a file has one export date)"
    ]


def test_a_segment_called_no_calibrates(tmp_path, capsys):
    """Its calibrated config was checked with YAML 1.1's reading, where `no` is false:
    two lines about 'segments.0.[key]' naming a file never written. It is read as `run`
    reads it."""
    config = tmp_path / "norway.yaml"
    config.write_text(TIERED.read_text().replace("mid_market", "no"))
    mapping = tmp_path / "m.yaml"
    mapping.write_text(_example_mapping().replace(": mid_market", ': "no"'))
    out = tmp_path / "calibrated.yaml"
    code = main(
        ["calibrate", str(config), "--events", str(EXAMPLES / "automation_export.csv"),
         "--mapping", str(mapping), "--out", str(out)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert "no" in load_config(out).segments
