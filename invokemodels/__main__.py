"""``python -m invokemodels``: the same as the ``invokemodels`` command."""

from __future__ import annotations

import sys

from invokemodels._cli import main

sys.exit(main())
