"""The ``invokemodels`` command: ``invoke``, ``demo`` and their output."""

from __future__ import annotations

from invokemodels._cli._main import main

__all__ = ["main"]
