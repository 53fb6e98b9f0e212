"""The pytest plugin as a user runs it: an installed entry point, the ``im_`` fixtures,
``--im-seed``, the timeline in a failing test's report, and ``-p no:invokemodels``."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

FIXTURES_TEST = """
from invokemodels import Scheduler, History
from invokemodels.testing import Environment


def test_the_fixtures_share_one_environment(im_env, im_scheduler, im_history, im_seed):
    assert isinstance(im_env, Environment)
    assert im_scheduler is im_env.scheduler and im_history is im_env.history
    assert im_env.seed == im_seed
    assert im_scheduler.is_virtual and im_scheduler.now == 0.0


def test_a_new_environment_per_test(im_env):
    assert len(im_env.history) == 0
    im_env.sync_invoker(lambda event, context: event).invoke(1)
    assert len(im_env.history) == 1


def test_the_seed(im_seed):
    print("seed is", im_seed)
"""


def test_the_plugin_is_an_installed_pytest11_entry_point() -> None:
    [entry] = [e for e in entry_points(group="pytest11") if e.name == "invokemodels"]
    assert entry.value == "invokemodels.testing._plugin"


def test_importing_the_plugin_imports_neither_hypothesis_nor_pytest_plugins_of_its_own() -> None:
    code = (
        "import sys, invokemodels.testing._plugin;"
        "assert 'hypothesis' not in sys.modules, 'hypothesis imported';"
        "assert 'invokemodels.testing._strategies' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_fixtures_need_only_the_installed_package(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fixtures=FIXTURES_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*seed is 0*"])


def test_im_seed_comes_from_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fixtures=FIXTURES_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider", "-s", "--im-seed", "1234")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*seed is 1234*"])


@pytest.mark.parametrize("seed", ["-3", "abc", str(2**64), "1.5"])
def test_a_bad_seed_is_a_usage_error(pytester: pytest.Pytester, seed: str) -> None:
    pytester.makepyfile(test_fixtures=FIXTURES_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider", "--im-seed", seed)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*--im-seed must be an integer from 0 to 2**64 - 1, got '{seed}'*"]
    )


def test_the_seed_fixture_can_be_overridden(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_override="""
import pytest

@pytest.fixture(scope="session")
def im_seed():
    return 99

def test_env_uses_it(im_env):
    assert im_env.seed == 99
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_one_seed_gives_one_timeline_across_runs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_ids="""
def test_ids(im_env):
    invoker = im_env.event_invoker(lambda event, context: None)
    print("request id", invoker.invoke({}).request_id)
"""
    )
    runs = [
        pytester.runpytest("-p", "no:cacheprovider", "-s", *args)
        for args in ((), (), ("--im-seed", "5"))
    ]
    ids = [[line for line in run.outlines if "request id" in line] for run in runs]
    assert ids[0] == ids[1]
    assert len(ids[0]) == 1
    assert ids[2] != ids[0]


FAILING_TEST = """
from invokemodels.testing import assert_attempts


def failing(event, context):
    raise ValueError("cannot parse order")


def test_the_retries(im_env):
    invoker = im_env.event_invoker(failing, maximum_retry_attempts=1)
    request_id = invoker.invoke({"order": 1}).request_id
    im_env.drain()
    assert len(im_env.history.of(request_id)) == 3  # wrong: one retry


def test_no_fixture_no_timeline():
    assert False
"""


def test_a_failing_test_that_used_the_environment_reports_its_timeline(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_failing=FAILING_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*_ test_the_retries _*",
            "*- invokemodels timeline (seed 0) -*",
            "*time*function*track*what*detail*",
            "*0.000s*failing*event queue*accepted*",
            "*60.000s*failing*invocations*Event * try 2*FunctionError ValueError*",
            "*60.000s*failing*event queue*dropped*RetriesExhausted*",
            "*_ test_no_fixture_no_timeline _*",
        ]
    )
    # Only the test that used an im_ fixture gets the section.
    assert result.stdout.str().count("invokemodels timeline") == 1


def test_a_passing_test_gets_no_section(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_passing="""
def test_ok(im_env):
    im_env.event_invoker(lambda e, c: None).invoke({})
    im_env.drain()
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=1)
    assert "invokemodels timeline" not in result.stdout.str()


def test_the_plugin_can_be_turned_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fixtures=FIXTURES_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:invokemodels")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(["*fixture 'im_env' not found*"])
    assert "--im-seed" not in pytester.runpytest("-p", "no:invokemodels", "--help").stdout.str()


HANDLER_TIME_TEST = """
import time


def test_a_sleep_in_the_handler_spends_virtual_time(im_env):
    def handler(event, context):
        before = time.time()
        time.sleep(2.5)
        return {"slept": time.time() - before, "left": context.get_remaining_time_in_millis()}

    fn = im_env.function(handler, timeout=10)
    response = im_env.sync_invoker(fn).invoke({})
    body = response.json()
    assert body["slept"] == 2.5
    assert body["left"] == 7500
    assert im_env.now == 2.5
"""


def test_im_env_runs_handlers_on_virtual_time(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_virtual_sleep=HANDLER_TIME_TEST)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_the_ini_option_turns_virtual_handler_time_off(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nim_handler_time = false\n")
    pytester.makepyfile(
        test_off="""
def test_off(im_env):
    assert im_env.handler_time is False
    assert im_env.scheduler.handler_time is False
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
