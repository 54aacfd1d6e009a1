"""A run's events (docs/calibration.md): one row per touch, in agreement with the run's own
counts, censored at the export day, written by `run --events` and read back."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from checks import check_results
from scenarios import SCENARIOS, scenario

from simulator import run
from simulator.cli import main
from simulator.events import (
    DEFAULT_START,
    campaign_export,
    export_events,
    read_events,
    simulated_events,
    write_events,
)

REPLICATIONS = 6
SEED = 11


def _count(events: pd.DataFrame, mask: pd.Series) -> np.ndarray:
    counted = events[mask].groupby("replication").size()
    return counted.reindex(range(REPLICATIONS), fill_value=0).to_numpy()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_events_of_a_replication_add_up_to_its_counts(name):
    """Every touch sent and every outcome that counts, replication by replication: the
    no-cut-off export holds exactly the run's sends, acceptances and replies."""
    config = scenario(name)
    results = run(config, REPLICATIONS, SEED)
    check_results(results)
    for strategy in config.strategies:
        export = campaign_export(config, strategy, REPLICATIONS, SEED)
        runs = results.runs[results.runs["strategy"] == strategy].sort_values("replication")
        touch = export["touch"]
        replied = export["replied_date"].notna()
        expected = {
            "connects_sent": touch.isin(["connect_note", "connect_blank", "reinvite"]),
            "notes_used": touch == "connect_note",
            "reinvites_sent": touch == "reinvite",
            "messages_sent": touch.str.startswith("message_"),
            "inmails_paid": touch == "inmail_paid",
            "inmails_free": touch == "inmail_open",
            "emails_sent": touch == "email",
            "whatsapps_sent": touch == "whatsapp",
            "acceptances": export["accepted_date"].notna(),
            "replies": replied,
            "replies_message": replied & touch.str.startswith("message_"),
            "replies_inmail": replied & touch.isin(["inmail_paid", "inmail_open"]),
            "replies_followup": replied & (touch == "inmail_followup"),
            "replies_email": replied & (touch == "email"),
            "replies_whatsapp": replied & (touch == "whatsapp"),
        }
        for column, mask in expected.items():
            np.testing.assert_array_equal(
                _count(export, mask), runs[column].to_numpy(), err_msg=f"{strategy}: {column}"
            )
        followups = runs["followups_paid"] + runs["followups_free"]
        np.testing.assert_array_equal(
            _count(export, touch == "inmail_followup"), followups.to_numpy()
        )
        for segment in config.segments:
            np.testing.assert_array_equal(
                _count(export, replied & (export["segment"] == segment)),
                runs[f"replies_in_{segment}"].to_numpy(),
            )
        # one touch per prospect, kind and day; at most one reply per prospect
        key = ["replication", "prospect_id", "touch", "sent_date"]
        assert not export.duplicated(key).any()
        assert not export[replied].duplicated(["replication", "prospect_id"]).any()


def test_the_export_day_hides_what_came_after_it():
    """An export taken mid-campaign is the full record with every later touch dropped and
    every later outcome blank; nothing dated after the export day is in it."""
    config = scenario("hybrid")
    strategy = next(iter(config.strategies))
    events = simulated_events(config, strategy, 3, SEED)
    full = export_events(events, config.horizon_days)
    day = config.horizon_days // 2
    cut = export_events(events, config.horizon_days, day)
    export_date = DEFAULT_START + dt.timedelta(days=day)
    assert (cut["export_date"] == export_date).all()
    for column in ("sent_date", "accepted_date", "replied_date"):
        assert (cut[column].dropna() <= export_date).all()
    kept = full[full["sent_date"] <= export_date].reset_index(drop=True)
    assert len(kept) == len(cut)
    for column in ("accepted_date", "replied_date"):
        later = kept[column].notna() & (kept[column] > export_date)
        assert later.any()  # the cut matters in this test
        pd.testing.assert_series_equal(
            pd.to_datetime(kept[column].where(~later)), pd.to_datetime(cut[column])
        )


def test_run_writes_the_events_and_they_read_back(tmp_path, capsys):
    """`run --events N --export-day D` puts one file per strategy in the results folder,
    in the schema; reading it back gives days counted from the first send."""
    config = scenario("hybrid")
    path = tmp_path / "hybrid.yaml"
    import yaml

    path.write_text(yaml.safe_dump(SCENARIOS["hybrid"]))
    out = tmp_path / "out"
    code = main(
        ["run", str(path), "--runs", "4", "--seed", "3", "--out", str(out), "--no-report",
         "--quiet", "--events", "2", "--export-day", "50", "--start-date", "2025-03-03"]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    names = ", ".join(f"events-{strategy}.csv" for strategy in config.strategies)
    assert f"events of the first 2 replications in {out}: {names}" in printed
    assert "<strategy>" not in printed
    for strategy in config.strategies:
        written = pd.read_csv(out / f"events-{strategy}.csv")
        assert sorted(written["replication"].unique()) == [0, 1]
        assert (written["export_date"] == "2025-04-22").all()  # day 50
        expected = campaign_export(config, strategy, 2, 3, 50, dt.date(2025, 3, 3))
        assert len(written) == len(expected)
        events = read_events(out / f"events-{strategy}.csv", config)
        first = pd.Timestamp(written["sent_date"].min()) - pd.Timestamp("2025-03-03")
        assert events.export_day == 50 - first.days
        assert events.touches["replied_day"].notna().sum() == written["replied_date"].notna().sum()


def test_a_strategy_named_with_a_slash_gets_its_events_file(tmp_path, capsys):
    """docs/config.md allows `Q3 / EMEA` as a name: its events file is named safely (it
    was exit 1 after the simulation, "Cannot save file into a non-existent directory")."""
    import yaml

    data = dict(SCENARIOS["hybrid"])
    data["strategies"] = {f"Q3 / EMEA {name}": s for name, s in data["strategies"].items()}
    path = tmp_path / "slash.yaml"
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    args = ["run", str(path), "--runs", "2", "--out", str(out), "--no-report", "--quiet"]
    assert main([*args, "--events", "1"]) == 0, capsys.readouterr().err
    written = sorted(p.name for p in out.glob("events-*.csv"))
    assert written == sorted(
        f"events-Q3 _ EMEA {name}.csv" for name in SCENARIOS["hybrid"]["strategies"]
    )


def _count_blocks(monkeypatch) -> list[int]:
    """The replications of each block events.simulated_events is asked for, as they come."""
    import simulator.events as events

    blocks: list[int] = []
    simulate = events.simulated_events

    def counted(config, strategy, replications, seed=None, first=0):
        blocks.append(replications - first)
        return simulate(config, strategy, replications, seed, first=first)

    monkeypatch.setattr(events, "simulated_events", counted)
    return blocks


def test_run_makes_its_events_block_by_block_to_the_same_bytes(tmp_path, monkeypatch):
    """`run --events N` held every touch of the N replications at once (the vectorised
    engine and the table): 1.2 GB for 200 replications of tiered_hybrid, so
    `--events 10000` could not fit. Now block by block within EVENTS_MEMORY, the file
    byte for byte the one made at once."""
    import yaml

    import simulator.events as events
    from simulator import load_config

    path = tmp_path / "hybrid.yaml"
    path.write_text(yaml.safe_dump(SCENARIOS["hybrid"]))
    config = load_config(path)
    start = dt.date(2025, 3, 3)
    at_once = {
        strategy: write_events(
            campaign_export(config, strategy, 6, 3, 50, start), tmp_path / f"{strategy}.csv"
        ).read_bytes()
        for strategy in config.strategies
    }
    blocks = _count_blocks(monkeypatch)
    monkeypatch.setattr(events, "EVENTS_MEMORY", 1)  # one replication a block
    out = tmp_path / "out"
    code = main(
        ["run", str(path), "--runs", "6", "--seed", "3", "--out", str(out), "--no-report",
         "--quiet", "--events", "6", "--export-day", "50", "--start-date", str(start)]
    )  # fmt: skip
    assert code == 0
    assert blocks == [1] * 6 * len(config.strategies)
    for strategy, expected in at_once.items():
        assert (out / events.events_file_name(strategy)).read_bytes() == expected


def test_events_blocks_grow_at_most_fourfold(tmp_path, monkeypatch):
    """However few touches the first replications have, the blocks grow step by step
    (a quiet first replication sized one block of all the rest)."""
    import simulator.events as events

    config = scenario("hybrid")
    blocks = _count_blocks(monkeypatch)
    monkeypatch.setattr(events, "EVENTS_MEMORY", 10**15)  # any block would fit
    start = dt.date(2025, 3, 3)
    strategy = next(iter(config.strategies))
    events.write_campaign_export(config, strategy, 30, 3, None, start, tmp_path / "e.csv")
    assert blocks == [1, 4, 16, 9]


def test_parquet_events_read_like_csv(tmp_path):
    config = scenario("hybrid")
    strategy = next(iter(config.strategies))
    export = campaign_export(config, strategy, 2, SEED, 60)
    csv = read_events(write_events(export, tmp_path / "e.csv"), config)
    parquet = read_events(write_events(export, tmp_path / "e.parquet"), config)
    pd.testing.assert_frame_equal(csv.touches, parquet.touches)
    assert csv.export_day == parquet.export_day


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--events", "5"], "--events: must be 1 to 4"),
        (["--events", "2", "--export-day", "400"], "--export-day: must be 0 to"),
        (["--export-day", "4"], "only with --events"),
        # the horizon's last dates would pass the calendar's end (it was a traceback,
        # "year 10000 is out of range", once the simulation had run)
        (["--events", "2", "--start-date", "9999-12-31"], "--start-date: must be 9999-"),
    ],
)
def test_bad_event_options_are_one_line_and_exit_2(tmp_path, capsys, options, message):
    path = tmp_path / "hybrid.yaml"
    import yaml

    path.write_text(yaml.safe_dump(SCENARIOS["hybrid"]))
    code = main(["run", str(path), "--runs", "4", "--out", str(tmp_path / "o"), *options])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "o").exists()
