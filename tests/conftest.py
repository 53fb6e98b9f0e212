"""Shared test configuration: Hypothesis profiles.

``ci`` is deterministic (derandomized, no database, no deadline) so a CI run is
reproducible; ``dev`` (the default, what a plain ``pytest`` runs) explores at random and
prints the blob that reproduces a failure; select with ``pytest --hypothesis-profile=ci`` or
``HYPOTHESIS_PROFILE=ci``.  CI runs both: the ``ci`` profile, then the plain command with a
printed ``--hypothesis-seed``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# The ``aws_endpoint`` fixture: one local AWS API server (moto) for the session.
pytest_plugins = ["tests.aws_server"]

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=100, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
