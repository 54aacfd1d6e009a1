"""Numerical edge cases: nothing crashes, warns, or leaks an unnamed NaN into a summary."""

from __future__ import annotations

import copy
import json
import math
import warnings
from typing import Any

import numpy as np
import pytest
from checks import check_results, run_traced

from simulator import parse_config, run
from simulator.api import ResourceError, check_memory
from simulator.output import summary_dict

BASE: dict[str, Any] = {
    "horizon_months": 2,
    "segments": {"mid": {"size": 80, "open_profile_share": 0.3}},
    "strategies": {
        "connect": {
            "plan": "free",
            "playbook": [{"segment": "mid", "touches": [{"kind": "connect", "reinvite": True}]}],
        },
        "inmail": {
            "plan": "sales_navigator_core",
            "playbook": [
                {"segment": "mid", "touches": [{"kind": "inmail"}, {"kind": "inmail_followup"}]}
            ],
        },
    },
}


def variant(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = data
        for key in parents:
            node = node[key]
        node[last] = value
    return data


EDGES = {
    "zero replies": variant(
        segments__mid__rates={
            "reply_after_accept": [0.0],
            "inmail_reply_paid": 0.0,
            "inmail_reply_open": 0.0,
            "inmail_followup_reply": 0.0,
        }
    ),
    "zero prospects": variant(segments__mid__size=0),
    "no credits and an InMail playbook": variant(
        plans={"sales_navigator_core": {"credits_per_month": 0, "credits_cap": 0}},
        segments__mid__open_profile_share=0.0,
    ),
    "rates of exactly 1": variant(
        segments__mid__rates={
            "accept_with_note": 1.0,
            "accept_without_note": 1.0,
            "reply_after_accept": [1.0],
            "inmail_reply_paid": 1.0,
            "inmail_reply_open": 1.0,
            "positive_share": 1.0,
            "meeting_share": 1.0,
        }
    ),
    "rates of exactly 0": variant(
        segments__mid__rates={
            "accept_with_note": 0.0,
            "accept_without_note": 0.0,
            "reply_after_accept": [0.0],
            "inmail_reply_paid": 0.0,
            "inmail_reply_open": 0.0,
            "positive_share": 0.0,
            "meeting_share": 0.0,
        }
    ),
    "a list smaller than a day's pace": variant(segments__mid__size=3),
    "a horizon of one month": variant(horizon_months=1),
    "a weekly limit of 0": variant(invitations={"weekly_limit": 0}),
    # log-odds at their bound: exp(1000) overflows a float
    "a restriction risk of log-odds -1000": variant(
        invitations={"restriction": {"enabled": True, "intercept": -1000.0}}
    ),
    "a restriction risk of log-odds 1000": variant(
        invitations={"restriction": {"enabled": True, "intercept": 1000.0}}
    ),
}


@pytest.mark.parametrize("name", list(EDGES))
def test_edge_case_runs_cleanly(name):
    config = parse_config(EDGES[name], source=name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a division or overflow warning is a failure
        results = run(config, replications=20, seed=1)
        summary = summary_dict(results)
        for strategy in config.strategies:  # the vectorised engine too
            run_traced(config, strategy, 20, seed=1)
    check_results(results)
    text = json.dumps(summary)
    assert "NaN" not in text and "Infinity" not in text
    for strategy, metrics in summary["strategies"].items():
        for metric, stats in metrics.items():
            for stat, value in stats.items():
                if value is None:  # only undefined statistics, and only where documented
                    assert stat in ("mcse", "mean"), (strategy, metric, stat)
                    if stat == "mean":
                        assert stats["share_infinite"] == 1.0


def test_no_reply_means_infinite_cost_per_reply_and_the_share_says_so():
    results = run(parse_config(EDGES["zero replies"]), replications=10, seed=1)
    runs = results.runs
    assert (runs["replies"] == 0).all()
    assert np.isinf(runs["cost_per_reply"]).all()  # also where the cost is 0 (free plan)
    row = results.summary.set_index(["strategy", "metric"]).loc[("connect", "cost_per_reply")]
    assert row["share_infinite"] == 1.0 and math.isinf(row["median"])
    assert math.isinf(row["pooled"]) and math.isnan(row["mean"])


def test_rates_of_one_reply_to_every_touch():
    results = run(parse_config(EDGES["rates of exactly 1"]), replications=5, seed=1)
    runs = results.runs.set_index("strategy")
    inmail = runs.loc["inmail"]
    started, in_flight = inmail["prospects_started"], inmail["prospects_in_flight_end"]
    assert (inmail["replies"] == started - in_flight).all()  # a follow-up goes out only
    assert (inmail["prospects_exhausted"] == 0).all()  # while the sure reply is on its way
    assert (inmail["meetings"] == inmail["replies"]).all()
    connect = runs.loc["connect"]
    assert (connect["acceptances"] + connect["withdrawals"] > 0).all()
    assert (connect["withdrawals"] == 0).all()


def test_no_credits_means_paid_inmails_wait():
    results = run(parse_config(EDGES["no credits and an InMail playbook"]), replications=5, seed=1)
    inmail = results.runs.set_index("strategy").loc["inmail"]
    assert (inmail["inmails_paid"] == 0).all() and (inmail["prospects_started"] == 0).all()


def test_a_run_too_big_for_memory_is_refused_with_what_fits(monkeypatch):
    import simulator.api as api

    monkeypatch.setattr(api, "available_memory", lambda: 200 * 2**20)
    config = parse_config(BASE)
    with pytest.raises(ResourceError) as caught:
        check_memory(config, 10**7)
    message = str(caught.value)
    assert message.startswith("replications: 10,000,000 replications need about")
    fits = int(message.split("at most about ")[1].split()[0].replace(",", ""))
    assert 0 < fits < 10**7
    check_memory(config, fits)  # what it says fits, fits


def test_a_large_run_is_split_into_blocks_that_bound_memory(monkeypatch):
    import simulator.api as api

    config = parse_config(BASE)
    whole = run(config, replications=30, seed=2)
    monkeypatch.setattr(api, "MEMORY_PER_BLOCK", api.bytes_per_replication(config) * 4)
    assert api.block_size(config, 30) == 4
    pieces = run(config, replications=30, seed=2)
    assert whole.runs.equals(pieces.runs)


# In a fresh process: one replication of a config (JSON in argv[1]), after a small one
# of argv[2] (the loop's code loaded, or compiled: its peak is not the one measured);
# prints the most resident memory, in KiB, the replication added, sampled as it runs
# (the loop runs without the GIL).
_GROWN = """
import json, resource, sys, threading, time
import numpy as np
from simulator import parse_config
from simulator.engine import ProspectLists, Simulation
from simulator.kernel import run_compiled


def one_replication(data):
    config = parse_config(data)
    run_compiled(Simulation(config, "s", ProspectLists(config, np.arange(1), 0, False)), 1)


def resident():  # KiB now
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() // 1024


one_replication(json.loads(sys.argv[2]))
before = peak = resident()
done = threading.Event()


def watch():
    global peak
    while not done.is_set():
        peak = max(peak, resident())
        time.sleep(0.001)


watcher = threading.Thread(target=watch)
watcher.start()
one_replication(json.loads(sys.argv[1]))
done.set()
watcher.join()
print(peak - before)
"""


def _grown(config: dict[str, Any], small: dict[str, Any]) -> int:
    """Bytes one replication of `config` adds, measured in a fresh process (_GROWN)."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _GROWN, json.dumps(config), json.dumps(small)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.split()[-1]) * 1024


def _connect_on_seats(seats: int) -> dict[str, Any]:
    return {
        "accounts": seats,
        "segments": {"mid": {"size": 100}},
        "strategies": {
            "s": {
                "plan": "free",
                "playbook": [
                    {
                        "segment": "mid",
                        "touches": [{"kind": "connect", "on_accept": [{"wait_days": 9}]}],
                    }
                ],
            }
        },
    }


def test_the_memory_estimate_covers_what_each_seat_holds():
    """A replication's state grows with its seats (day counts over the horizon and what
    runs past it): the estimate that refuses runs too big for memory must cover what the
    compiled loop really holds, or a config with many seats (up to 1,000,000 are
    allowed) passes the check and then runs out of memory. Measured as the most resident
    memory a replication of 30,000 seats adds, in a fresh process (sampled as it runs:
    the process's own peak may be an earlier one, numba's compilation where its cache is
    cold)."""
    from simulator.api import bytes_per_replication

    seats = 30_000
    grown = _grown(_connect_on_seats(seats), _connect_on_seats(1))
    estimate = bytes_per_replication(parse_config(_connect_on_seats(seats)))
    assert grown <= estimate <= 2 * grown, (grown, estimate)


def _email_everyone(size: Any, **entry: Any) -> dict[str, Any]:
    """Every prospect started on day 0 (an email needs no budget)."""
    return {
        "horizon_months": 1 if size != "unlimited" else 12,
        "segments": {"mid": {"size": size, "email_share": 1.0}},
        "strategies": {
            "s": {
                "plan": "free",
                "playbook": [{"segment": "mid", "touches": [{"kind": "email"}], **entry}],
            }
        },
    }


def test_the_memory_estimate_covers_what_each_started_prospect_holds(monkeypatch):
    """The compiled loop holds about 80 bytes for each prospect a replication starts,
    where the estimate said 13: a replication that starts hundreds of millions (an
    unlimited list at new_per_day 1,000,000, a valid value) passed the check and then ran
    out of memory. Measured with 2,000,000 started on day 0 in a fresh process; and such
    a config is now refused before it runs."""
    import simulator.api as api

    size = 2_000_000
    grown = _grown(_email_everyone(size), _email_everyone(10))
    estimate = api.state_bytes(parse_config(_email_everyone(size)))
    assert grown <= estimate <= 2 * grown, (grown, estimate)

    monkeypatch.setattr(api, "available_memory", lambda: 16 * 2**30)
    huge = parse_config(_email_everyone("unlimited", new_per_day=1_000_000))
    with pytest.raises(ResourceError, match=r"^segments, accounts: one replication of this c"):
        check_memory(huge, 10)
