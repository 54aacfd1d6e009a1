"""Which engine runs a block of replications: the compiled loop (:mod:`simulator.kernel`)
where numba and its parts import, else the vectorised engine (:mod:`simulator.engine`);
both give identical counts. Above both, so that neither imports the other."""

from __future__ import annotations

import os
import warnings

import numpy as np

from simulator.config import Config
from simulator.engine import ProspectLists, Simulation

_KERNEL_MISSING: list[str] = []  # why the compiled loop could not be imported, once


def _compiled_loop():
    """The compiled loop's entry point, or None (with one warning per process) where numba
    or its parts cannot be imported: the vectorised engine then runs, same numbers."""
    if _KERNEL_MISSING:
        return None
    try:
        from simulator.kernel import run_compiled  # compiled on first use
    except ImportError as error:
        _KERNEL_MISSING.append(str(error))
        warnings.warn(
            f"outreach-sim: the compiled loop is unavailable ({error}); running the "
            "vectorised numpy engine (same numbers, slower)",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    return run_compiled


def simulate_block(
    config: Config,
    replications: np.ndarray,
    seed: int,
    strategies: list[str] | None = None,
    threads: int | None = None,
) -> dict[str, np.ndarray]:
    """Monthly counts (reps, months, counts) per strategy for these replications, every
    strategy on the same prospect lists (common random numbers).

    The compiled loop (:mod:`simulator.kernel`, on `threads` threads, default every core) runs
    them unless ``OUTREACH_SIM_ENGINE=numpy`` asks for the vectorised engine;
    both give identical counts."""
    run_compiled = _compiled_loop() if os.environ.get("OUTREACH_SIM_ENGINE") != "numpy" else None
    compiled = run_compiled is not None
    prospects = ProspectLists(config, replications, seed, badges=not compiled)
    names = list(config.strategies) if strategies is None else strategies
    out = {}
    for name in names:
        simulation = Simulation(config, name, prospects)
        counts = run_compiled(simulation, threads) if compiled else None
        if counts is None:
            if not hasattr(prospects, "open_profile"):
                prospects = ProspectLists(config, replications, seed)
                simulation = Simulation(config, name, prospects)
            counts = simulation.run()
        out[name] = counts
    return out
