"""The borrowed structures of simulator._numba_borrow, and the plain path without them.

Borrowed arrays are addressed without numba's negative-index fix-up and never counted;
every kind of access the day loop makes must give numpy's answer. Where numba's
internals cannot be imported (another numba), the project must still run, on the plain
compiled loop or on the vectorised engine, with one warning and the same numbers.
"""

from __future__ import annotations

import operator
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numba import njit, types
from numba.experimental import structref

from simulator import _numba_borrow

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    not _numba_borrow.AVAILABLE, reason="numba's internals unavailable: the plain path runs"
)


class _Fields(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


@structref.register
class BoxType(_Fields):
    pass


class Box(structref.StructRefProxy):
    pass


structref.define_proxy(Box, BoxType, ["days", "sent", "flags", "grows"])
_numba_borrow.register_borrowed(BoxType, frozenset({"grows"}))


@njit
def _exercise(box):
    b = _numba_borrow.borrow(box)
    for i in range(b.days.size):  # 1-D int32, element by element
        b.days[i] = 3 * i
    for day in range(b.sent.shape[0]):  # 2-D int64, (day, seat) tuples
        for seat in range(b.sent.shape[1]):
            b.sent[day, seat] = 10 * day + seat
    b.sent[2, 1] += 5
    b.flags[1, 2] = True  # 2-D bool
    row = b.sent[3]  # a row view: numba's own indexing
    picked = np.int64(0) + b.days[np.uint8(2)] + b.sent[np.int32(4), 0]
    b.sent[5, :] = 7  # a slice: numba's own assignment
    b.grows = np.arange(2 * b.grows.size)  # a counted field, replaced while borrowed
    return row.sum(), picked, box.grows.copy()  # the owner sees (and owns) the new one


def test_borrowed_arrays_index_like_numpy() -> None:
    days, sent = np.zeros(5, dtype=np.int32), np.zeros((6, 3), dtype=np.int64)
    flags = np.zeros((2, 3), dtype=np.bool_)
    row_sum, picked, grown = _exercise(Box(days, sent, flags, np.arange(4)))
    np.testing.assert_array_equal(days, 3 * np.arange(5))
    expected = 10 * np.arange(6)[:, None] + np.arange(3)[None, :]
    expected[2, 1] += 5
    assert row_sum == expected[3].sum()
    expected[5] = 7
    np.testing.assert_array_equal(sent, expected)
    assert picked == 6 + 40
    assert flags[1, 2] and flags.sum() == 1
    np.testing.assert_array_equal(grown, np.arange(8))


def test_direct_addressing_is_what_numba_selects() -> None:
    from numba.core.registry import cpu_target

    context = cpu_target.target_context
    context.refresh()
    borrowed = _numba_borrow._Borrowed(types.Array(types.int64, 2, "C"))
    index = types.UniTuple(types.intp, 2)
    assert context._defns[operator.getitem].find((borrowed, index)) is (
        _numba_borrow._borrowed_getitem
    )
    assert context._defns[operator.setitem].find((borrowed, index, types.int64)) is (
        _numba_borrow._borrowed_setitem
    )


# Another numba, simulated in a fresh process: the internals the borrowed types import
# are not where this module looks for them (numba itself still finds its own).
_MOVED_INTERNAL = """
import builtins
_import = builtins.__import__
def _moved(name, globals=None, locals=None, fromlist=(), level=0):
    if (globals or {}).get("__name__") == "simulator._numba_borrow" and name in (
        "numba.np.arrayobj", "numba.core.datamodel"
    ):
        raise ImportError(f"cannot import name from {name!r} (moved in this numba)")
    return _import(name, globals, locals, fromlist, level)
builtins.__import__ = _moved
"""
# No numba at all.
_NO_NUMBA = """
import sys
class _Gone:
    def find_spec(self, name, path=None, target=None):
        if name == "numba" or name.startswith("numba."):
            raise ImportError("numba is not installed")
sys.meta_path.insert(0, _Gone())
"""
_RUN = """
import warnings
warnings.simplefilter("always")
import numpy as np
from simulator import load_config
from simulator.blocks import simulate_block
with warnings.catch_warnings(record=True) as caught:
    config = load_config("configs/open_profile_first.yaml")
    reps = np.arange(30, 60)
    first = simulate_block(config, reps, 3)
    again = simulate_block(config, reps, 3)
print("WARNINGS", sum("outreach-sim" in str(w.message) for w in caught))
np.save(sys.argv[1], np.stack([first[name] for name in config.strategies]))
for name in config.strategies:
    assert (first[name] == again[name]).all()
"""


def _run_without(prelude: str, out: Path, env: dict[str, str] | None = None) -> str:
    code = "import sys\n" + prelude + _RUN
    done = subprocess.run(
        [sys.executable, "-c", code, str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "OUTREACH_SIM_THREADS": "1", **(env or {})},
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    "prelude, env",
    [(_MOVED_INTERNAL, {}), (_NO_NUMBA, {})],
    ids=["numba internals moved", "no numba"],
)
def test_without_the_internals_the_project_runs_with_one_warning(
    prelude: str, env: dict[str, str] | None, tmp_path: Path
) -> None:
    """Same numbers as the borrowed path, one warning, never an ImportError. (A cache of
    its own: the plain loop is compiled, not loaded from the borrowed one's cache.)"""
    from simulator import load_config
    from simulator.blocks import simulate_block

    env = {**env, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    out = _run_without(prelude, tmp_path / "counts.npy", env)
    assert "WARNINGS 1" in out
    config = load_config(ROOT / "configs" / "open_profile_first.yaml")
    expected = simulate_block(config, np.arange(30, 60), 3)
    got = np.load(tmp_path / "counts.npy")
    np.testing.assert_array_equal(got, np.stack([expected[name] for name in config.strategies]))
