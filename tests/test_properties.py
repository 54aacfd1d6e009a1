"""Property-based tests: any valid config runs and keeps MODEL.md section 12; any broken
one is refused with exit code 2, one line per mistake, and no traceback."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from checks import check_results, run_traced
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator import parse_config, run
from simulator.cli import main

probability = st.floats(0.0, 1.0, allow_nan=False).map(lambda x: round(x, 3))
small = st.integers(0, 6)


@st.composite
def waits(draw) -> list[int]:
    low = draw(st.integers(0, 6))
    return [low, low + draw(st.integers(0, 4))]


@st.composite
def routes(draw) -> list[dict[str, Any]]:
    """1 to 4 touches of any kind, at most one request and one InMail; fallbacks name a
    later touch; an InMail is always there to reach someone (a route that can get no
    reply is refused)."""
    route: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 4))):
        once = [k for k in ("connect", "inmail") if all(t["kind"] != k for t in route)]
        options = [*once, "email", "whatsapp", "engage"] + (
            ["inmail_followup"] if route[-1:] and route[-1]["kind"] == "inmail" else []
        )
        kind = draw(st.sampled_from(options))
        touch: dict[str, Any] = {"kind": kind, "if_no_reply_after_days": draw(waits())}
        if kind == "connect":
            touch["note"] = draw(st.booleans())
            touch["reinvite"] = draw(st.booleans())
            touch["on_accept"] = [
                {"wait_days": draw(waits())} for _ in range(draw(st.integers(0, 2)))
            ]
        route.append(touch)
    if not any(t["kind"] == "inmail" for t in route):
        route.append({"kind": "inmail", "if_no_reply_after_days": draw(waits())})
    for i, touch in enumerate(route):
        touch["name"] = f"t{i}"
        if touch["kind"] in ("email", "whatsapp") and i + 1 < len(route) and draw(st.booleans()):
            touch["fallback"] = f"t{draw(st.integers(i + 1, len(route) - 1))}"
    return route


@st.composite
def configs(draw) -> dict[str, Any]:
    names = draw(
        st.lists(st.sampled_from(["mid", "vp", "keys"]), min_size=1, max_size=2, unique=True)
    )
    segments = {
        name: {
            "size": draw(st.integers(0, 60)),
            "new_per_month": draw(st.integers(0, 20)),
            "open_profile_share": draw(probability),
            "email_share": draw(probability),
            "whatsapp_share": draw(probability),
            "rates": {
                "accept_with_note": draw(probability),
                "accept_without_note": draw(probability),
                "reply_after_accept": [draw(probability), draw(probability)],
                "inmail_reply_paid": draw(probability),
                "inmail_reply_open": draw(probability),
                "inmail_followup_reply": draw(probability),
                "accept_after_inmail_multiplier": draw(st.floats(0, 3).map(lambda x: round(x, 2))),
                "email_reply": draw(probability),
                "whatsapp_reply": draw(probability),
                "engage_accept_multiplier": draw(st.floats(0, 3).map(lambda x: round(x, 2))),
                "engage_reply_multiplier": draw(st.floats(0, 3).map(lambda x: round(x, 2))),
                "positive_share": draw(probability),
                "meeting_share": draw(probability),
            },
            "delays": {
                "accept": {"dist": "lognormal", "median": draw(st.sampled_from([0.5, 2, 6]))},
                "reply": draw(
                    st.sampled_from(
                        [
                            {"dist": "fixed", "days": 3},
                            {"dist": "pmf", "probs": [0.5, 0.2, 0.0, 0.3]},
                            {"dist": "lognormal", "median": 1.5, "sigma": 0.4},
                        ]
                    )
                ),
            },
        }
        for name in names
    }
    strategies = {}
    for k in range(draw(st.integers(1, 2))):
        playbook = []
        for name in names:
            entry: dict[str, Any] = {
                "segment": name,
                "new_per_day": draw(st.none() | small),
                "touches": draw(routes()),
            }
            if draw(st.booleans()):
                entry["open_profile_touches"] = draw(routes())
            playbook.append(entry)
        strategies[f"s{k}"] = {
            "plan": draw(
                st.sampled_from(
                    ["free", "premium_career", "premium_business", "sales_navigator_core"]
                )
            ),
            "daily_pace": {
                kind: draw(st.none() | small)
                for kind in ("connect", "message", "inmail", "email", "whatsapp", "engage")
            },
            "playbook": playbook,
        }
    return {
        "horizon_months": draw(st.integers(1, 3)),
        "accounts": draw(st.integers(1, 2)),
        "response_window_days": draw(st.integers(4, 30)),
        "invitations": {
            "weekly_limit": draw(st.integers(0, 40)),
            "invite_window_days": draw(st.integers(3, 21)),
            "reinvite_cooldown_days": draw(st.integers(0, 21)),
            "warmup_weeks": draw(st.integers(0, 3)),
            "max_pending": draw(st.none() | st.integers(0, 30)),
            "restriction": {"enabled": draw(st.booleans()), "intercept": -4.0},
        },
        "inmail": {
            "refunds": draw(st.booleans()),
            "refund_window_days": draw(st.integers(0, 90)),
            "credit_expiry_days": draw(st.integers(10, 90)),
            "open_profile_monthly_cap": draw(st.integers(0, 20)),
        },
        "plans": {"sales_navigator_core": {"credits_per_month": draw(st.integers(0, 30))}},
        "segments": segments,
        "strategies": strategies,
    }


@settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=configs(), seed=st.integers(0, 2**32 - 1))
def test_any_valid_config_runs_and_keeps_every_identity(data, seed):
    config = parse_config(data)
    results = run(config, replications=8, seed=seed)
    check_results(results)
    for strategy in config.strategies:
        run_traced(config, strategy, 8, seed)


BREAKERS = [
    ("horizon_months", st.integers(-5, 0)),
    ("horizon_months", st.text(alphabet="twelvmonhs", min_size=1, max_size=5)),
    ("accounts", st.integers(-3, 0)),
    ("segments.*.size", st.integers(-100, -1)),
    ("segments.*.open_profile_share", st.floats(1.001, 50)),
    ("segments.*.rates.accept_with_note", st.floats(-5, -0.001) | st.floats(1.001, 5)),
    ("segments.*.rates.unknown_rate", probability),
    ("strategies.*.plan", st.text(alphabet="xyz", min_size=1, max_size=6)),
    ("strategies.*.playbook.0.segment", st.text(alphabet="qrs", min_size=1, max_size=6)),
    ("strategies.*.playbook.0.touches", st.just([])),
    ("strategies.*.playbook.0.touches.0.kind", st.sampled_from(["fax", "", "sms"])),
    ("strategies.*.playbook.0.touches.0.if_no_reply_after_days", st.just([9, 2])),
    ("invitations.poor_acceptance", st.floats(0.31, 1.0)),
    ("invitations.typo", st.integers()),
]


def _set(data: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    node: Any = data
    for part in parts[:-1]:
        node = (
            node[int(part)]
            if part.isdigit()
            else (node[next(iter(node))] if part == "*" else node[part])
        )
    node[parts[-1]] = value


@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=configs(), breaker=st.sampled_from(range(len(BREAKERS))), draw=st.data())
def test_any_broken_config_is_refused_cleanly(tmp_path_factory, capsys, data, breaker, draw):
    path, values = BREAKERS[breaker]
    broken = copy.deepcopy(data)
    _set(broken, path, draw.draw(values))
    folder: Path = tmp_path_factory.mktemp("broken")
    config = folder / "broken.yaml"
    config.write_text(yaml.safe_dump(broken))
    assert main(["validate", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and all(line.startswith(f"{config}: ") for line in err), err
    assert not any("Traceback" in line for line in err)
