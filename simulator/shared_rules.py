"""Rules written once, for one seat, and run by both engines.

A rule both engines need (MODEL.md sections 6 and 15: a grant's cap, a lot's expiry, the
health factor) is a plain function of integers in the module its name says. The compiled
loop compiles it as it is (``numba.njit(rule)``); the vectorised engine maps it over its
arrays with :func:`over_arrays`: a numba ufunc of the same function, or, where numba is
missing or 64 bits could overflow, ``numpy.frompyfunc`` over Python integers (exact,
slower). So changing a rule is one edit, and ``tests/test_kernel.py`` still holds the
two engines equal bit for bit.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

import numpy as np


@functools.cache
def over_arrays(rule: Callable[..., int], int64: bool = True) -> Callable[..., np.ndarray]:
    """`rule`, of integers, applied elementwise to arrays (broadcast like a ufunc); the
    result as int64. `int64=False`: the arguments may need Python's unbounded integers."""
    arity = len(inspect.signature(rule).parameters)
    if int64:
        try:
            import numba
        except ImportError:
            pass
        else:
            signature = f"int64({', '.join(['int64'] * arity)})"
            return numba.vectorize([signature])(rule)
    python = np.frompyfunc(rule, arity, 1)
    return lambda *args: np.asarray(python(*args), dtype=np.int64)
