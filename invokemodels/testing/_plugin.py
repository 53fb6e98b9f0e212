"""The pytest plugin (entry point ``invokemodels`` in the ``pytest11`` group): the ``im_``
fixtures, the ``--im-seed`` option, and the timeline in a failing test's report.

Installing the package is enough; ``pytest -p no:invokemodels`` turns it off.  The plugin
imports nothing of the models (and not Hypothesis) until a fixture is used.

Fixtures:
    ``im_seed``: the seed, from ``--im-seed`` (default 0); session-scoped, so a Hypothesis
        test may use it; override it in a ``conftest.py`` or test module for other seeds.
    ``im_env``: a new `Environment` seeded with ``im_seed`` for each test, with virtual
        time inside handler code on (``Environment(handler_time=True)``: ``time.time()``,
        ``datetime.now()`` and ``time.sleep()`` in the handler follow the virtual clock;
        it needs time-machine, installed with the ``testing`` extra).  The ini option
        ``im_handler_time = false`` turns it off.
    ``im_scheduler``: ``im_env.scheduler``.
    ``im_history``: ``im_env.history``.

A test that used one of them and fails gets a section ``invokemodels timeline`` in its
report: the text of ``im_env.timeline()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Generator

    from invokemodels.core._history import History
    from invokemodels.core._scheduler import Scheduler
    from invokemodels.testing._env import Environment

__all__ = [
    "im_env",
    "im_history",
    "im_scheduler",
    "im_seed",
    "pytest_addoption",
    "pytest_configure",
    "pytest_runtest_makereport",
]

DEFAULT_SEED = 0
SECTION = "invokemodels timeline"
_ENVIRONMENT = pytest.StashKey["Environment"]()
_SEED = pytest.StashKey[int]()


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        msg = f"--im-seed must be an integer from 0 to 2**64 - 1, got {text!r}"
        raise pytest.UsageError(msg) from None
    if not 0 <= value < 2**64:
        msg = f"--im-seed must be an integer from 0 to 2**64 - 1, got {text!r}"
        raise pytest.UsageError(msg)
    return value


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--im-seed``: the seed of the ``im_`` fixtures."""
    group = parser.getgroup("invokemodels", "invokemodels fixtures")
    group.addoption(
        "--im-seed",
        dest="im_seed",
        default=None,
        metavar="SEED",
        help=f"seed of the im_env fixture's environment (default {DEFAULT_SEED})",
    )
    parser.addini(
        "im_handler_time",
        type="bool",
        default=True,
        help="virtual time inside handler code in the im_env fixture (default true; "
        "needs time-machine)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Check ``--im-seed`` before any test runs (a bad seed is a usage error)."""
    given = config.getoption("im_seed", None)
    config.stash[_SEED] = DEFAULT_SEED if given is None else _seed(str(given))


@pytest.fixture(scope="session")
def im_seed(pytestconfig: pytest.Config) -> int:
    """The seed of ``im_env``: ``--im-seed`` or 0."""
    return pytestconfig.stash.get(_SEED, DEFAULT_SEED)


@pytest.fixture
def im_env(request: pytest.FixtureRequest, im_seed: int) -> Environment:
    """A new `Environment` (scheduler on a virtual clock, one history, seeded) per test."""
    from invokemodels.testing._env import Environment  # noqa: PLC0415 - imported when used

    env = Environment(seed=im_seed, handler_time=bool(request.config.getini("im_handler_time")))
    request.node.stash[_ENVIRONMENT] = env
    return env


@pytest.fixture
def im_scheduler(im_env: Environment) -> Scheduler:
    """The ``im_env`` environment's `Scheduler`."""
    return im_env.scheduler


@pytest.fixture
def im_history(im_env: Environment) -> History:
    """The ``im_env`` environment's `History`."""
    return im_env.history


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Add the timeline of the test's environment to the report of a failing test."""
    del call
    report = yield
    env = item.stash.get(_ENVIRONMENT, None)
    if env is not None and report.failed:
        try:
            text = env.timeline().text()
        except Exception as exc:  # the report must not fail because the timeline did
            text = f"(the timeline could not be made: {type(exc).__name__}: {exc})"
        report.sections.append((f"{SECTION} (seed {env.seed})", text))
    return report
