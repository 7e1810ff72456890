"""When a test nears its timeout, print what every asyncio task is waiting on; when it is
still not over long after, end the run.

pytest-timeout's dump shows threads only; with one session-wide event loop the main thread
sits in ``select`` and says nothing about which coroutine is stuck. This prints each pending
task's stack a few seconds before the timeout fires, bypassing output capture so that CI shows
it even when the run never reaches its summary. pytest-timeout's signal method then fails the
test, but nothing bounds a teardown that hangs afterwards (a pool waiting for a connection the
interrupted test held): if the test is not over ``_GRACE`` seconds after its timeout, the tasks
are printed again and the run ends with exit status 1 rather than eating CI's whole budget.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from typing import Any

import pytest

_EARLY = 10.0  # seconds before the timeout (a third of it for short timeouts)
_GRACE = 120.0  # seconds after the timeout before the run is ended
_timers: dict[str, list[threading.Timer]] = {}


def _pending_tasks() -> list[asyncio.Task[Any]]:
    # Read from another thread: the set may change while copied; a few tries are enough.
    for _ in range(5):
        try:
            return [t for t in list(asyncio.tasks._all_tasks) if not t.done()]  # type: ignore[attr-defined]
        except RuntimeError:
            continue
    return []


def _report(item: pytest.Item, headline: str) -> None:
    capture = item.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture(in_=False)
    try:
        tasks = _pending_tasks()
        print(
            f"\n=== {item.nodeid} {headline}: {len(tasks)} pending asyncio tasks ===",
            file=sys.stderr,
        )
        for task in tasks:
            try:
                task.print_stack(limit=12, file=sys.stderr)
            except Exception as error:  # a task finishing under us must not break the report
                print(f"  ({task.get_name()}: {error!r})", file=sys.stderr)
        sys.stderr.flush()
    finally:
        if capture is not None:
            capture.resume_global_capture()


def _end_run(item: pytest.Item) -> None:
    _report(item, f"is still not over {_GRACE:.0f} s after its timeout; ending the run")
    os._exit(1)


def _timeout(item: pytest.Item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker and marker.args:
        return float(marker.args[0])
    return float(item.config.getini("timeout") or 0)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Any:
    timeout = _timeout(item)
    if timeout > 0:
        early = min(_EARLY, timeout / 3)
        timers = [
            threading.Timer(timeout - early, _report, args=(item, "is about to time out")),
            threading.Timer(timeout + _GRACE, _end_run, args=(item,)),
        ]
        for timer in timers:
            timer.daemon = True
            timer.start()
        _timers[item.nodeid] = timers
    try:
        yield
    finally:
        for timer in _timers.pop(item.nodeid, []):
            timer.cancel()
