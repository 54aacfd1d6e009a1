"""Rates and delays from touches watched for different lengths of time (right-censoring).

A touch sent three days before an export is not yet a "no": its answer may still come.
The model of MODEL.md sections 4 and 15 is a discrete-time mixture cure model: a touch
gets its outcome within the window with probability p, on day d = 1..W after the touch
with probability f(d) (the delay pmf, renormalised within the window), and never
otherwise. A touch watched for c days without an outcome then has the likelihood
1 - p F(c), F the delay's cumulative distribution; one whose outcome came on day d has
p f(d). Counting the first kind as failures would bias p downwards by the share of
outcomes still to come.

The delay is the engine's own discretised lognormal (`simulator.delays`), fitted jointly
with the rates that share it by maximum likelihood. Each rate's posterior is then computed
on a grid, its prior Beta times the likelihood with the delay at its estimate, and
summarised by its mean, standard deviation and equal-tailed interval; it is exactly the
conjugate Beta when every touch was watched for the whole window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from simulator.delays import lognormal_pmf

#: the smallest and largest rate the fit considers (a rate of exactly 0 or 1 has no delay)
RATE_BOUNDS = (1e-9, 1.0 - 1e-9)


@dataclass(frozen=True)
class Watched:
    """The touches of one rate: outcomes seen by delay, and the rest by days watched."""

    outcomes: np.ndarray  # [d - 1]: outcomes seen d days after their touch, d = 1..W
    censored: np.ndarray  # [c]: touches watched c days (0..W) without an outcome

    @property
    def window(self) -> int:
        return self.outcomes.size

    @property
    def seen(self) -> int:
        return int(self.outcomes.sum())

    @property
    def touches(self) -> int:
        return self.seen + int(self.censored.sum())

    @property
    def still_open(self) -> int:
        """Touches with no outcome yet, watched for less than the whole window."""
        return int(self.censored[:-1].sum())

    @classmethod
    def from_days(cls, delays: np.ndarray, watched: np.ndarray, window: int) -> Watched:
        """From each seen outcome's delay (1..window) and each other touch's days watched
        (capped at the window)."""
        outcomes = np.bincount(np.asarray(delays, dtype=np.int64) - 1, minlength=window)
        censored = np.bincount(np.clip(watched, 0, window).astype(np.int64), minlength=window + 1)
        return cls(outcomes[:window], censored[: window + 1])


def cumulative(pmf: np.ndarray) -> np.ndarray:
    """F(c) for c = 0..W: the chance an outcome that comes has come within c days."""
    return np.concatenate([[0.0], np.minimum(1.0, np.cumsum(pmf))])


def log_likelihood(watched: Watched, rate: float, pmf: np.ndarray) -> float:
    """The mixture cure model's log-likelihood of one rate's touches."""
    with np.errstate(divide="ignore"):
        seen = watched.outcomes > 0
        value = watched.seen * np.log(rate) + float(
            (watched.outcomes[seen] * np.log(pmf[seen])).sum()
        )
        still = 1.0 - rate * cumulative(pmf)
        waiting = watched.censored > 0
        return value + float((watched.censored[waiting] * np.log(still[waiting])).sum())


def resolved(watched: Watched, pmf: np.ndarray) -> float:
    """How many touches the file has resolved: those with an outcome, those watched for
    their whole window, and each still open counted for the share F(c) of outcomes that
    would have come by the c days it was watched (what it weighs in the likelihood)."""
    return watched.seen + float((watched.censored * cumulative(pmf)).sum())


def naive_rate(watched: Watched) -> float:
    """Outcomes seen over touches sent: every touch without an outcome yet a failure. A
    lower bound of the file's own estimate (`best_rate`), not of a posterior: a prior
    below the file pulls the posterior down, under it if need be."""
    return watched.seen / watched.touches if watched.touches else float("nan")


def best_rate(watched: Watched, pmf: np.ndarray) -> float:
    """The maximum-likelihood rate given the delay pmf."""
    if watched.touches == 0:
        return float("nan")
    if watched.seen == 0:
        return RATE_BOUNDS[0]
    from scipy import optimize  # (imported when fitting: not on a run's path)

    result = optimize.minimize_scalar(
        lambda p: -log_likelihood(watched, p, pmf), bounds=RATE_BOUNDS, method="bounded",
        options={"xatol": 1e-10},
    )  # fmt: skip
    return float(result.x)


@dataclass(frozen=True)
class DelayFit:
    """A lognormal delay fitted jointly with the rates of the touches that share it."""

    median: float
    sigma: float
    rates: tuple[float, ...]
    log_likelihood: float

    def pmf(self, window: int) -> np.ndarray:
        return lognormal_pmf(np.array([self.median]), np.array([self.sigma]), window)[0]


def fit_delay(groups: list[Watched], window: int) -> DelayFit:
    """Maximum likelihood of a lognormal delay (median, sigma) and one rate per group."""
    seen = np.sum([g.outcomes for g in groups], axis=0)
    days = np.arange(1, window + 1)
    start_median = float(days[np.searchsorted(np.cumsum(seen), seen.sum() / 2)])
    x0 = [
        *(min(0.9, max(0.01, naive_rate(g))) for g in groups),
        np.log(max(0.6, start_median)),
        0.0,
    ]
    bounds = [RATE_BOUNDS] * len(groups) + [(np.log(0.05), np.log(10.0 * window)), (-3.0, 1.6)]

    def loss(x: np.ndarray) -> float:
        pmf = lognormal_pmf(np.exp(x[-2:-1]), np.exp(x[-1:]), window)[0]
        pmf = np.maximum(pmf, 1e-300)
        return -sum(log_likelihood(g, p, pmf) for g, p in zip(groups, x[:-2], strict=True))

    from scipy import optimize

    result = optimize.minimize(loss, x0, method="L-BFGS-B", bounds=bounds)
    x = result.x
    return DelayFit(
        median=float(np.exp(x[-2])),
        sigma=float(np.exp(x[-1])),
        rates=tuple(float(p) for p in x[:-2]),
        log_likelihood=-float(result.fun),
    )


@dataclass(frozen=True)
class Posterior:
    """A rate's posterior: mean, standard deviation, 5th and 95th percentiles, and the
    Beta with the same mean and variance (what a config can carry)."""

    mean: float
    sd: float
    p5: float
    p95: float

    @property
    def beta_shape(self) -> tuple[float, float]:
        size = self.mean * (1.0 - self.mean) / self.sd**2 - 1.0
        return self.mean * size, (1.0 - self.mean) * size


def posterior(watched: Watched, pmf: np.ndarray, prior: tuple[float, float]) -> Posterior:
    """The rate's posterior on a grid: Beta(prior) times the censored likelihood."""
    a, b = prior
    F = cumulative(pmf)
    waiting = watched.censored > 0
    weights, reach = watched.censored[waiting], F[waiting]

    def log_density(p: np.ndarray) -> np.ndarray:
        value = (a - 1.0 + watched.seen) * np.log(p) + (b - 1.0) * np.log1p(-p)
        return value + (weights[None, :] * np.log1p(-p[:, None] * reach[None, :])).sum(axis=1)

    grid = special.expit(np.linspace(-25.0, 25.0, 4001))  # every scale of rate
    density = log_density(grid)
    keep = grid[density > density.max() - 40.0]
    lo, hi = keep.min(), keep.max()
    step = grid[1:] - grid[:-1]
    lo = max(RATE_BOUNDS[0], lo - 2 * step.max())
    hi = min(RATE_BOUNDS[1], hi + 2 * step.max())
    grid = np.linspace(lo, hi, 20001)
    density = log_density(grid)
    weight = np.exp(density - density.max())
    cdf = np.concatenate([[0.0], np.cumsum((weight[1:] + weight[:-1]) / 2 * np.diff(grid))])
    total = cdf[-1]
    mean = float(np.trapezoid(grid * weight, grid) / total)
    var = float(np.trapezoid((grid - mean) ** 2 * weight, grid) / total)
    p5, p95 = np.interp([0.05 * total, 0.95 * total], cdf, grid)
    return Posterior(mean, float(np.sqrt(var)), float(p5), float(p95))
