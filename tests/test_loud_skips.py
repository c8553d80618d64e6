"""The loud_skips plugin, exercised in a separate pytest process on a tiny project."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

TESTS = """
import pytest
from tests.loud_skips import skip_missing

def test_passes():
    pass

def test_needs_postgres():
    skip_missing("postgresql", "initdb not found")

def test_needs_postgres_too():
    skip_missing("postgresql", "initdb not found")

def test_ordinary_skip():
    pytest.skip("not relevant here")
"""

ONLY_ORDINARY_SKIP = """
import pytest

def test_ordinary_skip():
    pytest.skip("not relevant here")
"""


def run_pytest(tmp_path: Path, tests: str, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # pins rootdir to tmp_path
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.loud_skips"]\n')
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(tests))
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = str(REPO_ROOT)  # makes the `tests` package importable
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


@pytest.mark.parametrize("ci", ["true", "1"])
def test_missing_component_fails_the_run_in_ci(tmp_path, ci):
    result = run_pytest(tmp_path, TESTS, ci=ci)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 tests were SKIPPED because real components are missing" in result.stdout
    assert "postgresql: 2 test(s) skipped -- initdb not found" in result.stdout
    assert "this run FAILS" in result.stdout


@pytest.mark.parametrize("ci", [None, "false"])
def test_missing_component_is_reported_outside_ci(tmp_path, ci):
    result = run_pytest(tmp_path, TESTS, ci=ci)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 tests were SKIPPED because real components are missing" in result.stdout
    assert "postgresql: 2 test(s) skipped -- initdb not found" in result.stdout
    assert "this run FAILS" not in result.stdout


def test_ordinary_skips_stay_quiet_in_ci(tmp_path):
    result = run_pytest(tmp_path, ONLY_ORDINARY_SKIP, ci="true")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MISSING REAL COMPONENT" not in result.stdout
    assert "SKIPPED because real components" not in result.stdout
