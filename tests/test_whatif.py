"""The what-if sliders: their controls, their update, and the refusal of a value outside a
slider's range."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from checks import check_results
from small_runs import CONFIGS

from simulator import load_config, parse_config, run
from simulator.blocks import simulate_block
from simulator.playbook import parameters_used
from simulator.uncertainty import with_values
from simulator.whatif import DEBOUNCE_SECONDS, Debounce, WhatIf, controls, edited, simulate

ROOT = Path(__file__).resolve().parent.parent


def _config():
    return parse_config(CONFIGS["several"], source="several")


def _ranged():
    """The small config with the short list's paid InMail reply rate given as a range."""
    data = copy.deepcopy(CONFIGS["several"])
    data["segments"]["few"]["rates"]["inmail_reply_paid"] = {
        "dist": "uniform",
        "low": 0.10,
        "high": 0.25,
    }
    return parse_config(data)


def test_controls_cover_rates_used_plans_paces_and_seats():
    config = _config()
    paths = {c.path for c in controls(config)}
    for name in config.strategies:
        assert f"strategies.{name}.plan" in paths
        assert {p for p in parameters_used(config, name) if ".rates." in p} <= paths
    assert "strategies.connect.daily_pace.connect" in paths
    assert "strategies.open_profile_first.daily_pace.inmail" in paths
    assert "accounts" in paths and "invitations.weekly_limit" in paths
    # no strategy sends email: its rate is no control
    assert not any(p.endswith("email_reply") for p in paths)


def test_a_rate_given_as_a_range_gets_a_slider_over_that_range():
    control = next(c for c in controls(_ranged()) if c.path.endswith("few.rates.inmail_reply_paid"))
    assert (control.low, control.high, control.value) == (0.10, 0.25, None)


def test_the_update_gives_the_numbers_of_run_on_the_same_edit_and_seed():
    config = _config()
    changes = {
        "segments.mid.rates.accept_with_note": 0.5,
        "strategies.connect.plan": "premium_business",
        "strategies.open_profile_first.daily_pace.inmail": 9,
        "accounts": 2,
    }
    got = simulate(config, changes, replications=60, seed=11)
    # the same edit made by hand in the config's YAML data
    data = copy.deepcopy(CONFIGS["several"])
    data["segments"]["mid"]["rates"]["accept_with_note"] = 0.5
    data["strategies"]["connect"]["plan"] = "premium_business"
    data["strategies"]["open_profile_first"]["daily_pace"]["inmail"] = 9
    data["accounts"] = 2
    expected = run(parse_config(data), replications=60, seed=11)
    pd.testing.assert_frame_equal(got.runs, expected.runs)
    pd.testing.assert_frame_equal(got.monthly, expected.monthly)
    check_results(got)


@pytest.mark.parametrize(
    ("path", "value", "says"),
    [
        ("segments.mid.rates.accept_with_note", 1.5, "outside the slider's range 0% to 100%"),
        ("segments.mid.rates.accept_with_note", float("nan"), "outside the slider's range"),
        ("accounts", 0, "outside the slider's range 1 to 10"),
        ("accounts", 2.5, "expected a whole number"),
        ("strategies.connect.plan", "gold", "not one of the choices"),
        ("strategies.connect.daily_pace.connect", "ten", "expected a number"),
        ("segments.mid.rates.email_reply", 0.1, "not a control of this config"),
    ],
)
def test_a_value_outside_a_control_is_refused_naming_the_control(path, value, says):
    with pytest.raises(ValueError, match=says) as caught:
        edited(_config(), {path: value})
    assert str(caught.value).startswith(path)


def test_a_rate_outside_its_range_set_from_code_is_refused_and_nothing_changes():
    pytest.importorskip("ipywidgets")
    tool = WhatIf(_ranged(), replications=20, seed=3)
    path = "segments.few.rates.inmail_reply_paid"
    with pytest.raises(ValueError, match="outside the slider's range 10% to 25%"):
        tool.set(path, 0.4)
    assert tool.changes == {} and tool.results is None
    assert tool._widgets[path].value == pytest.approx(0.175)  # the slider did not clamp to 0.25


def test_set_moves_the_slider_fixes_the_rate_and_reruns():
    pytest.importorskip("ipywidgets")
    config = _ranged()
    tool = WhatIf(config, replications=40, seed=3)
    path = "segments.few.rates.inmail_reply_paid"
    tool.set(path, 0.2)
    assert tool._widgets[path].value == pytest.approx(0.2) and tool._fixed[path].value
    expected = run(with_values(config, {path: 0.2}), replications=40, seed=3)
    pd.testing.assert_frame_equal(tool.results.runs, expected.runs)
    assert tool.verdict and bytes(tool.picture.value).startswith(b"\x89PNG")
    # moving a widget as a person would goes through the same update (no event loop here)
    tool._widgets["accounts"].value = 2
    assert tool.changes == {path: 0.2, "accounts": 2}
    assert tool.results.config.accounts == 2


def test_debounce_runs_once_after_the_last_of_several_quick_changes():
    import asyncio

    calls = []

    async def moves():
        debounce = Debounce(lambda: calls.append(len(calls)), wait=0.05)
        for _ in range(5):
            debounce()
            await asyncio.sleep(0.005)
        assert calls == []
        await asyncio.sleep(0.15)

    asyncio.run(moves())
    assert calls == [0]


@pytest.mark.parametrize("name", ["tiered_hybrid", "compare_seed_programmes"])
def test_parameters_used_hold_to_the_engine_every_other_one_changes_no_count(name):
    """Rates and delays a strategy does not read, all changed at once, leave each of its
    counts alone (so a control or a sensitivity ranking that leaves them out hides
    nothing). An unset delay is the segment's `reply` delay, so only delays the config
    sets are changed: in compare_seed_programmes, inmail_only sends no request and so
    never reads the `accept` delay."""
    config = load_config(ROOT / "configs" / f"{name}.yaml")
    reps = np.arange(40)
    for strategy in config.strategies:
        used = parameters_used(config, strategy)
        unused = {}
        for segment, seg in config.segments.items():
            for field, value in seg.rates.model_dump().items():
                paths = (
                    [f"segments.{segment}.rates.{field}.{i}" for i in range(len(value))]
                    if isinstance(value, list)
                    else [f"segments.{segment}.rates.{field}"]
                )
                for path in paths:
                    if path not in used:
                        unused[path] = 1.7 if field.endswith("multiplier") else 0.99
            for field, delay in seg.delays:  # an unset delay is the segment's `reply`
                path = f"segments.{segment}.delays.{field}"
                if delay is not None and f"{path}.median" not in used:
                    unused[path] = {"dist": "fixed", "days": 9}
        assert unused, strategy
        if strategy == "inmail_only":
            assert "segments.vp_plus.delays.accept" in unused
        before = simulate_block(config, reps, 2, strategies=[strategy])[strategy]
        after = simulate_block(with_values(config, unused), reps, 2, strategies=[strategy])
        assert (before == after[strategy]).all(), strategy


def test_the_notebook_config_builds_its_controls():
    config = load_config(ROOT / "configs" / "compare_seed_programmes.yaml")
    found = controls(config)
    assert len({c.path for c in found}) == len(found)
    assert {c.group for c in found} >= set(config.segments) | set(config.strategies)


KERNEL_SET_UP = """
import sys
sys.path.insert(0, {tests!r})
from simulator import parse_config
from small_runs import CONFIGS
from simulator.whatif import whatif
tool = whatif(parse_config(CONFIGS["several"]), replications=40, seed=3)
tool.update()
updates = []
update = tool.update
tool.update = lambda: (updates.append(tool._widgets["accounts"].value), update())
print(tool._widgets["accounts"].model_id)
"""


def _execute(client, code: str, timeout: float = 120) -> str:
    """Run `code` in the kernel; its printed output (raises on an error)."""
    msg_id = client.execute(code)
    printed = []
    while True:
        message = client.get_iopub_msg(timeout=timeout)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])
        if message["msg_type"] == "error":
            raise AssertionError("\n".join(message["content"]["traceback"]))
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            return "".join(printed)


def test_slider_moves_in_a_live_kernel_rerun_once_after_the_last_move():
    """As a notebook's front end moves a slider: comm messages to the kernel, three moves
    in quick succession, one re-run with the last value once the debounce has waited."""
    import time

    pytest.importorskip("ipywidgets")
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        tests = str(Path(__file__).resolve().parent)
        model = _execute(client, KERNEL_SET_UP.format(tests=tests)).split()[-1]
        for seats in (2, 3, 4):
            state = {"method": "update", "state": {"value": seats}, "buffer_paths": []}
            client.shell_channel.send(
                client.session.msg("comm_msg", {"comm_id": model, "data": state})
            )
            time.sleep(0.02)
        time.sleep(DEBOUNCE_SECONDS + 3)
        seen = _execute(client, "print(updates, tool.changes, tool.results.config.accounts)")
        assert seen.split("\n")[0] == "[4] {'accounts': 4} 4"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_the_picture_of_a_strategy_named_in_any_script_draws_without_glyph_warnings():
    import warnings

    pytest.importorskip("ipywidgets")
    data = copy.deepcopy(CONFIGS["one_without_credits"])
    data["strategies"] = {"策略 🚀": data["strategies"]["connect"]}
    tool = WhatIf(parse_config(data), replications=20, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph would warn once per character
        tool.update()
    assert bytes(tool.picture.value).startswith(b"\x89PNG")
