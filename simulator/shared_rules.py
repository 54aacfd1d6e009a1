"""Rules written once, for one seat, and run by both engines.

A rule both engines need (MODEL.md sections 6, 7 and 15: a grant's cap, a lot's expiry,
the health factor, a day's invitation allowance, the chance of a restriction) is a plain
function of numbers in the module its name says. The compiled
loop compiles it as it is (``numba.njit(rule)``); the vectorised engine maps it over its
arrays with :func:`over_arrays`: a numba ufunc of the same function, or, where numba is
missing or the caller says 64 bits could overflow (``int64=False``), ``numpy.frompyfunc``
over Python numbers (integers exact; slower). So changing a rule is one edit, and
``tests/test_kernel.py`` still holds the two engines equal bit for bit.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

import numpy as np


@functools.cache
def over_arrays(
    rule: Callable[..., int | float], int64: bool = True, signature: str | None = None
) -> Callable[..., np.ndarray]:
    """`rule` applied elementwise to arrays (broadcast like a ufunc). By default a rule of
    integers with an int64 result; `int64=False`: the arguments may need Python's
    unbounded integers. `signature` (numba's, e.g. ``"float64(int64, float64)"``) for a
    rule of other types: the result then has its return type."""
    arity = len(inspect.signature(rule).parameters)
    signature = signature or f"int64({', '.join(['int64'] * arity)})"
    result = np.dtype(signature.split("(")[0])
    if int64:
        try:
            import numba
        except ImportError:
            pass
        else:
            compiled = numba.vectorize([signature])(rule)

            def mapped(*args: np.ndarray) -> np.ndarray:
                # compiled, both branches of a conditional may be computed and one kept
                # (0 / 0 in the branch not taken): numpy would warn of the discarded one
                with np.errstate(invalid="ignore", divide="ignore"):
                    return compiled(*args)

            return mapped
    python = np.frompyfunc(rule, arity, 1)
    return lambda *args: np.asarray(python(*args), dtype=result)
