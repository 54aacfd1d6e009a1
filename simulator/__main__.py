"""``python -m simulator`` is the ``outreach-sim`` command."""

import sys

from simulator.cli import main

sys.exit(main())
