"""Playbooks compiled into step tables the engine can index with arrays (MODEL.md section 9).

Each route of a playbook entry (prospects with the Open Profile badge, and the others)
becomes a chain of *steps*. A step is one touch with what follows it: the next step of
the route, the message sequence of an accepted request, the re-invitation of a
withdrawn one. The engine carries a step id with every scheduled touch and outcome and
looks up the rest here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from itertools import pairwise

import numpy as np

from simulator.config import Config, ConnectTouch, Plan, Strategy


class Kind(IntEnum):
    CONNECT = 0
    MESSAGE = 1
    INMAIL = 2
    FOLLOWUP = 3
    EMAIL = 4
    WHATSAPP = 5
    ENGAGE = 6


#: the config's touch kind of each step kind (the key of costs, minutes and paces)
KIND_NAMES: dict[Kind, str] = {
    Kind.CONNECT: "connect",
    Kind.MESSAGE: "message",
    Kind.INMAIL: "inmail",
    Kind.FOLLOWUP: "inmail_followup",
    Kind.EMAIL: "email",
    Kind.WHATSAPP: "whatsapp",
    Kind.ENGAGE: "engage",
}
#: touches that need an address the prospect may not have
CHANNELS = (Kind.EMAIL, Kind.WHATSAPP)


@dataclass
class Step:
    """One touch of a route and its successors (ids into the step table, -1 for none)."""

    kind: Kind
    entry: int  # index of the playbook entry (and so of its segment)
    role: str  # names the prospect's latent draw for this touch (common random numbers)
    wait: tuple[int, int] = (0, 0)  # days after the predecessor (see model-choices.md)
    next_step: int = -1
    note: bool = False
    reinvite: bool = False  # this step *is* a re-invitation
    reinvite_step: int = -1
    first_message: int = -1
    message_index: int = -1
    after_inmail: bool = False
    engaged: int = 0  # engage touches earlier in the route (each lifts this touch's rate)
    fallback_step: int = -1  # where the route goes on when the prospect has no address


@dataclass
class Route:
    first_step: int


@dataclass
class CompiledPlaybook:
    """The step table of one strategy, with its routes per playbook entry."""

    plan: Plan
    steps: list[Step] = field(default_factory=list)
    routes: list[tuple[Route, Route]] = field(default_factory=list)  # (other, open_profile)

    def column(self, name: str, dtype: type = np.int64) -> np.ndarray:
        """A step attribute as an array indexed by step id."""
        return np.array([getattr(step, name) for step in self.steps], dtype=dtype)


def compile_playbook(config: Config, strategy: Strategy) -> CompiledPlaybook:
    """Turn a strategy's playbook into a step table."""
    plan = config.plans[strategy.plan]
    book = CompiledPlaybook(plan=plan)
    for entry_index, entry in enumerate(strategy.playbook):
        other = _compile_route(book, entry_index, list(entry.touches))
        if entry.open_profile_touches is None:
            open_profile = other
        else:
            open_profile = _compile_route(book, entry_index, list(entry.open_profile_touches))
        book.routes.append((other, open_profile))
    return book


def _add(book: CompiledPlaybook, step: Step) -> int:
    book.steps.append(step)
    return len(book.steps) - 1


def _compile_route(book: CompiledPlaybook, entry: int, touches: list) -> Route:
    # Premium allows no second InMail before a response, which ends the playbook
    followups = book.plan.followup_inmail == "yes"
    kept = [i for i, t in enumerate(touches) if followups or t.kind != "inmail_followup"]
    step_of: dict[int, int] = {}
    ordinal: dict[str, int] = {}
    seen_inmail = False
    engaged = 0
    for i in kept:
        touch = touches[i]
        n = ordinal.get(touch.kind, 0)
        ordinal[touch.kind] = n + 1
        wait = touch.if_no_reply_after_days
        if isinstance(touch, ConnectTouch):
            connect = Step(
                Kind.CONNECT, entry, f"connect/{n}", wait, note=touch.note, engaged=engaged
            )
            connect.after_inmail = seen_inmail
            step_id = _add(book, connect)
            first_message = _compile_messages(book, entry, touch, n, engaged)
            book.steps[step_id].first_message = first_message
            if touch.reinvite:
                again = Step(
                    Kind.CONNECT,
                    entry,
                    f"reinvite/{n}",
                    reinvite=True,
                    after_inmail=seen_inmail,
                    first_message=first_message,
                    engaged=engaged,
                )
                book.steps[step_id].reinvite_step = _add(book, again)
        else:
            kind = _STEP_KIND[touch.kind]
            step_id = _add(book, Step(kind, entry, f"{_ROLE[kind]}/{n}", wait, engaged=engaged))
            seen_inmail |= kind == Kind.INMAIL
            engaged += kind == Kind.ENGAGE
        step_of[i] = step_id
    ids = [step_of[i] for i in kept]
    for here, after in pairwise(ids):
        book.steps[here].next_step = after
        again = book.steps[here].reinvite_step
        if again >= 0:
            book.steps[again].next_step = after
    # without an address the route goes on at the fallback (by default, the next touch);
    # a fallback to a removed follow-up goes on at the touch after it
    from_here = [-1] * (len(touches) + 1)
    for i in reversed(range(len(touches))):
        from_here[i] = step_of.get(i, from_here[i + 1])
    named = {t.name: i for i, t in enumerate(touches) if t.name is not None}
    for i in kept:
        step = book.steps[step_of[i]]
        target = getattr(touches[i], "fallback", None)
        step.fallback_step = step.next_step if target is None else from_here[named[target]]
    return Route(first_step=ids[0])


_STEP_KIND = {
    "inmail": Kind.INMAIL,
    "inmail_followup": Kind.FOLLOWUP,
    "email": Kind.EMAIL,
    "whatsapp": Kind.WHATSAPP,
    "engage": Kind.ENGAGE,
}
_ROLE = {
    Kind.INMAIL: "inmail",
    Kind.FOLLOWUP: "followup",
    Kind.EMAIL: "email",
    Kind.WHATSAPP: "whatsapp",
    Kind.ENGAGE: "engage",
}


def _compile_messages(
    book: CompiledPlaybook, entry: int, touch: ConnectTouch, n: int, engaged: int
) -> int:
    ids = [
        _add(
            book,
            Step(
                Kind.MESSAGE,
                entry,
                f"connect/{n}/message/{k}",
                wait=message.wait_days,
                message_index=k,
                engaged=engaged,
            ),
        )
        for k, message in enumerate(touch.on_accept)
    ]
    for here, after in pairwise(ids):
        book.steps[here].next_step = after
    return ids[0] if ids else -1


#: the segment rate a reply to each touch kind is drawn with (messages: by their index)
REPLY_RATES: dict[Kind, str] = {
    Kind.MESSAGE: "reply_after_accept",
    Kind.INMAIL: "inmail_reply_paid",  # inmail_reply_open where the InMail is free
    Kind.FOLLOWUP: "inmail_followup_reply",
    Kind.EMAIL: "email_reply",
    Kind.WHATSAPP: "whatsapp_reply",
}
#: the segment delay each touch kind's outcome is drawn with; an unset reply delay is
#: the segment's `reply` delay
DELAYS: dict[Kind, str] = {
    Kind.CONNECT: "accept",
    Kind.MESSAGE: "message_reply",
    Kind.INMAIL: "inmail_reply",
    Kind.FOLLOWUP: "followup_reply",
    Kind.EMAIL: "email_reply",
    Kind.WHATSAPP: "whatsapp_reply",
    Kind.ENGAGE: "reply",  # no reply is ever drawn
}


def route_steps(book: CompiledPlaybook, route: Route) -> set[int]:
    """Every step a prospect on `route` can reach: the chain, each request's messages,
    re-invitations and fallbacks."""
    seen: set[int] = set()
    todo = [route.first_step]
    while todo:
        step_id = todo.pop()
        if step_id < 0 or step_id in seen:
            continue
        seen.add(step_id)
        step = book.steps[step_id]
        todo += [step.next_step, step.first_message, step.reinvite_step, step.fallback_step]
    return seen


def parameters_used(config: Config, strategy: str) -> set[str]:
    """The dotted paths of the segment rates and delays, and the weekly limit, that can
    change what `strategy` gets: what a control or a sensitivity ranking of it shows.

    Read from its compiled steps, as the engine reads them (``Simulation._prepare_steps``):
    a paid InMail reads ``inmail_reply_paid``, one free to an Open Profile
    ``inmail_reply_open``. ``tests/test_whatif.py`` holds it to the engine: every other
    rate can change without changing a count."""
    book = compile_playbook(config, config.strategies[strategy])
    used: set[str] = set()
    for entry, routes in zip(config.strategies[strategy].playbook, book.routes, strict=True):
        segment = config.segments[entry.segment]
        rates, delays = f"segments.{entry.segment}.rates", f"segments.{entry.segment}.delays"
        badge = segment.open_profile_share
        # who walks each route: the badge-less, and Open Profiles (free InMails if allowed)
        walkers = [(routes[0], False, badge < 1), (routes[1], True, badge > 0)]
        for route, open_profile, anyone in walkers:
            if not anyone:
                continue
            for step in (book.steps[i] for i in route_steps(book, route)):
                fields: list[str] = []
                if step.kind == Kind.CONNECT:
                    if step.reinvite or not step.note or book.plan.notes_per_month is not None:
                        fields.append("accept_without_note")  # a blank request, or notes run out
                    if step.reinvite:
                        fields.append("reinvite_multiplier")
                    elif step.note:
                        fields.append("accept_with_note")
                    if step.after_inmail:
                        fields.append("accept_after_inmail_multiplier")
                    if step.engaged:
                        fields.append("engage_accept_multiplier")
                    used.add("invitations.weekly_limit")
                elif step.kind in REPLY_RATES:
                    free = open_profile and book.plan.open_profile_messages
                    if step.kind == Kind.MESSAGE:
                        fields.append(f"reply_after_accept.{step.message_index}")
                    elif step.kind == Kind.INMAIL and free:
                        fields.append("inmail_reply_open")
                    else:
                        fields.append(REPLY_RATES[step.kind])
                    if step.engaged:
                        fields.append("engage_reply_multiplier")
                    fields += ["positive_share", "meeting_share"]
                used.update(f"{rates}.{field}" for field in fields)
                if step.kind != Kind.ENGAGE:
                    delay = DELAYS[step.kind]
                    if getattr(segment.delays, delay) is None:
                        delay = "reply"
                    used.update(f"{delays}.{delay}.{part}" for part in ("median", "sigma"))
    return used
