"""Counter-based random numbers: the uniform of any (replication, prospect, role) on demand.

Common random numbers (MODEL.md section 11) need every prospect's latent draws to
depend on who the prospect is, not on the order in which a strategy happens to ask for
them. A sequential generator cannot give that cheaply; a counter-based one can: each
draw is a SplitMix64 output at a counter that names the prospect and the role, on a
stream whose key comes from :class:`numpy.random.SeedSequence`. Adding a strategy, a
touch or a segment then shifts no other draw, and a replication's numbers do not depend
on which chunk or worker simulates it.
"""

from __future__ import annotations

import zlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (a bijection of 64-bit words with full avalanche)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def role_id(name: str) -> int:
    """A stable 32-bit id for a named role (e.g. ``"inmail"``, ``"message/2"``)."""
    return zlib.crc32(name.encode())


class Streams:
    """Keyed uniforms for replications ``first, first + 1, ...`` of one simulation."""

    def __init__(self, seed: int, replications: np.ndarray):
        key = np.random.SeedSequence(seed).generate_state(1, dtype=np.uint64)[0]
        with np.errstate(over="ignore"):
            self._rep_keys = _mix(np.uint64(key) ^ _mix(replications.astype(np.uint64) * _GOLDEN))

    def stream_keys(self, *labels: int) -> np.ndarray:
        """One 64-bit key per replication for the stream named by `labels`."""
        keys = self._rep_keys
        with np.errstate(over="ignore"):
            for label in labels:
                keys = _mix(keys ^ _mix(np.uint64(label) * _GOLDEN + _GOLDEN))
        return keys

    @staticmethod
    def uniforms(keys: np.ndarray, counters: np.ndarray) -> np.ndarray:
        """Uniforms in [0, 1): SplitMix64 of stream `keys` at position `counters`.

        Written in place (the engine's hottest arithmetic): the same numbers as
        ``_mix(keys + (counters + 1) * golden) >> 11``, scaled to [0, 1)."""
        x = np.add(counters, 1, dtype=np.uint64, casting="unsafe")
        if x.shape != np.broadcast_shapes(x.shape, np.shape(keys)):
            x = np.broadcast_to(x, np.broadcast_shapes(x.shape, np.shape(keys))).copy()
        x *= _GOLDEN
        x += keys
        shifted = x >> np.uint64(30)
        x ^= shifted
        x *= _M1
        np.right_shift(x, np.uint64(27), out=shifted)
        x ^= shifted
        x *= _M2
        np.right_shift(x, np.uint64(31), out=shifted)
        x ^= shifted
        x >>= np.uint64(11)
        out = x.astype(np.float64)
        out *= _TO_UNIT
        return out
