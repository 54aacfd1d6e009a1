"""Uncertain parameters: which ones a config has, and their values in each replication.

MODEL.md section 8. A parameter given as a distribution is drawn once per replication,
by inverse CDF from one counter-based uniform keyed by the replication's global index
and the parameter's dotted path. So every strategy of a config sees the same draws
(paired comparisons stay paired), the draws do not depend on how replications are split
into blocks or workers, and adding a parameter shifts no other draw.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.config import (
    Config,
    CountDistribution,
    Delay,
    Delays,
    Distribution,
    LognormalDelay,
    Rates,
)
from simulator.streams import Streams, role_id

#: prefix of the runs table's columns that hold a replication's drawn parameters
COLUMN_PREFIX = "param."


def frozen(distribution: Distribution) -> Any:
    """The scipy.stats distribution a config's `{dist: ...}` describes."""
    from scipy import stats  # (a second to import: a run draws with quantile() instead)

    if distribution.dist == "uniform":
        assert distribution.low is not None and distribution.high is not None
        return stats.uniform(loc=distribution.low, scale=distribution.high - distribution.low)
    if distribution.dist == "triangular":
        low, mode, high = distribution.low, distribution.mode, distribution.high
        assert low is not None and mode is not None and high is not None
        return stats.triang(c=(mode - low) / (high - low), loc=low, scale=high - low)
    a, b = distribution.shape()
    return stats.beta(a, b)


def quantile(distribution: Distribution, u: np.ndarray) -> np.ndarray:
    """``frozen(distribution).ppf(u)`` for u in [0, 1), the same arithmetic number for
    number, without importing scipy.stats (the beta's is scipy.stats' own function)."""
    if distribution.dist in ("uniform", "triangular"):
        low, high = distribution.low, distribution.high
        assert low is not None and high is not None
        scale = high - low
        if distribution.dist == "uniform":
            return u * scale + low
        assert distribution.mode is not None
        c = (distribution.mode - low) / scale
        return np.where(u < c, np.sqrt(c * u), 1 - np.sqrt((1 - c) * (1 - u))) * scale + low
    try:
        from scipy.special._ufuncs import _beta_ppf  # what scipy.stats.beta.ppf calls
    except ImportError:  # another scipy: its public route
        return frozen(distribution).ppf(u)
    a, b = distribution.shape()
    return _beta_ppf(u, a, b) * 1.0 + 0.0


def uncertain_parameters(config: Config) -> dict[str, Distribution]:
    """Every parameter given as a distribution, by dotted path, in config order."""
    found: dict[str, Distribution] = {}
    if isinstance(config.invitations.weekly_limit, Distribution):
        found["invitations.weekly_limit"] = config.invitations.weekly_limit
    for name, segment in config.segments.items():
        for field in Rates.model_fields:
            value = getattr(segment.rates, field)
            where = f"segments.{name}.rates.{field}"
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, Distribution):
                        found[f"{where}.{i}"] = item
            elif isinstance(value, Distribution):
                found[where] = value
        for field in Delays.model_fields:
            delay = getattr(segment.delays, field)
            if isinstance(delay, LognormalDelay):
                for key in ("median", "sigma"):
                    value = getattr(delay, key)
                    if isinstance(value, Distribution):
                        found[f"segments.{name}.delays.{field}.{key}"] = value
    return found


def draw_parameters(config: Config, streams: Streams) -> dict[str, np.ndarray]:
    """Each uncertain parameter's value in each replication of `streams`."""
    drawn = {}
    for path, distribution in uncertain_parameters(config).items():
        u = Streams.uniforms(streams.stream_keys(role_id(f"param/{path}")), np.uint64(0))
        values = quantile(distribution, u)
        if isinstance(distribution, CountDistribution):
            values = np.rint(values).astype(np.int64)
        drawn[path] = values
    return drawn


def draws_for_replications(config: Config, seed: int, replications: int) -> dict[str, np.ndarray]:
    """The drawn parameters of replications 0 .. replications - 1 (for the runs table)."""
    return draw_parameters(config, Streams(seed, np.arange(replications)))


class Parameters:
    """A block's parameter values: a number when fixed, else one value per replication."""

    def __init__(self, config: Config, drawn: dict[str, np.ndarray]):
        self.config = config
        self.drawn = drawn

    def rates(self, segment: str) -> dict[str, Any]:
        """A segment's rates by field; `reply_after_accept` a list."""
        rates = self.config.segments[segment].rates
        out: dict[str, Any] = {}
        for field in Rates.model_fields:
            where = f"segments.{segment}.rates.{field}"
            value = getattr(rates, field)
            if isinstance(value, list):
                out[field] = [self.drawn.get(f"{where}.{i}", v) for i, v in enumerate(value)]
            else:
                out[field] = self.drawn.get(where, value)
        return out

    def lognormal_delay(
        self, segment: str, field: str, delay: Delay
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Per-replication (median, sigma) of a segment's delay `field` when either was
        drawn; None when the delay is the same in every replication."""
        if not isinstance(delay, LognormalDelay):
            return None
        where = f"segments.{segment}.delays.{field}"
        median = self.drawn.get(f"{where}.median")
        sigma = self.drawn.get(f"{where}.sigma")
        if median is None and sigma is None:
            return None
        size = next(v.size for v in (median, sigma) if v is not None)
        return (
            np.broadcast_to(delay.median if median is None else median, size),
            np.broadcast_to(delay.sigma if sigma is None else sigma, size),
        )

    def weekly_limit(self) -> int | np.ndarray:
        return self.drawn.get("invitations.weekly_limit", self.config.invitations.weekly_limit)


def with_values(config: Config, values: dict[str, Any]) -> Config:
    """The config with these fields (by dotted path) set to these values (a number fixes an
    uncertain parameter; a mapping gives it another distribution)."""
    data = config.model_dump()
    for path, value in values.items():
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) else last
        node[key] = value.item() if isinstance(value, np.generic) else value
    return Config.model_validate(data)
