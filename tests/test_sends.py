"""The table of what sending each touch kind takes and counts (simulator.sends)."""

from __future__ import annotations

from simulator.metrics import FLOWS
from simulator.playbook import CHANNELS, Kind
from simulator.sends import BUDGETS, CREDIT_BUDGET, PACES, SENDS, Outcome, sent_counts


def test_every_kind_has_one_budget_and_follow_ups_take_the_inmail_pace() -> None:
    assert sorted(k for kinds in BUDGETS for k in kinds) == list(Kind)
    assert len(PACES) == len(BUDGETS)
    for pace, kinds in zip(PACES, BUDGETS, strict=True):
        assert all(SENDS[k].pace == pace for k in kinds)
        assert SENDS[pace].pace == pace  # a pace is a kind's own
    assert SENDS[Kind.FOLLOWUP].pace == Kind.INMAIL
    assert BUDGETS[CREDIT_BUDGET] == (Kind.INMAIL, Kind.FOLLOWUP)


def test_every_count_a_send_names_is_a_flow() -> None:
    for kind, send in SENDS.items():
        counts = sent_counts(kind)
        assert len(counts) == (2 if send.credit else 1), kind
        named = [*counts, send.replies, send.unreachable]
        assert all(name in FLOWS for name in named if name is not None), kind
        assert (send.unreachable is not None) == (send.outcome == Outcome.ADDRESS), kind
        # a touch that can be answered has a count of its replies
        assert (send.replies is not None) == (send.outcome in (Outcome.REPLY, Outcome.ADDRESS))


def test_the_channels_that_need_an_address_are_the_address_kinds() -> None:
    """playbook.CHANNELS (which draws each prospect's address) and SENDS agree."""
    assert set(CHANNELS) == {k for k, send in SENDS.items() if send.outcome == Outcome.ADDRESS}
