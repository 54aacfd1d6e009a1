"""outreach-sim: Monte Carlo simulation of LinkedIn outreach campaigns.

Read as a sentence: a config (:mod:`simulator.config`) goes into the engine
(:mod:`simulator.engine`), whose counts become tables and summaries
(:mod:`simulator.api`, :mod:`simulator.stats`), written to disk by
:mod:`simulator.output` or returned to a notebook, and read by people through tables,
charts and a report (:mod:`simulator.tables`, :mod:`simulator.compare`,
:mod:`simulator.charts`, :mod:`simulator.report`).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Config", "ConfigError", "Results", "load_config", "parse_config", "run"]
__version__ = "0.1.0"

_HOME = {
    "Config": "simulator.config",
    "ConfigError": "simulator.config",
    "load_config": "simulator.config",
    "parse_config": "simulator.config",
    "Results": "simulator.api",
    "run": "simulator.api",
}


def __getattr__(name: str) -> Any:
    """Import on first use, so that the command line starts (and stops) quickly."""
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
