"""A slow, obviously correct reference simulation: the test oracle of the engine.

Each replication is simulated prospect by prospect and day by day, in the order of
MODEL.md section 10, with the choices of docs/model-choices.md. Nothing is vectorised
or clever: every rule is a few lines citing what it implements ("§" is a section of
MODEL.md, "MC" a heading of docs/model-choices.md). It shares no random numbers with the
engine; the two must agree in distribution only.

Where model-choices.md leaves a detail open, this file chooses (and the engine must agree):

- A touch deferred for lack of budget is due again the next day (§15 "deferred to the
  next day"): a reply that has arrived by the day it would be sent cancels it. So a
  replied prospect sends nothing more; a reply still on its way cancels nothing.
- An invitation stays pending until it is accepted or withdrawn, even when a reply to
  another touch has ended the playbook (the outcome is then discarded for health).
- A touch scheduled by a touch sent today (step 3 or 4) with a wait of 0 is due the next
  day (MC: "a wait of 0 after a sent touch means the next day").
- `max_pending` compares with the invitations pending when the request would be sent (after
  today's step 2). Restriction risk uses those pending at step 1.
- Warm-up share in week w (= day // 7) is start + (1 - start) * w / warmup_weeks, 1 from
  week warmup_weeks on. Config decimals enter exact arithmetic as the fraction they spell
  (0.3 is 3/10): `Fraction(repr(x))`.
- Follow-ups on a plan without `followup_inmail: yes` are removed from the route: the next
  touch waits its own if_no_reply_after_days after the InMail; a fallback naming a removed
  follow-up goes on at the touch after it.
- A start is handled as a scheduled touch due today: the prospect is exhausted that day
  when its first touch leaves nothing open (an engagement, a missing address, at the end
  of its route).
- `prospects_added` counts every segment of the config, whether or not the playbook uses it.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from simulator.config import Config, Invitations, PlaybookEntry, Segment
from simulator.metrics import FLOWS
from simulator.uncertainty import with_values

IN_FLIGHT, REPLIED, EXHAUSTED = "in_flight", "replied", "exhausted"

# The daily_pace kind of each step (§7 daily_pace; re-invitations and follow-ups included).
PACE_KIND = {
    "connect": "connect",
    "reinvite": "connect",
    "message": "message",
    "inmail": "inmail",
    "inmail_followup": "inmail",
    "email": "email",
    "whatsapp": "whatsapp",
    "engage": "engage",
}
# The reply counter of each touch that can get a reply (§11).
REPLY_COUNTER = {
    "message": "replies_message",
    "inmail": "replies_inmail",
    "inmail_followup": "replies_followup",
    "email": "replies_email",
    "whatsapp": "replies_whatsapp",
}
# §11 cost: the counts of touches sent that each touch kind prices and times
SENT_COUNTERS = {
    "connect": ["connects_sent"],
    "message": ["messages_sent"],
    "inmail": ["inmails_paid", "inmails_free"],
    "inmail_followup": ["followups_paid", "followups_free"],
    "email": ["emails_sent"],
    "whatsapp": ["whatsapps_sent"],
    "engage": ["engagements"],
}


# --- the invitation limit: §7, §15 "Account health", MC "Limit in force" ---------------


def exact(value: float) -> Fraction:
    """A config decimal as the exact fraction it spells: 0.3 -> 3/10, not the binary float."""
    return Fraction(repr(value))


def health_factor(accepted: int, resolved: int, inv: Invitations) -> Fraction:
    """§7: 1 at or above good_acceptance, floor_factor at or below poor, linear between."""
    if resolved == 0:  # §15: with none resolved in the window, the factor is 1
        return Fraction(1)
    rate = Fraction(accepted, resolved)
    good, poor = exact(inv.good_acceptance), exact(inv.poor_acceptance)
    floor_factor = exact(inv.floor_factor)
    if rate >= good:
        return Fraction(1)
    if rate <= poor:
        return floor_factor
    return floor_factor + (1 - floor_factor) * (rate - poor) / (good - poor)


def warmup_share(day: int, inv: Invitations) -> Fraction:
    """§7 warm-up: from warmup_start_share in week 0, linearly, to 1 in week warmup_weeks."""
    week = day // 7
    if week >= inv.warmup_weeks:
        return Fraction(1)
    start = exact(inv.warmup_start_share)
    return start + (1 - start) * Fraction(week, inv.warmup_weeks)


def limit_in_force(day: int, accepted: int, resolved: int, inv: Invitations) -> int:
    """MC: floor(base * factor), base = floor(weekly_limit * w), in exact arithmetic."""
    base = math.floor(inv.weekly_limit * warmup_share(day, inv))
    return math.floor(base * health_factor(accepted, resolved, inv))


# --- delays and outcomes: §15 "Delays", MC "Outcomes" -----------------------------------


def delay_cdf(delay: Any, window: int) -> np.ndarray:
    """CDF over delays of 1..window days, truncated at the window and renormalised in it.

    lognormal: day k has the mass of (k-1, k]; fixed: all mass on `days`; pmf: P(1), P(2), ...
    """
    mass = np.zeros(window)
    if delay.dist == "lognormal":
        edges = stats.lognorm(s=delay.sigma, scale=delay.median).cdf(np.arange(window + 1))
        mass = np.diff(edges)
    elif delay.dist == "fixed":
        if delay.days <= window:
            mass[delay.days - 1] = 1.0
    else:
        probs = delay.probs[:window]
        mass[: len(probs)] = probs
    if mass.sum() <= 0:
        raise ValueError(f"delay {delay!r} has no mass within a window of {window} days")
    cdf = np.cumsum(mass) / mass.sum()
    cdf[-1] = 1.0
    return cdf


def draw_outcome(rng: np.random.Generator, probability: float, cdf: np.ndarray) -> int | None:
    """One uniform U: success when U < p, then the delay is the cdf's quantile at U / p."""
    u = rng.random()
    if u >= probability:
        return None
    return int(np.searchsorted(cdf, u / probability, side="right")) + 1


def segment_cdfs(config: Config, segment: Segment) -> dict[str, np.ndarray]:
    """A segment's delay cdfs per touch kind; per-touch reply delays default to `reply`."""
    delays, reply_window = segment.delays, config.response_window_days

    def reply_delay(specific: Any) -> np.ndarray:
        return delay_cdf(specific if specific is not None else delays.reply, reply_window)

    return {
        "accept": delay_cdf(delays.accept, config.invitations.invite_window_days),
        "message": reply_delay(delays.message_reply),
        "inmail": reply_delay(delays.inmail_reply),
        "inmail_followup": reply_delay(delays.followup_reply),
        "email": reply_delay(delays.email_reply),
        "whatsapp": reply_delay(delays.whatsapp_reply),
    }


# --- the state of one replication ---------------------------------------------------------


@dataclass
class Step:
    """A touch to send: its kind, its index in the route, and for a message its number k."""

    kind: str  # connect, reinvite, message, inmail, inmail_followup, email, whatsapp, engage
    index: int  # position in the route (for messages and re-invitations: of their connect)
    message: int = 0


@dataclass(eq=False)
class Seat:
    """One sending seat: every limit and quota is per seat (§3)."""

    lots: list[list[int]] = field(default_factory=list)  # [day granted, credits left], oldest first
    notes_left: int | None = None  # None: unlimited
    open_profile_left: int = 0
    pending: int = 0  # invitations sent and not yet accepted or withdrawn
    sent_on: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    accepted_on: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    resolved_on: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    restricted_until: int = 0  # first day on which the seat is no longer restricted
    limit: int = 0  # today's limit in force
    sent_today: dict[str, int] = field(default_factory=dict)  # per pace kind
    scheduled: defaultdict[int, list] = field(default_factory=lambda: defaultdict(list))
    deferred: list = field(default_factory=list)  # (prospect, step), first in first out

    @property
    def balance(self) -> int:
        return sum(left for _, left in self.lots)


@dataclass(eq=False)
class Prospect:
    segment: Segment
    open_profile: bool
    seat: Seat
    route: list  # the touches of its route (follow-ups removed where the plan has none)
    listed: list  # the route's touches as the config lists them (fallbacks name these)
    cdfs: dict[str, np.ndarray]
    addresses: dict[str, bool] = field(default_factory=dict)  # drawn when first needed
    state: str = IN_FLIGHT
    open_items: int = 0  # touches in flight plus touches scheduled (MC exhaustion)
    invitation_pending: bool = False


@dataclass(eq=False)
class Sent:
    """A touch that was sent, waiting for its outcome."""

    prospect: Prospect
    step: Step
    day: int
    order: int  # global sending order: the same-day tie goes to the touch sent first
    paid: bool = False


@dataclass
class ProspectList:
    """A segment's list positions not yet started, in two queues by Open Profile badge (MC)."""

    size: int = 0
    queues: dict[bool, deque[int]] = field(default_factory=lambda: {False: deque(), True: deque()})

    def add(self, count: int, open_profile_share: float, rng: np.random.Generator) -> None:
        badge = rng.random(count) < open_profile_share  # each position independently (MC)
        positions = self.size + np.arange(count)
        self.queues[True].extend(positions[badge].tolist())
        self.queues[False].extend(positions[~badge].tolist())
        self.size += count


class Replication:
    """One realisation of the whole horizon, day by day (§10)."""

    def __init__(self, config: Config, strategy: str, cdfs: dict, rng: np.random.Generator):
        self.config = config
        self.inv = config.invitations
        self.strategy = config.strategies[strategy]
        self.plan = config.plans[self.strategy.plan]
        self.cdfs = cdfs
        self.rng = rng
        self.counts = dict.fromkeys(FLOWS, 0)
        self.seats = [Seat() for _ in range(config.accounts)]
        self.lists = {name: ProspectList() for name in config.segments}
        self.events: defaultdict[int, list[tuple[str, Sent]]] = defaultdict(list)
        self.started: list[Prospect] = []
        self.order = 0
        self.day = 0

    def run(self) -> dict[str, float]:
        for t in range(self.config.horizon_days):  # MC: outcomes due later never resolve
            self.day = t
            self.step1_start_of_day()
            self.step2_outcomes()
            for seat in self.seats:
                self.step3_scheduled(seat)
            self.step4_starts()
        return {
            **self.counts,
            "credit_balance_end": sum(seat.balance for seat in self.seats),
            "invitations_pending_end": sum(seat.pending for seat in self.seats),
            "prospects_in_flight_end": sum(p.state == IN_FLIGHT for p in self.started),
            "invitation_limit_end": sum(seat.limit for seat in self.seats),
        }

    # --- step 1: month start, credit expiry, the limit, restriction --------------------

    def step1_start_of_day(self) -> None:
        t, plan, inv = self.day, self.plan, self.inv
        month_start = t % 30 == 0  # §2: months start on days 0, 30, ...
        if month_start:  # MC Prospects: `size` at day 0, `new_per_month` at later month starts
            for name, segment in self.config.segments.items():
                count = segment.size if t == 0 else segment.new_per_month
                self.lists[name].add(count, segment.open_profile_share, self.rng)
                self.counts["prospects_added"] += count
        for seat in self.seats:
            seat.sent_today = dict.fromkeys(PACE_KIND.values(), 0)
            # §15 credit expiry: a lot of day d expires at step 1 of day d + expiry, before grants
            expiry = self.config.inmail.credit_expiry_days
            self.counts["credits_expired"] += sum(n for d, n in seat.lots if d + expiry <= t)
            seat.lots = [lot for lot in seat.lots if lot[0] + expiry > t]
            if month_start:
                # §15 Grants: add min(grant, max(0, cap - balance)); the rest is forfeited
                grant = plan.credits_per_month
                added = min(grant, max(0, plan.credits_cap - seat.balance))
                self.counts["credits_granted"] += grant
                self.counts["credits_forfeited"] += grant - added
                if added:
                    seat.lots.append([t, added])
                # §15 Calendar: note and Open Profile quotas reset at month starts
                seat.notes_left = plan.notes_per_month
                seat.open_profile_left = self.config.inmail.open_profile_monthly_cap
            # MC Limit in force, from invitations resolved on days t - window .. t - 1
            window = range(t - inv.health_window_days, t)
            accepted = sum(seat.accepted_on[d] for d in window)
            resolved = sum(seat.resolved_on[d] for d in window)
            seat.limit = limit_in_force(t, accepted, resolved, inv)
            # MC Restriction: a logistic chance each day for a seat not already restricted
            risk = inv.restriction
            if risk.enabled and seat.restricted_until <= t:
                acceptance = accepted / resolved if resolved else 1.0
                z = risk.intercept + risk.per_pending * seat.pending
                z += risk.per_low_acceptance * (1 - acceptance)
                if self.rng.random() < logistic(z):
                    seat.restricted_until = t + risk.restriction_days
            if seat.restricted_until > t:
                self.counts["restricted_days"] += 1

    # --- step 2: outcomes due today -----------------------------------------------------

    def step2_outcomes(self) -> None:
        due = self.events.pop(self.day, [])
        # MC Outcomes: replies before invitation outcomes; a prospect's earliest-sent touch first
        replies = [sent for outcome, sent in due if outcome == "reply"]
        for sent in sorted(replies, key=lambda sent: sent.order):
            self.reply(sent)
        for outcome, sent in due:
            if outcome == "reply":
                continue
            if sent.prospect.state != IN_FLIGHT:  # discarded after the first reply (§15),
                if outcome in ("accept", "withdraw"):  # but the invitation is no longer pending
                    sent.prospect.seat.pending -= 1
                    sent.prospect.invitation_pending = False
                continue
            if outcome == "accept":
                self.accepted(sent)
            elif outcome == "withdraw":
                self.withdrawn(sent)
            else:  # "no_reply": unanswered at the end of the response window
                self.close_item(sent.prospect)

    def reply(self, sent: Sent) -> None:
        prospect, seat, t = sent.prospect, sent.prospect.seat, self.day
        if prospect.state != IN_FLIGHT:
            return  # §5: only the first reply counts
        prospect.state = REPLIED  # the playbook ends: scheduled touches are cancelled
        prospect.open_items = 0
        self.counts["replies"] += 1
        self.counts[REPLY_COUNTER[sent.step.kind]] += 1
        self.counts["prospects_replied"] += 1
        rates = prospect.segment.rates
        if self.rng.random() < rates.positive_share:  # MC: positive_share, then meeting_share
            self.counts["positive_replies"] += 1
            if self.rng.random() < rates.meeting_share:
                self.counts["meetings"] += 1
        # MC Credits: a counted reply to a paid touch within the (inclusive) window refunds
        inmail = self.config.inmail
        if sent.paid and inmail.refunds and t - sent.day <= inmail.refund_window_days:
            seat.lots.append([t, 1])
            self.counts["credits_refunded"] += 1

    def accepted(self, sent: Sent) -> None:
        prospect = sent.prospect
        self.invitation_resolved(prospect, accepted=True)
        self.counts["acceptances"] += 1
        # MC: message 1 is due wait_days after the acceptance day; the rest of the route
        messages = prospect.route[sent.step.index].on_accept
        if messages:
            self.schedule(prospect, Step("message", sent.step.index, 1), self.wait(messages[0]))
        self.close_item(prospect)

    def withdrawn(self, sent: Sent) -> None:
        prospect, step = sent.prospect, sent.step
        self.invitation_resolved(prospect, accepted=False)
        self.counts["withdrawals"] += 1
        if step.kind == "connect" and prospect.route[step.index].reinvite:
            # MC reinvite: one new request reinvite_cooldown_days after the withdrawal
            cooldown = self.inv.reinvite_cooldown_days
            self.schedule(prospect, Step("reinvite", step.index), cooldown)
        else:  # MC: after a connect, the next touch waits from the (last) withdrawal
            self.schedule_next_in_route(prospect, step.index)
        self.close_item(prospect)

    def invitation_resolved(self, prospect: Prospect, accepted: bool) -> None:
        """§15 Account health: dated by the day it resolved (discarded ones never get here)."""
        seat = prospect.seat
        seat.pending -= 1
        prospect.invitation_pending = False
        seat.resolved_on[self.day] += 1
        seat.accepted_on[self.day] += accepted

    # --- step 3: scheduled touches, first in first out ----------------------------------

    def step3_scheduled(self, seat: Seat) -> None:
        """MC Budgets: deferred touches first, then today's in the order they were scheduled."""
        queue = deque(seat.deferred + seat.scheduled.pop(self.day, []))
        seat.deferred = []
        while queue:
            prospect, step = queue.popleft()
            if prospect.state != IN_FLIGHT:
                continue  # cancelled: the prospect's reply has arrived
            if self.has_budget(seat, prospect.open_profile, step):
                self.send(prospect, step)
                self.close_item(prospect)  # the scheduled item is done; the sent one is open
            else:
                seat.deferred.append((prospect, step))  # to the next day, in order

    # --- step 4: new prospects ----------------------------------------------------------

    def step4_starts(self) -> None:
        """MC Starts: seat by seat, then segment by segment in playbook order."""
        for seat in self.seats:
            for entry in self.strategy.playbook:
                self.start_segment(seat, entry)

    def start_segment(self, seat: Seat, entry: PlaybookEntry) -> None:
        plist, segment = self.lists[entry.segment], self.config.segments[entry.segment]
        blocked = {False: False, True: False}
        started = 0
        while entry.new_per_day is None or started < entry.new_per_day:
            heads = [(plist.queues[b][0], b) for b in (False, True) if plist.queues[b]]
            heads = [(position, badge) for position, badge in heads if not blocked[badge]]
            if not heads:
                return
            _, badge = min(heads)  # the two queues are served in list order
            listed = self.listed(entry, badge)
            route = self.route(listed)
            first = Step(route[0].kind, 0)  # its if_no_reply_after_days is ignored
            if not self.has_budget(seat, badge, first):
                blocked[badge] = True  # waits at the head of its queue; the other moves on
                continue
            plist.queues[badge].popleft()
            prospect = Prospect(segment, badge, seat, route, listed, self.cdfs[entry.segment])
            self.started.append(prospect)
            self.counts["prospects_started"] += 1
            started += 1
            prospect.open_items += 1  # the start, as a touch scheduled for today
            self.send(prospect, first)
            self.close_item(prospect)

    def listed(self, entry: PlaybookEntry, open_profile: bool) -> list:
        """MC: open_profile_touches for the badge (else touches)."""
        touches = entry.open_profile_touches if open_profile else None
        return list(touches or entry.touches)

    def route(self, listed: list) -> list:
        """MC inmail_followup: follow-ups only on plans with `followup_inmail: yes`."""
        if self.plan.followup_inmail != "yes":
            return [touch for touch in listed if touch.kind != "inmail_followup"]
        return listed

    # --- budgets (MC Budgets) -----------------------------------------------------------

    def is_free(self, open_profile: bool) -> bool:
        """MC inmail: free to an Open Profile when the plan has open_profile_messages."""
        return open_profile and self.plan.open_profile_messages

    def has_budget(self, seat: Seat, open_profile: bool, step: Step) -> bool:
        kind = PACE_KIND[step.kind]
        pace = getattr(self.strategy.daily_pace, kind)
        if pace is not None and seat.sent_today[kind] >= pace:
            return False
        if kind == "connect":
            return self.invitation_allowed(seat)
        if kind == "inmail":
            if self.is_free(open_profile):
                return seat.open_profile_left > 0
            return seat.balance > 0
        return True  # a message, email, WhatsApp or engagement needs only its pace

    def invitation_allowed(self, seat: Seat) -> bool:
        """MC Invitation allowance: the rolling 7 days, max_pending, restriction."""
        t = self.day
        if seat.restricted_until > t:
            return False
        if sum(seat.sent_on[d] for d in range(t - 6, t + 1)) >= seat.limit:
            return False
        return self.inv.max_pending is None or seat.pending < self.inv.max_pending

    def spend_credit(self, seat: Seat) -> None:
        """§6: spending takes the oldest lot first."""
        seat.lots[0][1] -= 1
        if seat.lots[0][1] == 0:
            seat.lots.pop(0)
        self.counts["credits_spent"] += 1

    # --- sending a touch (step 5: its outcome and delay are drawn now) ------------------

    def send(self, prospect: Prospect, step: Step) -> None:
        seat, t = prospect.seat, self.day
        seat.sent_today[PACE_KIND[step.kind]] += 1
        self.order += 1
        sent = Sent(prospect, step, t, self.order)
        rates = prospect.segment.rates
        if step.kind in ("connect", "reinvite"):
            self.send_request(sent)
        elif step.kind == "message":
            self.counts["messages_sent"] += 1
            rate = rates.reply_after_accept[step.message - 1]
            self.await_reply(sent, rate * self.engage_lift(prospect, step.index, "reply"))
            messages = prospect.route[step.index].on_accept
            if step.message < len(messages):  # message k+1 waits from message k's sending
                wait = max(1, self.wait(messages[step.message]))  # MC: 0 means the next day
                self.schedule(prospect, Step("message", step.index, step.message + 1), wait)
        elif step.kind == "engage":  # no reply; the route goes on
            self.counts["engagements"] += 1
            self.schedule_next_in_route(prospect, step.index, at_least=1)
        elif step.kind in ("email", "whatsapp"):
            self.send_to_address(sent)
        else:  # inmail or inmail_followup
            first = step.kind == "inmail"
            if self.is_free(prospect.open_profile):
                seat.open_profile_left -= 1
                self.counts["inmails_free" if first else "followups_free"] += 1
                rate = rates.inmail_reply_open if first else rates.inmail_followup_reply
            else:
                self.spend_credit(seat)
                sent.paid = True
                self.counts["inmails_paid" if first else "followups_paid"] += 1
                rate = rates.inmail_reply_paid if first else rates.inmail_followup_reply
            self.await_reply(sent, rate * self.engage_lift(prospect, step.index, "reply"))
            self.schedule_next_in_route(prospect, step.index, at_least=1)

    def send_to_address(self, sent: Sent) -> None:
        """§5 email, whatsapp: a prospect has an address with the segment's share (one draw
        per prospect and channel); without one nothing is sent and the route goes on at
        the touch's fallback, else at its next touch."""
        prospect, channel = sent.prospect, sent.step.kind
        if channel not in prospect.addresses:
            share = getattr(prospect.segment, f"{channel}_share")
            prospect.addresses[channel] = bool(self.rng.random() < share)
        if prospect.addresses[channel]:
            self.counts[f"{channel}s_sent"] += 1
            rate = getattr(prospect.segment.rates, f"{channel}_reply")
            self.await_reply(sent, rate * self.engage_lift(prospect, sent.step.index, "reply"))
            self.schedule_next_in_route(prospect, sent.step.index, at_least=1)
            return
        self.counts[f"{channel}s_unreachable"] += 1
        touch = prospect.route[sent.step.index]
        if touch.fallback is None:
            self.schedule_next_in_route(prospect, sent.step.index, at_least=1)
            return
        named = next(i for i, t in enumerate(prospect.listed) if t.name == touch.fallback)
        later = [t for t in prospect.listed[named:] if any(t is r for r in prospect.route)]
        if later:
            index = next(i for i, t in enumerate(prospect.route) if t is later[0])
            self.schedule(prospect, Step(later[0].kind, index), max(1, self.wait(later[0])))

    def engage_lift(self, prospect: Prospect, index: int, what: str) -> float:
        """§5 engage: each engagement earlier in the route multiplies later rates."""
        rates = prospect.segment.rates
        multiplier = getattr(rates, f"engage_{what}_multiplier")
        return multiplier ** sum(t.kind == "engage" for t in prospect.route[:index])

    def send_request(self, sent: Sent) -> None:
        prospect, seat, t = sent.prospect, sent.prospect.seat, self.day
        rates, touch = prospect.segment.rates, prospect.route[sent.step.index]
        reinvite = sent.step.kind == "reinvite"
        # MC connect: a personalised note while the seat has notes left; re-invitations blank
        note = not reinvite and touch.note and (seat.notes_left is None or seat.notes_left > 0)
        if note and seat.notes_left is not None:
            seat.notes_left -= 1
        self.counts["connects_sent"] += 1
        self.counts["notes_used"] += note
        self.counts["reinvites_sent"] += reinvite
        if reinvite:
            probability = rates.accept_without_note * rates.reinvite_multiplier
        else:
            probability = rates.accept_with_note if note else rates.accept_without_note
        if any(earlier.kind == "inmail" for earlier in prospect.route[: sent.step.index]):
            probability *= rates.accept_after_inmail_multiplier
        probability *= self.engage_lift(prospect, sent.step.index, "accept")
        probability = min(probability, 1.0)
        seat.sent_on[t] += 1
        seat.pending += 1
        prospect.invitation_pending = True
        prospect.open_items += 1
        delay = draw_outcome(self.rng, probability, prospect.cdfs["accept"])
        if delay is None:  # §15 Windows: withdrawn on day send + invite_window_days
            self.events[t + self.inv.invite_window_days].append(("withdraw", sent))
        else:
            self.events[t + delay].append(("accept", sent))

    def await_reply(self, sent: Sent, probability: float) -> None:
        """MC: a reply within response_window_days, or unanswered on day send + window."""
        probability = min(probability, 1.0)
        delay = draw_outcome(self.rng, probability, sent.prospect.cdfs[sent.step.kind])
        if delay is None:
            self.events[self.day + self.config.response_window_days].append(("no_reply", sent))
        else:
            self.events[self.day + delay].append(("reply", sent))
        sent.prospect.open_items += 1

    # --- scheduling and exhaustion ------------------------------------------------------

    def wait(self, touch: Any) -> int:
        """MC: a wait [low, high] is a whole number of days drawn uniformly per prospect
        (a message's `wait_days`, a route touch's `if_no_reply_after_days`)."""
        low, high = getattr(touch, "if_no_reply_after_days", None) or touch.wait_days
        return int(self.rng.integers(low, high + 1))

    def schedule(self, prospect: Prospect, step: Step, wait: int) -> None:
        prospect.open_items += 1
        prospect.seat.scheduled[self.day + wait].append((prospect, step))

    def schedule_next_in_route(self, prospect: Prospect, index: int, at_least: int = 0) -> None:
        if index + 1 < len(prospect.route):
            following = prospect.route[index + 1]
            wait = max(at_least, self.wait(following))  # MC: after a sent touch, 0 is tomorrow
            self.schedule(prospect, Step(following.kind, index + 1), wait)

    def close_item(self, prospect: Prospect) -> None:
        """MC: exhausted on the day its last open item resolves without a reply."""
        prospect.open_items -= 1
        if prospect.open_items == 0:
            prospect.state = EXHAUSTED
            self.counts["prospects_exhausted"] += 1


def logistic(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    return math.exp(z) / (1.0 + math.exp(z))


def simulate_reference(
    config: Config,
    strategy: str,
    replications: int,
    seed: int,
    parameters: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """One row per replication: the flows of `simulator.metrics.FLOWS` summed over the
    horizon, the end-of-horizon stocks (summed over seats), `cost` and `cost_per_reply`.

    §8: an uncertain config needs `parameters`, each uncertain parameter's value in each
    replication (by dotted path); replication i then runs the config fixed at its values."""
    plan = config.plans[config.strategies[strategy].plan]
    cdfs = {}
    if not parameters:
        cdfs = {name: segment_cdfs(config, segment) for name, segment in config.segments.items()}
    fees = plan.price_per_month * config.accounts * config.horizon_months  # MC Time, costs
    rows = []
    for replication, child in enumerate(np.random.SeedSequence(seed).spawn(replications)):
        rng = np.random.default_rng(child)
        fixed, own_cdfs = config, cdfs
        if parameters:
            fixed = with_values(config, {k: v[replication] for k, v in parameters.items()})
            own_cdfs = {name: segment_cdfs(fixed, seg) for name, seg in fixed.segments.items()}
        row = Replication(fixed, strategy, own_cdfs, rng).run()
        cost = fees  # §11: plus per-send costs, plus minutes per touch at the hourly rate
        for kind, counters in SENT_COUNTERS.items():
            sent = sum(row[c] for c in counters)
            cost += sent * getattr(config.costs.per_send, kind)
            cost += (
                sent
                * getattr(config.costs.minutes_per_touch, kind)
                / 60
                * (config.costs.hourly_rate)
            )
        replies = row["replies"]
        cost_per_reply = cost / replies if replies else math.inf  # §11: infinite with none
        rows.append(
            {"replication": replication, **row, "cost": cost, "cost_per_reply": cost_per_reply}
        )
    return pd.DataFrame(rows)
