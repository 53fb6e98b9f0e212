"""The ``invokemodels`` command line (placeholder until the CLI lands)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``invokemodels`` command."""
    del argv
    sys.stderr.write("invokemodels: the command line is not available yet\n")
    return 2
