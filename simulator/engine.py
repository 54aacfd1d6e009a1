"""The day loop: one strategy over a block of replications (MODEL.md sections 5 to 7, 10, 15).

Pure: arrays in, arrays out. Every replication of the block advances together, day by
day, in the order of MODEL.md section 10; within a day the work is vectorised over the
touches and outcomes of all replications at once. Per-prospect state (replied,
exhausted, items still open) lives in small integer arrays, and every draw comes from
the counter-based streams, keyed by the prospect and the touch's role.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.config import Config
from simulator.credits import CreditLedger
from simulator.delays import DelaySampler
from simulator.invitations import InvitationLimiter
from simulator.metrics import COUNTS, FLOW_INDEX, FLOWS, STOCKS
from simulator.playbook import CompiledPlaybook, Kind, compile_playbook
from simulator.prospects import UNLIMITED, ProspectList, ragged_arange
from simulator.schedule import Batch, Calendar, concat, empty_batch, make_batch, take
from simulator.streams import Streams, role_id

NOT_STARTED, ACTIVE, REPLIED, EXHAUSTED = 0, 1, 2, 3


def _pool(value: int | None) -> np.int64:
    return UNLIMITED if value is None else np.int64(value)


def rank_within(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each group, in the order the items come (first in, first out)."""
    if groups.size == 0:
        return groups.astype(np.int64)
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    first = np.r_[True, sorted_groups[1:] != sorted_groups[:-1]]
    starts = np.flatnonzero(first)
    lengths = np.diff(np.append(starts, groups.size))
    ranks_sorted = np.arange(groups.size) - np.repeat(starts, lengths)
    ranks = np.empty(groups.size, dtype=np.int64)
    ranks[order] = ranks_sorted
    return ranks


@dataclass
class BlockResult:
    """Monthly counts of one strategy over a block of replications: (reps, months, counts)."""

    monthly: np.ndarray


class _Segments:
    """Prospect lists of a simulation block, shared by its strategies."""

    def __init__(self, config: Config, streams: Streams, reps: int):
        self.lists: dict[str, ProspectList] = {}
        self.offset: dict[str, int] = {}
        total = 0
        for name, segment in config.segments.items():
            self.lists[name] = ProspectList(name, segment, config.horizon_months, streams, reps)
            self.offset[name] = total
            total += self.lists[name].length
        self.total = total


class Simulation:
    """One strategy of a config, over the replications `replications` (global indices)."""

    def __init__(self, config: Config, strategy: str, replications: np.ndarray, seed: int):
        self.config = config
        self.strategy = config.strategies[strategy]
        self.reps = replications.size
        self.seats = config.accounts
        self.days = config.horizon_days
        self.months = config.horizon_months
        self.streams = Streams(seed, replications)
        self.book: CompiledPlaybook = compile_playbook(config, self.strategy)
        self.plan = self.book.plan
        self.segments = _Segments(config, self.streams, self.reps)
        self._prepare_steps()

    # --- set-up --------------------------------------------------------------------

    def _prepare_steps(self) -> None:
        cfg, book = self.config, self.book
        entries = self.strategy.playbook
        self.entry_segment = [entry.segment for entry in entries]
        steps = book.steps
        self.step_kind = book.column("kind")
        self.step_next = book.column("next_step")
        self.step_reinvite = book.column("reinvite_step")
        self.step_first_message = book.column("first_message")
        self.step_note = book.column("note", bool)
        self.step_is_reinvite = book.column("reinvite", bool)
        self.step_wait_lo = np.array([s.wait[0] for s in steps], dtype=np.int64)
        self.step_wait_hi = np.array([s.wait[1] for s in steps], dtype=np.int64)
        self.step_offset = np.array(
            [self.segments.offset[self.entry_segment[s.entry]] for s in steps], dtype=np.int64
        )
        self.step_entry = book.column("entry")
        # per step: success probability by replication (rows: step, columns: replication)
        ones = np.ones(self.reps)
        p_main, p_blank, p_free = [], [], []
        samplers: list[DelaySampler] = []
        for s in steps:
            seg = cfg.segments[self.entry_segment[s.entry]]
            rates, delays = seg.rates, seg.delays
            reply_window = cfg.response_window_days
            if s.kind == Kind.CONNECT:
                lift = rates.accept_after_inmail_multiplier if s.after_inmail else 1.0
                blank = rates.accept_without_note * lift
                if s.reinvite:
                    blank *= rates.reinvite_multiplier
                main = rates.accept_with_note * lift if not s.reinvite else blank
                p_main.append(min(1.0, main) * ones)
                p_blank.append(min(1.0, blank) * ones)
                p_free.append(min(1.0, main) * ones)
                samplers.append(DelaySampler(delays.accept, cfg.invitations.invite_window_days))
            elif s.kind == Kind.MESSAGE:
                rate = rates.reply_after_accept[s.message_index]
                p_main.append(rate * ones)
                p_blank.append(rate * ones)
                p_free.append(rate * ones)
                samplers.append(DelaySampler(delays.message_reply or delays.reply, reply_window))
            elif s.kind == Kind.INMAIL:
                p_main.append(rates.inmail_reply_paid * ones)
                p_blank.append(rates.inmail_reply_paid * ones)
                p_free.append(rates.inmail_reply_open * ones)
                samplers.append(DelaySampler(delays.inmail_reply or delays.reply, reply_window))
            else:
                rate = rates.inmail_followup_reply
                p_main.append(rate * ones)
                p_blank.append(rate * ones)
                p_free.append(rate * ones)
                samplers.append(DelaySampler(delays.followup_reply or delays.reply, reply_window))
        self.p_main = np.array(p_main)  # note used / paid InMail / the touch's rate
        self.p_blank = np.array(p_blank)  # request without a note
        self.p_free = np.array(p_free)  # free InMail to an Open Profile
        self.samplers = samplers
        self.outcome_keys = np.array(
            [
                self.streams.stream_keys(
                    self.segments.lists[self.entry_segment[s.entry]].key, role_id(s.role)
                )
                for s in steps
            ]
        )
        self.wait_keys = np.array(
            [
                self.streams.stream_keys(
                    self.segments.lists[self.entry_segment[s.entry]].key,
                    role_id(f"wait/{s.role}"),
                )
                for s in steps
            ]
        )
        self.funnel_keys = {
            name: (
                self.streams.stream_keys(lst.key, role_id("positive")),
                self.streams.stream_keys(lst.key, role_id("meeting")),
            )
            for name, lst in self.segments.lists.items()
        }
        self.segment_of_offset = sorted(
            (self.segments.offset[name], name) for name in self.segments.lists
        )
        self.restriction_keys = self.streams.stream_keys(role_id("restriction"))

    # --- helpers -------------------------------------------------------------------

    def _units(self, rep: np.ndarray, pid: np.ndarray) -> np.ndarray:
        if self.seats == 1:
            return rep.astype(np.int64)
        return rep.astype(np.int64) * self.seats + self.seat_of[self._flat(rep, pid)]

    def _flat(self, rep: np.ndarray, pid: np.ndarray) -> np.ndarray:
        """Index of (replication, prospect) into the flat per-prospect arrays."""
        return rep.astype(np.int64) * self.segments.total + pid

    def _distinct(self, flat: np.ndarray) -> np.ndarray:
        """A mask keeping one item per prospect (which one, for equal ids, is arbitrary)."""
        order = np.arange(flat.size, dtype=np.int32)
        self._stamp[flat] = order
        return self._stamp[flat] == order

    def _first_per_prospect(self, flat: np.ndarray) -> np.ndarray:
        """A mask keeping, per prospect, its first item in the array's order."""
        keep = self._distinct(flat)
        if not keep.all():
            shared = np.isin(flat, flat[~keep])
            idx = np.flatnonzero(shared)
            _, first = np.unique(flat[idx], return_index=True)
            keep[idx] = False
            keep[idx[first]] = True
        return keep

    def _add_open(self, flat: np.ndarray, amount: int) -> None:
        """open_items += amount for each item (a prospect may appear more than once)."""
        while flat.size:
            self.open_items[flat] += amount
            flat = flat[~self._distinct(flat)]

    def _tally(self, name: str, rep: np.ndarray, weights: np.ndarray | None = None) -> None:
        if rep.size:
            counts = np.bincount(rep, weights=weights, minlength=self.reps)
            self.flows[:, self.month, FLOW_INDEX[name]] += counts.astype(np.int64)

    def _tally_units(self, name: str, per_unit: np.ndarray) -> None:
        self.flows[:, self.month, FLOW_INDEX[name]] += per_unit.reshape(
            self.reps, self.seats
        ).sum(axis=1)

    def _positions(self, pid: np.ndarray, step: np.ndarray) -> np.ndarray:
        return pid.astype(np.int64) - self.step_offset[step]

    def _uniform(self, keys: np.ndarray, rep: np.ndarray, pid: np.ndarray, step: np.ndarray):
        return Streams.uniforms(keys[step, rep], self._positions(pid, step))

    def _wait(self, rep: np.ndarray, pid: np.ndarray, step: np.ndarray) -> np.ndarray:
        lo, hi = self.step_wait_lo[step], self.step_wait_hi[step]
        u = self._uniform(self.wait_keys, rep, pid, step)
        return lo + np.floor(u * (hi - lo + 1)).astype(np.int64)

    def _schedule(self, day_from: np.ndarray, rep, pid, step, with_wait: bool = True) -> None:
        """Schedule touch `step` for these prospects: one more open item each."""
        if rep.size == 0:
            return
        due = day_from + (self._wait(rep, pid, step) if with_wait else 0)
        self._add_open(self._flat(rep, pid), 1)
        self.touches.file(due, make_batch(rep=rep, pid=pid, step=step))

    def _close_items(self, rep: np.ndarray, pid: np.ndarray) -> None:
        """One open item of each prospect resolved; exhaust those left with none."""
        if rep.size == 0:
            return
        flat = self._flat(rep, pid)
        self._add_open(flat, -1)
        done = (self.open_items[flat] == 0) & (self.status[flat] == ACTIVE)
        if done.any():
            idx = np.flatnonzero(done)
            idx = idx[self._distinct(flat[idx])]
            self.status[flat[idx]] = EXHAUSTED
            self._tally("prospects_exhausted", rep[idx])

    # --- the day's steps -----------------------------------------------------------

    def run(self) -> BlockResult:
        reps, units, days = self.reps, self.reps * self.seats, self.days
        plan, cfg = self.plan, self.config
        self.flows = np.zeros((reps, self.months, len(FLOWS)), dtype=np.int64)
        stocks = np.zeros((reps, self.months, len(STOCKS)), dtype=np.int64)
        n_flat = reps * self.segments.total
        self.status = np.zeros(n_flat, dtype=np.int8)
        self.open_items = np.zeros(n_flat, dtype=np.int8)
        self.seat_of = np.zeros(n_flat if self.seats > 1 else 0, dtype=np.int8)
        self._stamp = np.zeros(n_flat, dtype=np.int32)
        self.ledger = CreditLedger(units, days, cfg.inmail.credit_expiry_days)
        self.limiter = InvitationLimiter(cfg.invitations, units, days)
        self.outcomes_cr = Calendar(days)
        self.outcomes_reply = Calendar(days)
        self.touches = Calendar(days)
        self.deferred: Batch = empty_batch()
        for lst in self.segments.lists.values():
            lst.next_op[:] = 0
            lst.next_other[:] = 0
        pace = self.strategy.daily_pace
        for day in range(days):
            self.day = day
            self.month = month = day // 30
            # step 1: month start, expiry, today's allowances
            expired = self.ledger.start_day(day)
            self._tally_units("credits_expired", expired)
            if day % 30 == 0:
                added, forfeited = self.ledger.grant(plan.credits_per_month, plan.credits_cap)
                self._tally_units("credits_granted", np.full(units, plan.credits_per_month))
                self._tally_units("credits_forfeited", forfeited)
                self.notes_left = np.full(units, _pool(plan.notes_per_month))
                self.open_left = np.full(units, np.int64(cfg.inmail.open_profile_monthly_cap))
                for seg in cfg.segments.values():
                    arrived = seg.size if month == 0 else seg.new_per_month
                    self.flows[:, month, FLOW_INDEX["prospects_added"]] += arrived
            if cfg.invitations.restriction.enabled:
                self._draw_restrictions(day)
            limit = self.limiter.limit_in_force(day)
            self.invites_left = self.limiter.allowance(day, limit, pace.connect)
            self.messages_left = np.full(units, _pool(pace.message))
            self.inmails_left = np.full(units, _pool(pace.inmail))
            # step 2: outcomes due today (replies first)
            self._resolve_replies(self.outcomes_reply.pop(day))
            self._resolve_invitations(self.outcomes_cr.pop(day))
            # step 3: scheduled touches, first in first out
            self._send_scheduled(concat([self.deferred, self.touches.pop(day)]))
            # step 4 and 5: new starts, each touch drawing its outcome as it is sent
            self._start_new()
            if day % 30 == 29 or day == days - 1:
                s = stocks[:, month]
                s[:, STOCKS.index("credit_balance_end")] = self.ledger.balance.reshape(
                    reps, self.seats
                ).sum(axis=1)
                s[:, STOCKS.index("invitations_pending_end")] = self.limiter.pending.reshape(
                    reps, self.seats
                ).sum(axis=1)
                s[:, STOCKS.index("invitation_limit_end")] = limit.reshape(reps, self.seats).sum(
                    axis=1
                )
                s[:, STOCKS.index("prospects_in_flight_end")] = (
                    (self.status.reshape(reps, -1) == ACTIVE).sum(axis=1)
                )
        monthly = np.concatenate([self.flows, stocks], axis=2)
        assert monthly.shape[2] == len(COUNTS)
        return BlockResult(monthly=monthly)

    def _draw_restrictions(self, day: int) -> None:
        limiter = self.limiter
        rules = self.config.invitations.restriction
        free = limiter.restricted_until <= day
        unit = np.arange(self.reps * self.seats)
        rep = unit // self.seats
        counter = np.int64(day) * self.seats + unit % self.seats
        u = Streams.uniforms(self.restriction_keys[rep], counter)
        hit = free & (u < limiter.restriction_probability(day))
        limiter.restricted_until[hit] = day + rules.restriction_days
        restricted_today = limiter.restricted_until > day
        self._tally_units("restricted_days", restricted_today.astype(np.int64))

    def _resolve_replies(self, batch: Batch) -> None:
        if batch["rep"].size == 0:
            return
        rep, pid, step = batch["rep"], batch["pid"], batch["step"]
        replied = np.flatnonzero(batch["ok"])
        if replied.size:
            # the first reply ends the playbook; a same-day tie goes to the touch sent first
            order = replied[np.lexsort((step[replied], batch["sent"][replied]))]
            flat = self._flat(rep[order], pid[order])
            live = self.status[flat] == ACTIVE
            order, flat = order[live], flat[live]
            first = self._first_per_prospect(flat)
            win = order[first]
            r, p, s = rep[win], pid[win], step[win]
            self.status[flat[first]] = REPLIED
            kind = self.step_kind[s]
            self._tally("replies", r)
            self._tally("prospects_replied", r)
            self._tally("replies_message", r[kind == Kind.MESSAGE])
            self._tally("replies_inmail", r[kind == Kind.INMAIL])
            self._tally("replies_followup", r[kind == Kind.FOLLOWUP])
            self._funnel(r, p)
            inmail_like = (kind == Kind.INMAIL) | (kind == Kind.FOLLOWUP)
            paid = inmail_like & ~self._is_free(r, p, s)
            in_window = self.day - batch["sent"][win] <= self.config.inmail.refund_window_days
            refund = paid & in_window & self.config.inmail.refunds
            if refund.any():
                per_unit = np.bincount(
                    self._units(r[refund], p[refund]), minlength=self.reps * self.seats
                )
                self.ledger.refund(per_unit)
                self._tally_units("credits_refunded", per_unit)
        self._close_items(rep, pid)

    def _funnel(self, rep: np.ndarray, pid: np.ndarray) -> None:
        for offset, name in reversed(self.segment_of_offset):
            here = pid >= offset
            if not here.any():
                continue
            r, p = rep[here], pid[here].astype(np.int64) - offset
            rates = self.config.segments[name].rates
            k_pos, k_meet = self.funnel_keys[name]
            positive = Streams.uniforms(k_pos[r], p) < rates.positive_share
            meeting = positive & (Streams.uniforms(k_meet[r], p) < rates.meeting_share)
            self._tally("positive_replies", r[positive])
            self._tally("meetings", r[meeting])
            rep, pid = rep[~here], pid[~here]

    def _is_free(self, rep: np.ndarray, pid: np.ndarray, step: np.ndarray) -> np.ndarray:
        """Whether an InMail of these prospects is free (Open Profile, plan allows it)."""
        if not self.plan.open_profile_messages:
            return np.zeros(rep.size, dtype=bool)
        return self._open_profile(rep, pid, step)

    def _open_profile(self, rep: np.ndarray, pid: np.ndarray, step: np.ndarray) -> np.ndarray:
        out = np.zeros(rep.size, dtype=bool)
        entries = self.step_entry[step]
        for e, name in enumerate(self.entry_segment):
            here = entries == e
            if here.any():
                lst = self.segments.lists[name]
                pos = pid[here].astype(np.int64) - self.segments.offset[name]
                out[here] = lst.is_open_profile[rep[here], pos]
        return out

    def _resolve_invitations(self, batch: Batch) -> None:
        if batch["rep"].size == 0:
            return
        rep, pid, step, accepted = batch["rep"], batch["pid"], batch["step"], batch["ok"]
        unit = self._units(rep, pid)
        units = self.reps * self.seats
        self.limiter.pending -= np.bincount(unit, minlength=units)
        live = self.status[self._flat(rep, pid)] == ACTIVE  # no reply has ended the playbook
        acc = live & accepted
        wd = live & ~accepted
        self.limiter.accepted[:, self.day] += np.bincount(unit[acc], minlength=units).astype(
            np.int32
        )
        self.limiter.withdrawn[:, self.day] += np.bincount(unit[wd], minlength=units).astype(
            np.int32
        )
        self._tally("acceptances", rep[acc])
        self._tally("withdrawals", rep[wd])
        today = np.full(rep.size, self.day, dtype=np.int64)
        # accepted: the message sequence starts
        first = self.step_first_message[step]
        go = acc & (first >= 0)
        self._schedule(today[go], rep[go], pid[go], first[go])
        # withdrawn: re-invite after the cooldown, else the next touch of the route
        again = self.step_reinvite[step]
        re = wd & (again >= 0)
        cooldown = self.config.invitations.reinvite_cooldown_days
        self._schedule(today[re] + cooldown, rep[re], pid[re], again[re], with_wait=False)
        nxt = self.step_next[step]
        fall = wd & (again < 0) & (nxt >= 0)
        self._schedule(today[fall], rep[fall], pid[fall], nxt[fall])
        self._close_items(rep, pid)

    def _send_scheduled(self, batch: Batch) -> None:
        if batch["rep"].size == 0:
            self.deferred = batch
            return
        rep, pid = batch["rep"], batch["pid"]
        cancelled = self.status[self._flat(rep, pid)] != ACTIVE
        if cancelled.any():
            self._close_items(rep[cancelled], pid[cancelled])
            batch = take(batch, np.flatnonzero(~cancelled))
            rep, pid = batch["rep"], batch["pid"]
        step = batch["step"]
        kind = self.step_kind[step]
        unit = self._units(rep, pid) if rep.size else rep.astype(np.int64)
        send = np.zeros(rep.size, dtype=bool)
        # messages: the daily pace of messages
        m = np.flatnonzero(kind == Kind.MESSAGE)
        send[m] = rank_within(unit[m]) < self.messages_left[unit[m]]
        # requests: today's invitation allowance
        c = np.flatnonzero(kind == Kind.CONNECT)
        send[c] = rank_within(unit[c]) < self.invites_left[unit[c]]
        # InMails and follow-ups: a credit or the Open Profile cap, then the InMail pace
        i = np.flatnonzero((kind == Kind.INMAIL) | (kind == Kind.FOLLOWUP))
        if i.size:
            free = self._is_free(rep[i], pid[i], step[i])
            ui = unit[i]
            own_pool = np.where(free, self.open_left[ui], self.ledger.balance[ui])
            ok = np.zeros(i.size, dtype=bool)
            for is_free in (False, True):
                sel = np.flatnonzero(free == is_free)
                ok[sel] = rank_within(ui[sel]) < own_pool[sel]
            fits = np.flatnonzero(ok)
            ok[fits] = rank_within(ui[fits]) < self.inmails_left[ui[fits]]
            send[i] = ok
        sent = np.flatnonzero(send)
        self.deferred = take(batch, np.flatnonzero(~send))
        if sent.size:
            self._consume_and_send(rep[sent], pid[sent], step[sent])

    def _consume_and_send(self, rep: np.ndarray, pid: np.ndarray, step: np.ndarray) -> None:
        """Take today's budgets for these touches and send them (steps 3 to 5)."""
        units = self.reps * self.seats
        unit = self._units(rep, pid)
        kind = self.step_kind[step]
        for k in (Kind.CONNECT, Kind.MESSAGE, Kind.INMAIL, Kind.FOLLOWUP):
            sel = np.flatnonzero(kind == k)
            if sel.size == 0:
                continue
            per_unit = np.bincount(unit[sel], minlength=units)
            if k == Kind.CONNECT:
                self.invites_left -= per_unit
                self._send_requests(rep[sel], pid[sel], step[sel], unit[sel])
            elif k == Kind.MESSAGE:
                self.messages_left -= per_unit
                self._send_replyable(rep[sel], pid[sel], step[sel], None)
            else:
                free = self._is_free(rep[sel], pid[sel], step[sel])
                paid_units = np.bincount(unit[sel][~free], minlength=units)
                self.ledger.spend(paid_units)
                self._tally_units("credits_spent", paid_units)
                self.open_left -= np.bincount(unit[sel][free], minlength=units)
                self.inmails_left -= per_unit
                prefix = "inmails" if k == Kind.INMAIL else "followups"
                self._tally(f"{prefix}_paid", rep[sel][~free])
                self._tally(f"{prefix}_free", rep[sel][free])
                self._send_replyable(rep[sel], pid[sel], step[sel], free)

    def _send_requests(self, rep, pid, step, unit) -> None:
        """Connection requests: a note while the quota lasts, then the outcome is drawn."""
        units = self.reps * self.seats
        wants_note = self.step_note[step]
        note = np.zeros(rep.size, dtype=bool)
        w = np.flatnonzero(wants_note)
        note[w] = rank_within(unit[w]) < self.notes_left[unit[w]]
        self.notes_left -= np.bincount(unit[note], minlength=units)
        self._tally("connects_sent", rep)
        self._tally("notes_used", rep[note])
        self._tally("reinvites_sent", rep[self.step_is_reinvite[step]])
        per_unit = np.bincount(unit, minlength=units)
        self.limiter.sent[:, self.day] += per_unit.astype(np.int32)
        self.limiter.pending += per_unit
        p = np.where(note, self.p_main[step, rep], self.p_blank[step, rep])
        u = self._uniform(self.outcome_keys, rep, pid, step)
        accepted = u < p
        due = np.full(rep.size, self.day + self.config.invitations.invite_window_days)
        a = np.flatnonzero(accepted)
        if a.size:
            delay = self._delays(step[a], u[a] / p[a])
            due[a] = self.day + delay
        self.outcomes_cr.file(
            due, make_batch(rep=rep, pid=pid, step=step, sent=np.full(rep.size, self.day), ok=accepted)
        )

    def _delays(self, step: np.ndarray, v: np.ndarray) -> np.ndarray:
        out = np.empty(step.size, dtype=np.int64)
        for s in np.unique(step).tolist():
            here = step == s
            out[here] = self.samplers[s].days(v[here])
        return out

    def _send_replyable(self, rep, pid, step, free: np.ndarray | None) -> None:
        """Messages, InMails, follow-ups: draw the reply, schedule the route's next touch."""
        if free is None:
            p = self.p_main[step, rep]
        else:
            p = np.where(free, self.p_free[step, rep], self.p_main[step, rep])
        if free is None:
            self._tally("messages_sent", rep)
        u = self._uniform(self.outcome_keys, rep, pid, step)
        replied = u < p
        due = np.full(rep.size, self.day + self.config.response_window_days)
        a = np.flatnonzero(replied)
        if a.size:
            due[a] = self.day + self._delays(step[a], u[a] / p[a])
        self.outcomes_reply.file(
            due, make_batch(rep=rep, pid=pid, step=step, sent=np.full(rep.size, self.day), ok=replied)
        )
        nxt = self.step_next[step]
        go = nxt >= 0
        self._schedule(np.full(int(go.sum()), self.day), rep[go], pid[go], nxt[go])

    def _start_new(self) -> None:
        """Step 4: start new prospects, seat by seat, segment by segment, in list order."""
        all_reps = np.arange(self.reps)
        for seat in range(self.seats):
            unit = all_reps * self.seats + seat
            for e, entry in enumerate(self.strategy.playbook):
                lst = self.segments.lists[entry.segment]
                other_route, op_route = self.book.routes[e]
                avail_op, avail_other = lst.available(self.month)
                if not (avail_op.any() or avail_other.any()):
                    continue
                pools_op = self._first_touch_pools(op_route.first_step, unit, open_profile=True)
                pools_other = self._first_touch_pools(other_route.first_step, unit, False)
                shared = [n for n in pools_op if n in pools_other]
                new_left = _pool(entry.new_per_day)
                wanted = np.full(self.reps, new_left)
                for name in shared:
                    wanted = np.minimum(wanted, pools_op[name])
                cap_op, cap_other = avail_op.copy(), avail_other.copy()
                for name, pool in pools_op.items():
                    if name not in shared:
                        cap_op = np.minimum(cap_op, pool)
                for name, pool in pools_other.items():
                    if name not in shared:
                        cap_other = np.minimum(cap_other, pool)
                wanted = np.minimum(wanted, avail_op + avail_other)
                if not wanted.any():
                    continue
                in_order = lst.open_profiles_among_next(wanted)
                n_op = np.minimum(cap_op, np.maximum(in_order, wanted - cap_other))
                n_other = np.minimum(cap_other, np.maximum(wanted - in_order, wanted - cap_op))
                n_op = np.maximum(n_op, 0)
                n_other = np.maximum(n_other, 0)
                offset = self.segments.offset[entry.segment]
                rows_op, idx_op = ragged_arange(lst.next_op, n_op)
                rows_ot, idx_ot = ragged_arange(lst.next_other, n_other)
                pid_op = offset + lst.op_positions(rows_op, idx_op)
                pid_ot = offset + lst.other_positions(rows_ot, idx_ot)
                lst.next_op += n_op
                lst.next_other += n_other
                rep = np.concatenate([rows_op, rows_ot]).astype(np.int32)
                pid = np.concatenate([pid_op, pid_ot]).astype(np.int32)
                step = np.concatenate(
                    [
                        np.full(rows_op.size, op_route.first_step),
                        np.full(rows_ot.size, other_route.first_step),
                    ]
                ).astype(np.int16)
                flat = self._flat(rep, pid)
                self.status[flat] = ACTIVE
                self.open_items[flat] = 1
                if self.seats > 1:
                    self.seat_of[flat] = seat
                self._tally("prospects_started", rep)
                self._consume_and_send(rep, pid, step)

    def _first_touch_pools(self, step: int, unit: np.ndarray, open_profile: bool) -> dict:
        """The budgets (per replication, for one seat) a route's first touch draws on."""
        kind = self.step_kind[step]
        if kind == Kind.CONNECT:
            return {"invitations": self.invites_left[unit]}
        if open_profile and self.plan.open_profile_messages:
            return {"inmail_pace": self.inmails_left[unit], "open_cap": self.open_left[unit]}
        return {"inmail_pace": self.inmails_left[unit], "credits": self.ledger.balance[unit]}


def simulate_block(config: Config, strategy: str, replications: np.ndarray, seed: int) -> np.ndarray:
    """Monthly counts (reps, months, counts) of one strategy for these replications."""
    return Simulation(config, strategy, replications, seed).run().monthly
