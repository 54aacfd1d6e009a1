"""Calibration: a team's own campaign results update the rates' priors (MODEL.md section 8).

A segment's `observed:` counts are binomial outcomes of three rates: requests with a note
sent and accepted inform `accept_with_note`; acceptances and replies inform the first
message's `reply_after_accept[0]`; paid InMails sent and replied to inform
`inmail_reply_paid`. Each rate's prior is a Beta (a uniform or triangular prior is first
replaced by the Beta with its mean and variance), so the posterior is the Beta of the
conjugate update: alpha + successes, beta + failures. A run draws from the posterior.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from scipy import stats

from simulator.config import Config, Distribution, Segment
from simulator.uncertainty import frozen, with_values

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
