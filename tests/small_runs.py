"""Small runs for the reporting tests: several strategies or one, plans with credits and
without, and a strategy whose short list leaves many replications with no reply."""

from __future__ import annotations

import functools
from typing import Any

from simulator import Results, parse_config, run

SEGMENTS = {
    "mid": {
        "size": 400,
        "open_profile_share": 0.2,
        "rates": {"accept_with_note": 0.35, "reply_after_accept": [0.15, 0.06]},
    },
    # a short list and a low reply rate: P(no reply) = 0.95^12 * 0.97^12, about 0.4
    "few": {
        "size": 12,
        "rates": {"inmail_reply_paid": 0.05, "inmail_followup_reply": 0.03},
    },
}

CONNECT = {
    "plan": "free",
    "daily_pace": {"connect": 10},
    "playbook": [
        {
            "segment": "mid",
            "touches": [{"kind": "connect", "on_accept": [{"wait_days": 0}, {"wait_days": 4}]}],
        }
    ],
}
INMAIL_FEW = {
    "plan": "sales_navigator_core",
    "playbook": [{"segment": "few", "touches": [{"kind": "inmail"}, {"kind": "inmail_followup"}]}],
}
OPEN_PROFILE_FIRST = {
    "plan": "premium_business",
    "daily_pace": {"connect": 10, "inmail": 5},
    "playbook": [
        {
            "segment": "mid",
            "open_profile_touches": [{"kind": "inmail"}],
            "touches": [{"kind": "connect", "on_accept": [{"wait_days": 0}]}],
        }
    ],
}

#: requests on a free plan against InMails on Sales Navigator, on a segment named `mid`
#: (the command-line and results-folder tests' pair)
REQUESTS_AND_INMAILS = {
    "connect": {
        "plan": "free",
        "playbook": [{"segment": "mid", "touches": [{"kind": "connect"}]}],
    },
    "inmail": {
        "plan": "sales_navigator_core",
        "playbook": [{"segment": "mid", "touches": [{"kind": "inmail"}]}],
    },
}

CONFIGS: dict[str, dict[str, Any]] = {
    "several": {
        "horizon_months": 3,
        "segments": SEGMENTS,
        "strategies": {
            "connect": CONNECT,
            "inmail_few": INMAIL_FEW,
            "open_profile_first": OPEN_PROFILE_FIRST,
        },
    },
    "one_with_credits": {
        "horizon_months": 3,
        "segments": {"few": SEGMENTS["few"]},
        "strategies": {"inmail_few": INMAIL_FEW},
    },
    "one_without_credits": {
        "horizon_months": 3,
        "segments": {"mid": SEGMENTS["mid"]},
        "strategies": {"connect": CONNECT},
    },
}


@functools.cache
def small_run(name: str, replications: int = 120, seed: int = 5) -> Results:
    """A run of one of CONFIGS (cached: the tests only read it)."""
    return run(parse_config(CONFIGS[name], source=name), replications=replications, seed=seed)
