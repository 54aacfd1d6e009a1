"""The counts a run records per replication and month (MODEL.md section 11).

Each name is a column of ``monthly.parquet`` (summed over seats) and, summed over the
months, of ``runs.parquet``. Counts are flows within the month, except the ``*_end``
stocks, which are read at the end of the month's last day.
"""

from __future__ import annotations

FLOWS: tuple[str, ...] = (
    # touches sent
    "connects_sent",  # every connection request, re-invitations included
    "notes_used",  # requests sent with a personalised note
    "reinvites_sent",
    "messages_sent",  # messages after acceptance
    "inmails_paid",  # first InMails that spent a credit
    "inmails_free",  # first InMails to Open Profiles
    "followups_paid",
    "followups_free",
    "emails_sent",
    "emails_unreachable",  # email touches that found no address (nothing sent)
    "whatsapps_sent",
    "whatsapps_unreachable",
    "engagements",  # engage touches (comments, likes): no reply
    # invitation outcomes
    "acceptances",
    "withdrawals",
    # replies, credited to the touch that got them
    "replies",
    "replies_message",
    "replies_inmail",
    "replies_followup",
    "replies_email",
    "replies_whatsapp",
    "positive_replies",
    "meetings",
    # credits (section 6)
    "credits_granted",
    "credits_forfeited",
    "credits_expired",
    "credits_spent",
    "credits_refunded",
    # prospects
    "prospects_added",
    "prospects_started",
    "prospects_replied",
    "prospects_exhausted",
    # seats
    "restricted_days",
)

STOCKS: tuple[str, ...] = (
    "credit_balance_end",
    "invitations_pending_end",
    "prospects_in_flight_end",
    "invitation_limit_end",  # limit in force on the month's last day, summed over seats
)

COUNTS: tuple[str, ...] = FLOWS + STOCKS


def segment_columns(segments: list[str]) -> list[str]:
    """Replies by segment: flows that follow COUNTS, one per segment of the config."""
    return [f"replies_in_{name}" for name in segments]


def columns(segments: list[str]) -> list[str]:
    """Every column of a run's monthly counts, in the engine's order."""
    return [*COUNTS, *segment_columns(segments)]


FLOW_INDEX: dict[str, int] = {name: i for i, name in enumerate(FLOWS)}

#: the counts of touches sent, by the touch kind that prices them (costs.per_send) and
#: takes the time (costs.minutes_per_touch)
SENT_BY_KIND: dict[str, tuple[str, ...]] = {
    "connect": ("connects_sent",),
    "message": ("messages_sent",),
    "inmail": ("inmails_paid", "inmails_free"),
    "inmail_followup": ("followups_paid", "followups_free"),
    "email": ("emails_sent",),
    "whatsapp": ("whatsapps_sent",),
    "engage": ("engagements",),
}

#: metrics summarised per strategy, in report order
SUMMARY_METRICS: tuple[str, ...] = (
    "cost_per_reply",
    "cost_per_positive_reply",
    "cost_per_meeting",
    "replies",
    "positive_replies",
    "meetings",
    "cost",
    "connects_sent",
    "credits_spent",
    "credits_refunded",
    "credits_forfeited",
    "credits_expired",
    "prospects_exhausted",
)
RATIOS = {
    "cost_per_reply": "replies",
    "cost_per_positive_reply": "positive_replies",
    "cost_per_meeting": "meetings",
}
#: what one unit of each ratio's denominator is called in a sentence ("no meeting")
COUNT_WORDS = {
    "cost_per_reply": "reply",
    "cost_per_positive_reply": "positive reply",
    "cost_per_meeting": "meeting",
}
