"""Prospect lists: Open Profile badges, the two queues, and who starts next (MODEL.md 4, 15).

A segment's list is the same for every strategy of a simulation (its badges come from
the counter-based streams), so strategies compete on the same people. Each segment keeps
two queues, Open Profile and not, served in list order; when both queues are served
from a shared budget, the next prospects are taken in list order across them, and a
queue whose own budget is spent waits at its head while the other moves on.
"""

from __future__ import annotations

import numpy as np

from simulator.config import Config, ConfigError, Segment
from simulator.streams import Streams, role_id

#: a count no limit of a run reaches: the budget where a config sets no limit
UNLIMITED = np.int64(2**40)


def as_limit(value: int | None) -> np.int64:
    """A config's daily or monthly limit as a count: UNLIMITED where none is set."""
    return UNLIMITED if value is None else np.int64(value)


_ROWS_PER_BLOCK = 512


def most_started(config: Config) -> int:
    """Prospects one replication can start at most, over every list: a list's length,
    or fewer where the horizon's daily bounds (new_per_day, else the paces of its first
    touches, per seat and day) cannot reach its end. What a run's memory grows with."""
    total = 0
    for name, segment in config.segments.items():
        reach = 0
        for strategy in config.strategies.values():
            per_day = 0
            for entry in strategy.playbook:
                if entry.segment != name:
                    continue
                if entry.new_per_day is not None:
                    per_day += entry.new_per_day
                    continue
                for touches in {
                    id(t): t for t in (entry.touches, entry.open_profile_touches) if t
                }.values():
                    pace = getattr(strategy.daily_pace, touches[0].kind)
                    per_day += int(UNLIMITED) if pace is None else pace  # exact: no int64 wrap
            reach = max(reach, per_day * config.horizon_days * config.accounts)
        length = segment.length(config.horizon_months)
        total += int(reach if length is None else min(length, reach))
    return total


def ragged_arange(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row ids and values of ``starts[r] + arange(counts[r])`` for every row r, flattened.

    Ordered offset first (every row's first item, then every row's second, ...): the
    engine's per-prospect arrays are prospect-major, and rows advance at similar paces,
    so this order touches memory almost sequentially."""
    counts = counts.astype(np.int64)
    most = int(counts.max()) if counts.size else 0
    if most == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    rows = [np.flatnonzero(counts > k) for k in range(most)]
    offsets = np.repeat(np.arange(most), [r.size for r in rows])
    rows_flat = np.concatenate(rows)
    return rows_flat, starts[rows_flat] + offsets


class ProspectList:
    """One segment's list over the horizon, for a block of replications."""

    def __init__(
        self,
        name: str,
        segment: Segment,
        months: int,
        streams: Streams,
        reps: int,
        badges: bool = True,
    ):
        """`badges=False`: only the list's length and key (the compiled engine draws the
        badges itself, one replication at a time)."""
        self.name = name
        self.unlimited = segment.unlimited
        if segment.unlimited:  # positions go on: the compiled loop reaches them as needed
            if badges:  # one line from the CLI (exit 2), not a traceback
                raise ConfigError(
                    [
                        f"OUTREACH_SIM_ENGINE=numpy: segments.{name}.size is unlimited, and "
                        "the vectorised engine holds every listed prospect; unset it to run "
                        "the compiled loop"
                    ]
                )
            self.length = int(UNLIMITED)
            self.available_by_month = np.full(months, UNLIMITED, dtype=np.int64)
        else:
            self.length = segment.length(months)
            self.available_by_month = np.array(
                [segment.size + segment.new_per_month * m for m in range(months)], dtype=np.int64
            )
        share = segment.open_profile_share
        self.key = role_id(f"segment/{name}")
        self._order: np.ndarray | None = None
        if not badges:
            return
        if share <= 0.0 or self.length == 0:
            self.is_open_profile = np.zeros((reps, self.length), dtype=bool)
            self._op_available = np.zeros((reps, months), dtype=np.int64)
        elif share >= 1.0:
            self.is_open_profile = np.ones((reps, self.length), dtype=bool)
            self._op_available = np.broadcast_to(self.available_by_month, (reps, months)).copy()
        else:
            keys = streams.stream_keys(self.key, role_id("open_profile"))
            positions = np.arange(self.length, dtype=np.uint64)
            ends = np.maximum(self.available_by_month - 1, 0)
            self.is_open_profile = np.empty((reps, self.length), dtype=bool)
            self._op_available = np.zeros((reps, months), dtype=np.int64)
            # row r: the Open Profile positions in list order, then the others
            self._order = np.empty((reps, self.length), dtype=np.int32)
            for lo in range(0, reps, _ROWS_PER_BLOCK):  # bounded temporary memory
                hi = min(reps, lo + _ROWS_PER_BLOCK)
                badge = Streams.uniforms(keys[lo:hi, None], positions[None, :]) < share
                self.is_open_profile[lo:hi] = badge
                cum = np.cumsum(badge, axis=1, dtype=np.int32)
                self._op_available[lo:hi] = np.where(self.available_by_month > 0, cum[:, ends], 0)
                self._order[lo:hi] = np.argsort(~badge, axis=1, kind="stable")
        self._op_total = self.is_open_profile.sum(axis=1).astype(np.int64)
        self.next_op = np.zeros(reps, dtype=np.int64)  # queue heads: started so far
        self.next_other = np.zeros(reps, dtype=np.int64)

    def available(self, month: int) -> tuple[np.ndarray, np.ndarray]:
        """Prospects not yet started in each queue (Open Profile, other)."""
        op = self._op_available[:, month]
        other = self.available_by_month[month] - op
        return op - self.next_op, other - self.next_other

    def op_positions(self, rows: np.ndarray, index: np.ndarray) -> np.ndarray:
        """List positions of the index-th Open Profile prospects."""
        if self._order is None:
            return index
        return self._order[rows, index].astype(np.int64)

    def other_positions(self, rows: np.ndarray, index: np.ndarray) -> np.ndarray:
        if self._order is None:
            return index
        return self._order[rows, self._op_total[rows] + index].astype(np.int64)

    def open_profiles_among_next(self, wanted: np.ndarray) -> np.ndarray:
        """How many of the next `wanted` prospects in list order (both queues) have the badge.

        A binary search per replication for the split of the `wanted` smallest list
        positions between the two queues' remaining prospects.
        """
        if self._order is None:  # a list of one kind: the badge share is 0 or 1
            return np.minimum(wanted, self._op_total - self.next_op)
        reps = np.arange(wanted.size)
        op_left = self._op_total - self.next_op
        other_left = (self.length - self._op_total) - self.next_other
        lo = np.maximum(0, wanted - other_left)
        hi = np.minimum(wanted, op_left)
        big = np.int64(self.length + 1)

        def op_at(i: np.ndarray) -> np.ndarray:  # position of the i-th remaining badge holder
            ok = (i >= 0) & (i < op_left)
            idx = np.where(ok, self.next_op + i, 0)
            return np.where(ok, self._order[reps, idx], np.where(i < 0, -1, big))

        def other_at(i: np.ndarray) -> np.ndarray:
            ok = (i >= 0) & (i < other_left)
            idx = np.where(ok, self._op_total + self.next_other + i, 0)
            return np.where(ok, self._order[reps, idx], np.where(i < 0, -1, big))

        while np.any(lo < hi):
            mid = (lo + hi + 1) // 2
            take_more = op_at(mid - 1) < other_at(wanted - mid)
            lo = np.where(take_more, mid, lo)
            hi = np.where(take_more, hi, mid - 1)
        return lo
