"""outreach-sim: Monte Carlo simulation of LinkedIn outreach campaigns.

Read as a sentence: a config (:mod:`simulator.config`) goes into the engine
(:mod:`simulator.engine`), whose counts become tables and summaries
(:mod:`simulator.api`, :mod:`simulator.stats`), written to disk by
:mod:`simulator.output` or returned to a notebook.
"""

from simulator.api import Results, run
from simulator.config import Config, ConfigError, load_config, parse_config

__all__ = ["Config", "ConfigError", "Results", "load_config", "parse_config", "run"]
__version__ = "0.1.0"
