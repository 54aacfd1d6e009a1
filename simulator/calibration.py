"""Calibration: a team's own campaign results update the rates' priors (MODEL.md section 8).

A segment's `observed:` counts are binomial outcomes of three rates: requests with a note
sent and accepted inform `accept_with_note`; acceptances and replies inform the first
message's `reply_after_accept[0]`; paid InMails sent and replied to inform
`inmail_reply_paid`. Each rate's prior is a Beta (a uniform or triangular prior is first
replaced by the Beta with its mean and variance), so the posterior is the Beta of the
conjugate update: alpha + successes, beta + failures. A run draws from the posterior.

A campaign's events (`simulator.events`, docs/calibration.md) update the same priors, one
rate per segment and touch kind, with the touches still awaiting an answer counted as
right-censored (`simulator.survival`), and fit the delays; `calibrated_config_text` writes
the config with the posteriors in it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulator.config import Config, Distribution, Segment
from simulator.folders import FolderError, ResultsExistError, check_writable, make_staging
from simulator.uncertainty import frozen, with_values

if TYPE_CHECKING:  # fitting events only: a run (posterior_config) does not load it
    from simulator.survival import DelayFit, Posterior, Watched

#: the equal-tailed credible interval reported with each posterior
CREDIBLE = 0.90


@dataclass(frozen=True)
class Calibrated:
    """One observed rate: its prior, the counts that update it, its posterior Beta."""

    segment: str
    rate: str  # below `rates`, e.g. "accept_with_note" or "reply_after_accept.0"
    prior: Distribution
    successes: int
    trials: int

    @property
    def prior_shape(self) -> tuple[float, float]:
        return beta_shape(self.prior)

    @property
    def posterior_shape(self) -> tuple[float, float]:
        a, b = self.prior_shape
        return a + self.successes, b + self.trials - self.successes

    @property
    def path(self) -> str:
        return f"segments.{self.segment}.rates.{self.rate}"


def beta_shape(prior: Distribution) -> tuple[float, float]:
    """A prior's Beta (alpha, beta): its own, or the Beta with its mean and variance."""
    if prior.dist == "beta":
        return prior.shape()
    rv = frozen(prior)
    mean, var = float(rv.mean()), float(rv.var())
    size = mean * (1.0 - mean) / var - 1.0
    return mean * size, (1.0 - mean) * size


def observations(name: str, segment: Segment) -> list[Calibrated]:
    """The rates a segment's observed counts inform, with those counts."""
    seen = segment.observed
    if seen is None:
        return []
    rates = segment.rates
    found = []
    if seen.sent is not None and seen.accepted is not None and seen.replied is not None:
        found += [
            Calibrated(name, "accept_with_note", rates.accept_with_note, seen.accepted, seen.sent),
            Calibrated(
                name,
                "reply_after_accept.0",
                rates.reply_after_accept[0],
                seen.replied,
                seen.accepted,
            ),
        ]
    if seen.inmail is not None:
        found.append(
            Calibrated(
                name,
                "inmail_reply_paid",
                rates.inmail_reply_paid,
                seen.inmail.replied,
                seen.inmail.sent,
            )
        )
    return found


def calibrations(config: Config) -> list[Calibrated]:
    """Every observed rate of the config, segment by segment."""
    return [c for name, seg in config.segments.items() for c in observations(name, seg)]


def posterior_config(config: Config) -> Config:
    """The config with each observed rate replaced by its posterior (observations used up,
    so that calibrating twice changes nothing)."""
    if all(segment.observed is None for segment in config.segments.values()):
        return config
    values: dict[str, Any] = {}
    for c in calibrations(config):
        a, b = c.posterior_shape
        values[c.path] = {"dist": "beta", "alpha": a, "beta": b}
    for name, segment in config.segments.items():
        if segment.observed is not None:
            values[f"segments.{name}.observed"] = None
    return with_values(config, values)


def _describe(prior: Distribution) -> str:
    if prior.dist == "uniform":
        return f"uniform {prior.low:g}-{prior.high:g}"
    if prior.dist == "triangular":
        return f"triangular {prior.low:g}/{prior.mode:g}/{prior.high:g}"
    if prior.mean is not None:
        return f"beta mean {prior.mean:g} sd {prior.sd:g}"
    return f"beta alpha {prior.alpha:g} beta {prior.beta:g}"


def calibration_table(config: Config) -> pd.DataFrame:
    """One row per observed rate: prior, counts, posterior mean and 90% credible interval."""
    from scipy import stats  # (a second to import: not on a run's path)

    rows = []
    tail = (1.0 - CREDIBLE) / 2
    for c in calibrations(config):
        prior = frozen(c.prior)
        posterior = stats.beta(*c.posterior_shape)
        rows.append(
            {
                "segment": c.segment,
                "rate": c.rate,
                "prior": _describe(c.prior),
                "prior_mean": float(prior.mean()),
                "successes": c.successes,
                "trials": c.trials,
                "observed_rate": c.successes / c.trials if c.trials else float("nan"),
                "posterior_alpha": c.posterior_shape[0],
                "posterior_beta": c.posterior_shape[1],
                "posterior_mean": float(posterior.mean()),
                "posterior_p5": float(posterior.ppf(tail)),
                "posterior_p95": float(posterior.ppf(1.0 - tail)),
            }
        )
    return pd.DataFrame(rows)


# --- calibration from a campaign's events (docs/calibration.md) ---------------------------

#: the config rate (below `rates`) and delay field each touch kind informs; a re-invitation
#: informs the acceptance delay only (its rate is a product of two config rates)
_TOUCH_RATES: dict[str, tuple[str | None, str]] = {
    "connect_note": ("accept_with_note", "accept"),
    "connect_blank": ("accept_without_note", "accept"),
    "reinvite": (None, "accept"),
    "inmail_paid": ("inmail_reply_paid", "inmail_reply"),
    "inmail_open": ("inmail_reply_open", "inmail_reply"),
    "inmail_followup": ("inmail_followup_reply", "followup_reply"),
    "email": ("email_reply", "email_reply"),
    "whatsapp": ("whatsapp_reply", "whatsapp_reply"),
}
#: fewer outcomes seen than this, and a delay keeps the config's shape (too few to fit)
MIN_OUTCOMES_FOR_DELAY = 30
#: what the file says by itself: the uniform Beta(1, 1), the prior that adds one outcome
#: and one touch without (the file's own 90% range; a fixed rate's posterior once replaced)
POINT_RATE_PRIOR = (1.0, 1.0)
#: a rate given as a plain number is replaced by the file's own estimate only from this
#: many resolved touches on (`simulator.survival.resolved`): below, Beta(1, 1)'s one
#: imaginary outcome and one imaginary "no" would move the estimate by more than
#: 1 / (n + 2) = 3 points, as much as the file, and its 90% range is wider than +-0.15
MIN_RESOLVED_FOR_FIXED_RATE = 30


def touch_rate(touch: str) -> tuple[str | None, str]:
    """The config rate (a path below `rates`) and delay field of a touch kind."""
    if touch.startswith("message_"):
        return f"reply_after_accept.{int(touch.split('_')[1]) - 1}", "message_reply"
    return _TOUCH_RATES[touch]


def _window(config: Config, field: str) -> int:
    if field == "accept":
        return config.invitations.invite_window_days
    return config.response_window_days


def _rate_value(segment: Segment, rate: str) -> float | Distribution | None:
    if rate.startswith("reply_after_accept."):
        index = int(rate.split(".")[1])
        values = segment.rates.reply_after_accept
        return values[index] if index < len(values) else None
    return getattr(segment.rates, rate)


def _config_delay_pmf(segment: Segment, field: str, window: int) -> np.ndarray:
    """The config's delay for a field (per-touch fields fall back to `reply`), at the
    means of a lognormal's drawn median and spread."""
    from simulator.config import LognormalDelay
    from simulator.delays import delay_pmf

    delay = getattr(segment.delays, field) or segment.delays.reply
    if isinstance(delay, LognormalDelay):
        median, sigma = (
            float(frozen(v).mean()) if isinstance(v, Distribution) else float(v)
            for v in (delay.median, delay.sigma)
        )
        delay = LognormalDelay(dist="lognormal", median=median, sigma=sigma)
    return delay_pmf(delay, window)


def watched_touches(events: Any, config: Config) -> dict[tuple[str, str], Watched]:
    """Each (segment, touch kind)'s touches: outcomes seen by delay, the rest by the days
    they were watched. A touch is watched until the export day, its window's end, or the
    day before its prospect's reply to another touch (from then on its own outcome would
    not count: the first reply ends the playbook, a same-day tie going to the earlier
    touch). A same-day outcome counts as one day, the model's shortest delay; one after
    the window as none within it."""
    from simulator.survival import Watched

    table = events.touches
    first_reply = table.groupby("prospect")["replied_day"].transform("min")
    out: dict[tuple[str, str], Watched] = {}
    for (segment, touch), group in table.groupby(["segment", "touch"], sort=True):
        _, field = touch_rate(touch)
        window = _window(config, field)
        column = "accepted_day" if field == "accept" else "replied_day"
        sent = group["sent_day"].to_numpy(dtype=np.int64)
        outcome = group[column].to_numpy(dtype=np.float64, na_value=np.nan)
        delay = np.maximum(1, outcome - sent)
        seen = ~np.isnan(outcome) & (delay <= window)
        watched = np.full(sent.size, float(window))
        watched = np.minimum(watched, events.export_day - sent)
        other = first_reply[group.index].to_numpy(dtype=np.float64, na_value=np.nan)
        own = group["replied_day"].to_numpy(dtype=np.float64, na_value=np.nan)
        ended = ~np.isnan(other) & ~(other == own)  # another touch got the reply
        watched[ended] = np.minimum(watched[ended], other[ended] - 1 - sent[ended])
        out[(segment, touch)] = Watched.from_days(
            delay[seen].astype(np.int64), np.maximum(0, watched[~seen]).astype(np.int64), window
        )
    return out


@dataclass(frozen=True)
class FittedRate:
    """A rate fitted from events: its prior, the touches, what the file says by itself
    (`data`: the flat prior's posterior; `estimate`: the maximum-likelihood rate), and the
    posterior. A fixed number with fewer than MIN_RESOLVED_FOR_FIXED_RATE resolved touches
    is kept: its posterior is the number itself."""

    segment: str
    rate: str | None  # below `rates`; None for a touch kind no config rate stands for
    touch: str
    prior: float | Distribution | None
    watched: Watched
    posterior: Posterior
    data: Posterior
    estimate: float
    resolved: float

    @property
    def prior_shape(self) -> tuple[float, float]:
        if isinstance(self.prior, Distribution):
            return beta_shape(self.prior)
        return POINT_RATE_PRIOR

    @property
    def fixed(self) -> bool:
        """Whether the config gives the rate as a plain number."""
        return self.prior is not None and not isinstance(self.prior, Distribution)

    @property
    def kept(self) -> bool:
        """A fixed number the file does not inform enough to replace."""
        return self.fixed and self.resolved < MIN_RESOLVED_FOR_FIXED_RATE

    @property
    def prior_range(self) -> tuple[float, float] | None:
        """The prior's 5th and 95th percentiles (a fixed number: itself; None: no rate)."""
        if self.prior is None:
            return None
        if self.fixed:
            return float(self.prior), float(self.prior)
        from scipy import stats

        tail = (1.0 - CREDIBLE) / 2
        rv = stats.beta(*self.prior_shape)
        return float(rv.ppf(tail)), float(rv.ppf(1.0 - tail))

    @property
    def path(self) -> str:
        return f"segments.{self.segment}.rates.{self.rate}"

    @property
    def disagrees(self) -> bool:
        """Whether the file and the prior disagree: their 90% ranges do not overlap, or
        the posterior lies outside the file's own 90% range (the prior outweighs it)."""
        prior = self.prior_range
        if prior is None or self.watched.touches == 0:
            return False
        low, high = self.data.p5, self.data.p95
        apart = prior[1] < low or prior[0] > high
        return apart or not low <= self.posterior.mean <= high


@dataclass(frozen=True)
class FittedDelay:
    """A delay fitted from the outcomes of the touches that share it (or kept)."""

    segment: str
    field: str
    window: int
    outcomes: int
    fit: DelayFit | None  # None: too few outcomes, the config's delay is kept


@dataclass(frozen=True)
class EventCalibration:
    """What `calibrate --events` found: rates, delays, the file they came from."""

    source: str
    rates: list[FittedRate]
    delays: list[FittedDelay]


def _prior_value(segment: Segment, rate: str | None) -> float | Distribution | None:
    return None if rate is None else _rate_value(segment, rate)


def calibrate_events(config: Config, events: Any) -> EventCalibration:
    """Fit each segment's rates and delays to a checked export (simulator.events).

    The priors are the config's rates (after its own `observed:` update, if any)."""
    from simulator.survival import Posterior, best_rate, fit_delay, posterior, resolved

    config = posterior_config(config)
    watched = watched_touches(events, config)
    by_delay: dict[tuple[str, str], list[str]] = {}
    for segment, touch in watched:
        by_delay.setdefault((segment, touch_rate(touch)[1]), []).append(touch)
    rates: list[FittedRate] = []
    delays: list[FittedDelay] = []
    for (segment, field), touches in by_delay.items():
        seg = config.segments[segment]
        window = _window(config, field)
        groups = [watched[(segment, t)] for t in touches]
        outcomes = sum(g.seen for g in groups)
        fit = fit_delay(groups, window) if outcomes >= MIN_OUTCOMES_FOR_DELAY else None
        delays.append(FittedDelay(segment, field, window, outcomes, fit))
        pmf = fit.pmf(window) if fit is not None else _config_delay_pmf(seg, field, window)
        for touch, group in zip(touches, groups, strict=True):
            rate = touch_rate(touch)[0]
            if rate is not None and _rate_value(seg, rate) is None:
                rate = None  # a message beyond the config's sequence
            prior = _prior_value(seg, rate)
            data = posterior(group, pmf, POINT_RATE_PRIOR)
            if isinstance(prior, Distribution):
                fitted = posterior(group, pmf, beta_shape(prior))
            elif prior is not None and resolved(group, pmf) < MIN_RESOLVED_FOR_FIXED_RATE:
                fitted = Posterior(float(prior), 0.0, float(prior), float(prior))  # kept
            else:
                fitted = data
            rates.append(
                FittedRate(
                    segment, rate, touch, prior, group, fitted, data, best_rate(group, pmf),
                    resolved(group, pmf),
                )
            )  # fmt: skip
    return EventCalibration(events.name, rates, delays)


def _describe_prior(prior: float | Distribution | None) -> str:
    if prior is None:
        return "-"
    if isinstance(prior, Distribution):
        return _describe(prior)
    return f"{prior:g} (fixed)"


def event_rate_table(calibration: EventCalibration) -> pd.DataFrame:
    """One row per segment and touch kind: the prior and its 90% interval (a fixed number:
    itself), the touches, what the file says by itself (the rate that ignores censoring,
    the maximum-likelihood rate, the 90% range), the posterior and its 90% interval,
    whether a fixed number was kept and whether the file and the prior disagree."""
    from scipy import stats

    from simulator.survival import naive_rate

    rows = []
    nan = float("nan")
    for r in calibration.rates:
        post = r.posterior
        prior_range = r.prior_range or (nan, nan)
        if r.prior is None:
            prior_mean = nan
        elif r.fixed:
            prior_mean = float(r.prior)
        else:
            prior_mean = float(stats.beta(*r.prior_shape).mean())
        rows.append(
            {
                "segment": r.segment,
                "touch": r.touch,
                "rate": r.rate or "-",
                "prior": _describe_prior(r.prior),
                "prior_mean": prior_mean,
                "prior_p5": prior_range[0],
                "prior_p95": prior_range[1],
                "touches": r.watched.touches,
                "outcomes": r.watched.seen,
                "still_open": r.watched.still_open,
                "resolved": r.resolved,
                "naive_rate": naive_rate(r.watched),
                "data_estimate": r.estimate,
                "data_p5": r.data.p5,
                "data_p95": r.data.p95,
                "posterior_mean": post.mean,
                "posterior_sd": post.sd,
                "posterior_p5": post.p5,
                "posterior_p95": post.p95,
                "kept": r.kept,
                "disagrees": r.disagrees,
            }
        )
    return pd.DataFrame(rows)


def disagreement_warnings(calibration: EventCalibration) -> list[str]:
    """One line for each rate on which the file and the prior disagree (FittedRate.disagrees)."""
    lines = []
    for r in calibration.rates:
        if not r.disagrees:
            continue
        data = f"the file alone says {r.data.p5:.3f}-{r.data.p95:.3f} (90%)"
        if r.fixed:
            then = "kept: too few resolved touches to replace it" if r.kept else "replaced"
            lines.append(
                f"warning: {r.path}: the config's fixed {float(r.prior):g} is outside what "
                f"{data}; {then}: check the config's value"
            )
        else:
            low, high = r.prior_range or (0.0, 0.0)
            lines.append(
                f"warning: {r.path}: the file and the prior disagree: the prior says "
                f"{low:.3f}-{high:.3f}, {data}; the posterior {r.posterior.mean:.3f} "
                "weighs both: check the config's range"
            )
    return lines


def event_delay_table(calibration: EventCalibration) -> pd.DataFrame:
    """One row per segment and delay: the outcomes it was fitted on, the fitted lognormal."""
    rows = []
    for d in calibration.delays:
        rows.append(
            {
                "segment": d.segment,
                "delay": d.field,
                "window": d.window,
                "outcomes": d.outcomes,
                "median": d.fit.median if d.fit else float("nan"),
                "sigma": d.fit.sigma if d.fit else float("nan"),
                "fitted": d.fit is not None,
            }
        )
    return pd.DataFrame(rows)


def calibrated_config_text(
    source_text: str, config: Config, calibration: EventCalibration, label: str
) -> str:
    """The config file as written (comments kept), each fitted value replaced and
    commented "fitted from FILE, n = ...", `observed:` results folded into their rates."""
    from io import StringIO

    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    yaml_rt = YAML()
    yaml_rt.width = 4096  # a fitted value and its comment on one line
    yaml_rt.indent(mapping=2, sequence=4, offset=2)  # the shipped configs' layout
    yaml_rt.brace_single_entry_mapping_in_flow_sequence = True  # [{wait_days: 0}] as written
    data = yaml_rt.load(source_text)

    def flow(items: dict[str, Any]) -> CommentedMap:
        node = CommentedMap(items)
        node.fa.set_flow_style()
        return node

    def rates_of(segment: str) -> CommentedMap:
        seg = data["segments"][segment]
        if seg.get("rates") is None:
            seg["rates"] = CommentedMap()
        return seg["rates"]

    def put(segment: str, rate: str, value: Any, comment: str) -> None:
        rates = rates_of(segment)
        if rate.startswith("reply_after_accept."):
            index = int(rate.split(".")[1])
            current = rates.get("reply_after_accept")
            if current is None:
                defaults = config.segments[segment].rates.reply_after_accept
                current = CommentedSeq(
                    [v.model_dump(exclude_none=True) if isinstance(v, Distribution) else v
                     for v in defaults]
                )  # fmt: skip
                rates["reply_after_accept"] = current
            current.fa.set_block_style()
            current[index] = value
            current.yaml_add_eol_comment(comment, index)
        else:
            rates[rate] = value
            rates.yaml_add_eol_comment(comment, rate)

    # a segment's own observed results are used up: their posterior goes in the rate
    for c in calibrations(config):
        a, b = c.posterior_shape
        value = flow({"dist": "beta", "alpha": round(a, 3), "beta": round(b, 3)})
        put(c.segment, c.rate, value, f"updated by observed: {c.successes} of {c.trials}")
    for name in config.segments:
        if "observed" in data["segments"][name]:
            del data["segments"][name]["observed"]
    for r in calibration.rates:
        if r.rate is None or r.watched.touches == 0 or r.kept:
            continue
        a, b = r.posterior.beta_shape
        value = flow({"dist": "beta", "alpha": round(a, 3), "beta": round(b, 3)})
        w = r.watched
        put(
            r.segment,
            r.rate,
            value,
            f"fitted from {label}, n = {w.touches} {r.touch} touches, {w.seen} outcomes, "
            f"{w.still_open} still open",
        )
    for d in calibration.delays:
        if d.fit is None:
            continue
        seg = data["segments"][d.segment]
        if seg.get("delays") is None:
            seg["delays"] = CommentedMap()
        seg["delays"][d.field] = flow(
            {"dist": "lognormal", "median": round(d.fit.median, 3), "sigma": round(d.fit.sigma, 3)}
        )
        seg["delays"].yaml_add_eol_comment(
            f"fitted from {label}, n = {d.outcomes} outcomes", d.field
        )
    out = StringIO()
    yaml_rt.dump(data, out)
    return f"{CALIBRATED_HEADER}: {label} on {config.name}\n{out.getvalue()}"


#: the posterior table's columns, in order: the header that marks a file written here
POSTERIOR_COLUMNS = (
    "segment",
    "rate",
    "prior",
    "prior_mean",
    "successes",
    "trials",
    "observed_rate",
    "posterior_alpha",
    "posterior_beta",
    "posterior_mean",
    "posterior_p5",
    "posterior_p95",
)


def _posterior_written_here(path: Path) -> bool:
    """Whether `path` is a plain file whose first line is the posterior table's header."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with open(path, "rb") as file:
            first = file.readline(4096)
    except OSError:
        return False
    return first.rstrip(b"\r\n") == ",".join(POSTERIOR_COLUMNS).encode()


def check_posterior_target(path: Path, force: bool) -> None:
    """Refuse a CSV target that --force may not replace (anything but a posterior table
    this tool wrote), with or without --force, or one that exists, without it."""
    path = Path(path)
    if not os.path.lexists(path):
        check_writable(path)  # a file given as its folder: one line, not "File exists"
        return
    if not _posterior_written_here(path):  # --force would not help: not offered
        raise FolderError(
            f"{path}: --force replaces only a posterior table written by outreach-sim "
            "calibrate; this is not one, and it was left untouched"
        )
    if not force:
        raise ResultsExistError(f"{path} already exists (use --force to replace it)")


def write_posterior(table: pd.DataFrame, path: Path, force: bool = False) -> None:
    """Write the posterior table as CSV, whole or not at all (a staging file renamed into
    place), replacing only a posterior table with `force`."""
    _write_whole(
        path,
        force,
        check_posterior_target,
        lambda written: table.reindex(columns=list(POSTERIOR_COLUMNS)).to_csv(written, index=False),
    )


#: the first line of a config written by `calibrate --events`: what --force may replace
CALIBRATED_HEADER = "# calibrated by outreach-sim calibrate --events"


def check_calibrated_target(path: Path, force: bool) -> None:
    """Refuse a config target that --force may not replace (anything but a config
    `calibrate --events` wrote: its first line says so), with or without --force, or one
    that exists, without it."""
    path = Path(path)
    if not os.path.lexists(path):
        check_writable(path)  # a file given as its folder: one line, not "File exists"
        return
    first = b""
    if path.is_file() and not path.is_symlink():
        with open(path, "rb") as file:
            first = file.readline(4096)
    if not first.startswith(CALIBRATED_HEADER.encode()):  # --force would not help: not offered
        raise FolderError(
            f"{path}: --force replaces only a config written by outreach-sim calibrate "
            "--events; this is not one, and it was left untouched"
        )
    if not force:
        raise ResultsExistError(f"{path} already exists (use --force to replace it)")


def write_calibrated_config(text: str, path: Path, force: bool = False) -> None:
    """Write a calibrated config whole or not at all, replacing only one written here."""
    _write_whole(
        path, force, check_calibrated_target, lambda w: w.write_text(text, encoding="utf-8")
    )


def _write_whole(path: Path, force: bool, check: Any, write: Any) -> None:
    """Write a file through a staging file renamed into place, after `check(path, force)`
    (again just before the rename), never over a file that appeared meanwhile."""
    path = Path(os.path.abspath(path))
    check(path, force)
    staging = make_staging(path.parent, path.name)
    written = staging / path.name
    try:
        write(written)
        check(path, force)
        if force:
            os.replace(written, path)
        else:
            try:
                os.link(written, path)  # fails if another process wrote `path` meanwhile
            except FileExistsError:
                raise ResultsExistError(
                    f"{path} already exists (use --force to replace it)"
                ) from None
            except OSError:  # a file system without hard links: checked just above
                os.replace(written, path)
    finally:
        for left in staging.iterdir():
            left.unlink()
        staging.rmdir()
