"""Connection-request budgets of every seat: rolling weekly limit, health, warm-up, pending,
restrictions.

MODEL.md section 7 and the account-health convention of section 15. The limit in force
is computed in exact integer arithmetic: `floor(base * factor)` with the health factor a
ratio of integers, so that 3 accepted of 25 gives 55, never 54.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from simulator.config import Invitations
from simulator.prospects import as_limit
from simulator.shared_rules import over_arrays


def _exact(x: float) -> Fraction:
    return Fraction(str(x))


def health_limit(
    base: int, accepted: int, resolved: int, den: int, poor: int, good: int, floor: int
) -> int:
    """The limit in force, floor(base * health factor), for one seat, in exact integers:
    `poor`, `good` and `floor` are the rules' thresholds and floor factor times `den`.

    Written once, for one seat (``simulator.shared_rules``): the compiled loop calls it,
    the vectorised engine maps it over every seat (``InvitationLimiter``)."""
    if resolved == 0 or accepted * den >= good * resolved:
        return base  # nothing resolved in the window, or healthy
    if accepted * den <= poor * resolved:
        return (base * floor) // den
    # factor = f/d + (1 - f/d) * (a/t - p/d) / (g/d - p/d), as num / den
    num = floor * resolved * (good - poor) + (den - floor) * (accepted * den - poor * resolved)
    return (base * num) // (den * resolved * (good - poor))


def invitations_allowed(
    limit: int, sent_last_6_days: int, pace: int, restricted: int, pending: int, max_pending: int
) -> int:
    """Requests a seat may send today (MODEL.md section 7): its limit in force less the
    requests of the six days before (a rolling week), within its daily pace; none while
    restricted; and none past `max_pending` pending requests (counted after today's
    outcomes; -1: no such cap). `pace` is a large number where none is set.

    Written once (``simulator.shared_rules``): the compiled loop calls it, the vectorised
    engine maps it over the seats."""
    if restricted:
        return 0
    allowed = min(max(0, limit - sent_last_6_days), pace)
    if max_pending >= 0:
        allowed = min(allowed, max(0, max_pending - pending))
    return allowed


#: below these log-odds the chance is under 1e-308 and exp(-z) overflows a float: 0
LOGISTIC_FLOOR = 709.0


def restriction_chance(
    intercept: float,
    per_pending: float,
    per_low_acceptance: float,
    pending: int,
    accepted: int,
    resolved: int,
) -> float:
    """The chance a seat is restricted today (MODEL.md section 7, optional): a logistic
    model of its pending requests and its shortfall from full acceptance in the health
    window (none resolved: no shortfall). Written once,
    like :func:`invitations_allowed`."""
    # (max: compiled, both branches may be computed and one kept; never 0 / 0)
    rate = accepted / max(resolved, 1) if resolved > 0 else 1.0
    low = 1.0 - rate
    z = intercept + per_pending * pending + per_low_acceptance * low
    if z < -LOGISTIC_FLOOR:  # exp(-z) would overflow (log-odds go down to -1,000)
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))


#: restriction_chance's types, for shared_rules.over_arrays (a rule of floats)
CHANCE_SIGNATURE = "float64(float64, float64, float64, int64, int64, int64)"


class InvitationLimiter:
    """Per-seat invitation bookkeeping over `days` days for `units` seats.

    `weekly_limit`: each seat's base limit (a replication may draw its own, MODEL.md
    section 8); by default the rules' number."""

    def __init__(
        self, rules: Invitations, units: int, days: int, weekly_limit: np.ndarray | None = None
    ):
        self.rules = rules
        if weekly_limit is None:
            assert isinstance(rules.weekly_limit, int), "an uncertain limit needs its draws"
            weekly_limit = np.full(units, rules.weekly_limit)
        self.weekly_limit = np.asarray(weekly_limit, dtype=np.int64)
        # by day and seat; outcomes are filed under their resolution day when the request
        # is sent (they can be drawn then), so these run a window past the horizon
        span = days + rules.invite_window_days + 1
        self.sent = np.zeros((span, units), dtype=np.int32)
        self.accepted = np.zeros((span, units), dtype=np.int32)
        self.withdrawn = np.zeros((span, units), dtype=np.int32)
        self.discarded = np.zeros((span, units), dtype=np.int32)  # outcomes after a reply
        self.pending = np.zeros(units, dtype=np.int64)
        self._health_day = -2  # the day of the running health-window sums
        self._window_accepted = np.zeros(units, dtype=np.int64)
        self._window_withdrawn = np.zeros(units, dtype=np.int64)
        self.restricted_until = np.zeros(units, dtype=np.int64)
        poor, good, floor = (
            _exact(rules.poor_acceptance),
            _exact(rules.good_acceptance),
            _exact(rules.floor_factor),
        )
        denominator = math.lcm(poor.denominator, good.denominator, floor.denominator)
        self._den = denominator
        self._poor = int(poor * denominator)
        self._good = int(good * denominator)
        self._floor = int(floor * denominator)
        n_weeks = days // 7 + 1
        # by week and seat
        self._base = np.array([self._warm_base(week) for week in range(n_weeks)], dtype=np.int64)
        weeks_resolving = (rules.health_window_days + rules.invite_window_days) // 7 + 2
        most_resolved = int(self._base.max()) * weeks_resolving + 1
        largest = 4 * int(self._base.max()) * denominator**2 * most_resolved
        self._exact_in_int64 = largest < 2**62  # else Python integers, slower but exact

    def _warm_base(self, week: int) -> np.ndarray:
        """floor(weekly_limit * warm-up share) for a week, per seat, exactly."""
        rules = self.rules
        if week >= rules.warmup_weeks:
            share = Fraction(1)
        else:
            start = _exact(rules.warmup_start_share)
            share = start + (1 - start) * Fraction(week, rules.warmup_weeks)
        return (self.weekly_limit * share.numerator) // share.denominator

    def health_counts(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Invitations accepted and resolved in the health window before `day`.

        Kept as running sums when days are asked in order (the engine's case)."""
        window = self.rules.health_window_days
        if day != self._health_day + 1:
            lo = max(0, day - window)
            self._window_accepted = self.accepted[lo:day].sum(axis=0, dtype=np.int64)
            self._window_withdrawn = self.withdrawn[lo:day].sum(axis=0, dtype=np.int64)
        else:
            self._window_accepted += self.accepted[day - 1]
            self._window_withdrawn += self.withdrawn[day - 1]
            if day - 1 - window >= 0:
                self._window_accepted -= self.accepted[day - 1 - window]
                self._window_withdrawn -= self.withdrawn[day - 1 - window]
        self._health_day = day
        accepted = self._window_accepted
        return accepted.copy(), accepted + self._window_withdrawn

    def limit_in_force(self, day: int) -> np.ndarray:
        """floor(base * factor) per seat, exactly (:func:`health_limit`)."""
        base = self._base[day // 7]
        accepted, resolved = self.health_counts(day)
        dtype = np.int64 if self._exact_in_int64 else object
        limits = over_arrays(health_limit, self._exact_in_int64)(
            base.astype(dtype),
            accepted.astype(dtype),
            resolved.astype(dtype),
            self._den,
            self._poor,
            self._good,
            self._floor,
        )
        return np.asarray(limits, dtype=np.int64)

    def allowance(self, day: int, limit: np.ndarray, pace: int | None) -> np.ndarray:
        """Requests each seat may send today (:func:`invitations_allowed`), once today's
        outcomes are no longer pending (:meth:`resolve`)."""
        lo = max(0, day - 6)
        sent_recently = self.sent[lo:day].sum(axis=0, dtype=np.int64)
        cap = self.rules.max_pending
        return over_arrays(invitations_allowed)(
            limit,
            sent_recently,
            as_limit(pace),
            (self.restricted_until > day).astype(np.int64),
            self.pending,
            -1 if cap is None else cap,
        )

    def resolve(self, day: int) -> None:
        """Step 2: invitations accepted, withdrawn or discarded (after a reply) today are no
        longer pending."""
        self.pending -= self.accepted[day] + self.withdrawn[day] + self.discarded[day]

    def restriction_probability(self, day: int) -> np.ndarray:
        """Each seat's chance of a restriction today (:func:`restriction_chance`)."""
        r = self.rules.restriction
        accepted, resolved = self.health_counts(day)
        chance = over_arrays(restriction_chance, signature=CHANCE_SIGNATURE)
        return chance(
            r.intercept, r.per_pending, r.per_low_acceptance, self.pending, accepted, resolved
        )
