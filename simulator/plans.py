"""Built-in LinkedIn plans as data (MODEL.md section 3).

Prices are the seed guide's; credit grants, banking caps and the free account's note
quota are LinkedIn's published figures. Every field can be overridden in a config's
``plans:`` block, and a config may define plans of its own.
"""

from __future__ import annotations

BUILTIN_PLANS: dict[str, dict[str, object]] = {
    "free": {
        "price_per_month": 0.0,
        "credits_per_month": 0,
        "credits_cap": 0,
        "notes_per_month": 5,
        "note_length": 200,
        "followup_inmail": "none",
        "open_profile_messages": False,
    },
    "premium_career": {
        "price_per_month": 40.0,
        "credits_per_month": 5,
        "credits_cap": 15,
        "notes_per_month": None,
        "note_length": 300,
        "followup_inmail": "after_response",
        "open_profile_messages": True,
    },
    "premium_business": {
        "price_per_month": 60.0,
        "credits_per_month": 15,
        "credits_cap": 45,
        "notes_per_month": None,
        "note_length": 300,
        "followup_inmail": "after_response",
        "open_profile_messages": True,
    },
    "sales_navigator_core": {
        "price_per_month": 99.0,
        "credits_per_month": 50,
        "credits_cap": 150,
        "notes_per_month": None,
        "note_length": 300,
        "followup_inmail": "yes",
        "open_profile_messages": True,
    },
}
