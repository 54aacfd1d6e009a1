"""The compiled loop against the vectorised engine: identical counts, draw for draw.

The vectorised engine states the rules (and is checked against the reference oracle
and every day-level limit in the other tests); the compiled loop runs every untraced
simulation. Here they must agree bit for bit on every shipped config and test scenario,
and the compiled loop must not depend on how its replications are spread over threads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scenarios import SCENARIOS, scenario

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


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_compiled_loop_equals_vectorised_engine_on_every_test_scenario(name: str) -> None:
    """The scenarios reach what no shipped config does (WhatsApp, restrictions, two seats,
    fallbacks, a pending cap, re-invitations)."""
    config = scenario(name)
    lists = ProspectLists(config, np.arange(30, 54), 9)
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
    from simulator.blocks import simulate_block
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

    from simulator._numba_borrow import borrow as _borrow
    from simulator.kernel import _file_reply, _new_state, _reset

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


def _with_size(config, size: int):
    segments = {k: v.model_copy(update={"size": size}) for k, v in config.segments.items()}
    return config.model_copy(update={"segments": segments})


def test_a_long_list_costs_what_is_started_not_its_length() -> None:
    """Badges are drawn when a queue reaches them: a list of a billion gives, for every
    count but the prospects added, the numbers of a list of 200,000 that a year does not
    reach the end of; the compiled loop's state holds the started prospects only."""
    import time

    config = load_config(Path(__file__).parents[1] / "configs" / "open_profile_first.yaml")
    reps = np.arange(7, 27)
    counts = {}
    for size in (200_000, 10**9):
        sized = _with_size(config, size)
        lists = ProspectLists(sized, reps, 9, badges=False)
        start = time.perf_counter()
        counts[size] = run_compiled(Simulation(sized, "open_profile_first", lists), threads=1)
        assert time.perf_counter() - start < 20  # (a scan of the list would take minutes)
    from simulator.metrics import COUNTS

    added = COUNTS.index("prospects_added")
    short, long = counts[200_000], counts[10**9]
    started = short[:, :, COUNTS.index("prospects_started")].sum(axis=1)
    assert started.max() < 50_000  # far from the shorter list's end
    np.testing.assert_array_equal(np.delete(short, added, axis=2), np.delete(long, added, axis=2))


def test_a_state_too_small_runs_the_replication_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A thread's state starts small and doubles where a replication starts more
    prospects than it holds: that replication runs again, and no number changes."""
    from simulator import kernel

    config = load_config(Path(__file__).parents[1] / "configs" / "tiered_hybrid.yaml")
    reps = np.arange(12)
    lists = ProspectLists(config, reps, 3, badges=False)
    default = run_compiled(Simulation(config, "tiered_hybrid", lists), threads=1)
    monkeypatch.setattr(kernel, "INITIAL_CAPACITY", 1)
    tiny = run_compiled(Simulation(config, "tiered_hybrid", lists), threads=1)
    np.testing.assert_array_equal(tiny, default)


@pytest.mark.parametrize("lost", ["replies", "exhaustions"])
def test_the_prospect_identities_can_fail(lost: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Prospects replied and in flight are counted prospect by prospect at month ends,
    apart from the replies and exhaustions counted as they happen: an engine that loses
    either breaks MODEL.md section 12's identities (they are not true by construction)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from checks import check_counts

    from simulator import engine
    from simulator.metrics import COUNTS

    config = load_config(Path(__file__).parents[1] / "configs" / "tiered_hybrid.yaml")

    def counts() -> tuple[dict[str, np.ndarray], np.ndarray]:
        lists = ProspectLists(config, np.arange(8), 1)
        monthly = Simulation(config, "tiered_hybrid", lists).run()
        by_name = {c: monthly[:, :, i] for i, c in enumerate(COUNTS)}
        return by_name, monthly[:, :, len(COUNTS) :].sum(axis=2)

    check_counts(config, "tiered_hybrid", *counts())  # as the engine counts
    if lost == "replies":
        tally = engine.Simulation._tally
        monkeypatch.setattr(
            engine.Simulation,
            "_tally",
            lambda self, name, rep: None if name == "replies" else tally(self, name, rep),
        )
    else:
        file_by_day = engine.Simulation._file_by_day

        def lose_exhaustions(self, calendar, row, day):
            if calendar is not self.exhausted_on:
                file_by_day(self, calendar, row, day)

        monkeypatch.setattr(engine.Simulation, "_file_by_day", lose_exhaustions)
    with pytest.raises(AssertionError):
        check_counts(config, "tiered_hybrid", *counts())


def test_an_unlimited_list_runs_like_one_never_used_up() -> None:
    """`size: unlimited` gives the numbers of a list a year does not use up, its started
    prospects counted as added, and every identity; without a daily bound on its starts
    the config is refused with one line naming the entry."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from checks import check_counts

    from simulator.config import ConfigError, parse_config
    from simulator.metrics import COUNTS

    config = load_config(Path(__file__).parents[1] / "configs" / "open_profile_first.yaml")
    reps = np.arange(3, 19)
    finite, unlimited = _with_size(config, 200_000), _with_size(config, "unlimited")
    for strategy in config.strategies:
        got = {}
        for name, sized in (("finite", finite), ("unlimited", unlimited)):
            lists = ProspectLists(sized, reps, 2, badges=False)
            got[name] = run_compiled(Simulation(sized, strategy, lists), threads=1)
        added, started = COUNTS.index("prospects_added"), COUNTS.index("prospects_started")
        np.testing.assert_array_equal(
            np.delete(got["finite"], added, axis=2), np.delete(got["unlimited"], added, axis=2)
        )
        np.testing.assert_array_equal(
            got["unlimited"][:, :, added], got["unlimited"][:, :, started]
        )
        counts = {c: got["unlimited"][:, :, i] for i, c in enumerate(COUNTS)}
        check_counts(unlimited, strategy, counts, got["unlimited"][:, :, len(COUNTS) :].sum(2))

    with pytest.raises(ConfigError, match=r"OUTREACH_SIM_ENGINE=numpy: segments\.vp_plus\.size"):
        ProspectLists(unlimited, reps, 2)  # the vectorised engine: finite lists only

    raw = unlimited.model_dump(mode="json")
    raw["strategies"]["connect_everyone"]["daily_pace"] = {}
    with pytest.raises(ConfigError, match=r"playbook\.0\.new_per_day: segment .vp_plus. is unl"):
        parse_config(raw)
