"""Break-even between two strategies (issue: uncertainty), on a case with an analytic answer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulator import load_config, parse_config
from simulator.break_even import break_even, cost_per_reply_gap

Q = 0.30  # the second strategy's InMail reply rate
# refunds off and a list that never runs dry: every credit is spent at each month start,
# so the pooled cost per reply is price / (credits * rate * c), with c the same share of
# replies arriving within the horizon for both. Equal when
# 99 / (50 r) = 60 / (15 Q), that is r = (99 * 15) / (50 * 60) * Q.
ANALYTIC = 99 * 15 / (50 * 60) * Q

CONFIG = {
    "horizon_months": 3,
    "inmail": {"refunds": False},
    "segments": {
        "a": {
            "size": 200,
            "rates": {"inmail_reply_paid": {"dist": "uniform", "low": 0.1, "high": 0.2}},
        },
        "b": {"size": 200, "rates": {"inmail_reply_paid": Q}},
    },
    "strategies": {
        "navigator": {
            "plan": "sales_navigator_core",
            "playbook": [{"segment": "a", "touches": [{"kind": "inmail"}]}],
        },
        "business": {
            "plan": "premium_business",
            "playbook": [{"segment": "b", "touches": [{"kind": "inmail"}]}],
        },
        "unused": {
            "plan": "free",
            "playbook": [{"segment": "a", "touches": [{"kind": "connect"}]}],
        },
    },
}
PARAMETER = "segments.a.rates.inmail_reply_paid"


def test_break_even_finds_the_analytic_rate_within_its_error():
    config = parse_config(CONFIG)
    found = break_even(
        config, "navigator", "business", PARAMETER, 0.05, 0.4, replications=400, seed=1
    )
    assert found.standard_error < 0.01
    assert abs(found.value - ANALYTIC) < 4 * found.standard_error
    low, high = found.interval
    assert low < found.value < high
    assert found.slope < 0  # a higher reply rate makes the first strategy cheaper


def test_the_gap_changes_sign_at_the_break_even():
    config = parse_config(CONFIG)
    below = cost_per_reply_gap(config, "navigator", "business", PARAMETER, 0.8 * ANALYTIC, 400, 1)
    above = cost_per_reply_gap(config, "navigator", "business", PARAMETER, 1.25 * ANALYTIC, 400, 1)
    assert below.difference > 4 * below.standard_error
    assert above.difference < -4 * above.standard_error


def test_no_break_even_in_the_range_is_an_error():
    config = parse_config(CONFIG)
    with pytest.raises(ValueError, match="navigator is cheaper throughout"):
        break_even(config, "navigator", "business", PARAMETER, 0.3, 0.4, replications=50, seed=1)
    with pytest.raises(ValueError, match=r"segments\.z\.rates\.x: cannot be set"):
        break_even(config, "navigator", "business", "segments.z.rates.x", 0.1, 0.2, replications=5)
    with pytest.raises(ValueError, match="unknown strategy"):
        break_even(config, "navigator", "nobody", PARAMETER, 0.1, 0.2, replications=5)


def test_no_break_even_says_why_when_the_two_are_equal_or_get_no_reply():
    """Two strategies that are the same cost the same at both ends: neither is 'cheaper
    throughout'. With a reply rate of 0 at an end neither has a cost per reply there
    (the difference is not a number), and the message says so instead of naming one."""
    import copy

    data = copy.deepcopy(CONFIG)
    data["strategies"]["twin"] = copy.deepcopy(data["strategies"]["navigator"])
    config = parse_config(data)
    with pytest.raises(ValueError, match=r"\(the two cost the same per reply at both ends\)"):
        break_even(config, "navigator", "twin", PARAMETER, 0.1, 0.2, replications=20, seed=1)
    with pytest.raises(ValueError, match="neither strategy got a reply at 0, so neither has"):
        break_even(config, "navigator", "twin", PARAMETER, 0.0, 0.2, replications=20, seed=1)
    with pytest.raises(ValueError, match="navigator got no reply at 0: its cost per reply is inf"):
        break_even(config, "navigator", "business", PARAMETER, 0.0, 0.2, replications=20, seed=1)


def test_the_readme_example_runs_on_a_shipped_config(monkeypatch):
    """README: the break_even call, as written, from the repository, finds the rate it
    states, above which the InMail programme costs less per reply (the gap falls)."""
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    call = re.search(r"`simulator\.break_even\.(break_even\(.*?\))`", readme, re.S)
    assert call, "README no longer shows a break_even call"
    monkeypatch.chdir(root)
    found = eval(call.group(1), {"break_even": break_even, "load_config": load_config})
    stated = re.search(r"about (0\.\d+) there: above it, InMails alone cost less", readme)
    assert stated and round(found.value, 2) == float(stated.group(1))
    assert found.standard_error < 0.005 and found.slope < 0
