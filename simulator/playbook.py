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
    if book.plan.followup_inmail != "yes":
        # Premium allows no second InMail before a response, which ends the playbook.
        touches = [t for t in touches if t.kind != "inmail_followup"]
    ids: list[int] = []
    ordinal: dict[str, int] = {}
    seen_inmail = False
    for touch in touches:
        n = ordinal.get(touch.kind, 0)
        ordinal[touch.kind] = n + 1
        if isinstance(touch, ConnectTouch):
            step_id = _add(
                book,
                Step(
                    Kind.CONNECT,
                    entry,
                    f"connect/{n}",
                    wait=touch.wait_days,
                    note=touch.note,
                    after_inmail=seen_inmail,
                ),
            )
            first_message = _compile_messages(book, entry, touch, n)
            book.steps[step_id].first_message = first_message
            if touch.reinvite:
                again = _add(
                    book,
                    Step(
                        Kind.CONNECT,
                        entry,
                        f"reinvite/{n}",
                        reinvite=True,
                        after_inmail=seen_inmail,
                        first_message=first_message,
                    ),
                )
                book.steps[step_id].reinvite_step = again
        elif touch.kind == "inmail":
            step_id = _add(book, Step(Kind.INMAIL, entry, f"inmail/{n}", wait=touch.wait_days))
            seen_inmail = True
        else:
            step_id = _add(book, Step(Kind.FOLLOWUP, entry, f"followup/{n}", wait=touch.wait_days))
        ids.append(step_id)
    for here, after in pairwise(ids):
        book.steps[here].next_step = after
        again = book.steps[here].reinvite_step
        if again >= 0:
            book.steps[again].next_step = after
    return Route(first_step=ids[0])


def _compile_messages(book: CompiledPlaybook, entry: int, touch: ConnectTouch, n: int) -> int:
    ids = [
        _add(
            book,
            Step(
                Kind.MESSAGE,
                entry,
                f"connect/{n}/message/{k}",
                wait=message.wait_days,
                message_index=k,
            ),
        )
        for k, message in enumerate(touch.messages)
    ]
    for here, after in pairwise(ids):
        book.steps[here].next_step = after
    return ids[0] if ids else -1
