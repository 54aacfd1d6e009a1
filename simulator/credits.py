"""InMail credits of every seat: lots, grants with a banking cap, expiry, spending, refunds.

MODEL.md sections 6 and 15. Lots are spent oldest first and every lot lives equally
long, so lots also expire oldest first: the ledger is a queue in arrival order. It keeps,
per seat, the cumulative credits that ever arrived (by day) and how many of them have
left (spent or expired); a lot's remainder is what of it lies past that pointer. Every
operation is then a few vectorised array steps, whatever the number of lots.
"""

from __future__ import annotations

import numpy as np

from simulator.shared_rules import over_arrays


def grant_added(grant: int, cap: int, balance: int) -> int:
    """Credits a month's grant adds to a seat's balance: up to the banking cap; the rest
    is forfeited, and a balance already above the cap is not cut (MODEL.md section 15)."""
    return min(grant, max(0, cap - balance))


def lot_expiry(arrived_by_lot_day: int, departed: int) -> int:
    """Credits that expire today: what is left of the lots that reach their age, i.e.
    of the credits that had arrived by that lot's day, those not yet spent or expired
    (lots leave oldest first)."""
    return max(0, arrived_by_lot_day - departed)


class CreditLedger:
    """Credit lots of `units` seats over `days` days."""

    def __init__(self, units: int, days: int, expiry_days: int):
        self.expiry_days = expiry_days
        self._arrived_through = np.zeros((days, units), dtype=np.int64)  # cumulative, by day
        self._arrived = np.zeros(units, dtype=np.int64)
        self._departed = np.zeros(units, dtype=np.int64)  # spent or expired
        self._today = 0

    @property
    def balance(self) -> np.ndarray:
        return self._arrived - self._departed

    def start_day(self, day: int) -> np.ndarray:
        """Close the books of yesterday and expire the lots that reach their age today."""
        if day > 0:
            self._arrived_through[day - 1] = self._arrived
        self._today = day
        lot_day = day - self.expiry_days
        if lot_day < 0:
            return np.zeros_like(self._departed)
        expired = over_arrays(lot_expiry)(self._arrived_through[lot_day], self._departed)
        self._departed += expired
        return expired

    def grant(self, amount: int, cap: int) -> tuple[np.ndarray, np.ndarray]:
        """Add a month's grant up to the cap; return (added, forfeited) per seat."""
        added = over_arrays(grant_added)(amount, cap, self.balance)
        self._arrived += added
        return added, amount - added

    def refund(self, credits: np.ndarray) -> None:
        """Refunded credits arrive as today's lot (uncapped)."""
        self._arrived += credits

    def spend(self, credits: np.ndarray) -> None:
        """Spend credits, oldest lot first; callers never spend more than the balance."""
        self._departed += credits
