"""Compile the engine's loop once, before any test (and any CLI or notebook the tests
start) needs it: numba caches the machine code beside the module for later processes."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import load_config
from simulator.blocks import simulate_block


@pytest.fixture(scope="session", autouse=True)
def compiled_engine(request: pytest.FixtureRequest) -> None:
    config = load_config(request.config.rootpath / "configs" / "connect_only.yaml")
    simulate_block(config, np.arange(1), 1)
