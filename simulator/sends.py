"""What sending a touch takes and what it counts, kind by kind: one table, read by both engines.

A touch takes its kind's daily pace (a follow-up takes the InMail pace, MODEL.md
section 7) and, where it is an InMail or a follow-up, a credit, or the Open Profile
allowance where the plan reaches Open Profiles free (section 6). Its outcome is drawn by
what it is (section 10, step 5): a connection request is accepted or withdrawn; a
message, InMail or follow-up gets a reply or not; an email or WhatsApp first needs an
address; an engagement opens nothing and its route goes on.

The vectorised engine (:mod:`simulator.engine`) and the compiled loop
(:mod:`simulator.kernel`) both read :data:`SENDS`, so a new channel is a row here (with
its :class:`~simulator.playbook.Kind`, its pace in the config and its counts in
:mod:`simulator.metrics`; docs/architecture.md has the whole checklist), not an edit of
either engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from simulator.config import Pace
from simulator.metrics import SENT_BY_KIND
from simulator.playbook import KIND_NAMES, Kind


class Outcome(IntEnum):
    """How a sent touch's outcome is drawn."""

    REQUEST = 0  # accepted (after a delay) or withdrawn at the invitation window's end
    REPLY = 1  # a reply (after a delay) or none
    ADDRESS = 2  # sent where the prospect has an address, then a reply or none; else its fallback
    NONE = 3  # opens nothing: the route goes on


@dataclass(frozen=True)
class Send:
    """What a touch kind takes and counts when it is sent."""

    pace: Kind  # the kind whose daily pace it takes
    outcome: Outcome
    credit: bool = False  # an InMail: a credit, or free to an Open Profile
    replies: str | None = None  # the count of its replies
    unreachable: str | None = None  # the count of its touches that found no address


#: by touch kind, in Kind order
SENDS: dict[Kind, Send] = {
    Kind.CONNECT: Send(Kind.CONNECT, Outcome.REQUEST),
    Kind.MESSAGE: Send(Kind.MESSAGE, Outcome.REPLY, replies="replies_message"),
    Kind.INMAIL: Send(Kind.INMAIL, Outcome.REPLY, credit=True, replies="replies_inmail"),
    Kind.FOLLOWUP: Send(Kind.INMAIL, Outcome.REPLY, credit=True, replies="replies_followup"),
    Kind.EMAIL: Send(
        Kind.EMAIL, Outcome.ADDRESS, replies="replies_email", unreachable="emails_unreachable"
    ),
    Kind.WHATSAPP: Send(
        Kind.WHATSAPP,
        Outcome.ADDRESS,
        replies="replies_whatsapp",
        unreachable="whatsapps_unreachable",
    ),
    Kind.ENGAGE: Send(Kind.ENGAGE, Outcome.NONE),
}
assert list(SENDS) == list(Kind), "a row for every touch kind, in Kind order"

#: the paces of a seat's day, one budget each, in Kind order
PACES: tuple[Kind, ...] = tuple(dict.fromkeys(send.pace for send in SENDS.values()))
#: the touch kinds that draw on each budget (one waiting queue each): those that take its pace
BUDGETS: tuple[tuple[Kind, ...], ...] = tuple(
    tuple(k for k, send in SENDS.items() if send.pace == pace) for pace in PACES
)
#: the budget of InMails and follow-ups: a pace and a credit (or the Open Profile cap)
CREDIT_BUDGET = next(g for g, kinds in enumerate(BUDGETS) if SENDS[kinds[0]].credit)


def daily_pace(pace: Pace, kind: Kind) -> int | None:
    """The strategy's daily pace for touches of `kind` (None: unpaced)."""
    return getattr(pace, KIND_NAMES[SENDS[kind].pace])


def sent_counts(kind: Kind) -> tuple[str, ...]:
    """The count a sent touch of `kind` adds one to (an address channel's, where it finds
    an address): one name, or (paid, free) for a kind that takes a credit
    (``metrics.SENT_BY_KIND``, which prices them)."""
    return SENT_BY_KIND[KIND_NAMES[kind]]
