"""Invitations day by day: sent, the limit in force, account health (MODEL.md section 7).

The results tables count by month, but the invitation limit is a rolling 7 days and
account health moves daily. Rather than store daily arrays for every replication, the
report re-runs the first few replications with the engine's trace on: every draw is
keyed by the replication's global index, so replications 0 to n-1 re-simulated from a
results folder's ``config.yaml`` and seed are exactly the ones in its tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.config import Config
from simulator.engine import ProspectLists, Simulation

#: replications re-simulated for the weekly picture (the day loop's cost barely grows
#: with them: 200 give a 5th-95th percentile band at little more than the cost of one)
TRACED_REPLICATIONS = 200
#: memory the re-run may take (as much as a block of the run, api.MEMORY_PER_BLOCK)
TRACE_MEMORY = 768 * 2**20
#: what a traced seat holds a day: the trace's day counts, the limiter's, the health
#: window's sums (about 90 bytes measured; an upper estimate)
TRACED_BYTES_PER_SEAT_DAY = 128


def traced_replications(config: Config, replications: int) -> int:
    """Replications the weekly picture re-runs: TRACED_REPLICATIONS, or fewer where many
    seats would take more than TRACE_MEMORY (0: not even one fits; the report then
    leaves the picture out rather than run out of memory)."""
    per_replication = config.accounts * config.horizon_days * TRACED_BYTES_PER_SEAT_DAY
    return int(min(replications, TRACED_REPLICATIONS, TRACE_MEMORY // per_replication))


def untraced_reason(config: Config) -> str:
    """Why the weekly picture is left out when not even one replication fits."""
    seats = f"{config.accounts:,} seat{'s' if config.accounts != 1 else ''}"
    return (
        f"re-running even one replication day by day with {seats} would take more than "
        f"{TRACE_MEMORY // 2**20:,} MiB"
    )


@dataclass
class InvitationDays:
    """One strategy's traced replications: arrays (replications, days), summed over seats."""

    strategy: str
    sent: np.ndarray  # invitations sent that day
    limit: np.ndarray  # the limit in force that day (rolling 7 days)
    accepted_in_window: np.ndarray  # accepted over the health window before the day
    resolved_in_window: np.ndarray  # accepted or withdrawn over that window
    seats: int

    @property
    def acceptance_in_window(self) -> np.ndarray:
        """Health-window acceptance rate (NaN with nothing resolved: the limit is not cut)."""
        out = np.full(self.accepted_in_window.shape, np.nan)
        np.divide(
            self.accepted_in_window,
            self.resolved_in_window,
            out=out,
            where=self.resolved_in_window > 0,
        )
        return out

    @property
    def weeks(self) -> int:
        return self.sent.shape[1] // 7

    def sent_per_week(self) -> np.ndarray:
        """Invitations sent in each whole week (days 0-6, 7-13, ...): (replications, weeks)."""
        days = self.weeks * 7
        return self.sent[:, :days].reshape(self.sent.shape[0], self.weeks, 7).sum(axis=2)


def sends_invitations(config: Config, strategy: str) -> bool:
    """Whether a strategy's playbook has a connection request anywhere."""
    for entry in config.strategies[strategy].playbook:
        for touch in [*entry.touches, *(entry.open_profile_touches or [])]:
            if touch.kind == "connect":
                return True
    return False


def _by_replication(per_unit: np.ndarray, seats: int) -> np.ndarray:
    """(replications * seats, days) -> (replications, days), summed over seats."""
    return per_unit.reshape(-1, seats, per_unit.shape[1]).sum(axis=1)


def _window_sums(per_day: np.ndarray, window: int) -> np.ndarray:
    """Sum over days t-window to t-1 for each day t (as the engine's health window)."""
    cumulative = np.zeros((per_day.shape[0], per_day.shape[1] + 1), dtype=np.int64)
    np.cumsum(per_day, axis=1, out=cumulative[:, 1:])
    days = np.arange(per_day.shape[1])
    return cumulative[:, days] - cumulative[:, np.maximum(0, days - window)]


def invitation_days(
    config: Config,
    seed: int,
    replications: int = TRACED_REPLICATIONS,
    strategies: list[str] | None = None,
) -> dict[str, InvitationDays]:
    """Re-simulate replications 0 to `replications`-1 of the strategies that send
    invitations (all of them by default) with the trace on."""
    names = [s for s in (strategies or list(config.strategies)) if sends_invitations(config, s)]
    if not names:
        return {}
    prospects = ProspectLists(config, np.arange(replications), seed)
    window, seats = config.invitations.health_window_days, config.accounts
    out = {}
    for name in names:
        sim = Simulation(config, name, prospects, trace=True)
        sim.run()
        trace = sim.trace
        assert trace is not None
        accepted = trace["invitations_accepted"]
        resolved = accepted + trace["invitations_withdrawn"]
        out[name] = InvitationDays(
            strategy=name,
            sent=_by_replication(trace["invitations_sent"], seats),
            limit=_by_replication(trace["limit"], seats),
            accepted_in_window=_by_replication(_window_sums(accepted, window), seats),
            resolved_in_window=_by_replication(_window_sums(resolved, window), seats),
            seats=seats,
        )
    return out
