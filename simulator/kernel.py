"""The compiled day loop: the engine's rules, replication by replication, in machine code.

The vectorised engine (:mod:`simulator.engine`) moves every replication of a block
together through the day, touch batch by touch batch; each touch passes through a few
dozen whole-array steps. Here numba compiles the same rules into one loop per
replication, run on every core (threads of this process, without the GIL), so a touch
costs tens of nanoseconds and a thread's state is one replication's at a time.

It is the same model, draw for draw: the same counter-based uniforms keyed by
prospect and role, the same set-up (the engine's :class:`~simulator.engine.Simulation`
prepares every table this loop reads), and, within a replication, the order in which
the vectorised engine files and sends touches (first in, first out per budget; within a
batch, messages before re-invitations before fallbacks). The tests hold the two to
identical counts on every scenario; the vectorised engine stays as the readable
statement of the rules and serves day-level traces.

A replication costs what it starts and sends, not its lists' length: a prospect's badge
is drawn from its own counter when a queue's cursor reaches it, per-prospect state is
kept for the prospects started (in the order they start; a thread's state doubles, and
the replication runs again, where it is short), and a month end looks only at the
prospects still open. The borrowed (uncounted) views the loop works on are in
:mod:`simulator._numba_borrow`.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
from numba import njit
from numba.core import types
from numba.experimental import structref

from simulator._numba_borrow import borrow, register_borrowed
from simulator.credits import grant_added, lot_expiry
from simulator.delays import DelaySampler
from simulator.engine import NEVER, Simulation
from simulator.invitations import (
    InvitationLimiter,
    health_limit,
    invitations_allowed,
    restriction_chance,
)
from simulator.metrics import COUNTS, FLOW_INDEX, FLOWS, STOCKS
from simulator.playbook import Kind
from simulator.prospects import UNLIMITED, as_limit
from simulator.sends import BUDGETS, CREDIT_BUDGET, PACES, SENDS, Outcome, daily_pace, sent_counts
from simulator.streams import role_id

#: the rules this loop shares with the vectorised engine, compiled from their one source
_health_limit = njit(health_limit)
_invitations_allowed = njit(invitations_allowed)
_restriction_chance = njit(restriction_chance)
_grant_added = njit(grant_added)
_lot_expiry = njit(lot_expiry)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53

CONNECT, INMAIL = int(Kind.CONNECT), int(Kind.INMAIL)
N_KINDS = len(Kind)
N_FLOWS, N_STOCKS = len(FLOWS), len(STOCKS)
N_BUDGETS = len(BUDGETS)
#: the pace each budget's touches take (a follow-up takes the InMail pace), by budget
BUDGET_PACE = np.array([int(pace) for pace in PACES], dtype=np.int64)
# what sending each kind takes and counts (sends.SENDS), as arrays by kind
REQUEST, REPLY, ADDRESS, NO_OUTCOME = (int(o) for o in Outcome)
SEND_PACE = np.array([int(send.pace) for send in SENDS.values()], dtype=np.int64)
SEND_OUTCOME = np.array([int(send.outcome) for send in SENDS.values()], dtype=np.int64)
SEND_CREDIT = np.array([send.credit for send in SENDS.values()], dtype=np.bool_)
#: the count each send adds to (for a credit kind: a paid one), and a free one's (-1: none)
SEND_COUNT = np.array([FLOW_INDEX[sent_counts(k)[0]] for k in SENDS], dtype=np.int64)
SEND_FREE_COUNT = np.array(
    [FLOW_INDEX[sent_counts(k)[1]] if send.credit else -1 for k, send in SENDS.items()],
    dtype=np.int64,
)
UNREACHABLE_COUNT = np.array(
    [-1 if send.unreachable is None else FLOW_INDEX[send.unreachable] for send in SENDS.values()],
    dtype=np.int64,
)

_F = FLOW_INDEX
F_NOTES, F_REINVITES = _F["notes_used"], _F["reinvites_sent"]
F_ACCEPTANCES, F_WITHDRAWALS = _F["acceptances"], _F["withdrawals"]
F_REPLIES, F_POSITIVE, F_MEETINGS = _F["replies"], _F["positive_replies"], _F["meetings"]
#: the count of replies to each touch kind (-1: the kind gets none)
REPLY_FLOW = np.array(
    [-1 if send.replies is None else _F[send.replies] for send in SENDS.values()], dtype=np.int64
)
F_GRANTED, F_FORFEITED, F_EXPIRED = (
    _F["credits_granted"],
    _F["credits_forfeited"],
    _F["credits_expired"],
)
F_SPENT, F_REFUNDED = _F["credits_spent"], _F["credits_refunded"]
F_ADDED, F_STARTED = _F["prospects_added"], _F["prospects_started"]
F_REPLIED, F_EXHAUSTED = _F["prospects_replied"], _F["prospects_exhausted"]
F_RESTRICTED = _F["restricted_days"]
S_BALANCE, S_PENDING = STOCKS.index("credit_balance_end"), STOCKS.index("invitations_pending_end")
S_LIMIT = STOCKS.index("invitation_limit_end")
S_IN_FLIGHT = STOCKS.index("prospects_in_flight_end")

#: replications per task when a block is spread over threads
RANGE = 64
#: OUTREACH_SIM_COUNT_DRAWS=1 (for benchmarks/engine_speed.py): count the uniforms each
#: replication draws; compiled out otherwise
COUNT_DRAWS = bool(os.environ.get("OUTREACH_SIM_COUNT_DRAWS"))
#: buckets of a delay's guide table (a power of two)
GUIDE = 64
#: started prospects a thread's state holds at first; it doubles where a replication
#: needs more (that replication then runs again: the same numbers)
INITIAL_CAPACITY = 1024

# rows of a replication's scratch table: one batch of touches and what is known about it
R_PID, R_STEP, R_KIND, R_FLAG = range(4)
N_SCRATCH = 4


class StepTable(NamedTuple):
    """The strategy's step table (by step) and its per-replication rates and keys."""

    kind: np.ndarray
    next: np.ndarray
    reinvite: np.ndarray
    first_message: np.ndarray
    note: np.ndarray
    is_reinvite: np.ndarray
    entry: np.ndarray
    fallback: np.ndarray
    budget: np.ndarray
    wait_lo: np.ndarray
    wait_hi: np.ndarray
    offset: np.ndarray
    reach: np.ndarray
    p_main: np.ndarray  # (steps, reps)
    p_blank: np.ndarray
    p_free: np.ndarray
    outcome_keys: np.ndarray  # (steps, reps)
    wait_keys: np.ndarray
    reach_keys: np.ndarray
    cdf: np.ndarray  # every step's delay CDF rows, flattened
    cdf_start: np.ndarray
    cdf_len: np.ndarray
    cdf_per_rep: np.ndarray  # 1 where the step has one CDF row per replication
    guide: np.ndarray  # by CDF row, GUIDE + 1 entries: values <= j / GUIDE (_guide_rows)
    guide_start: np.ndarray  # by step


class ListTable(NamedTuple):
    """The segments' prospect lists and the playbook's entries into them."""

    length: np.ndarray  # by list (the config's segments, in order)
    offset: np.ndarray
    share: np.ndarray
    badge_keys: np.ndarray  # (lists, reps)
    available: np.ndarray  # (lists, months): prospects on the list by each month
    added: np.ndarray  # (months,): prospects added to every list that month
    entry_list: np.ndarray  # by playbook entry
    entry_new_per_day: np.ndarray
    entry_first_other: np.ndarray
    entry_first_op: np.ndarray
    positive_keys: np.ndarray  # (entries, reps)
    meeting_keys: np.ndarray
    positive_share: np.ndarray  # (entries, reps)
    meeting_share: np.ndarray
    unlimited: np.ndarray  # by list: never runs out (its prospects count as added when started)


class RuleTable(NamedTuple):
    """Plan, credits, invitations and paces: scalars, and the seats' weekly bases."""

    days: int
    months: int
    seats: int
    exhausted_span: int
    credits_per_month: int
    credits_cap: int
    notes_per_month: int  # -1: unlimited
    open_profile_messages: bool
    open_cap: int
    expiry_days: int
    refunds: bool
    refund_window: int
    response_window: int
    invite_window: int
    cooldown: int
    max_pending: int  # -1: none
    health_window: int
    base: np.ndarray  # (weeks, reps * seats): the warm-up base limit
    den: int
    poor: int
    good: int
    floor: int
    restriction: bool
    restriction_days: int
    intercept: float
    per_pending: float
    per_low_acceptance: float
    restriction_keys: np.ndarray  # (reps,)
    pace: np.ndarray  # (kinds,): daily pace by touch kind (UNLIMITED where none)
    paced: np.ndarray  # (kinds,): whether that pace is set


class _Fields(types.StructRef):
    """A numba structure passed by reference: functions that take it compile quickly
    (a tuple of forty arrays is unpacked into every function it is passed to)."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


@structref.register
class StepsType(_Fields):
    pass


@structref.register
class ListsType(_Fields):
    pass


@structref.register
class RulesType(_Fields):
    pass


@structref.register
class StateType(_Fields):
    pass


# The day loop works on borrowed views of these structures (simulator._numba_borrow):
# nothing in them is counted, while the owners (held by _replications) keep them alive.
#: fields a borrowed state still counts: the reply pool grows, and the state owns the
#: bigger arrays
_COUNTED = frozenset({"r_pid", "r_step", "r_sent", "r_next"})
for _owned in (StepsType, ListsType, RulesType):
    register_borrowed(_owned)
register_borrowed(StateType, _COUNTED)


class Steps(structref.StructRefProxy):
    """A StepTable inside compiled code."""


class Lists(structref.StructRefProxy):
    """A ListTable inside compiled code."""


class Rules(structref.StructRefProxy):
    """A RuleTable inside compiled code."""


class _State(structref.StructRefProxy):
    """One replication's state (a thread's own while it simulates that replication)."""


structref.define_proxy(Steps, StepsType, list(StepTable._fields))
structref.define_proxy(Lists, ListsType, list(ListTable._fields))
structref.define_proxy(Rules, RulesType, list(RuleTable._fields))


@njit(inline="always")
def _uniform(key: np.uint64, counter: np.int64) -> float:
    """The same number as :meth:`Streams.uniforms` (SplitMix64 at the counter)."""
    x = np.uint64(counter + 1) * _GOLDEN + key
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return np.float64(x >> np.uint64(11)) * _TO_UNIT


# The hot loops take what they use out of the structures once, before the loop, and
# hand it to the per-touch helpers in tuples.


@njit(inline="always")
def _cdfs(st: Steps) -> tuple:
    return st.cdf, st.cdf_start, st.cdf_len, st.cdf_per_rep, st.guide, st.guide_start


@njit(inline="always")
def _waits(st: Steps, s: _State) -> tuple:
    return st.wait_lo, st.wait_hi, st.wait_keys, s.position, s.draws


@njit(cache=True)
def _guide_rows(cdf: np.ndarray, rows: int, n: int) -> np.ndarray:
    """For each of `rows` CDF rows of length `n` (flattened in `cdf`), the number of its
    values <= j / GUIDE, j = 0 .. GUIDE: the count of values <= v, for v in
    [j / GUIDE, (j + 1) / GUIDE), lies between entries j and j + 1 (a guide table)."""
    guide = np.empty(rows * (GUIDE + 1), dtype=np.int32)
    for r in range(rows):
        a = 0
        for j in range(GUIDE + 1):
            while a < n and cdf[r * n + a] <= j / GUIDE:
                a += 1
            guide[r * (GUIDE + 1) + j] = a
    return guide


@njit
def _delay(cdfs: tuple, step: int, rep: int, v: float) -> int:
    """Days to an outcome: one plus the number of CDF values <= v (inverse CDF; v < 1).

    The guide table narrows the search to the CDF values between two multiples of
    1 / GUIDE (GUIDE a power of two, so j / GUIDE <= v is exact): the same count as a
    search of the whole row, in a step or two."""
    cdf, cdf_start, cdf_len, cdf_per_rep, guide, guide_start = cdfs
    n = cdf_len[step]
    row = rep if cdf_per_rep[step] else 0
    lo = cdf_start[step] + row * n
    g = guide_start[step] + row * (GUIDE + 1) + min(int(v * GUIDE), GUIDE - 1)
    a, b = np.int64(guide[g]), np.int64(guide[g + 1])
    while a < b:  # first index whose CDF value exceeds v
        m = (a + b) >> 1
        if cdf[lo + m] <= v:
            a = m + 1
        else:
            b = m
    return a + 1


@njit
def _wait(waits: tuple, step: int, rep: int, pid: int) -> int:
    wait_lo, wait_hi, wait_keys, position, draws = waits
    lo, hi = wait_lo[step], wait_hi[step]
    if lo == hi:
        return lo
    if COUNT_DRAWS:
        draws[0] += 1
    u = _uniform(wait_keys[step, rep], position[pid])
    return lo + int(np.floor(u * (hi - lo + 1)))


_STATE_FIELDS = [
    "flows",  # (months, flows): this replication's counts
    "by_segment",  # (months, segments)
    "stocks",  # (months, stocks)
    # by prospect started, in the order they start (a prospect's "pid" is that slot)
    "reply_day",
    "reply_step",
    "last_close",
    "seat_of",
    "badge",
    "position",  # its place on its list: the counter of its draws
    "open",  # started prospects not yet seen replied or exhausted (compacted monthly)
    "slots",  # [prospects started, entries in `open`, 1 when the state is too small]
    "draws",  # (1,): uniforms drawn (where COUNT_DRAWS)
    "exhausted_on",  # by day
    # the touches calendar: a linked list per due day over a pool of nodes
    "t_head",
    "t_tail",
    "t_pid",
    "t_step",
    "t_next",
    # the replies calendar (replies resolve in any order: no tails)
    "r_head",
    "r_pid",
    "r_step",
    "r_sent",
    "r_next",
    "pools",  # [free touch node, touch nodes used, free reply node, reply nodes used]
    "queue_pid",  # (budgets, capacity): touches waiting for a budget
    "queue_step",
    "queue_len",
    "scratch",  # (N_SCRATCH, capacity): the batch being sent
    "batch_fresh",  # whether that batch is new prospects' first touches
    # seats
    "sent",  # (span, seats): invitations by day sent
    "accepted",  # by day resolved
    "withdrawn",
    "discarded",
    "pending",
    "restricted_until",
    "arrived_through",  # (days, seats): credits arrived by each day's end
    "arrived",
    "departed",
    "left",  # (kinds, seats): today's budget by touch kind
    "notes_left",
    "open_left",
    # lists: each queue (0 Open Profile, 1 other) finds its next prospects by drawing
    # badges from its scan position on, and keeps those found until they start
    "started",  # (lists,)
    "scan",  # (2, lists): the next position a queue draws the badge of
    "found",  # (2, lists, total + 2): positions found, not yet started
    "found_head",  # (2, lists)
    "found_len",
    # the day's working arrays
    "has_budget",  # (budgets, seats)
    "seen",  # (seats,): touches that asked each seat's budget today
    "seen_free",  # of those, for the Open Profile cap
    "seen_ok",  # of those, for the InMail pace once a credit was found
    "pools_op",  # (5,): the budgets an Open Profile route's first touch draws on (_pools)
    "pools_other",  # and another route's
    "present",  # (kinds,): the touch kinds of a batch
    "limits",  # (seats,): today's invitation limit
    "window",  # (3, seats): accepted and resolved in the health window, sent in 6 days
]
structref.define_proxy(_State, StateType, _STATE_FIELDS)


@njit
def _new_state(total, days, months, seats, lists, span):
    """A thread's state for up to `total` started prospects: allocated once, reset for each
    replication it simulates (what is by prospect is set as each prospect starts)."""
    nodes = total + 16
    return _State(
        np.zeros((months, len(FLOWS)), dtype=np.int64),
        np.zeros((months, lists), dtype=np.int64),
        np.zeros((months, len(STOCKS)), dtype=np.int64),
        np.empty(total, dtype=np.int32),
        np.empty(total, dtype=np.int32),
        np.empty(total, dtype=np.int32),
        np.zeros(total, dtype=np.int64),
        np.empty(total, dtype=np.bool_),
        np.empty(total, dtype=np.int64),
        np.empty(total, dtype=np.int64),
        np.zeros(3, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        np.empty(span, dtype=np.int64),
        np.empty(days, dtype=np.int64),
        np.empty(days, dtype=np.int64),
        np.empty(nodes, dtype=np.int64),
        np.empty(nodes, dtype=np.int64),
        np.empty(nodes, dtype=np.int64),
        np.empty(days, dtype=np.int64),
        np.empty(nodes, dtype=np.int64),
        np.empty(nodes, dtype=np.int64),
        np.empty(nodes, dtype=np.int64),
        np.empty(nodes, dtype=np.int64),
        np.empty(4, dtype=np.int64),
        np.empty((N_BUDGETS, total + 1), dtype=np.int64),
        np.empty((N_BUDGETS, total + 1), dtype=np.int64),
        np.empty(N_BUDGETS, dtype=np.int64),
        np.empty((N_SCRATCH, total + 1), dtype=np.int64),
        False,
        np.empty((span, seats), dtype=np.int64),
        np.empty((span, seats), dtype=np.int64),
        np.empty((span, seats), dtype=np.int64),
        np.empty((span, seats), dtype=np.int64),
        np.empty(seats, dtype=np.int64),
        np.empty(seats, dtype=np.int64),
        np.empty((days, seats), dtype=np.int64),
        np.empty(seats, dtype=np.int64),
        np.empty(seats, dtype=np.int64),
        np.empty((N_KINDS, seats), dtype=np.int64),
        np.empty(seats, dtype=np.int64),
        np.empty(seats, dtype=np.int64),
        np.zeros(lists, dtype=np.int64),
        np.zeros((2, lists), dtype=np.int64),
        np.empty((2, lists, total + 2), dtype=np.int64),
        np.zeros((2, lists), dtype=np.int64),
        np.zeros((2, lists), dtype=np.int64),
        np.empty((N_BUDGETS, seats), dtype=np.bool_),
        np.empty(seats, dtype=np.int64),
        np.empty(seats, dtype=np.int64),
        np.empty(seats, dtype=np.int64),
        np.empty(5, dtype=np.int64),
        np.empty(5, dtype=np.int64),
        np.empty(N_KINDS, dtype=np.bool_),
        np.empty(seats, dtype=np.int64),
        np.zeros((3, seats), dtype=np.int64),
    )


@njit
def _reset(s: _State) -> None:
    """Everything a replication starts from; what is always written before it is read
    (a prospect's state when it starts, the batch, the day's budgets) is left as it is:
    resetting costs the days and seats, not the list."""
    s.flows[:] = 0
    s.by_segment[:] = 0
    s.stocks[:] = 0
    s.slots[:] = 0
    s.draws[:] = 0
    s.exhausted_on[:] = 0
    s.t_head[:] = -1
    s.t_tail[:] = -1
    s.r_head[:] = -1
    s.pools[0] = -1
    s.pools[1] = 0
    s.pools[2] = -1
    s.pools[3] = 0
    s.queue_len[:] = 0
    s.sent[:] = 0
    s.accepted[:] = 0
    s.withdrawn[:] = 0
    s.discarded[:] = 0
    s.pending[:] = 0
    s.restricted_until[:] = 0
    s.arrived_through[:] = 0
    s.arrived[:] = 0
    s.departed[:] = 0
    s.notes_left[:] = 0
    s.open_left[:] = 0
    s.started[:] = 0
    s.scan[:] = 0
    s.found_head[:] = 0
    s.found_len[:] = 0
    s.limits[:] = 0
    s.window[:] = 0


@njit
def _grow(nodes: np.ndarray) -> np.ndarray:
    bigger = np.empty(2 * nodes.size, dtype=nodes.dtype)
    bigger[: nodes.size] = nodes
    return bigger


@njit
def _reply_node(s: _State) -> int:
    node = s.pools[2]
    if node >= 0:
        s.pools[2] = s.r_next[node]
        return node
    node = s.pools[3]
    if node == s.r_pid.size:
        s.r_pid, s.r_step = _grow(s.r_pid), _grow(s.r_step)
        s.r_sent, s.r_next = _grow(s.r_sent), _grow(s.r_next)
    s.pools[3] = node + 1
    return node


@njit(inline="always")
def _calendar(s: _State) -> tuple:
    return s.t_head, s.t_tail, s.t_pid, s.t_step, s.t_next, s.pools


@njit(inline="always")
def _file_touch(calendar: tuple, due: int, pid: int, step: int) -> None:
    """File a touch under its due day, after those filed before it."""
    head, tail, pids, steps, following, pools = calendar
    if due < head.size:
        node = pools[0]  # a freed node, else a new one: one touch pending per prospect
        if node >= 0:
            pools[0] = following[node]
        else:
            node = pools[1]
            if node == pids.size:  # cannot happen: kept as a guard on the memory
                raise IndexError("more touches pending than prospects")
            pools[1] = node + 1
        pids[node] = pid
        steps[node] = step
        following[node] = -1
        if tail[due] < 0:
            head[due] = node
        else:
            following[tail[due]] = node
        tail[due] = node


@njit
def _file_reply(s: _State, days: int, due: int, pid: int, step: int, sent: int) -> None:
    if due >= days:
        return
    node = _reply_node(s)
    s.r_pid[node] = pid
    s.r_step[node] = step
    s.r_sent[node] = sent
    s.r_next[node] = s.r_head[due]  # replies resolve in any order
    s.r_head[due] = node


@njit(inline="always")
def _closes(s: _State) -> tuple:
    return s.last_close, s.reply_day, s.exhausted_on


@njit(inline="always")
def _settle(
    closing: tuple, pid: int, closes: int, ends: bool, fresh: bool, latest: bool, remember: bool
) -> None:
    """engine.Simulation._settle for one touch: when it closes; exhaustion where the
    route ends."""
    last_close, reply_day, exhausted_on = closing
    last = closes if fresh or latest else max(last_close[pid], closes)
    exhausted = ends and (fresh or reply_day[pid] == NEVER)
    if exhausted:
        exhausted_on[last] += 1
    if remember:
        last_close[pid] = -last if exhausted else last


@njit
def _send_requests(s: _State, st: Steps, ru: Rules, rep: int, day: int, n: int, want: int) -> None:
    """engine.Simulation._send_requests over the batch's connection requests (the rows
    of kind `want`)."""
    sc, fresh, flows, seat_of = s.scratch, s.batch_fresh, s.flows, s.seat_of
    notes_left, sent, pending, reply_day = s.notes_left, s.sent, s.pending, s.reply_day
    discarded, accepted, withdrawn = s.discarded, s.accepted, s.withdrawn
    note_of, is_reinvite, p_main, p_blank = st.note, st.is_reinvite, st.p_main, st.p_blank
    keys, position, first_message, reinvite, next_of = (
        st.outcome_keys,
        s.position,
        st.first_message,
        st.reinvite,
        st.next,
    )
    cdfs, waits = _cdfs(st), _waits(st, s)
    calendar, closing = _calendar(s), _closes(s)
    notes_per_month = ru.notes_per_month
    month = day // 30
    withdraw_on = day + ru.invite_window
    later = 0  # requests withdrawn whose route goes on (a re-invitation or a fallback)
    for i in range(n):
        if sc[R_KIND, i] != want:
            continue
        pid, step = sc[R_PID, i], sc[R_STEP, i]
        seat = seat_of[pid]
        note = note_of[step] == 1
        if note and notes_per_month >= 0:
            if notes_left[seat] > 0:
                notes_left[seat] -= 1
            else:
                note = False
        if note:
            flows[month, F_NOTES] += 1
        if is_reinvite[step]:
            flows[month, F_REINVITES] += 1
        sent[day, seat] += 1
        pending[seat] += 1
        p = p_main[step, rep] if note else p_blank[step, rep]
        u = _uniform(keys[step, rep], position[pid])
        if COUNT_DRAWS:
            s.draws[0] += 1
        is_accepted = u < p
        closes = day + _delay(cdfs, step, rep, u / p) if is_accepted else withdraw_on
        live = fresh or reply_day[pid] > closes
        if not live:
            discarded[closes, seat] += 1
        elif is_accepted:
            accepted[closes, seat] += 1
        else:
            withdrawn[withdraw_on, seat] += 1
        flag = (1 if is_accepted else 0) + (2 if live else 0)
        sc[R_FLAG, i] = flag
        # (settled here: what follows neither reads nor writes when a route closes)
        ends = (flag == 3 and first_message[step] < 0) or (
            flag == 2 and reinvite[step] < 0 and next_of[step] < 0
        )
        _settle(closing, pid, closes, ends, fresh, False, True)
        # what follows is filed in the engine's order: messages (here, in batch order),
        # then re-invitations, then fallbacks (below, where there are any)
        if flag == 3:
            first = first_message[step]
            if first >= 0:
                _file_touch(calendar, closes + _wait(waits, first, rep, pid), pid, first)
        elif flag == 2:
            later += 1 if reinvite[step] >= 0 or next_of[step] >= 0 else 0
    if later == 0:
        return
    for i in range(n):
        if sc[R_KIND, i] == want and sc[R_FLAG, i] == 2:
            again = reinvite[sc[R_STEP, i]]
            if again >= 0:
                _file_touch(calendar, withdraw_on + ru.cooldown, sc[R_PID, i], again)
    for i in range(n):
        if sc[R_KIND, i] == want and sc[R_FLAG, i] == 2:
            step = sc[R_STEP, i]
            nxt = next_of[step]
            if reinvite[step] < 0 and nxt >= 0:
                pid = sc[R_PID, i]
                _file_touch(calendar, withdraw_on + _wait(waits, nxt, rep, pid), pid, nxt)


@njit
def _send_replyable(
    s: _State,
    st: Steps,
    ru: Rules,
    rep: int,
    day: int,
    n: int,
    want: int,
) -> None:
    """engine.Simulation._send_replyable: messages, InMails, follow-ups, emails, WhatsApps."""
    sc, fresh, badge, reply_day, reply_step = (
        s.scratch,
        s.batch_fresh,
        s.badge,
        s.reply_day,
        s.reply_step,
    )
    kind_of, p_free, p_main, keys, position, next_of = (
        st.kind,
        st.p_free,
        st.p_main,
        st.outcome_keys,
        s.position,
        st.next,
    )
    cdfs, waits = _cdfs(st), _waits(st, s)
    calendar, closing = _calendar(s), _closes(s)
    days, window = ru.days, ru.response_window
    for i in range(n):
        if sc[R_KIND, i] != want:
            continue
        pid, step = sc[R_PID, i], sc[R_STEP, i]
        free = SEND_CREDIT[kind_of[step]] and _free(ru, badge[pid])
        p = p_free[step, rep] if free else p_main[step, rep]
        u = _uniform(keys[step, rep], position[pid])
        if COUNT_DRAWS:
            s.draws[0] += 1
        replied = u < p
        if replied:
            reply_on = day + _delay(cdfs, step, rep, u / p)
            if fresh or reply_on < reply_day[pid]:
                reply_day[pid] = reply_on
                reply_step[pid] = step
                _file_reply(s, days, reply_on, pid, step, day)
        nxt = next_of[step]
        if nxt >= 0:
            _file_touch(calendar, day + max(1, _wait(waits, nxt, rep, pid)), pid, nxt)
        ends = nxt < 0 and not (fresh and replied)
        _settle(closing, pid, day + window, ends, fresh, True, True)


@njit
def _go_on(
    s: _State,
    st: Steps,
    ru: Rules,
    rep: int,
    day: int,
    n: int,
    want: int,
    successor: np.ndarray,
) -> None:
    """engine.Simulation._go_on: a touch that opens nothing; the route goes on at
    `successor`."""
    sc, fresh = s.scratch, s.batch_fresh
    waits = _waits(st, s)
    calendar, closing = _calendar(s), _closes(s)
    for i in range(n):
        if sc[R_KIND, i] != want:
            continue
        pid, step = sc[R_PID, i], sc[R_STEP, i]
        nxt = successor[step]
        closes = day
        if nxt >= 0:
            closes = day + max(1, _wait(waits, nxt, rep, pid))
            _file_touch(calendar, closes, pid, nxt)
        _settle(closing, pid, closes, nxt < 0, fresh, False, True)


@njit
def _send_channel(s: _State, st: Steps, ru: Rules, rep: int, day: int, n: int, kind: int) -> None:
    """engine.Simulation._send_channel: sent where the prospect has an address, else the fallback
    (those without are marked kind -1 - kind in the batch)."""
    sc, flows, reach_of, keys, position = s.scratch, s.flows, st.reach, st.reach_keys, s.position
    month = day // 30
    sent_flow, unreachable_flow = SEND_COUNT[kind], UNREACHABLE_COUNT[kind]
    for i in range(n):
        if sc[R_KIND, i] != kind:
            continue
        pid, step = sc[R_PID, i], sc[R_STEP, i]
        reach = reach_of[step]
        has = True
        if reach < 1.0:
            has = _uniform(keys[step, rep], position[pid]) < reach
            if COUNT_DRAWS:
                s.draws[0] += 1
        if not has:
            sc[R_KIND, i] = -1 - kind
        flows[month, sent_flow if has else unreachable_flow] += 1
    _send_replyable(s, st, ru, rep, day, n, kind)
    _go_on(s, st, ru, rep, day, n, -1 - kind, st.fallback)


@njit(inline="always")
def _free(ru: Rules, open_profile: bool) -> bool:
    """Whether an InMail to this prospect is free: an Open Profile, on a plan that lets
    InMails reach Open Profiles free (MODEL.md section 6; engine.Simulation._is_free)."""
    return ru.open_profile_messages and open_profile


@njit(inline="always")
def _take_budgets(s: _State, ru: Rules, month: int, k: int, seat: int, free: bool, count: int):
    """`count` touches of kind k on a seat take today's budgets, as sends.SENDS says: the
    pace, and for an InMail a credit (oldest lot first) or, free to an Open Profile, the
    Open Profile cap; each is counted (an address channel's once it knows)."""
    flows = s.flows
    s.left[SEND_PACE[k], seat] -= count
    if not SEND_CREDIT[k]:
        if SEND_OUTCOME[k] != ADDRESS:
            flows[month, SEND_COUNT[k]] += count
    elif free:
        s.open_left[seat] -= count
        flows[month, SEND_FREE_COUNT[k]] += count
    else:
        s.departed[seat] += count
        flows[month, F_SPENT] += count
        flows[month, SEND_COUNT[k]] += count


@njit(inline="always")
def _send_kind(s: _State, st: Steps, ru: Rules, rep: int, day: int, n: int, k: int) -> None:
    """The batch's touches of kind k draw their outcomes (SEND_OUTCOME says how)."""
    outcome = SEND_OUTCOME[k]
    if outcome == REQUEST:
        _send_requests(s, st, ru, rep, day, n, k)
    elif outcome == ADDRESS:
        _send_channel(s, st, ru, rep, day, n, k)
    elif outcome == NO_OUTCOME:
        _go_on(s, st, ru, rep, day, n, k, st.next)
    else:
        _send_replyable(s, st, ru, rep, day, n, k)


@njit
def _send(s: _State, st: Steps, ru: Rules, rep: int, day: int, n: int) -> None:
    """engine.Simulation._send: the batch in scratch rows R_PID, R_STEP takes its budgets
    and is sent kind by kind, as sends.SENDS says."""
    sc, present, kind_of, seat_of, badge = s.scratch, s.present, st.kind, s.seat_of, s.badge
    month = day // 30
    present[:] = False
    for i in range(n):  # each touch's kind; it takes today's budgets
        k = kind_of[sc[R_STEP, i]]
        sc[R_KIND, i] = k
        present[k] = True
        pid = sc[R_PID, i]
        free = _free(ru, badge[pid])
        _take_budgets(s, ru, month, k, seat_of[pid], free, 1)
    for k in range(N_KINDS):  # then sent kind by kind
        if present[k]:
            _send_kind(s, st, ru, rep, day, n, k)


@njit
def _send_started(
    s: _State, st: Steps, ru: Rules, rep: int, day: int, n: int, seat: int, open_profile: bool
) -> None:
    """_send for a batch of new prospects' first touches: one step, one seat, one route
    (Open Profiles or not), so its budgets are taken at once."""
    step = s.scratch[R_STEP, 0]
    k = st.kind[step]
    _take_budgets(s, ru, day // 30, k, seat, _free(ru, open_profile), n)
    s.scratch[R_KIND, :n] = k
    _send_kind(s, st, ru, rep, day, n, k)


@njit
def _resolve_replies(s: _State, st: Steps, li: Lists, ru: Rules, rep: int, day: int) -> None:
    """Step 2: a reply counts when it is still its prospect's earliest."""
    if s.r_head[day] < 0:  # (before taking any array: each one taken costs two calls)
        return
    month = day // 30
    r_pid, r_step, r_sent, r_next, pools = s.r_pid, s.r_step, s.r_sent, s.r_next, s.pools
    reply_day, reply_step, flows, by_segment = s.reply_day, s.reply_step, s.flows, s.by_segment
    positions, badge, seat_of, arrived = s.position, s.badge, s.seat_of, s.arrived
    kind_of, entry_of, entry_list = st.kind, st.entry, li.entry_list
    node = s.r_head[day]
    s.r_head[day] = -1
    while node >= 0:
        pid, step, sent = r_pid[node], r_step[node], r_sent[node]
        following = r_next[node]
        r_next[node] = pools[2]
        pools[2] = node
        node = following
        if reply_day[pid] != day or reply_step[pid] != step:
            continue
        kind = kind_of[step]
        flows[month, F_REPLIES] += 1
        if REPLY_FLOW[kind] >= 0:  # (every kind that can get a reply has its count)
            flows[month, REPLY_FLOW[kind]] += 1
        e = entry_of[step]
        by_segment[month, entry_list[e]] += 1
        position = positions[pid]
        if COUNT_DRAWS:
            s.draws[0] += 1
        if _uniform(li.positive_keys[e, rep], position) < li.positive_share[e, rep]:
            flows[month, F_POSITIVE] += 1
            if COUNT_DRAWS:
                s.draws[0] += 1
            if _uniform(li.meeting_keys[e, rep], position) < li.meeting_share[e, rep]:
                flows[month, F_MEETINGS] += 1
        if (
            ru.refunds
            and SEND_CREDIT[kind]
            and day - sent <= ru.refund_window
            and not _free(ru, badge[pid])
        ):
            arrived[seat_of[pid]] += 1  # a refund arrives as today's lot
            flows[month, F_REFUNDED] += 1


@njit
def _send_scheduled(s: _State, st: Steps, ru: Rules, rep: int, day: int) -> None:
    """Step 3: scheduled touches that find a budget are sent; the rest wait a day."""
    if s.t_head[day] < 0 and not s.queue_len.any():  # nothing due, nothing waiting
        return
    seats = ru.seats
    has = s.has_budget
    for seat in range(seats):  # a budget has room: its pace, and for InMails a credit
        for g in range(N_BUDGETS):
            has[g, seat] = s.left[BUDGET_PACE[g], seat] > 0
        has[CREDIT_BUDGET, seat] &= s.arrived[seat] - s.departed[seat] > 0 or s.open_left[seat] > 0
    queue_pid, queue_step, queue_len = s.queue_pid, s.queue_step, s.queue_len
    t_pid, t_step, t_next, pools, budget = s.t_pid, s.t_step, s.t_next, s.pools, st.budget
    node = s.t_head[day]
    s.t_head[day] = -1
    s.t_tail[day] = -1
    while node >= 0:
        step = t_step[node]
        g = budget[step]
        q = queue_len[g]
        queue_pid[g, q] = t_pid[node]
        queue_step[g, q] = step
        queue_len[g] = q + 1
        following = t_next[node]
        t_next[node] = pools[0]
        pools[0] = node
        node = following
    seen, seen_free, seen_ok = s.seen, s.seen_free, s.seen_ok
    sc, seat_of, reply_day, badge = s.scratch, s.seat_of, s.reply_day, s.badge
    open_left, arrived, departed, left, paced = s.open_left, s.arrived, s.departed, s.left, ru.paced
    for g in range(N_BUDGETS):
        if s.queue_len[g] == 0:
            continue
        any_budget = False
        for seat in range(seats):
            any_budget |= has[g, seat]
        if not any_budget:
            continue
        seen[:] = 0
        seen_free[:] = 0
        seen_ok[:] = 0
        n = np.int64(0)  # not the constant 0: numba would compile _send for it too
        kept = 0
        for i in range(queue_len[g]):
            pid, step = queue_pid[g, i], queue_step[g, i]
            seat = seat_of[pid]
            if not has[g, seat]:
                queue_pid[g, kept] = pid
                queue_step[g, kept] = step
                kept += 1
                continue
            if reply_day[pid] <= day:  # cancelled by a reply
                continue
            if g == CREDIT_BUDGET:
                # a credit (or the Open Profile cap) first; what fits then takes the pace
                if _free(ru, badge[pid]):
                    ok = seen_free[seat] < open_left[seat]
                    seen_free[seat] += 1
                else:
                    ok = seen[seat] < arrived[seat] - departed[seat]
                    seen[seat] += 1
                if ok and paced[INMAIL]:
                    ok = seen_ok[seat] < left[INMAIL, seat]
                    seen_ok[seat] += 1
            else:  # requests always take the invitation limit, other kinds their pace, if any
                pace = BUDGET_PACE[g]
                if pace != CONNECT and not paced[pace]:
                    ok = True
                else:
                    ok = seen[seat] < left[pace, seat]
                    seen[seat] += 1
            if ok:
                sc[R_PID, n] = pid
                sc[R_STEP, n] = step
                n += 1
            else:
                queue_pid[g, kept] = pid
                queue_step[g, kept] = step
                kept += 1
        queue_len[g] = kept
        if n:
            s.batch_fresh = False
            _send(s, st, ru, rep, day, n)


@njit
def _find(s: _State, li: Lists, lst: int, rep: int, queue: int, k: int, end: int) -> int:
    """Queue `queue`'s next `k` prospects on list `lst` (fewer where the list ends at
    `end`): found[queue, lst, found_head:...] afterwards holds them in list order; their
    number back.

    A badge is drawn where it is first needed, from the prospect's own counter, and each
    position is looked at once per queue: those found wait in `found` until they start,
    so a queue whose head waits costs nothing the next day."""
    share = li.share[lst]
    if (queue == 0 and share <= 0.0) or (queue == 1 and share >= 1.0):
        return 0
    found, head, have = s.found, s.found_head[queue, lst], s.found_len[queue, lst]
    if have >= k:
        return k
    if head + k > found.shape[2]:  # room at the back: move what is kept to the front
        for i in range(have):
            found[queue, lst, i] = found[queue, lst, head + i]
        head = 0
        s.found_head[queue, lst] = 0
    at = s.scan[queue, lst]
    key = li.badge_keys[lst, rep]
    sure = share <= 0.0 or share >= 1.0
    while have < k and at < end:
        if COUNT_DRAWS and not sure:
            s.draws[0] += 1
        if sure or (_uniform(key, at) < share) == (queue == 0):
            found[queue, lst, head + have] = at
            have += 1
        at += 1
    s.scan[queue, lst] = at
    s.found_len[queue, lst] = have
    return min(have, k)


@njit
def _pools(
    s: _State, st: Steps, ru: Rules, step: int, seat: int, open_profile: bool, out: np.ndarray
) -> None:
    """The budgets a route's first touch draws on, by name: -1 where it draws on none.

    out[0] invitations, [1] a paced channel or engagement, [2] the InMail pace,
    [3] the Open Profile cap, [4] credits."""
    out[:] = -1
    kind = st.kind[step]
    pace = SEND_PACE[kind]
    if SEND_OUTCOME[kind] == REQUEST:
        out[0] = s.left[pace, seat]
    elif not SEND_CREDIT[kind]:
        if ru.paced[pace]:
            out[1] = s.left[pace, seat]
    elif _free(ru, open_profile):
        out[2] = s.left[pace, seat]
        out[3] = s.open_left[seat]
    else:
        out[2] = s.left[pace, seat]
        out[4] = s.arrived[seat] - s.departed[seat]


@njit
def _start_new(s: _State, st: Steps, li: Lists, ru: Rules, rep: int, day: int) -> None:
    """Step 4: start new prospects, seat by seat, segment by segment, in list order.

    Each queue of a list finds its next prospects (_find), at most as many as today can
    start, and keeps them until they start, so a queue whose head waits costs nothing and
    no day walks the list. Sets slots[2] and returns where the state has no room."""
    month = day // 30
    pools_op, pools_other = s.pools_op, s.pools_other
    sc, slots = s.scratch, s.slots
    for seat in range(ru.seats):
        for e in range(li.entry_list.size):
            lst = li.entry_list[e]
            end = li.available[lst, month]  # positions on the list this month
            if end - s.started[lst] == 0:
                continue
            first_op, first_other = li.entry_first_op[e], li.entry_first_other[e]
            _pools(s, st, ru, first_op, seat, True, pools_op)
            _pools(s, st, ru, first_other, seat, False, pools_other)
            # a paced channel pool is shared only between touches of the same kind
            same_channel = st.kind[first_op] == st.kind[first_other]
            wanted = min(li.entry_new_per_day[e], end - s.started[lst])
            cap_op, cap_other = UNLIMITED, UNLIMITED
            for name in range(5):
                op, other = pools_op[name] >= 0, pools_other[name] >= 0
                if op and other and (name != 1 or same_channel):  # a shared pool
                    wanted = min(wanted, pools_op[name])
                else:
                    if op:
                        cap_op = min(cap_op, pools_op[name])
                    if other:
                        cap_other = min(cap_other, pools_other[name])
            if wanted == 0:
                continue
            # each queue's cap, with what is left of it on the list; none counts past
            # `wanted` (nothing below depends on more)
            room = s.position.size - slots[0]
            k_op, k_other = min(cap_op, wanted, room + 1), min(cap_other, wanted, room + 1)
            cap_op = _find(s, li, lst, rep, 0, k_op, end)
            cap_other = _find(s, li, lst, rep, 1, k_other, end)
            if cap_op > room or cap_other > room:
                slots[2] = 1  # the state is too small: the replication runs again
                return
            # walk the list in order; a queue out of budget waits while the other moves
            found = s.found
            op_at, other_at = s.found_head[0, lst], s.found_head[1, lst]
            i, j = 0, 0
            while i + j < wanted and i < cap_op and j < cap_other:
                if found[0, lst, op_at + i] < found[1, lst, other_at + j]:
                    i += 1
                else:
                    j += 1
            if i == cap_op:  # at least cap_op badges among the next `wanted`
                n_op, n_other = cap_op, min(cap_other, wanted - cap_op)
            elif j == cap_other:  # at least cap_other without
                n_op, n_other = min(cap_op, wanted - cap_other), cap_other
            else:  # exactly i badges among the next `wanted`
                n_op = min(max(i, wanted - cap_other), cap_op)
                n_other = min(max(wanted - i, wanted - cap_op), cap_other)
            if n_op + n_other > room:
                slots[2] = 1
                return
            s.started[lst] += n_op + n_other
            for route in range(2):
                count = n_op if route == 0 else n_other
                if count <= 0:
                    continue
                at = s.found_head[route, lst]
                s.found_head[route, lst] = at + count
                s.found_len[route, lst] -= count
                step = first_op if route == 0 else first_other
                # (the arrays taken out first: a store through one could otherwise
                # change the structure, so each field would be read again at each store)
                position, badge, reply_day, reply_step = (
                    s.position,
                    s.badge,
                    s.reply_day,
                    s.reply_step,
                )
                last_close, seat_of, open_ = s.last_close, s.seat_of, s.open
                first_pid, first_open = slots[0], slots[1]
                for k in range(count):
                    pid = first_pid + k
                    position[pid] = found[route, lst, at + k]
                    badge[pid] = route == 0
                    reply_day[pid] = NEVER
                    reply_step[pid] = 0
                    last_close[pid] = 0
                    seat_of[pid] = seat
                    open_[first_open + k] = pid
                    sc[R_PID, k] = pid
                    sc[R_STEP, k] = step
                slots[0] += count
                slots[1] += count
                s.flows[month, F_STARTED] += count
                if li.unlimited[lst]:
                    s.flows[month, F_ADDED] += count
                s.batch_fresh = True
                _send_started(s, st, ru, rep, day, count, seat, route == 0)


@njit
def _limit_in_force(s: _State, ru: Rules, unit: int, seat: int, day: int) -> int:
    """The seat's limit in force today: the rule of ``invitations.health_limit``."""
    base = ru.base[day // 7, unit]
    return _health_limit(
        base, s.window[0, seat], s.window[1, seat], ru.den, ru.poor, ru.good, ru.floor
    )


@njit
def _slide_windows(s: _State, ru: Rules, day: int) -> None:
    """Invitations accepted and resolved on days day - health_window .. day - 1, and sent
    on days day - 6 .. day - 1, by seat: yesterday in, the day that left out (a past
    day's counts no longer change: every outcome resolves at least a day after its
    send)."""
    if day == 0:
        return
    accepted, withdrawn, sent, window = s.accepted, s.withdrawn, s.sent, s.window
    gone, old = day - 1 - ru.health_window, day - 7
    for seat in range(ru.seats):
        window[0, seat] += accepted[day - 1, seat]
        window[1, seat] += accepted[day - 1, seat] + withdrawn[day - 1, seat]
        window[2, seat] += sent[day - 1, seat]
        if gone >= 0:
            window[0, seat] -= accepted[gone, seat]
            window[1, seat] -= accepted[gone, seat] + withdrawn[gone, seat]
        if old >= 0:
            window[2, seat] -= sent[old, seat]


@njit
def _count_open(s: _State, month: int, day: int) -> None:
    """Month end: prospects replied (a reply arrived by today) and in flight, counted
    prospect by prospect, apart from the counts of replies and exhaustions filed as they
    happen (MODEL.md section 12 checks the two agree). Those no longer open leave the
    list of open prospects, so each month looks only at the prospects still open."""
    open_, reply_day, last_close, slots = s.open, s.reply_day, s.last_close, s.slots
    replied, kept = 0, 0
    for i in range(slots[1]):  # without branches: the outcomes are unpredictable
        pid = open_[i]
        close = last_close[pid]
        has_replied = reply_day[pid] <= day
        exhausted = (close <= 0) & (-close <= day)
        open_[kept] = pid
        kept += not (has_replied | exhausted)
        replied += has_replied
    slots[1] = kept
    s.flows[month, F_REPLIED] += replied
    s.stocks[month, S_IN_FLIGHT] = kept


@njit
def _replication(
    s: _State,
    rep: int,
    st: Steps,
    li: Lists,
    ru: Rules,
    monthly_out: np.ndarray,
    draws_out: np.ndarray,
) -> None:
    """One replication's months, day by day in the order of MODEL.md section 10."""
    days, seats = ru.days, ru.seats
    limits = s.limits
    for day in range(days):
        month = day // 30
        # step 1: expiry, month start, today's allowances
        _slide_windows(s, ru, day)
        for seat in range(seats):
            if day > 0:
                s.arrived_through[day - 1, seat] = s.arrived[seat]
            lot_day = day - ru.expiry_days
            if lot_day >= 0:
                expired = _lot_expiry(s.arrived_through[lot_day, seat], s.departed[seat])
                s.departed[seat] += expired
                s.flows[month, F_EXPIRED] += expired
        if day % 30 == 0:
            for seat in range(seats):
                balance = s.arrived[seat] - s.departed[seat]
                added = _grant_added(ru.credits_per_month, ru.credits_cap, balance)
                s.arrived[seat] += added
                s.flows[month, F_GRANTED] += ru.credits_per_month
                s.flows[month, F_FORFEITED] += ru.credits_per_month - added
                s.notes_left[seat] = ru.notes_per_month if ru.notes_per_month >= 0 else UNLIMITED
                s.open_left[seat] = ru.open_cap
            s.flows[month, F_ADDED] += li.added[month]
        if ru.restriction:
            for seat in range(seats):
                if s.restricted_until[seat] <= day:
                    probability = _restriction_chance(
                        ru.intercept,
                        ru.per_pending,
                        ru.per_low_acceptance,
                        s.pending[seat],
                        s.window[0, seat],
                        s.window[1, seat],
                    )
                    u = _uniform(ru.restriction_keys[rep], day * seats + seat)
                    if COUNT_DRAWS:
                        s.draws[0] += 1
                    if u < probability:
                        s.restricted_until[seat] = day + ru.restriction_days
                if s.restricted_until[seat] > day:
                    s.flows[month, F_RESTRICTED] += 1
        for seat in range(seats):
            limit = _limit_in_force(s, ru, rep * seats + seat, seat, day)
            limits[seat] = limit
            for k in range(N_KINDS):
                s.left[k, seat] = ru.pace[k]
            # step 2: invitations accepted or withdrawn today are no longer pending
            s.pending[seat] -= s.accepted[day, seat] + s.withdrawn[day, seat]
            s.pending[seat] -= s.discarded[day, seat]
            s.left[CONNECT, seat] = _invitations_allowed(
                limit,
                s.window[2, seat],
                ru.pace[CONNECT],
                s.restricted_until[seat] > day,
                s.pending[seat],
                ru.max_pending,
            )
            s.flows[month, F_ACCEPTANCES] += s.accepted[day, seat]
            s.flows[month, F_WITHDRAWALS] += s.withdrawn[day, seat]
        _resolve_replies(s, st, li, ru, rep, day)
        # step 3: scheduled touches, first in first out; steps 4 and 5: new starts
        _send_scheduled(s, st, ru, rep, day)
        _start_new(s, st, li, ru, rep, day)
        if s.slots[2]:  # too small a state: nothing is copied out
            return
        s.flows[month, F_EXHAUSTED] += s.exhausted_on[day]
        if day % 30 == 29:
            for seat in range(seats):
                s.stocks[month, S_BALANCE] += s.arrived[seat] - s.departed[seat]
                s.stocks[month, S_PENDING] += s.pending[seat]
                s.stocks[month, S_LIMIT] += limits[seat]
            _count_open(s, month, day)
    # counted in the thread's own arrays, copied out once (threads share the outputs)
    monthly_out[rep, :, :N_FLOWS] = s.flows
    monthly_out[rep, :, N_FLOWS : N_FLOWS + N_STOCKS] = s.stocks
    monthly_out[rep, :, N_FLOWS + N_STOCKS :] = s.by_segment
    draws_out[rep] = s.draws[0]


@njit(nogil=True, cache=True)
def _replications(
    st: Steps,
    li: Lists,
    ru: Rules,
    monthly: np.ndarray,
    draws: np.ndarray,
    first: int,
    end: int,
    capacity: int,
) -> int:
    """Replications first .. end - 1 of the block, on one state for `capacity` started
    prospects, allocated once and reset for each; the capacity it ended with back (the
    thread's next range starts there). Without the GIL: threads of this process run
    other ranges alongside."""
    span = max(ru.days + ru.invite_window + 1, ru.exhausted_span)
    owner = _new_state(capacity, ru.days, ru.months, ru.seats, li.length.size, span)
    s, steps, lists, rules = borrow(owner), borrow(st), borrow(li), borrow(ru)
    rep = first
    while rep < end:
        _reset(owner)  # (and `owner` stays alive while `s` is in use)
        _replication(s, rep, steps, lists, rules, monthly, draws)
        if owner.slots[2]:  # more starts than the state holds: again, on one twice as big
            capacity *= 2
            owner = _new_state(capacity, ru.days, ru.months, ru.seats, li.length.size, span)
            s = borrow(owner)
            continue
        rep += 1
    return capacity


# counting draws: compiled afresh in this process, never from (nor into) the cache
_run_replications = njit(nogil=True)(_replications.py_func) if COUNT_DRAWS else _replications


def default_threads() -> int:
    """``OUTREACH_SIM_THREADS`` if set, else one in a worker process (whose siblings use
    the other cores), else every core of this machine."""
    if os.environ.get("OUTREACH_SIM_THREADS"):
        return max(1, int(os.environ["OUTREACH_SIM_THREADS"]))
    if multiprocessing.parent_process() is not None:
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


# The structures are built by cached compiled functions: a structure's Python constructor
# is compiled afresh in every process (about a second each), these load from the cache.


@njit(cache=True)
def _make_steps(fields: tuple) -> Steps:
    return Steps(*fields)


@njit(cache=True)
def _make_lists(fields: tuple) -> Lists:
    return Lists(*fields)


@njit(cache=True)
def _make_rules(fields: tuple) -> Rules:
    return Rules(*fields)


def _per_rep(value, reps: int) -> np.ndarray:
    return np.array(np.broadcast_to(np.asarray(value, dtype=np.float64), (reps,)))


def _steps(sim: Simulation) -> Steps:
    cdfs, starts, lengths, per_rep, guides, guide_starts = [], [], [], [], [], []
    at, guide_at = 0, 0
    for sampler in sim.samplers:
        table = np.atleast_2d(sampler._cdf)  # one row, or one per replication
        starts.append(at)
        lengths.append(table.shape[1])
        per_rep.append(not isinstance(sampler, DelaySampler))
        cdfs.append(table.ravel())
        at += table.size
        guides.append(_guide_rows(np.ascontiguousarray(table.ravel()), *table.shape))
        guide_starts.append(guide_at)
        guide_at += guides[-1].size
    i64 = np.int64
    table = StepTable(
        kind=sim.step_kind.astype(i64),
        next=sim.step_next.astype(i64),
        reinvite=sim.step_reinvite.astype(i64),
        first_message=sim.step_first_message.astype(i64),
        note=sim.step_note.astype(i64),
        is_reinvite=sim.step_is_reinvite.astype(i64),
        entry=sim.step_entry.astype(i64),
        fallback=sim.step_fallback.astype(i64),
        budget=sim.step_budget.astype(i64),
        wait_lo=sim.step_wait_lo.astype(i64),
        wait_hi=sim.step_wait_hi.astype(i64),
        offset=sim.step_offset.astype(i64),
        reach=sim.step_reach.astype(np.float64),
        p_main=np.array(sim.p_main, dtype=np.float64),
        p_blank=np.array(sim.p_blank, dtype=np.float64),
        p_free=np.array(sim.p_free, dtype=np.float64),
        outcome_keys=np.array(sim.outcome_keys, dtype=np.uint64),
        wait_keys=np.array(sim.wait_keys, dtype=np.uint64),
        reach_keys=np.array(sim.reach_keys, dtype=np.uint64),
        cdf=np.concatenate(cdfs) if cdfs else np.zeros(0),
        cdf_start=np.array(starts, dtype=i64),
        cdf_len=np.array(lengths, dtype=i64),
        cdf_per_rep=np.array(per_rep, dtype=np.bool_),
        guide=np.concatenate(guides) if guides else np.zeros(0, dtype=np.int32),
        guide_start=np.array(guide_starts, dtype=i64),
    )
    return _make_steps(tuple(table))


def _initial_capacity(sim: Simulation) -> int:
    """Started prospects a thread's state holds at first (it doubles where short)."""
    return int(max(1, min(sim.prospects.total, INITIAL_CAPACITY)))


def _lists(sim: Simulation) -> Lists:
    cfg, prospects, reps = sim.config, sim.prospects, sim.reps
    names = list(cfg.segments)
    months = sim.months
    book = sim.book
    entries = range(len(sim.entry_segment))
    added = np.zeros(months, dtype=np.int64)
    for month in range(months):
        for seg in cfg.segments.values():
            if not seg.unlimited:
                added[month] += seg.size if month == 0 else seg.new_per_month
    table = ListTable(
        length=np.array([prospects.lists[n].length for n in names], dtype=np.int64),
        offset=np.array([prospects.offset[n] for n in names], dtype=np.int64),
        share=np.array([cfg.segments[n].open_profile_share for n in names], dtype=np.float64),
        badge_keys=np.array(
            [
                prospects.streams.stream_keys(prospects.lists[n].key, role_id("open_profile"))
                for n in names
            ],
            dtype=np.uint64,
        ).reshape(len(names), reps),
        available=np.array(
            [prospects.lists[n].available_by_month for n in names], dtype=np.int64
        ).reshape(len(names), months),
        added=added,
        entry_list=np.array([names.index(sim.entry_segment[e]) for e in entries], dtype=np.int64),
        entry_new_per_day=np.array(
            [as_limit(entry.new_per_day) for entry in sim.strategy.playbook], dtype=np.int64
        ),
        entry_first_other=np.array([book.routes[e][0].first_step for e in entries], dtype=np.int64),
        entry_first_op=np.array([book.routes[e][1].first_step for e in entries], dtype=np.int64),
        positive_keys=np.array([sim.funnel_keys[e][0] for e in entries], dtype=np.uint64).reshape(
            -1, reps
        ),
        meeting_keys=np.array([sim.funnel_keys[e][1] for e in entries], dtype=np.uint64).reshape(
            -1, reps
        ),
        positive_share=np.array([_per_rep(sim.funnel_shares[e][0], reps) for e in entries]).reshape(
            -1, reps
        ),
        meeting_share=np.array([_per_rep(sim.funnel_shares[e][1], reps) for e in entries]).reshape(
            -1, reps
        ),
        unlimited=np.array([cfg.segments[n].unlimited for n in names], dtype=np.bool_),
    )
    return _make_lists(tuple(table))


def _rules(sim: Simulation, limiter: InvitationLimiter) -> Rules:
    cfg, plan = sim.config, sim.plan
    inv = cfg.invitations
    pace = sim.strategy.daily_pace
    by_kind = [daily_pace(pace, k) for k in Kind]
    paces = np.array([as_limit(value) for value in by_kind], dtype=np.int64)
    paced = np.array([value is not None for value in by_kind], dtype=np.bool_)
    r = inv.restriction
    table = RuleTable(
        days=sim.days,
        months=sim.months,
        seats=sim.seats,
        exhausted_span=sim.days + sim.horizon_pad + int(sim.step_wait_hi.max(initial=0)) + 2,
        credits_per_month=int(plan.credits_per_month),
        credits_cap=int(plan.credits_cap),
        notes_per_month=-1 if plan.notes_per_month is None else int(plan.notes_per_month),
        open_profile_messages=bool(plan.open_profile_messages),
        open_cap=int(cfg.inmail.open_profile_monthly_cap),
        expiry_days=int(cfg.inmail.credit_expiry_days),
        refunds=bool(cfg.inmail.refunds),
        refund_window=int(cfg.inmail.refund_window_days),
        response_window=int(cfg.response_window_days),
        invite_window=int(inv.invite_window_days),
        cooldown=int(inv.reinvite_cooldown_days),
        max_pending=-1 if inv.max_pending is None else int(inv.max_pending),
        health_window=int(inv.health_window_days),
        base=np.array(limiter._base, dtype=np.int64),
        den=int(limiter._den),
        poor=int(limiter._poor),
        good=int(limiter._good),
        floor=int(limiter._floor),
        restriction=bool(r.enabled),
        restriction_days=int(r.restriction_days),
        intercept=float(r.intercept),
        per_pending=float(r.per_pending),
        per_low_acceptance=float(r.per_low_acceptance),
        restriction_keys=np.array(sim.restriction_keys, dtype=np.uint64),
        pace=paces,
        paced=paced,
    )
    return _make_rules(tuple(table))


def run_compiled(
    sim: Simulation, threads: int | None = None, draws: np.ndarray | None = None
) -> np.ndarray | None:
    """Monthly counts of the block, (replications, months, counts), as Simulation.run
    gives them; None where the health factor's exact integers would overflow 64 bits
    (the vectorised engine then falls back on Python integers). `draws`, by replication,
    receives the uniforms each drew where COUNT_DRAWS (else zeros)."""
    reps, months = sim.reps, sim.months
    weekly = np.repeat(np.broadcast_to(sim.prospects.parameters.weekly_limit(), reps), sim.seats)
    limiter = InvitationLimiter(sim.config.invitations, sim.units, sim.days, weekly)
    if not limiter._exact_in_int64:
        return None
    n_segments = len(sim.config.segments)
    # flows, stocks, then replies by segment: each replication writes its own row
    monthly = np.zeros((reps, months, len(COUNTS) + n_segments), dtype=np.int64)
    draws = np.zeros(reps, dtype=np.int64) if draws is None else draws
    outputs = (monthly, draws)
    own = threading.local()

    def simulate(lo: int, hi: int) -> None:
        # each thread reads its own copy of the tables: reads of shared arrays count
        # references on a cache line that every core would keep taking from the others
        if not hasattr(own, "tables"):
            own.tables = (_steps(sim), _lists(sim), _rules(sim, limiter))
            own.capacity = _initial_capacity(sim)
        own.capacity = _run_replications(*own.tables, *outputs, lo, hi, own.capacity)

    threads = default_threads() if threads is None else threads
    if threads <= 1 or reps < 2 * RANGE:
        simulate(0, reps)
    else:  # short ranges, so that an interrupt waits for little
        with ThreadPoolExecutor(threads) as pool:
            futures = [
                pool.submit(simulate, lo, min(reps, lo + RANGE)) for lo in range(0, reps, RANGE)
            ]
            try:
                for future in futures:
                    future.result()
            finally:
                for future in futures:
                    future.cancel()
    return monthly
