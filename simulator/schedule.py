"""A calendar of what falls due on each day: outcomes and scheduled touches (MODEL.md 10).

Items are batches of parallel arrays (replication, prospect, step, day sent),
filed under the day they fall due. Items due after the horizon are never resolved; the
engine counts their prospects as in flight.
"""

from __future__ import annotations

import numpy as np

FIELDS: tuple[tuple[str, type], ...] = (
    ("rep", np.int32),
    ("pid", np.int32),
    ("step", np.int16),
    ("sent", np.int16),
)

Batch = dict[str, np.ndarray]


def empty_batch() -> Batch:
    return {name: np.empty(0, dtype=dtype) for name, dtype in FIELDS}


def make_batch(**arrays: np.ndarray) -> Batch:
    n = len(arrays["rep"])
    batch = {}
    for name, dtype in FIELDS:
        value = arrays.get(name)
        batch[name] = (
            np.zeros(n, dtype=dtype)
            if value is None
            else np.asarray(value).astype(dtype, copy=False)
        )
    return batch


def take(batch: Batch, index: np.ndarray) -> Batch:
    return {name: values[index] for name, values in batch.items()}


def concat(batches: list[Batch]) -> Batch:
    batches = [b for b in batches if b["rep"].size]
    if not batches:
        return empty_batch()
    if len(batches) == 1:
        return batches[0]
    return {name: np.concatenate([b[name] for b in batches]) for name, _ in FIELDS}


class Calendar:
    """Batches filed by due day, kept in the order they were filed."""

    def __init__(self, days: int):
        self.days = days
        self._due: list[list[Batch]] = [[] for _ in range(days)]

    def file(self, due: np.ndarray, batch: Batch) -> None:
        """File each item under its due day (items due after the horizon are dropped)."""
        if due.size == 0:
            return
        keep = due < self.days
        if not keep.all():
            due = due[keep]
            batch = take(batch, np.flatnonzero(keep))
            if due.size == 0:
                return
        first, last = int(due.min()), int(due.max())
        if first == last:
            self._due[first].append(batch)
            return
        order = np.argsort(due.astype(np.int16), kind="stable")  # a radix sort
        sorted_due = due[order]
        days, starts = np.unique(sorted_due, return_index=True)
        ends = np.append(starts[1:], sorted_due.size)
        for day, lo, hi in zip(days.tolist(), starts.tolist(), ends.tolist(), strict=True):
            self._due[day].append(take(batch, order[lo:hi]))

    def pop(self, day: int) -> Batch:
        batches, self._due[day] = self._due[day], []
        return concat(batches)
