"""pytest plugin: skips caused by missing real components are loud, and fatal in CI.

Tests that need a real server or browser call skip_missing() when it is not
installed. Such skips are listed in a banner at the end of the run, and when the
environment variable CI is "true" or "1" they make the run fail: in CI a missing
component is a broken setup, not a reason for a green build.
"""

from __future__ import annotations

import os
import re
from collections import Counter

import pytest

MARKER = "MISSING REAL COMPONENT"
_PATTERN = re.compile(rf"{MARKER} (?P<component>[^:]+): (?P<reason>.*)", re.DOTALL)

# (component, reason) -> number of skipped tests
_missing: Counter[tuple[str, str]] = Counter()


def skip_missing(component: str, reason: str) -> None:
    """Skip the current test because `component` is not available."""
    __tracebackhide__ = True  # report the skip at the caller, not here
    pytest.skip(f"{MARKER} {component}: {reason}")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


def pytest_sessionstart(session: pytest.Session) -> None:
    _missing.clear()  # module state outlives a session run in-process (pytest.main)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not report.skipped:
        return
    # A skip's longrepr is (path, lineno, "Skipped: <message>").
    longrepr = report.longrepr
    message = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    match = _PATTERN.search(message)
    if match:
        _missing[match["component"].strip(), match["reason"].strip()] += 1


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    # Only turn an otherwise green run red; keep any other failure code.
    if _missing and _in_ci() and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    if not _missing:
        return
    tr = terminalreporter
    total = sum(_missing.values())
    title = f"{total} tests were SKIPPED because real components are missing:"
    tr.write_sep("!", title, red=True, bold=True)
    for (component, reason), count in sorted(_missing.items()):
        tr.write_line(f"  {component}: {count} test(s) skipped -- {reason}", red=True)
    if _in_ci():
        tr.write_line(
            "  CI is set: this run FAILS. Install the missing components (see .ci/run).",
            red=True,
            bold=True,
        )
    tr.write_sep("!", red=True)
