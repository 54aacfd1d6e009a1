"""The day loop: one strategy over a block of replications (MODEL.md sections 5 to 7, 10, 15).

Pure: arrays in, arrays out. Every replication of the block advances together, day by
day, in the order of MODEL.md section 10; within a day the work is vectorised over the
touches and outcomes of all replications at once.

A touch draws its outcome and delay when it is sent (step 5), so most of what follows
is known then and is filed ahead: an invitation's acceptance or withdrawal goes straight
into per-seat day counts, the route's next touch into the calendar, and a prospect's
exhaustion into a day count once its route can send nothing more. Per prospect the
engine keeps only the day and touch of its earliest reply so far (a reply drawn later
for an earlier day takes over) and the last day any of its touches closes. Every draw
comes from the counter-based streams, keyed by the prospect and the touch's role.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

from simulator.config import Config
from simulator.credits import CreditLedger
from simulator.delays import DelaySampler, DelayTable
from simulator.invitations import InvitationLimiter
from simulator.metrics import COUNTS, FLOW_INDEX, FLOWS, STOCKS
from simulator.playbook import (
    CHANNELS,
    DELAYS,
    KIND_NAMES,
    REPLY_RATES,
    CompiledPlaybook,
    Kind,
    compile_playbook,
)
from simulator.prospects import ProspectList, as_limit, ragged_arange
from simulator.schedule import Batch, Calendar, concat, empty_batch, make_batch, take
from simulator.sends import (
    BUDGETS,
    CREDIT_BUDGET,
    PACES,
    SENDS,
    Outcome,
    daily_pace,
    sent_counts,
)
from simulator.streams import Streams, role_id
from simulator.uncertainty import Parameters, draw_parameters

if TYPE_CHECKING:
    from simulator.events import EventRecorder

NEVER = np.iinfo(np.int16).max  # reply day of a prospect with no reply drawn


def rank_within(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each group, in the order the items come (first in, first out)."""
    if groups.size == 0:
        return groups.astype(np.int64)
    if groups.size == 1 or np.all(groups[1:] >= groups[:-1]):
        order = None
        sorted_groups = groups
    else:
        keys = groups.astype(np.uint16) if groups.max() < 2**16 else groups  # radix sort
        order = np.argsort(keys, kind="stable")
        sorted_groups = groups[order]
    first = np.r_[True, sorted_groups[1:] != sorted_groups[:-1]]
    starts = np.flatnonzero(first)
    lengths = np.diff(np.append(starts, groups.size))
    ranks_sorted = np.arange(groups.size) - np.repeat(starts, lengths)
    if order is None:
        return ranks_sorted
    ranks = np.empty(groups.size, dtype=np.int64)
    ranks[order] = ranks_sorted
    return ranks


@dataclass
class Sent:
    """Touches sent together: parallel arrays, with what is known about them as a batch."""

    rep: np.ndarray
    pid: np.ndarray
    step: np.ndarray | int  # an int when every touch is the same step of the route
    flat: np.ndarray
    unit: np.ndarray
    fresh: bool = False  # first touches of new prospects: no reply drawn, nothing open
    rank: np.ndarray | None = None  # order within the seat today, when already known

    def part(self, index: np.ndarray) -> Sent:
        step = self.step if isinstance(self.step, int) else self.step[index]
        rank = None if self.rank is None else self.rank[index]
        return Sent(
            self.rep[index],
            self.pid[index],
            step,
            self.flat[index],
            self.unit[index],
            self.fresh,
            rank,
        )


class ProspectLists:
    """The segments' lists for a block of replications, shared by every strategy, with the
    block's drawn parameters (MODEL.md section 8), so every strategy sees the same."""

    def __init__(self, config: Config, replications: np.ndarray, seed: int, badges: bool = True):
        self.streams = Streams(seed, replications)
        self.reps = replications.size
        self.parameters = Parameters(config, draw_parameters(config, self.streams))
        self.lists: dict[str, ProspectList] = {}
        self.offset: dict[str, int] = {}
        total = 0
        for name, segment in config.segments.items():
            self.lists[name] = ProspectList(
                name, segment, config.horizon_months, self.streams, self.reps, badges
            )
            self.offset[name] = total
            total += self.lists[name].length
        self.total = total
        if not badges:
            return
        # the badges again, prospect-major like the engine's per-prospect arrays
        self.open_profile = np.zeros(total * self.reps, dtype=bool)
        for name, lst in self.lists.items():
            lo = self.offset[name] * self.reps
            self.open_profile[lo : lo + lst.length * self.reps] = lst.is_open_profile.T.ravel()


class Simulation:
    """One strategy of a config over one block of replications."""

    def __init__(
        self,
        config: Config,
        strategy: str,
        prospects: ProspectLists,
        trace: bool = False,
        events: EventRecorder | None = None,
    ):
        self.config = config
        self.trace: dict[str, np.ndarray] | None = {} if trace else None
        self.events = events  # every touch sent and its outcome's day (simulator.events)
        self.strategy = config.strategies[strategy]
        self.prospects = prospects
        self.streams = prospects.streams
        self.reps = prospects.reps
        self.seats = config.accounts
        self.units = self.reps * self.seats
        self.days = config.horizon_days
        self.months = config.horizon_months
        self.book: CompiledPlaybook = compile_playbook(config, self.strategy)
        self.plan = self.book.plan
        self._prepare_steps()

    # --- set-up --------------------------------------------------------------------

    def _prepare_steps(self) -> None:
        cfg, book = self.config, self.book
        self.entry_segment = [entry.segment for entry in self.strategy.playbook]
        steps = book.steps
        self.step_kind = book.column("kind")
        self.step_next = book.column("next_step")
        self.step_reinvite = book.column("reinvite_step")
        self.step_first_message = book.column("first_message")
        self.step_note = book.column("note", bool)
        self.step_is_reinvite = book.column("reinvite", bool)
        self.step_entry = book.column("entry")
        self.step_fallback = book.column("fallback_step")
        self.step_credit = np.array([SENDS[s.kind].credit for s in steps], dtype=bool)
        self.step_budget = np.array(
            [next(g for g, kinds in enumerate(BUDGETS) if s.kind in kinds) for s in steps],
            dtype=np.int64,
        )
        self.step_wait_lo = np.array([s.wait[0] for s in steps], dtype=np.int64)
        self.step_wait_hi = np.array([s.wait[1] for s in steps], dtype=np.int64)
        self.step_offset = np.array(
            [self.prospects.offset[self.entry_segment[s.entry]] for s in steps], dtype=np.int64
        )
        ones = np.ones(self.reps)
        p_main, p_blank, p_free = [], [], []
        self.samplers: list[DelaySampler | DelayTable] = []
        reply_window = cfg.response_window_days
        parameters = self.prospects.parameters
        # a segment's rates: numbers, or one value per replication where uncertain
        segment_rates = {
            name: SimpleNamespace(**parameters.rates(name)) for name in set(self.entry_segment)
        }
        self._samplers_made: dict[tuple[str, str, int], DelaySampler | DelayTable] = {}
        for s in steps:
            segment = self.entry_segment[s.entry]
            rates = segment_rates[segment]
            lift = rates.engage_reply_multiplier**s.engaged  # engaging first lifts later rates
            window = cfg.invitations.invite_window_days if s.kind == Kind.CONNECT else reply_window
            sampler = self._sampler(segment, DELAYS[s.kind], window)
            if s.kind == Kind.CONNECT:
                lift = rates.engage_accept_multiplier**s.engaged
                if s.after_inmail:
                    lift *= rates.accept_after_inmail_multiplier
                blank = rates.accept_without_note * lift
                if s.reinvite:
                    blank *= rates.reinvite_multiplier
                main = blank if s.reinvite else rates.accept_with_note * lift
                rows = (main, blank, main)
            elif s.kind == Kind.ENGAGE:
                rows = (0.0, 0.0, 0.0)  # no reply
            else:
                rate = getattr(rates, REPLY_RATES[s.kind])
                if s.kind == Kind.MESSAGE:
                    rate = rate[max(0, s.message_index)]
                free = rates.inmail_reply_open if s.kind == Kind.INMAIL else rate
                rows = (rate, rate, free)
            if s.kind != Kind.CONNECT:
                rows = tuple(r * lift for r in rows)
            p_main.append(np.minimum(1.0, rows[0]) * ones)
            p_blank.append(np.minimum(1.0, rows[1]) * ones)
            p_free.append(np.minimum(1.0, rows[2]) * ones)
            self.samplers.append(sampler)
        self.p_main = np.array(p_main)  # request with a note, paid InMail, message: by rep
        self.p_blank = np.array(p_blank)  # request without a note
        self.p_free = np.array(p_free)  # free InMail to an Open Profile
        self.rates_fixed = all(
            (table == table[:, :1]).all() for table in (self.p_main, self.p_blank, self.p_free)
        )

        def keys(prefix: str) -> np.ndarray:
            return np.array(
                [
                    self.streams.stream_keys(
                        self.prospects.lists[self.entry_segment[s.entry]].key,
                        role_id(prefix + s.role),
                    )
                    for s in steps
                ]
            )

        self.outcome_keys = keys("")
        self.wait_keys = keys("wait/")
        # whether a prospect has an address: one draw per prospect and channel
        self.reach_keys = np.array(
            [
                self.streams.stream_keys(
                    self.prospects.lists[self.entry_segment[s.entry]].key,
                    role_id(f"address/{KIND_NAMES[s.kind]}"),
                )
                for s in steps
            ]
        )
        self.step_reach = np.array(
            [
                getattr(cfg.segments[self.entry_segment[s.entry]], f"{KIND_NAMES[s.kind]}_share")
                if s.kind in CHANNELS
                else 1.0
                for s in steps
            ]
        )
        self.funnel_keys = {
            e: (
                self.streams.stream_keys(self.prospects.lists[name].key, role_id("positive")),
                self.streams.stream_keys(self.prospects.lists[name].key, role_id("meeting")),
            )
            for e, name in enumerate(self.entry_segment)
        }
        self.funnel_shares = {
            e: (segment_rates[name].positive_share, segment_rates[name].meeting_share)
            for e, name in enumerate(self.entry_segment)
        }
        self.restriction_keys = self.streams.stream_keys(role_id("restriction"))
        self.segment_index = {name: i for i, name in enumerate(cfg.segments)}
        self.horizon_pad = max(cfg.invitations.invite_window_days, reply_window) + 1

    def _sampler(self, segment: str, field: str, window: int) -> DelaySampler | DelayTable:
        """A segment's delay for `field` (per-touch reply delays default to `reply`): one
        table, or one row per replication where its median or spread was drawn."""
        delays = self.config.segments[segment].delays
        if getattr(delays, field) is None:
            field = "reply"
        key = (segment, field, window)
        if key not in self._samplers_made:
            delay = getattr(delays, field)
            drawn = self.prospects.parameters.lognormal_delay(segment, field, delay)
            self._samplers_made[key] = (
                DelaySampler(delay, window) if drawn is None else DelayTable(*drawn, window)
            )
        return self._samplers_made[key]

    # --- helpers -------------------------------------------------------------------

    def _flat(self, rep: np.ndarray, pid: np.ndarray) -> np.ndarray:
        """Index of (prospect, replication) into the flat per-prospect arrays.

        Prospect-major: replications advance through their lists at similar paces, so
        one day's touches of all replications fall close together in memory."""
        return pid.astype(np.int64) * self.reps + rep

    def _units(self, rep: np.ndarray, flat: np.ndarray) -> np.ndarray:
        if self.seats == 1:
            return rep.astype(np.int64)
        return rep.astype(np.int64) * self.seats + self.seat_of[flat]

    def _tally(self, name: str, rep: np.ndarray) -> None:
        """Count items by replication."""
        if rep.size:
            self.flows[self.month, FLOW_INDEX[name]] += np.bincount(rep, minlength=self.reps)

    def _tally_units(self, name: str, per_unit: np.ndarray) -> None:
        """Count what is already counted by seat, by replication."""
        self.flows[self.month, FLOW_INDEX[name]] += self._by_rep(per_unit)

    def _per_unit(self, unit: np.ndarray) -> np.ndarray:
        return np.bincount(unit, minlength=self.units)

    def _uniform(self, keys: np.ndarray, sent: Sent) -> np.ndarray:
        """The prospects' uniforms for their touch's role (`keys`: by step and replication)."""
        step = sent.step
        if isinstance(step, int):
            return Streams.uniforms(keys[step][sent.rep], sent.pid - self.step_offset[step])
        return Streams.uniforms(keys[step, sent.rep], sent.pid - self.step_offset[step])

    def _rate(self, table: np.ndarray, sent: Sent) -> np.ndarray | float:
        """A step's probability for each touch (a scalar when it cannot vary)."""
        step = sent.step
        if isinstance(step, int):
            return float(table[step, 0]) if self.rates_fixed else table[step][sent.rep]
        if self.rates_fixed:
            return table[step, 0]
        return table.ravel()[step * self.reps + sent.rep]  # one gather, not a 2-d index

    def _wait(self, sent: Sent, step: np.ndarray | int) -> np.ndarray | int:
        """Days to wait before `step` (a whole number drawn in [low, high] per prospect)."""
        lo, hi = self.step_wait_lo[step], self.step_wait_hi[step]
        if np.all(lo == hi):
            return lo if isinstance(step, int) else lo.astype(np.int64)
        steps = Sent(sent.rep, sent.pid, step, sent.flat, sent.unit)
        u = self._uniform(self.wait_keys, steps)
        return lo + np.floor(u * (hi - lo + 1)).astype(np.int64)

    def _delays(self, step: np.ndarray | int, v: np.ndarray, rep: np.ndarray) -> np.ndarray:
        """Days to each outcome from its uniform `v` (rescaled), by step (and replication)."""
        if isinstance(step, int):
            return self.samplers[step].days(v, rep)
        if step.size == 0:
            return np.empty(0, dtype=np.int64)
        first = int(step[0])
        if np.all(step == first):
            return self.samplers[first].days(v, rep)
        out = np.empty(step.size, dtype=np.int64)
        for s in np.unique(step).tolist():
            here = step == s
            out[here] = self.samplers[s].days(v[here], rep[here])
        return out

    def _schedule(self, due: np.ndarray | int, sent: Sent, step: np.ndarray | int) -> None:
        """File touch `step` of these prospects under its due day."""
        if sent.rep.size:
            due = np.broadcast_to(np.asarray(due, dtype=np.int64), sent.rep.shape)
            steps = np.broadcast_to(np.asarray(step, dtype=np.int16), sent.rep.shape)
            self.touches.file(due, make_batch(rep=sent.rep, pid=sent.pid, step=steps))

    def _file_by_day(self, calendar: np.ndarray, row: np.ndarray, day: np.ndarray | int) -> None:
        """calendar[day, row] += 1 for each item (calendars are by day, then seat or rep)."""
        if row.size == 0:
            return
        if np.ndim(day) == 0 or day.min() == day.max():
            d = int(day if np.ndim(day) == 0 else day[0])
            calendar[d] += np.bincount(row, minlength=calendar.shape[1]).astype(calendar.dtype)
            return
        lo = int(day.min())
        width = int(day.max()) - lo + 1
        counts = np.bincount(
            (day - lo) * calendar.shape[1] + row, minlength=width * calendar.shape[1]
        )
        calendar[lo : lo + width] += counts.reshape(width, calendar.shape[1]).astype(calendar.dtype)

    def _settle(
        self,
        sent: Sent,
        closes: np.ndarray | int,
        ends: np.ndarray | bool,
        latest: bool = False,
    ) -> None:
        """Record when these touches close; a prospect whose route `ends` here with no reply
        drawn is exhausted the day its last touch closes (stored as a negative day).

        `latest=True`: these touches close after every earlier touch of their prospects
        (a reply window opened today ends after any opened before)."""
        if sent.rep.size == 0:
            return
        shape = sent.rep.shape
        closes_all = np.broadcast_to(np.asarray(closes, dtype=np.int64), shape)
        if sent.fresh or latest:
            last = closes_all
        else:
            last = np.maximum(self.last_close[sent.flat], closes_all)
        e = np.flatnonzero(np.broadcast_to(ends, shape))
        if not sent.fresh and e.size:
            e = e[self.reply_day[sent.flat[e]] == NEVER]
        if e.size:
            self._file_by_day(self.exhausted_on, sent.rep[e], last[e])
        values = last.astype(np.int16)
        values[e] = -values[e]
        self.last_close[sent.flat] = values

    # --- the day loop --------------------------------------------------------------

    def run(self) -> np.ndarray:
        """Monthly counts of the block: an array (replications, months, counts)."""
        reps, units, days = self.reps, self.units, self.days
        plan, cfg = self.plan, self.config
        self.flows = np.zeros((self.months, len(FLOWS), reps), dtype=np.int64)  # rows by month
        self.by_segment = np.zeros((self.months, len(cfg.segments), reps), dtype=np.int64)
        stocks = np.zeros((reps, self.months, len(STOCKS)), dtype=np.int64)
        n_flat = reps * self.prospects.total
        self.reply_day = np.full(n_flat, NEVER, dtype=np.int16)
        self.reply_step = np.zeros(n_flat, dtype=np.int16)
        # the last day a prospect's touches close: 0 before its start, negative once exhausted
        self.last_close = np.zeros(n_flat, dtype=np.int16)
        self.seat_of = np.zeros(n_flat if self.seats > 1 else 0, dtype=np.int8)
        self.exhausted_on = np.zeros((days + self.horizon_pad, reps), dtype=np.int32)
        self.ledger = CreditLedger(units, days, cfg.inmail.credit_expiry_days)
        weekly_limit = np.repeat(
            np.broadcast_to(self.prospects.parameters.weekly_limit(), reps), self.seats
        )
        self.limiter = InvitationLimiter(cfg.invitations, units, days, weekly_limit)
        self.replies_due = Calendar(days)
        self.touches = Calendar(days)
        # touches waiting for a budget, by the budget they wait for (first in, first out)
        self.deferred: list[Batch] = [empty_batch() for _ in range(len(BUDGETS))]
        for lst in self.prospects.lists.values():
            lst.next_op[:] = 0
            lst.next_other[:] = 0
        pace = self.strategy.daily_pace
        replied_before = np.zeros(reps, dtype=np.int64)
        for day in range(days):
            self.day = day
            self.month = month = day // 30
            # step 1: expiry, month start, today's allowances
            self._tally_units("credits_expired", self.ledger.start_day(day))
            if day % 30 == 0:
                before = self.ledger.balance.copy()
                _, forfeited = self.ledger.grant(plan.credits_per_month, plan.credits_cap)
                self._record("balance_before_grant", month, self.months, before)
                self._record("balance_after_grant", month, self.months, self.ledger.balance)
                self._tally_units("credits_granted", np.full(units, plan.credits_per_month))
                self._tally_units("credits_forfeited", forfeited)
                self.notes_left = np.full(units, as_limit(plan.notes_per_month))
                self.open_left = np.full(units, np.int64(cfg.inmail.open_profile_monthly_cap))
                for seg in cfg.segments.values():
                    arrived = seg.size if month == 0 else seg.new_per_month
                    self.flows[month, FLOW_INDEX["prospects_added"]] += arrived
            if cfg.invitations.restriction.enabled:
                self._draw_restrictions(day)
            limit = self.limiter.limit_in_force(day)
            # today's budget of each pace, by the kind that names it (sends.SENDS)
            self.left = {kind: np.full(units, as_limit(daily_pace(pace, kind))) for kind in PACES}
            # step 2: outcomes due today (drawn when sent; replies are checked here)
            self.limiter.resolve(day)
            self.left[Kind.CONNECT] = self.limiter.allowance(day, limit, pace.connect)
            self._tally_units("acceptances", self.limiter.accepted[day])
            self._tally_units("withdrawals", self.limiter.withdrawn[day])
            self._resolve_replies(self.replies_due.pop(day))
            # step 3: scheduled touches, first in first out
            self._send_scheduled(self.touches.pop(day))
            # steps 4 and 5: new starts; every touch draws its outcome as it is sent
            self._start_new()
            # prospects whose last open item closed today (touches sent today included)
            self.flows[month, FLOW_INDEX["prospects_exhausted"]] += self.exhausted_on[day]
            if self.trace is not None:
                self._record("limit", day, days, limit)
                self._record("balance_end_of_day", day, days, self.ledger.balance)
                self._record("notes_left", day, days, self.notes_left)
                self._record("open_profile_left", day, days, self.open_left)
            if day % 30 == 29:
                stock = stocks[:, month]
                stock[:, STOCKS.index("credit_balance_end")] = self._by_rep(self.ledger.balance)
                stock[:, STOCKS.index("invitations_pending_end")] = self._by_rep(
                    self.limiter.pending
                )
                stock[:, STOCKS.index("invitation_limit_end")] = self._by_rep(limit)
                # counted prospect by prospect, apart from the replies and exhaustions
                # counted as they happen (MODEL.md section 12 checks the two agree)
                replied = (self.reply_day <= day).reshape(-1, reps).sum(axis=0)
                self.flows[month, FLOW_INDEX["prospects_replied"]] = replied - replied_before
                replied_before = replied
                stock[:, STOCKS.index("prospects_in_flight_end")] = self._in_flight(day)
        if self.trace is not None:
            self.trace["invitations_sent"] = self.limiter.sent[:days].T.copy()
            self.trace["invitations_accepted"] = self.limiter.accepted[:days].T.copy()
            self.trace["invitations_withdrawn"] = self.limiter.withdrawn[:days].T.copy()
            self.trace["weekly_limit"] = weekly_limit
        monthly = np.concatenate(
            [self.flows.transpose(2, 0, 1), stocks, self.by_segment.transpose(2, 0, 1)], axis=2
        )
        assert monthly.shape[2] == len(COUNTS) + len(cfg.segments)
        return monthly

    def _in_flight(self, day: int) -> np.ndarray:
        """Started prospects neither replied nor exhausted by the end of `day`, per rep."""
        open_ = (
            (self.last_close != 0)
            & (self.reply_day > day)
            & ((self.last_close > 0) | (-self.last_close > day))
        ).reshape(-1, self.reps)
        return open_.sum(axis=0)

    def _record(self, name: str, index: int, length: int, per_unit: np.ndarray) -> None:
        """Keep a per-seat daily (or monthly) series when tracing (for the tests' checks)."""
        if self.trace is None:
            return
        if name not in self.trace:
            self.trace[name] = np.zeros((self.units, length), dtype=np.int64)
        self.trace[name][:, index] = per_unit

    def _by_rep(self, per_unit: np.ndarray) -> np.ndarray:
        return per_unit.reshape(self.reps, self.seats).sum(axis=1)

    def _draw_restrictions(self, day: int) -> None:
        limiter = self.limiter
        rules = self.config.invitations.restriction
        free = limiter.restricted_until <= day
        unit = np.arange(self.units)
        counter = np.int64(day) * self.seats + unit % self.seats
        u = Streams.uniforms(self.restriction_keys[unit // self.seats], counter)
        hit = free & (u < limiter.restriction_probability(day))
        limiter.restricted_until[hit] = day + rules.restriction_days
        self._tally_units("restricted_days", (limiter.restricted_until > day).astype(np.int64))

    def _resolve_replies(self, batch: Batch) -> None:
        """Step 2: a reply counts when it is still its prospect's earliest (MODEL.md s15)."""
        if batch["rep"].size == 0:
            return
        rep, pid, step = batch["rep"], batch["pid"], batch["step"]
        flat = self._flat(rep, pid)
        first = (self.reply_day[flat] == self.day) & (self.reply_step[flat] == step)
        r, p, s, f = rep[first], pid[first], step[first], flat[first]
        kind = self.step_kind[s]
        if self.events is not None:
            self.events.replied(r, p, s, self.day)
        self._tally("replies", r)
        for k, send in SENDS.items():
            if send.replies is not None:
                self._tally(send.replies, r[kind == k])
        self._funnel(r, p, s)
        inmail_like = self.step_credit[s]
        if self.config.inmail.refunds and inmail_like.any():
            sent = batch["sent"][first]
            in_window = self.day - sent <= self.config.inmail.refund_window_days
            refund = inmail_like & in_window & ~self._is_free(f)
            per_unit = self._per_unit(self._units(r[refund], f[refund]))
            self.ledger.refund(per_unit)
            self._tally_units("credits_refunded", per_unit)

    def _funnel(self, rep: np.ndarray, pid: np.ndarray, step: np.ndarray) -> None:
        """Split replies into positive ones and meetings, by the segment's shares."""
        entries = self.step_entry[step]
        for e, name in enumerate(self.entry_segment):
            here = entries == e
            if not here.any():
                continue
            r, p = rep[here], pid[here].astype(np.int64) - self.prospects.offset[name]
            positive_share, meeting_share = (
                share if np.ndim(share) == 0 else share[r] for share in self.funnel_shares[e]
            )
            k_pos, k_meet = self.funnel_keys[e]
            self.by_segment[self.month, self.segment_index[name]] += np.bincount(
                r, minlength=self.reps
            )
            positive = Streams.uniforms(k_pos[r], p) < positive_share
            meeting = positive & (Streams.uniforms(k_meet[r], p) < meeting_share)
            self._tally("positive_replies", r[positive])
            self._tally("meetings", r[meeting])

    def _is_free(self, flat: np.ndarray) -> np.ndarray:
        """Whether an InMail to these prospects is free (Open Profile, and the plan allows)."""
        if not self.plan.open_profile_messages:
            return np.zeros(flat.size, dtype=bool)
        return self.prospects.open_profile[flat]

    def _send_scheduled(self, due: Batch) -> None:
        """Step 3: scheduled touches that find a budget are sent; the rest wait a day.

        Touches wait in one queue per budget (invitations, messages, InMails, ...): the
        budgets are independent, so first in, first out within each queue is the order of
        the day. A queue whose budget is spent on every seat is passed over untouched (a
        reply that cancels one of its touches is noticed when it next has a chance)."""
        # a budget has room: its pace, and for InMails a credit (or the Open Profile cap)
        budgets = [self.left[pace] > 0 for pace in PACES]
        budgets[CREDIT_BUDGET] &= (self.ledger.balance > 0) | (self.open_left > 0)
        if due["rep"].size:
            group = self.step_budget[due["step"]]
            first = int(group[0])
            if np.all(group == first):
                self.deferred[first] = concat([self.deferred[first], due])
            else:
                for g in np.unique(group).tolist():
                    today = take(due, np.flatnonzero(group == g))
                    self.deferred[g] = concat([self.deferred[g], today])
        for g, has_budget in enumerate(budgets):
            if self.deferred[g]["rep"].size and has_budget.any():
                self._send_from_queue(g, has_budget)

    def _send_from_queue(self, group: int, has_budget: np.ndarray) -> None:
        """Send what today's budgets allow from one queue, in order; keep the rest."""
        batch = self.deferred[group]
        unit_all = self._units(batch["rep"], self._flat(batch["rep"], batch["pid"]))
        chance = np.flatnonzero(has_budget[unit_all])
        if chance.size == 0:
            return
        rep, pid, step = batch["rep"][chance], batch["pid"][chance], batch["step"][chance]
        unit = unit_all[chance]
        flat = self._flat(rep, pid)
        live = self.reply_day[flat] > self.day  # no reply has arrived by today
        send = np.zeros(rep.size, dtype=bool)
        lv = np.flatnonzero(live)
        ul = unit[lv]
        if group == CREDIT_BUDGET:
            # a credit (or the Open Profile cap) first; what fits then takes the InMail pace
            free = self._is_free(flat[lv])
            own = np.where(free, self.open_left[ul], self.ledger.balance[ul])
            ok = np.zeros(lv.size, dtype=bool)
            for is_free in (False, True):
                sel = np.flatnonzero(free == is_free)
                ok[sel] = rank_within(ul[sel]) < own[sel]
            if self.strategy.daily_pace.inmail is not None:
                fits = np.flatnonzero(ok)
                ok[fits] = rank_within(ul[fits]) < self.left[Kind.INMAIL][ul[fits]]
            send[lv] = ok
        else:
            pace = PACES[group]
            # requests always take the invitation limit, other kinds their pace, if any
            if pace != Kind.CONNECT and daily_pace(self.strategy.daily_pace, pace) is None:
                send[lv] = True
            else:
                send[lv] = rank_within(ul) < self.left[pace][ul]
        leaves = send | ~live  # sent, or cancelled by a reply
        if leaves.any():
            stay = np.ones(batch["rep"].size, dtype=bool)
            stay[chance[leaves]] = False
            self.deferred[group] = take(batch, np.flatnonzero(stay))
        go = np.flatnonzero(send)
        if go.size:
            self._send(Sent(rep[go], pid[go], step[go].astype(np.int64), flat[go], unit[go]))

    def _send(self, sent: Sent) -> None:
        """Take today's budgets for these touches and send them (step 5 draws outcomes)."""
        if isinstance(sent.step, int):
            groups = [(int(self.step_kind[sent.step]), sent)]
        else:
            kind = self.step_kind[sent.step]
            if kind.min() == kind.max():
                groups = [(int(kind[0]), sent)]
            else:
                groups = [
                    (k, sent.part(np.flatnonzero(kind == k))) for k in np.unique(kind).tolist()
                ]
        for k, part in groups:  # (sends.SENDS: what each kind takes and counts)
            send = SENDS[Kind(k)]
            self.left[send.pace] -= self._per_unit(part.unit)
            counts = sent_counts(Kind(k))
            free = None
            if send.credit:  # a credit, or free to an Open Profile
                free = self._is_free(part.flat)
                paid = self._per_unit(part.unit[~free])
                self.ledger.spend(paid)
                self._tally_units("credits_spent", paid)
                self.open_left -= self._per_unit(part.unit[free])
                self._tally(counts[0], part.rep[~free])
                self._tally(counts[1], part.rep[free])
            elif send.outcome != Outcome.ADDRESS:  # (those count once they know)
                self._tally(counts[0], part.rep)
            if send.outcome == Outcome.REQUEST:
                self._send_requests(part)
            elif send.outcome == Outcome.ADDRESS:
                self._send_channel(part, Kind(k))
            elif send.outcome == Outcome.NONE:
                self._go_on(part, self.step_next)
            else:
                self._send_replyable(part, free)

    def _send_requests(self, sent: Sent) -> None:
        """Connection requests: a note while the quota lasts; acceptance or withdrawal."""
        day, unit, step, limiter = self.day, sent.unit, sent.step, self.limiter
        wants = self.step_note[step]
        if self.plan.notes_per_month is None:
            note = np.broadcast_to(wants, sent.rep.shape)
        else:
            note = np.zeros(sent.rep.size, dtype=bool)
            w = np.flatnonzero(wants) if np.ndim(wants) else (np.arange(note.size) if wants else [])
            if len(w):
                rank = sent.rank[w] if sent.rank is not None else rank_within(unit[w])
                note[w] = rank < self.notes_left[unit[w]]
            self.notes_left -= self._per_unit(unit[note])
        per_unit = self._per_unit(unit)
        self._tally("notes_used", sent.rep[note])
        again = self.step_is_reinvite[step]
        if np.any(again):
            self._tally("reinvites_sent", sent.rep if np.ndim(again) == 0 else sent.rep[again])
        limiter.sent[day] += per_unit.astype(np.int32)
        limiter.pending += per_unit
        # step 5: the outcome and its day, drawn now
        if np.all(note):  # every request with a note (unlimited notes): one rate to look up
            p = self._rate(self.p_main, sent)
        else:
            p = np.where(note, self._rate(self.p_main, sent), self._rate(self.p_blank, sent))
        u = self._uniform(self.outcome_keys, sent)
        accepted = u < p
        a = np.flatnonzero(accepted)
        p_a = p if np.ndim(p) == 0 else p[a]
        accept_on = day + self._delays(
            step if isinstance(step, int) else step[a], u[a] / p_a, sent.rep[a]
        )
        withdraw_on = day + self.config.invitations.invite_window_days
        closes = np.full(sent.rep.size, withdraw_on, dtype=np.int64)
        closes[a] = accept_on
        if sent.fresh:  # no reply drawn yet: every outcome counts
            live = np.ones(sent.rep.size, dtype=bool)
        else:  # a reply that arrives by the outcome's day discards it (MODEL.md section 15)
            live = self.reply_day[sent.flat] > closes
            dropped = np.flatnonzero(~live)
            self._file_by_day(limiter.discarded, unit[dropped], closes[dropped])
        acc = np.flatnonzero(accepted & live)
        if self.events is not None:
            self.events.sent(sent.rep, sent.pid, step, day, note, acc, closes[acc])
        self._file_by_day(limiter.accepted, unit[acc], closes[acc])
        withdrawn = ~accepted & live
        if sent.fresh:
            withdrawn_per_unit = per_unit - self._per_unit(unit[a])
            limiter.withdrawn[withdraw_on] += withdrawn_per_unit.astype(np.int32)
        else:
            self._file_by_day(limiter.withdrawn, unit[withdrawn], withdraw_on)
        # what follows: accepted, the message sequence; withdrawn, a re-invitation after
        # the cooldown, else the route's next touch; the route ends where none is left
        if (
            sent.fresh
            and isinstance(step, int)
            and self.trace is None
            and self.step_first_message[step] >= 0
            and self.step_reinvite[step] < 0
            and self.step_next[step] < 0
        ):  # the common first request: messages on acceptance, the end on withdrawal
            first_message = int(self.step_first_message[step])
            part = sent.part(a)
            self._schedule(accept_on + self._wait(part, first_message), part, first_message)
            self.exhausted_on[withdraw_on] += self._by_rep(withdrawn_per_unit).astype(np.int32)
            # when each closes (the month-end count reads it): withdrawn ones are exhausted
            self.last_close[sent.flat] = np.where(accepted, closes, -closes).astype(np.int16)
            return
        first = np.broadcast_to(self.step_first_message[step], sent.rep.shape)
        again = np.broadcast_to(self.step_reinvite[step], sent.rep.shape)
        nxt = np.broadcast_to(self.step_next[step], sent.rep.shape)
        go = acc[first[acc] >= 0]
        if go.size:
            part = sent.part(go)
            self._schedule(closes[go] + self._wait(part, first[go]), part, first[go])
        re = np.flatnonzero(withdrawn & (again >= 0))
        if re.size:
            cooldown = self.config.invitations.reinvite_cooldown_days
            self._schedule(withdraw_on + cooldown, sent.part(re), again[re])
        fall = np.flatnonzero(withdrawn & (again < 0) & (nxt >= 0))
        if fall.size:
            part = sent.part(fall)
            self._schedule(withdraw_on + self._wait(part, nxt[fall]), part, nxt[fall])
        ends = (accepted & live & (first < 0)) | (withdrawn & (again < 0) & (nxt < 0))
        self._settle(sent, closes, ends)

    def _send_channel(self, sent: Sent, kind: Kind) -> None:
        """Email or WhatsApp: sent where the prospect has an address; where it has none,
        nothing is sent and the route goes on at the touch's fallback (or next touch)."""
        reach = self.step_reach[sent.step]
        if np.all(reach >= 1.0):
            has = np.ones(sent.rep.size, dtype=bool)
        else:
            has = self._uniform(self.reach_keys, sent) < reach
        self._tally(sent_counts(kind)[0], sent.rep[has])
        self._tally(SENDS[kind].unreachable, sent.rep[~has])
        if has.all():
            self._send_replyable(sent, None)
            return
        self._send_replyable(sent.part(np.flatnonzero(has)), None)
        self._go_on(sent.part(np.flatnonzero(~has)), self.step_fallback)

    def _go_on(self, sent: Sent, successor: np.ndarray) -> None:
        """A touch that opens nothing (an engagement, a missing address): the route goes on
        at `successor` of its step after that touch's wait (at least a day), or ends."""
        if sent.rep.size == 0:
            return
        nxt = np.broadcast_to(successor[sent.step], sent.rep.shape)
        go = np.flatnonzero(nxt >= 0)
        closes = np.full(sent.rep.size, self.day, dtype=np.int64)
        if go.size:  # open until the next touch is due (so never "not started", day 0)
            part = sent.part(go)
            closes[go] = self.day + np.maximum(1, self._wait(part, nxt[go]))
            self._schedule(closes[go], part, nxt[go])
        self._settle(sent, closes, nxt < 0)

    def _send_replyable(self, sent: Sent, free: np.ndarray | None) -> None:
        """Messages, InMails, follow-ups: draw the reply; schedule the route's next touch."""
        day, step = self.day, sent.step
        if self.events is not None:
            self.events.sent(sent.rep, sent.pid, step, day, free)
        if free is None:
            p = self._rate(self.p_main, sent)
        else:
            p = np.where(free, self._rate(self.p_free, sent), self._rate(self.p_main, sent))
        u = self._uniform(self.outcome_keys, sent)
        replied = u < p
        r = np.flatnonzero(replied)
        if r.size:
            got = sent.part(r)
            reply_on = day + self._delays(
                got.step, u[r] / (p if np.ndim(p) == 0 else p[r]), got.rep
            )
            if not sent.fresh:  # a same-day tie stays with the touch sent earlier
                earliest = np.flatnonzero(reply_on < self.reply_day[got.flat])
                got, reply_on = got.part(earliest), reply_on[earliest]
            steps = np.broadcast_to(np.asarray(got.step, dtype=np.int16), got.rep.shape)
            self.reply_day[got.flat] = reply_on
            self.reply_step[got.flat] = steps
            self.replies_due.file(
                reply_on,
                make_batch(rep=got.rep, pid=got.pid, step=steps, sent=np.full(got.rep.size, day)),
            )
        nxt = np.broadcast_to(self.step_next[step], sent.rep.shape)
        go = np.flatnonzero(nxt >= 0)
        if go.size:
            part = sent.part(go)
            wait = np.maximum(1, self._wait(part, nxt[go]))
            self._schedule(day + wait, part, nxt[go])
        ends = nxt < 0
        if sent.fresh:  # no earlier touch: only this one's reply can keep the prospect open
            ends = ends & ~replied
        self._settle(sent, day + self.config.response_window_days, ends, latest=True)

    def _start_new(self) -> None:
        """Step 4: start new prospects, seat by seat, segment by segment, in list order."""
        all_reps = np.arange(self.reps)
        for seat in range(self.seats):
            unit = all_reps * self.seats + seat
            for e, entry in enumerate(self.strategy.playbook):
                lst = self.prospects.lists[entry.segment]
                other_route, op_route = self.book.routes[e]
                avail_op, avail_other = lst.available(self.month)
                if not (avail_op.any() or avail_other.any()):
                    continue
                pools_op = self._first_touch_pools(op_route.first_step, unit, open_profile=True)
                pools_other = self._first_touch_pools(other_route.first_step, unit, False)
                shared = [name for name in pools_op if name in pools_other]
                wanted = np.minimum(as_limit(entry.new_per_day), avail_op + avail_other)
                for name in shared:
                    wanted = np.minimum(wanted, pools_op[name])
                if not wanted.any():
                    continue
                cap_op, cap_other = avail_op, avail_other
                for name, pool in pools_op.items():
                    if name not in shared:
                        cap_op = np.minimum(cap_op, pool)
                for name, pool in pools_other.items():
                    if name not in shared:
                        cap_other = np.minimum(cap_other, pool)
                # walk the list in order; a queue out of budget waits while the other moves
                in_order = lst.open_profiles_among_next(wanted)
                n_op = np.clip(np.maximum(in_order, wanted - cap_other), 0, cap_op)
                n_other = np.clip(np.maximum(wanted - in_order, wanted - cap_op), 0, cap_other)
                rows_op, idx_op = ragged_arange(lst.next_op, n_op)
                rows_ot, idx_ot = ragged_arange(lst.next_other, n_other)
                offset = self.prospects.offset[entry.segment]
                pid_op = offset + lst.op_positions(rows_op, idx_op)
                pid_ot = offset + lst.other_positions(rows_ot, idx_ot)
                lst.next_op += n_op
                lst.next_other += n_other
                for rows, idx, start, pids, route in (
                    (rows_op, idx_op, lst.next_op - n_op, pid_op, op_route),
                    (rows_ot, idx_ot, lst.next_other - n_other, pid_ot, other_route),
                ):
                    if rows.size == 0:
                        continue
                    rep = rows.astype(np.int64)
                    pid = pids.astype(np.int64)
                    flat = self._flat(rep, pid)
                    if self.seats > 1:
                        self.seat_of[flat] = seat
                    self._tally("prospects_started", rep)
                    rank = idx - start[rows]  # order within the seat: list order
                    self._send(Sent(rep, pid, route.first_step, flat, unit[rep], True, rank))

    def _first_touch_pools(self, step: int, unit: np.ndarray, open_profile: bool) -> dict:
        """The budgets (per replication, for one seat) a route's first touch draws on."""
        kind = Kind(int(self.step_kind[step]))
        send = SENDS[kind]
        if send.outcome == Outcome.REQUEST:
            return {"invitations": self.left[kind][unit]}
        if send.credit:
            if open_profile and self.plan.open_profile_messages:
                return {"inmail_pace": self.left[send.pace][unit], "open_cap": self.open_left[unit]}
            return {"inmail_pace": self.left[send.pace][unit], "credits": self.ledger.balance[unit]}
        paced = daily_pace(self.strategy.daily_pace, kind) is not None
        return {KIND_NAMES[kind]: self.left[send.pace][unit]} if paced else {}
