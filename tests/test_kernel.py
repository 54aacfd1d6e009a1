"""The compiled loop against the vectorised engine: identical counts, draw for draw.

The vectorised engine states the rules (and is checked against the reference oracle
and every day-level limit in the other tests); the compiled loop runs every untraced
simulation. Here they must agree bit for bit on every shipped config, and the compiled
loop must not depend on how its replications are spread over threads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator import load_config
from simulator.engine import ProspectLists, Simulation
from simulator.kernel import run_compiled

CONFIGS = sorted(
    p for p in (Path(__file__).parents[1] / "configs").glob("*.yaml") if "sweep" not in p.name
)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_compiled_loop_equals_vectorised_engine(path: Path) -> None:
    config = load_config(path)
    reps = np.arange(100, 124)  # not from 0: replication keys are global
    lists = ProspectLists(config, reps, 5)
    for strategy in config.strategies:
        vectorised = Simulation(config, strategy, lists).run()
        compiled = run_compiled(Simulation(config, strategy, lists))
        np.testing.assert_array_equal(compiled, vectorised, err_msg=strategy)


def test_threads_and_chunks_change_nothing() -> None:
    config = load_config(Path(__file__).parents[1] / "configs" / "tiered_hybrid.yaml")
    reps = np.arange(40)
    lists = ProspectLists(config, reps, 2, badges=False)
    one = run_compiled(Simulation(config, "tiered_hybrid", lists), threads=1)
    two = run_compiled(Simulation(config, "tiered_hybrid", lists), threads=2)
    np.testing.assert_array_equal(one, two)
    half = ProspectLists(config, reps[20:], 2, badges=False)
    np.testing.assert_array_equal(
        run_compiled(Simulation(config, "tiered_hybrid", half), threads=2), one[20:]
    )


def test_engine_and_thread_settings_change_no_number(monkeypatch: pytest.MonkeyPatch) -> None:
    """OUTREACH_SIM_ENGINE=numpy (the vectorised engine) and OUTREACH_SIM_THREADS give the
    counts of the default, the compiled loop on every core."""
    from simulator.engine import simulate_block
    from simulator.kernel import default_threads

    config = load_config(Path(__file__).parents[1] / "configs" / "open_profile_first.yaml")
    reps = np.arange(150)
    default = simulate_block(config, reps, 4)
    monkeypatch.setenv("OUTREACH_SIM_THREADS", "1")
    assert default_threads() == 1
    one_thread = simulate_block(config, reps, 4)
    monkeypatch.setenv("OUTREACH_SIM_ENGINE", "numpy")
    vectorised = simulate_block(config, reps, 4)
    for name in config.strategies:
        np.testing.assert_array_equal(one_thread[name], default[name])
        np.testing.assert_array_equal(vectorised[name], default[name])


def test_reply_pool_grows_under_a_borrowed_state() -> None:
    """The day loop works on a borrowed view of its state (nothing counted); the reply
    pool is the one part that grows, so it must stay counted and owned by the state:
    every reply filed past the first allocation is still in the calendar, once."""
    from numba import njit

    from simulator.kernel import _borrow, _file_reply, _new_state, _reset

    @njit
    def file_replies(total: int, days: int, count: int):
        owner = _new_state(total, days, 1, 1, 1, days)
        _reset(owner)
        s = _borrow(owner)
        for i in range(count):
            _file_reply(s, days, i % days, i, i % 3, i)
        found = np.zeros(count, dtype=np.int64)
        wrong = 0
        for day in range(days):
            node = s.r_head[day]
            while node >= 0:
                found[s.r_pid[node]] += 1
                wrong += s.r_step[node] != s.r_pid[node] % 3 or s.r_sent[node] != s.r_pid[node]
                node = s.r_next[node]
        return found, wrong, owner.r_pid.size

    found, wrong, capacity = file_replies(4, 10, 500)
    np.testing.assert_array_equal(found, np.ones(500, dtype=np.int64))
    assert wrong == 0
    assert capacity >= 500  # grew from total + 16 = 20 nodes


def test_borrowed_arrays_index_like_numpy() -> None:
    """Elements of a borrowed array are addressed without numba's negative-index fix-up
    (the loop's indices are never negative); views and slices keep numba's own indexing.
    Every kind of access the loop makes gives numpy's answer, and the direct addressing
    is what numba selects for a borrowed array."""
    import operator

    from numba import njit, types
    from numba.core.registry import cpu_target

    from simulator.kernel import (
        N_KINDS,
        _borrow,
        _Borrowed,
        _borrowed_getitem,
        _borrowed_setitem,
        _new_state,
        _reset,
    )

    @njit
    def exercise(total: int, days: int):
        owner = _new_state(total, days, 2, 3, 1, days)
        _reset(owner)
        s = _borrow(owner)
        for i in range(total):  # 1-D int32, element by element
            s.reply_day[i] = 3 * i
        for day in range(days):  # 2-D int64, (day, seat) tuples
            for seat in range(3):
                s.sent[day, seat] = 10 * day + seat
        s.sent[2, 1] += 5
        s.has_budget[1, 2] = True  # 2-D bool
        s.left[:] = 7  # a slice: numba's own assignment
        row = s.sent[3]  # a row view
        picked = np.int64(0) + s.reply_day[np.uint8(2)] + s.sent[np.int32(4), 0]
        return (
            owner.reply_day.copy(),
            owner.sent.copy(),
            row.sum(),
            picked,
            owner.has_budget[1, 2],
            owner.left.sum(),
        )

    reply_day, sent, row_sum, picked, flag, left = exercise(5, 6)
    np.testing.assert_array_equal(reply_day, 3 * np.arange(5))
    expected = 10 * np.arange(6)[:, None] + np.arange(3)[None, :]
    expected[2, 1] += 5
    np.testing.assert_array_equal(sent, expected)
    assert row_sum == expected[3].sum()
    assert picked == 6 + 40
    assert flag
    assert left == 7 * N_KINDS * 3

    context = cpu_target.target_context
    context.refresh()
    borrowed = _Borrowed(types.Array(types.int64, 2, "C"))
    index = types.UniTuple(types.intp, 2)
    assert context._defns[operator.getitem].find((borrowed, index)) is _borrowed_getitem
    assert context._defns[operator.setitem].find((borrowed, index, types.int64)) is (
        _borrowed_setitem
    )
