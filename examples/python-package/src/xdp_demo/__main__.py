"""``python -m xdp_demo``: the same as the ``xdp-demo`` command."""

from __future__ import annotations

import sys

from xdp_demo.cli import main

sys.exit(main())
