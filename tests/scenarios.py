"""Small scenarios that exercise every limit of the model, for the engine and the oracle."""

from __future__ import annotations

from typing import Any

from simulator import Config, parse_config


def _connect(note: bool = True, on_accept: Any = ((0, 0), (4, 6)), **extra: Any) -> dict:
    return {
        "kind": "connect",
        "note": note,
        "on_accept": [{"wait_days": list(w)} for w in on_accept],
        **extra,
    }


SCENARIOS: dict[str, dict[str, Any]] = {
    # free plan: note quota, low acceptance so account health cuts the limit, re-invites,
    # a list that runs out and is refilled monthly, a daily pace
    "connect_health": {
        "horizon_months": 4,
        "invitations": {"weekly_limit": 40, "good_acceptance": 0.35, "poor_acceptance": 0.1},
        "segments": {
            "mid": {
                "size": 260,
                "new_per_month": 40,
                "rates": {
                    "accept_with_note": 0.3,
                    "accept_without_note": 0.18,
                    "reply_after_accept": [0.2, 0.1],
                },
            }
        },
        "strategies": {
            "connect": {
                "plan": "free",
                "daily_pace": {"connect": 9},
                "playbook": [{"segment": "mid", "touches": [_connect(reinvite=True)]}],
            }
        },
    },
    # Sales Navigator InMails: Open Profiles (cap binds), follow-ups, credit cap, forfeits,
    # expiry once the list runs dry, refunds, a daily InMail pace
    "inmail_credits": {
        "horizon_months": 6,
        "inmail": {"open_profile_monthly_cap": 12, "credit_expiry_days": 60},
        "plans": {"sales_navigator_core": {"credits_per_month": 30, "credits_cap": 40}},
        "segments": {
            "vp": {
                "size": 150,
                "open_profile_share": 0.3,
                "rates": {
                    "inmail_reply_paid": 0.25,
                    "inmail_reply_open": 0.15,
                    "inmail_followup_reply": 0.1,
                },
            }
        },
        "strategies": {
            "inmail": {
                "plan": "sales_navigator_core",
                "daily_pace": {"inmail": 4},
                "playbook": [
                    {
                        "segment": "vp",
                        "new_per_day": 3,
                        "touches": [
                            {"kind": "inmail"},
                            {"kind": "inmail_followup", "if_no_reply_after_days": [5, 7]},
                        ],
                    }
                ],
            }
        },
    },
    # two seats, Open Profile first with CRs elsewhere, max_pending, warm-up, restrictions,
    # two segments started in playbook order
    "two_seats": {
        "horizon_months": 3,
        "accounts": 2,
        "invitations": {
            "weekly_limit": 35,
            "warmup_weeks": 3,
            "max_pending": 30,
            "restriction": {"enabled": True, "intercept": -6.0, "per_pending": 0.05},
        },
        "inmail": {"open_profile_monthly_cap": 10},
        "segments": {
            "vp": {
                "size": 120,
                "open_profile_share": 0.4,
                "rates": {"accept_with_note": 0.35, "inmail_reply_open": 0.2},
            },
            "mid": {"size": 200, "rates": {"accept_with_note": 0.4, "reply_after_accept": [0.2]}},
        },
        "strategies": {
            "open_profile_first": {
                "plan": "premium_business",
                "daily_pace": {"connect": 6, "message": 3},
                "playbook": [
                    {
                        "segment": "vp",
                        "new_per_day": 4,
                        "open_profile_touches": [{"kind": "inmail"}],
                        "touches": [_connect()],
                    },
                    {"segment": "mid", "touches": [_connect(on_accept=((0, 0),))]},
                ],
            }
        },
    },
    # routes that chain: InMail then a request after 7-10 days (with the InMail multiplier);
    # a request then an InMail after its withdrawal
    "fallbacks": {
        "horizon_months": 4,
        "invitations": {"weekly_limit": 30},
        "segments": {
            "senior": {
                "size": 150,
                "open_profile_share": 0.2,
                "rates": {
                    "accept_with_note": 0.3,
                    "accept_without_note": 0.2,
                    "accept_after_inmail_multiplier": 1.5,
                    "inmail_reply_paid": 0.2,
                },
            },
            "mid": {"size": 200, "rates": {"accept_with_note": 0.3, "inmail_reply_paid": 0.15}},
        },
        "strategies": {
            "tiers": {
                "plan": "sales_navigator_core",
                "playbook": [
                    {
                        "segment": "senior",
                        "new_per_day": 2,
                        "touches": [
                            {"kind": "inmail"},
                            _connect(
                                note=False, if_no_reply_after_days=[7, 10], on_accept=((0, 0),)
                            ),
                        ],
                    },
                    {
                        "segment": "mid",
                        "new_per_day": 3,
                        "touches": [
                            _connect(reinvite=True, on_accept=((1, 2),)),
                            {"kind": "inmail", "if_no_reply_after_days": 2},
                        ],
                    },
                ],
            }
        },
    },
    # the tiered programme's new touches on two seats: engagement before the ask (lifting
    # later rates), email with a fallback where there is no address, WhatsApp, paces for
    # each, per-send costs and labour
    "hybrid": {
        "horizon_months": 3,
        "accounts": 2,
        "invitations": {"weekly_limit": 25},
        "costs": {
            "per_send": {"email": 0.05, "whatsapp": 0.1},
            "minutes_per_touch": {"engage": 3, "inmail": 5, "email": 2, "connect": 1},
            "hourly_rate": 60,
        },
        "segments": {
            "mid": {"size": 160, "rates": {"accept_with_note": 0.35}},
            "vp": {
                "size": 90,
                "open_profile_share": 0.25,
                "email_share": 0.5,
                "rates": {"inmail_reply_paid": 0.2, "accept_after_inmail_multiplier": 1.3},
            },
            "keys": {
                "size": 40,
                "new_per_month": 10,
                "email_share": 0.6,
                "whatsapp_share": 0.3,
                "rates": {
                    "inmail_reply_paid": 0.2,
                    "email_reply": 0.1,
                    "whatsapp_reply": 0.2,
                    "engage_accept_multiplier": 1.4,
                    "engage_reply_multiplier": 1.5,
                },
            },
        },
        "strategies": {
            "tiered": {
                "plan": "sales_navigator_core",
                "daily_pace": {"connect": 5, "inmail": 4, "email": 2, "engage": 3},
                "playbook": [
                    {
                        "segment": "keys",
                        "new_per_day": 1,
                        "touches": [
                            {"kind": "engage"},
                            {"kind": "engage", "if_no_reply_after_days": [2, 4]},
                            {"kind": "inmail", "if_no_reply_after_days": 3},
                            {"kind": "email", "if_no_reply_after_days": [3, 5], "fallback": "wa"},
                            {"kind": "email", "if_no_reply_after_days": 4},
                            {"kind": "whatsapp", "name": "wa", "if_no_reply_after_days": 2},
                            _connect(if_no_reply_after_days=[5, 7], on_accept=((0, 0),)),
                        ],
                    },
                    {
                        "segment": "vp",
                        "new_per_day": 2,
                        "touches": [
                            {"kind": "inmail"},
                            {"kind": "inmail_followup"},
                            {"kind": "email", "if_no_reply_after_days": 2},
                            _connect(note=False, if_no_reply_after_days=[7, 10]),
                        ],
                    },
                    {"segment": "mid", "new_per_day": 3, "touches": [_connect()]},
                ],
            }
        },
    },
    # the edges the others leave at their defaults: a credit cap below the month's grant,
    # credits that expire within the month, a 2-day refund window, an Open Profile list
    # with a cap of 3 (follow-ups at once, wait 0), a 5-day response window, a 3-day
    # invitation window with re-invitations the same day, a health floor of 0 over a
    # 7-day window, a pending cap, a certain reply on acceptance
    "edges": {
        "horizon_months": 2,
        "response_window_days": 5,
        "invitations": {
            "weekly_limit": 12,
            "invite_window_days": 3,
            "reinvite_cooldown_days": 0,
            "health_window_days": 7,
            "good_acceptance": 0.6,
            "poor_acceptance": 0.4,
            "floor_factor": 0.0,
            "max_pending": 6,
        },
        "inmail": {
            "credit_expiry_days": 20,
            "refund_window_days": 2,
            "open_profile_monthly_cap": 3,
        },
        "plans": {"sales_navigator_core": {"credits_per_month": 12, "credits_cap": 5}},
        "segments": {
            "open": {
                "size": 40,
                "open_profile_share": 1.0,
                "rates": {"inmail_reply_open": 0.3, "inmail_followup_reply": 0.2},
            },
            "mid": {
                "size": 80,
                "new_per_month": 10,
                "rates": {
                    "accept_with_note": 0.5,
                    "accept_without_note": 0.3,
                    "reply_after_accept": [1.0],
                    "inmail_reply_paid": 0.4,
                },
            },
        },
        "strategies": {
            "edges": {
                "plan": "sales_navigator_core",
                "playbook": [
                    {
                        "segment": "open",
                        "touches": [
                            {"kind": "inmail"},
                            {"kind": "inmail_followup", "if_no_reply_after_days": 0},
                        ],
                    },
                    {
                        "segment": "mid",
                        "new_per_day": 3,
                        "touches": [
                            _connect(reinvite=True, on_accept=((0, 0),)),
                            {"kind": "inmail", "if_no_reply_after_days": 0},
                        ],
                    },
                ],
            }
        },
    },
    # section 8: rates, multipliers, funnel shares, the weekly limit and delays drawn once
    # per replication (uniform, triangular, Beta by mean and sd and by alpha and beta)
    "uncertain": {
        "horizon_months": 3,
        "invitations": {"weekly_limit": {"dist": "uniform", "low": 15, "high": 45}},
        "segments": {
            "senior": {
                "size": 120,
                "open_profile_share": 0.3,
                "rates": {
                    "accept_without_note": {"dist": "uniform", "low": 0.1, "high": 0.3},
                    "accept_after_inmail_multiplier": {"dist": "uniform", "low": 1, "high": 2},
                    "inmail_reply_paid": {"dist": "beta", "mean": 0.175, "sd": 0.05},
                    "inmail_reply_open": {"dist": "uniform", "low": 0.05, "high": 0.15},
                    "positive_share": {"dist": "beta", "alpha": 2, "beta": 2},
                    "meeting_share": {"dist": "uniform", "low": 0.2, "high": 0.6},
                },
                "delays": {
                    "inmail_reply": {
                        "dist": "lognormal",
                        "median": {"dist": "uniform", "low": 0.5, "high": 4},
                    }
                },
            },
            "mid": {
                "size": 200,
                "rates": {
                    "accept_with_note": {
                        "dist": "triangular",
                        "low": 0.2,
                        "mode": 0.3,
                        "high": 0.45,
                    },
                    "reply_after_accept": [{"dist": "beta", "mean": 0.15, "sd": 0.04}, 0.06],
                    "reinvite_multiplier": {"dist": "uniform", "low": 0.3, "high": 0.7},
                },
                "delays": {
                    "accept": {
                        "dist": "lognormal",
                        "median": {"dist": "triangular", "low": 1, "mode": 2, "high": 6},
                        "sigma": {"dist": "uniform", "low": 0.5, "high": 1.5},
                    }
                },
            },
        },
        "strategies": {
            "tiers": {
                "plan": "sales_navigator_core",
                "playbook": [
                    {
                        "segment": "senior",
                        "new_per_day": 2,
                        "touches": [
                            {"kind": "inmail"},
                            _connect(
                                note=False, if_no_reply_after_days=[7, 10], on_accept=((0, 0),)
                            ),
                        ],
                    },
                    {"segment": "mid", "new_per_day": 4, "touches": [_connect(reinvite=True)]},
                ],
            }
        },
    },
}


def scenario(name: str) -> Config:
    return parse_config(SCENARIOS[name], source=name)
