"""A campaign's events: one row per touch sent, with the days its outcomes arrived.

This module owns the event schema (`docs/calibration.md`): its columns, its vocabulary of
touch kinds, calendar dates counted from a campaign start date, and the export date after
which nothing is known yet. It writes the events of simulated replications (the engine
records them when asked, :class:`EventRecorder`) and reads a tool's own export through a
column mapping, reporting every mistake of the file at once, one line each.

A simulated export follows the model's conventions (MODEL.md sections 10 and 15): a reply
is recorded for the touch that got the prospect's first reply only (later outcomes of that
prospect are not counted), an acceptance only when no reply had arrived by its day, and
nothing after the export day (by default the horizon's last day) is known.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.config import Config, ConfigError, read_yaml
from simulator.config_file import text_encoding
from simulator.folders import safe_component
from simulator.playbook import Kind

#: the schema's columns, in the order they are written
COLUMNS = (
    "replication",
    "prospect_id",
    "segment",
    "touch",
    "sent_date",
    "accepted_date",
    "replied_date",
    "export_date",
)
#: columns a file must have (`accepted_date` too when it holds connection requests)
REQUIRED = ("prospect_id", "segment", "touch", "sent_date", "replied_date")
DATES = ("sent_date", "accepted_date", "replied_date", "export_date")
#: the touch kinds, and what each is (message_k is message k after acceptance, k >= 1)
TOUCH_KINDS: dict[str, str] = {
    "connect_note": "connection request with a personalised note",
    "connect_blank": "connection request without a note",
    "reinvite": "re-invitation after a withdrawn request (without a note)",
    "inmail_paid": "first InMail that cost a credit",
    "inmail_open": "first InMail, free to an Open Profile",
    "inmail_followup": "the follow-up InMail",
    "message_k": "message k after acceptance (message_1, message_2, ...)",
    "email": "email",
    "whatsapp": "WhatsApp message",
}
REQUEST_KINDS = ("connect_note", "connect_blank", "reinvite")
_MESSAGE = re.compile(r"message_([1-9][0-9]*)$")
#: the first day of a simulated campaign, unless told otherwise: a Monday, fixed so that
#: the same config and seed always write the same file
DEFAULT_START = dt.date(2026, 1, 5)


def is_touch_kind(value: str) -> bool:
    return (value in TOUCH_KINDS and value != "message_k") or _MESSAGE.match(value) is not None


# --- recording in the engine ------------------------------------------------------------


@dataclass
class EventRecorder:
    """Collects, while the engine runs, every touch sent and the outcomes that count.

    The engine calls `sent` for each batch of touches as it sends them (with the requests'
    acceptance days, known when sent) and `replied` for each reply as it resolves."""

    _sent: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    _replied: list[tuple[np.ndarray, ...]] = field(default_factory=list)

    def sent(
        self,
        rep: np.ndarray,
        pid: np.ndarray,
        step: np.ndarray | int,
        day: int,
        detail: np.ndarray | None,
        accepted: np.ndarray | None = None,
        accepted_on: np.ndarray | None = None,
    ) -> None:
        """Touches sent on `day`; `detail` says for each whether a request carried a note,
        or an InMail was free; `accepted` indexes the requests accepted on `accepted_on`."""
        n = rep.size
        on = np.full(n, -1, dtype=np.int64)
        if accepted is not None:
            on[accepted] = accepted_on
        flag = np.zeros(n, dtype=bool) if detail is None else np.broadcast_to(detail, (n,))
        self._sent.append(
            (
                rep.astype(np.int64),
                pid.astype(np.int64),
                np.broadcast_to(np.asarray(step, dtype=np.int64), (n,)).copy(),
                np.full(n, day, dtype=np.int64),
                flag.copy(),
                on,
            )
        )

    def replied(self, rep: np.ndarray, pid: np.ndarray, step: np.ndarray, day: int) -> None:
        """Replies that count (each its prospect's first), arriving on `day`."""
        n = rep.size
        self._replied.append(
            (
                rep.astype(np.int64),
                pid.astype(np.int64),
                step.astype(np.int64),
                np.full(n, day, dtype=np.int64),
            )
        )

    def table(self, simulation: Any, replications: np.ndarray) -> pd.DataFrame:
        """The recorded touches in days: one row per touch, in the order they were sent."""
        names = ("rep", "pid", "step", "sent_day", "detail", "accepted_day")
        if self._sent:
            parts = [np.concatenate(column) for column in zip(*self._sent, strict=True)]
        else:
            parts = [np.empty(0, dtype=np.int64)] * len(names)
        sent = pd.DataFrame(dict(zip(names, parts, strict=True)))
        if self._replied:
            columns = [np.concatenate(column) for column in zip(*self._replied, strict=True)]
        else:
            columns = [np.empty(0, dtype=np.int64)] * 4
        replied = pd.DataFrame(
            dict(zip(("rep", "pid", "step", "replied_day"), columns, strict=True))
        )
        table = sent.merge(replied, on=["rep", "pid", "step"], how="left", validate="1:1")
        step = table["step"].to_numpy()
        kind = simulation.step_kind[step]
        labels = np.array(_step_labels(simulation), dtype=object)
        touch = labels[step]
        connect = kind == Kind.CONNECT
        plain = connect & ~simulation.step_is_reinvite[step] & ~table["detail"].to_numpy()
        touch[plain] = "connect_blank"
        free = (kind == Kind.INMAIL) & table["detail"].to_numpy()
        touch[free] = "inmail_open"
        segment = np.array(simulation.entry_segment, dtype=object)[simulation.step_entry[step]]
        accepted = table["accepted_day"].where(table["accepted_day"] >= 0)
        return pd.DataFrame(
            {
                "replication": replications[table["rep"].to_numpy()],
                "prospect_id": table["pid"].to_numpy(),
                "segment": segment,
                "touch": touch,
                "sent_day": table["sent_day"].to_numpy(),
                "accepted_day": accepted.astype("Int64"),
                "replied_day": table["replied_day"].astype("Int64"),
            }
        ).sort_values(["replication", "sent_day"], kind="stable", ignore_index=True)


def _step_labels(simulation: Any) -> list[str]:
    """Each step's touch kind (a request's note and an InMail's price are set per touch)."""
    labels = []
    for s in simulation.book.steps:
        if s.kind == Kind.CONNECT:
            labels.append("reinvite" if s.reinvite else "connect_note")
        elif s.kind == Kind.MESSAGE:
            labels.append(f"message_{s.message_index + 1}")
        else:
            labels.append(
                {
                    Kind.INMAIL: "inmail_paid",
                    Kind.FOLLOWUP: "inmail_followup",
                    Kind.EMAIL: "email",
                    Kind.WHATSAPP: "whatsapp",
                    Kind.ENGAGE: "engage",
                }[s.kind]
            )
    return labels


def simulated_events(
    config: Config, strategy: str, replications: int, seed: int | None = None, first: int = 0
) -> pd.DataFrame:
    """Every touch of replications `first`..replications-1 of one strategy, in days.

    The vectorised engine re-runs them with its recorder on: every draw is keyed by the
    replication's global index, so these are the very replications of a run's tables
    (with the run's seed, and its config after any `observed:` update)."""
    from simulator.calibration import posterior_config
    from simulator.engine import ProspectLists, Simulation

    config = posterior_config(config)
    seed = config.seed if seed is None else seed
    reps = np.arange(first, replications)
    recorder = EventRecorder()
    simulation = Simulation(config, strategy, ProspectLists(config, reps, seed), events=recorder)
    simulation.run()
    return recorder.table(simulation, reps)


def campaign_export(
    config: Config,
    strategy: str,
    replications: int,
    seed: int | None = None,
    export_day: int | None = None,
    start: dt.date = DEFAULT_START,
) -> pd.DataFrame:
    """The export of replications 0..replications-1 of one strategy, in the schema, as
    taken at the end of `export_day` (default: the horizon's last day); what
    `outreach-sim run --events N` writes, one file per strategy."""
    events = simulated_events(config, strategy, replications, seed)
    return export_events(events, config.horizon_days, export_day, start)


#: memory an events file's block of replications may take while it is made; a touch takes
#: about BYTES_PER_TOUCH from simulation to CSV (1.2 GB at the peak for the 1.95 million
#: touches of 200 replications of configs/tiered_hybrid.yaml, measured in one block)
EVENTS_MEMORY = 256 * 2**20
BYTES_PER_TOUCH = 640


def write_campaign_export(
    config: Config,
    strategy: str,
    replications: int,
    seed: int | None,
    export_day: int | None,
    start: dt.date,
    path: Path,
) -> Path:
    """`campaign_export` written to a CSV block by block of replications, the same bytes
    as at once: memory stays within EVENTS_MEMORY whatever `replications` (each block's
    touches size the next, at most four times as large; `run --events 10000` held them
    all)."""
    path = Path(path)
    first, block = 0, 1
    while first < replications:
        last = min(first + block, replications)
        events = simulated_events(config, strategy, last, seed, first=first)
        export_events(events, config.horizon_days, export_day, start).to_csv(
            path, mode="a" if first else "w", header=not first, index=False, date_format="%Y-%m-%d"
        )
        touches = max(len(events) / (last - first), 1.0)
        fits = int(EVENTS_MEMORY // (touches * BYTES_PER_TOUCH))
        # grown step by step: a quiet first replication does not size a block of thousands
        block = max(1, min(fits, 4 * (last - first)))
        first = last
    return path


# --- the export: censoring and dates -----------------------------------------------------


def export_events(
    events: pd.DataFrame,
    horizon_days: int,
    export_day: int | None = None,
    start: dt.date = DEFAULT_START,
) -> pd.DataFrame:
    """The events as an export taken at the end of `export_day` would show them: touches
    sent by then, outcomes that arrived by then (default: the horizon's last day, after
    which the model counts nothing), dates counted from `start` (day 0)."""
    last = horizon_days - 1 if export_day is None else export_day
    if not 0 <= last < horizon_days:
        raise ConfigError([f"--export-day: must be 0 to {horizon_days - 1}, got {last}"])
    seen = events[events["sent_day"] <= last]
    origin = pd.Timestamp(start)

    def date(days: pd.Series) -> pd.Series:
        known = days.where(days <= last)
        return (origin + pd.to_timedelta(known.astype("float"), unit="D")).dt.date

    return pd.DataFrame(
        {
            "replication": seen["replication"].to_numpy(),
            "prospect_id": seen["prospect_id"].to_numpy(),
            "segment": seen["segment"].to_numpy(),
            "touch": seen["touch"].to_numpy(),
            "sent_date": date(seen["sent_day"]).to_numpy(),
            "accepted_date": date(seen["accepted_day"]).to_numpy(),
            "replied_date": date(seen["replied_day"]).to_numpy(),
            "export_date": (origin + pd.Timedelta(days=last)).date(),
        },
        columns=list(COLUMNS),
    )


def write_events(export: pd.DataFrame, path: Path) -> Path:
    """Write an export as CSV, or as parquet when the name ends in .parquet."""
    path = Path(path)
    if path.suffix == ".parquet":
        frame = export.copy()
        for column in DATES:
            frame[column] = pd.to_datetime(frame[column])
        frame.to_parquet(path, index=False)
    else:
        export.to_csv(path, index=False, date_format="%Y-%m-%d")
    return path


def events_file_name(strategy: str) -> str:
    """The file a results folder keeps a strategy's events in, its name made safe as a
    file name (`Q3 / EMEA` gives events-Q3 _ EMEA.csv)."""
    return f"events-{safe_component(strategy, 'strategy')}.csv"


# --- reading a tool's export --------------------------------------------------------------


@dataclass(frozen=True)
class ColumnMapping:
    """How a tool's export maps onto the schema: its column names, its date format, its
    names for touch kinds and segments, and the export date when no column gives it."""

    columns: Mapping[str, str] = field(default_factory=dict)  # schema column -> file column
    date_format: str | None = None  # strptime codes; None: ISO 8601 (2026-03-14)
    touches: Mapping[str, str] = field(default_factory=dict)  # the file's value -> kind
    segments: Mapping[str, str] = field(default_factory=dict)  # the file's value -> segment
    export_date: dt.date | None = None
    source: str = "the mapping"  # the mapping file, named in its mistakes

    def column(self, name: str) -> str:
        return self.columns.get(name, name)

    def label(self, name: str) -> str:
        """A schema column as the user knows it (the file's name first, when mapped)."""
        mapped = self.columns.get(name)
        return name if mapped is None or mapped == name else f"{mapped!r} ({name})"


_MAPPING_KEYS = {"columns", "date_format", "touches", "segments", "export_date"}


def load_mapping(path: Path) -> ColumnMapping:
    """Read a mapping YAML as a config is read (one line for a YAML mistake, a key given
    twice), reporting each mistake as `file: key: reason`."""
    path = Path(path)
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: a mapping must be a YAML mapping of keys"])
    errors = [f"{path}: {key}: unknown key" for key in data if key not in _MAPPING_KEYS]
    for key in ("columns", "touches", "segments"):
        value = data.get(key) or {}
        if not isinstance(value, dict) or not all(
            isinstance(v, str) and isinstance(k, str | int) for k, v in value.items()
        ):
            errors.append(f"{path}: {key}: must map names to names")
    for name in data.get("columns") or {}:
        if name not in COLUMNS:
            errors.append(f"{path}: columns.{name}: not a schema column ({', '.join(COLUMNS)})")
    for value, kind in (data.get("touches") or {}).items():
        if isinstance(kind, str) and not is_touch_kind(kind):
            errors.append(f"{path}: touches.{value}: {kind!r} is not a touch kind")
    export = data.get("export_date")
    if export is not None and not isinstance(export, dt.date):
        errors.append(f"{path}: export_date: must be a date such as 2026-03-14")
    fmt = data.get("date_format")
    if fmt is not None and not isinstance(fmt, str):
        errors.append(f"{path}: date_format: must be text such as '%d/%m/%Y'")
    elif fmt is not None and (problem := _date_format_problem(fmt)) is not None:
        errors.append(f"{path}: date_format: {fmt!r} is not a date format ({problem})")
    if errors:
        raise ConfigError(errors)
    return ColumnMapping(
        columns=dict(data.get("columns") or {}),
        date_format=fmt,
        touches={str(k): v for k, v in (data.get("touches") or {}).items()},
        segments={str(k): v for k, v in (data.get("segments") or {}).items()},
        export_date=export,
        source=str(path),
    )


def _date_format_problem(fmt: str) -> str | None:
    """Why pandas cannot read dates with these strptime codes, or None if it can."""
    try:
        pd.to_datetime(pd.Series(["2026-01-05"]), format=fmt, errors="coerce")
    except ValueError as error:
        return str(error)
    if "%" not in fmt:
        return "it has no % code: strptime codes such as %d/%m/%Y"
    return None


#: a time zone after a time of day: `...09:03:00Z`, `+01:00`, `-0500`, ` UTC`
_ZONE = re.compile(r"^(.*\d\d:\d\d(?::\d\d)?(?:\.\d+)?)\s*(?:Z|UTC|GMT|[+-]\d\d(?::?\d\d)?)$")


def calendar_dates(values: pd.Series, date_format: str | None = None) -> pd.Series:
    """Each value's calendar date as the tool wrote it (NaT where it is no date): a time of
    day is dropped, and so is a time zone, the date staying the one in the tool's own
    zone (`2026-01-08T23:30:00-05:00` is the 8th). Offsets that differ from row to row (a
    change to summer time) are fine."""
    fmt = "ISO8601"
    if date_format is not None:
        fmt = re.sub(r"\s*%[zZ]", "", date_format)
    local = values.str.replace(_ZONE, r"\1", regex=True)
    return pd.to_datetime(local, format=fmt, errors="coerce").dt.normalize()


@dataclass(frozen=True)
class EventFile:
    """A checked export in days from its first send: what the calibration reads, with
    the warnings its reading raised (touches no strategy of the config sends)."""

    name: str
    touches: pd.DataFrame  # prospect, segment, touch, sent_day, accepted_day, replied_day
    export_day: int
    start: dt.date
    warnings: tuple[str, ...] = ()


#: a mistake repeated on many rows is shown on this many, then counted
ROWS_SHOWN = 5


def _read_table(path: Path) -> pd.DataFrame:
    """The file's cells as text, indexed by spreadsheet row - 2 (so a blank row skipped
    keeps the rows after it numbered as a spreadsheet shows them)."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path).astype("string")
    return _read_csv(path)


#: what a spreadsheet saves as "CSV" in some languages (;) or as "Unicode text" (tab)
_OTHER_SEPARATORS = (";", "\t")


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV export, read with the csv module: UTF-8 or a text with a byte-order mark,
    separated by commas (or by semicolons or tabs when the header has no comma), rows
    with nothing in them skipped, a row with more values than the header refused."""
    raw = path.read_bytes()
    if raw.startswith(b"PK\x03\x04"):
        raise ConfigError([f"{path}: a spreadsheet workbook, not CSV text: save it as CSV UTF-8"])
    try:
        text = raw.decode(text_encoding(raw))
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ConfigError(
            [
                f"{path}: line {line}: not text in UTF-8 (byte 0x{raw[error.start]:02x}): "
                "save it as CSV UTF-8"
            ]
        ) from None
    if "\x00" in text:
        raise ConfigError([f"{path}: a binary file (it holds NUL bytes), not CSV text"])
    header_line = text[: text.find("\n")] if "\n" in text else text  # no copy of the rest
    separator = ","
    if "," not in header_line:
        separator = next((s for s in _OTHER_SEPARATORS if s in header_line), ",")
    records = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    header = next(records, None)
    if header is None:
        raise ConfigError([f"{path}: no touches in the file (it is empty)"])
    columns: list[str] = []
    for i, name in enumerate(header):  # as pandas names them: Unnamed: 3, Campaign.1
        name = name.strip() or f"Unnamed: {i}"  # `Lead ID ` is the column `Lead ID`
        base, k = name, 0
        while name in columns:
            k += 1
            name = f"{base}.{k}"
        columns.append(name)
    rows, index, too_long = [], [], []
    number = 1  # the header's row
    try:
        for number, values in enumerate(records, start=2):
            if not any(value.strip() for value in values):
                continue
            if len(values) > len(columns):
                if any(value.strip() for value in values[len(columns) :]):
                    too_long.append(
                        f"{path}: row {number}: {len(values)} values, the header has "
                        f"{len(columns)} columns (a value with a {separator!r} in it needs "
                        "quotes)"
                    )
                values = values[: len(columns)]
            rows.append(values + [""] * (len(columns) - len(values)))
            index.append(number - 2)
    except csv.Error as error:  # a cell beyond csv's field size limit (128 kB)
        raise ConfigError([f"{path}: row {number + 1}: {error}"]) from None
    if too_long:
        more = len(too_long) - ROWS_SHOWN
        raise ConfigError(
            too_long[:ROWS_SHOWN]
            + ([f"{path}: and {more} more rows with the same mistake"] if more > 0 else [])
        )
    return pd.DataFrame(rows, columns=columns, index=index, dtype=object)


def touch_kinds_sent(config: Config) -> dict[str, set[str]]:
    """The touch kinds some strategy of the config can send to each segment, read from
    the compiled playbooks as the engine sends them (`EventRecorder.table`): a request
    with a note may go blank once a plan's notes run out, an InMail is free to an Open
    Profile where the plan allows."""
    from simulator.playbook import compile_playbook, route_steps

    sent: dict[str, set[str]] = {name: set() for name in config.segments}
    for strategy in config.strategies.values():
        book = compile_playbook(config, strategy)
        for entry, routes in zip(strategy.playbook, book.routes, strict=True):
            kinds = sent[entry.segment]
            badge = config.segments[entry.segment].open_profile_share
            for route, open_profile in ((routes[0], False), (routes[1], True)):
                if (badge >= 1 and not open_profile) or (badge <= 0 and open_profile):
                    continue  # nobody walks this route
                for step in (book.steps[i] for i in route_steps(book, route)):
                    if step.kind == Kind.CONNECT:
                        if step.reinvite:
                            kinds.add("reinvite")
                        elif step.note:
                            kinds.add("connect_note")
                            if book.plan.notes_per_month is not None:
                                kinds.add("connect_blank")
                        else:
                            kinds.add("connect_blank")
                    elif step.kind == Kind.MESSAGE:
                        kinds.add(f"message_{step.message_index + 1}")
                    elif step.kind == Kind.INMAIL:
                        free = open_profile and book.plan.open_profile_messages
                        kinds.add("inmail_open" if free else "inmail_paid")
                    elif step.kind != Kind.ENGAGE:
                        kinds.add(_step_touch[step.kind])
    return sent


_step_touch = {Kind.FOLLOWUP: "inmail_followup", Kind.EMAIL: "email", Kind.WHATSAPP: "whatsapp"}


def _message_rates(config: Config, segment: str) -> int:
    return len(config.segments[segment].rates.reply_after_accept)


def read_events(
    path: Path,
    config: Config,
    mapping: ColumnMapping | None = None,
    export_date: dt.date | None = None,
) -> EventFile:
    """Read and check an export: every mistake is one line `file: row N: column: reason`
    (rows counted as a spreadsheet shows them, the header being row 1), all reported; a
    mistake repeated on many rows is shown on the first ROWS_SHOWN, then counted, and a
    column none of whose dates parse is one line."""
    path = Path(path)
    mapping = mapping or ColumnMapping()
    try:
        raw = _read_table(path)
    except OSError as error:
        raise ConfigError([f"{path}: cannot read the file ({error.strerror or error})"]) from None
    except ValueError as error:  # a parquet file that is not one
        raise ConfigError([f"{path}: cannot be read as events ({error})"]) from None
    name = str(path)
    if raw.empty:
        raise ConfigError([f"{name}: no touches in the file (no rows below the header)"])
    errors: list[str] = []
    blank = pd.Series("", index=raw.index, dtype=object)

    def text(column: str) -> pd.Series:
        values = raw[mapping.column(column)] if mapping.column(column) in raw else blank
        return values.fillna("").astype(str).str.strip()

    touch_values = text("touch").map(lambda v: mapping.touches.get(v, v))
    needs = list(REQUIRED)
    if touch_values.isin(REQUEST_KINDS).any() or "accepted_date" in mapping.columns:
        needs.append("accepted_date")
    if export_date is None and mapping.export_date is None:
        needs.append("export_date")
    missing = [c for c in needs if mapping.column(c) not in raw.columns]
    for column in missing:
        errors.append(f"{name}: column {mapping.label(column)}: missing")
    if missing:
        raise ConfigError(errors)
    row = raw.index.to_numpy() + 2

    def where(mask: pd.Series | np.ndarray) -> np.ndarray:
        return np.flatnonzero(np.asarray(mask))

    def each(rows: np.ndarray, line: Any, column: str | None = None) -> None:
        """One line per row for the first ROWS_SHOWN rows, then how many more."""
        errors.extend(line(i) for i in rows[:ROWS_SHOWN])
        if rows.size > ROWS_SHOWN:
            where_ = f"column {mapping.label(column)}: " if column else ""
            errors.append(
                f"{name}: {where_}and {rows.size - ROWS_SHOWN} more rows with the same mistake"
            )

    def parse(column: str) -> pd.Series:
        values = text(column)
        parsed = calendar_dates(values.where(values != ""), mapping.date_format)
        bad = where((values != "") & parsed.isna())
        given = int((values != "").sum())
        expected = mapping.date_format or "YYYY-MM-DD"
        hint = "" if mapping.date_format else " (a mapping's date_format: gives the file's own)"
        if bad.size == given > 1:
            errors.append(
                f"{name}: column {mapping.label(column)}: none of {given} values match "
                f"{expected} (first: {values.iloc[bad[0]]!r}){hint}"
            )
        else:
            each(
                bad,
                lambda i: (
                    f"{name}: row {row[i]}: column {mapping.label(column)}: "
                    f"{values.iloc[i]!r} is not a date (expected {expected})"
                ),
                column,
            )
        return parsed

    for column in ("prospect_id", "segment", "touch", "sent_date"):
        each(
            where(text(column) == ""),
            lambda i, column=column: f"{name}: row {row[i]}: column {mapping.label(column)}: empty",
            column,
        )
    unknown = (touch_values != "") & ~touch_values.map(is_touch_kind)
    each(
        where(unknown),
        lambda i: (
            f"{name}: row {row[i]}: column {mapping.label('touch')}: "
            f"{text('touch').iloc[i]!r} is not a touch kind (kinds: "
            f"{', '.join(k for k in TOUCH_KINDS if k != 'message_k')}, message_1, ...; "
            "a mapping's touches: section names the tool's own)"
        ),
        "touch",
    )
    segments = text("segment").map(lambda v: mapping.segments.get(v, v))
    known_segment = segments.isin(list(config.segments))
    present = set(text("segment"))
    for given, segment in mapping.segments.items():  # the mapping's mistake, named once
        if segment not in config.segments and given in present:
            errors.append(
                f"{mapping.source}: segments.{given}: {segment!r} is not a segment of the "
                f"config ({', '.join(config.segments)})"
            )
    mapped = text("segment").isin(list(mapping.segments))
    each(
        where((segments != "") & ~known_segment & ~mapped),
        lambda i: (
            f"{name}: row {row[i]}: column {mapping.label('segment')}: "
            f"{text('segment').iloc[i]!r} is not a segment of the config "
            f"({', '.join(config.segments)})"
        ),
        "segment",
    )
    warnings = _check_touches_against_config(
        name, config, mapping, text("touch"), touch_values, segments, known_segment, row,
        errors,
    )  # fmt: skip
    sent = parse("sent_date")
    accepted = parse("accepted_date") if "accepted_date" in needs else pd.Series(pd.NaT, raw.index)
    replied = parse("replied_date")
    is_request = touch_values.isin(REQUEST_KINDS)
    accepted = accepted.where(is_request)  # a tool may repeat the connection date on every row
    if export_date is not None or mapping.export_date is not None:
        export = pd.Timestamp(export_date or mapping.export_date)
        given_by = "--export-date" if export_date is not None else f"{mapping.source}'s export_date"
    else:
        given_by = f"column {mapping.label('export_date')}"
        exports = parse("export_date")
        known = exports.dropna().unique()
        if len(known) > 1:
            at = int(where(exports.notna())[0])  # the first row that gives one
            first = exports.iloc[at]
            each(
                where(exports.notna() & (exports != first)),
                lambda i: (
                    f"{name}: row {row[i]}: column {mapping.label('export_date')}: "
                    f"{exports.iloc[i].date()} differs from row {row[at]}'s {first.date()} "
                    "(a file has one export date)"
                ),
                "export_date",
            )
        export = pd.Timestamp(known[0]) if len(known) else pd.NaT
        if pd.isna(export) and not errors:
            errors.append(f"{name}: column {mapping.label('export_date')}: no date given")
    for column, values in (("accepted_date", accepted), ("replied_date", replied)):
        each(
            where(values < sent),
            lambda i, column=column, values=values: (
                f"{name}: row {row[i]}: column "
                f"{mapping.label(column)}: {values.iloc[i].date()} is before the sent date "
                f"{sent.iloc[i].date()}"
            ),
            column,
        )
    if pd.notna(export) and sent.notna().any() and (sent.dropna() > export).all():
        errors.append(
            f"{name}: column {mapping.label('sent_date')}: every send is after the export "
            f"date {export.date()} (from {given_by}; the first send is on "
            f"{sent.min().date()}): is the export date right?"
        )
    elif pd.notna(export):
        for column, values in (
            ("sent_date", sent),
            ("accepted_date", accepted),
            ("replied_date", replied),
        ):
            each(
                where(values > export),
                lambda i, column=column, values=values: (
                    f"{name}: row {row[i]}: column "
                    f"{mapping.label(column)}: {values.iloc[i].date()} is after the export date "
                    f"{export.date()}"
                ),
                column,
            )
    prospect = text("prospect_id")
    if mapping.column("replication") in raw.columns:
        prospect = text("replication") + "/" + prospect
    key = pd.DataFrame({"p": prospect, "t": touch_values, "s": sent})
    duplicated = key.duplicated(keep=False) & (prospect != "")
    first_row: dict[tuple, int] = {}
    repeats = []
    for i in where(duplicated):
        k = tuple(key.iloc[i])
        if k in first_row:
            repeats.append((i, first_row[k]))
        else:
            first_row[k] = int(row[i])
    each(
        np.arange(len(repeats)),
        lambda j: (
            f"{name}: row {row[repeats[j][0]]}: duplicates row {repeats[j][1]} "
            "(the same prospect, touch and sent date)"
        ),
    )
    # a prospect replies once (the fit would count each reply as an outcome of its touch)
    repeated = {i for i, _ in repeats}
    first_reply: dict[str, int] = {}
    again = []
    for i in where(replied.notna() & (prospect != "")):
        if i in repeated:
            continue
        if prospect.iloc[i] in first_reply:
            again.append((i, first_reply[prospect.iloc[i]]))
        else:
            first_reply[prospect.iloc[i]] = int(row[i])
    each(
        np.arange(len(again)),
        lambda j: (
            f"{name}: row {row[again[j][0]]}: column {mapping.label('replied_date')}: a second "
            f"reply of prospect {prospect.iloc[again[j][0]]!r} (row {again[j][1]} has one): a "
            "prospect replies once, to one touch (does the file repeat a lead's reply on "
            "each of its rows?)"
        ),
        "replied_date",
    )
    if errors:
        raise ConfigError(errors)
    origin = sent.min() if len(sent) else export

    def days(values: pd.Series) -> pd.Series:
        return ((values - origin).dt.days).astype("Int64")

    touches = pd.DataFrame(
        {
            "prospect": prospect,
            "segment": segments,
            "touch": touch_values,
            "sent_day": days(sent),
            "accepted_day": days(accepted),
            "replied_day": days(replied),
        }
    )
    return EventFile(name, touches, int((export - origin).days), origin.date(), tuple(warnings))


def _check_touches_against_config(
    name: str,
    config: Config,
    mapping: ColumnMapping,
    given: pd.Series,
    kinds: pd.Series,
    segments: pd.Series,
    known_segment: pd.Series,
    row: np.ndarray,
    errors: list[str],
) -> list[str]:
    """Touches the config cannot take: a message beyond a segment's reply_after_accept
    rates has no rate to fit (a mistake: the mapping's key named, or the rows); a kind
    no strategy of the config sends to a segment still has its rate fitted (a warning:
    is the config the campaign's?)."""
    sent = touch_kinds_sent(config)
    warnings: list[str] = []
    valid = known_segment & kinds.map(is_touch_kind)
    pairs = pd.DataFrame({"given": given, "kind": kinds, "segment": segments})[valid]
    for (segment, kind), group in pairs.groupby(["segment", "kind"], sort=True):
        mapped = sorted(v for v in group["given"].unique() if v in mapping.touches)
        via = ", ".join(f"touches.{v}" for v in mapped)
        message = _MESSAGE.match(kind)
        n = _message_rates(config, segment)
        if message is not None and int(message.group(1)) > n:
            upto = "message_1" if n == 1 else f"message_1 to message_{n}"
            has = f"segment {segment} has rates for {upto} only (rates.reply_after_accept)"
            if mapped:
                errors.extend(f"{mapping.source}: touches.{v}: {kind}: {has}" for v in mapped)
            unmapped = ~group["given"].isin(mapped).to_numpy()
            rows = group.index.to_numpy()[unmapped]  # positions: the file's index is 0..n-1
            for i in rows[:ROWS_SHOWN]:
                errors.append(
                    f"{name}: row {row[i]}: column {mapping.label('touch')}: {kind!r}: {has}"
                )
            if rows.size > ROWS_SHOWN:
                errors.append(
                    f"{name}: column {mapping.label('touch')}: and {rows.size - ROWS_SHOWN} "
                    "more rows with the same mistake"
                )
        elif kind not in sent[segment]:
            sends = ", ".join(sorted(sent[segment])) or "nothing"
            warnings.append(
                f"warning: {name}: {len(group)} {kind} touches to {segment}"
                f"{f' (from the mapping: {via})' if mapped else ''}: no strategy of the config "
                f"sends {kind} to {segment} (its routes send {sends}); its rate is fitted all "
                "the same: is the config the campaign's?"
            )
    return warnings
