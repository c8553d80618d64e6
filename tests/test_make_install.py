"""The Makefile's production path, read through `make -n` (dry run: prints, runs nothing).

`make install` builds the environment without the test tools and never loads demo data or
touches the database; `make run` (the demo) refuses FORUM_ENV=production before doing anything.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(*goals: str, **env: str) -> subprocess.CompletedProcess:
    """`make -n -B <goals>`: every rule printed as if nothing were built yet."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("MAKE", "MFLAGS", "FORUM_", "GNUMAKEFLAGS"))}
    return subprocess.run(["make", "--no-print-directory", "-n", "-B", *goals],
                          cwd=ROOT, env={**clean, **env}, capture_output=True, text=True,
                          timeout=60)


def test_install_builds_without_test_tools_demo_data_or_database():
    result = dry_run("install")
    assert result.returncode == 0, result.stderr
    commands = result.stdout
    assert "pip install --quiet -e .\n" in commands
    assert "npm ci" in commands and "static/vendor/" in commands
    assert "pybabel compile" in commands
    assert "[test]" not in commands
    assert ".venv/.installed\n" not in commands  # the test environment's stamp
    for word in ("seed-demo", "db upgrade", "flask", "gunicorn"):
        assert word not in commands, word
    # A .venv built with the test tools is rebuilt from nothing, not patched.
    assert "rm -rf .venv" in commands


def test_test_environment_stops_counting_as_a_production_one():
    commands = dry_run("setup").stdout
    assert "pip install --quiet -e '.[test]'" in commands
    assert "rm -f .venv/.installed-production" in commands


def test_run_is_the_demo_and_refuses_production():
    demo = dry_run("run", FORUM_ENV="development")
    assert demo.returncode == 0 and "forum seed-demo" in demo.stdout
    for goals in (("run",), ()):  # `make` alone runs the first target, `run`
        refused = dry_run(*goals, FORUM_ENV="production")
        assert refused.returncode != 0
        assert "refuses FORUM_ENV=production" in refused.stderr
        assert refused.stdout == ""  # stopped before any command
    assert dry_run("install", FORUM_ENV="production").returncode == 0


def test_run_derives_the_public_address_from_host_and_port_unless_it_is_set():
    """Links in e-mails and calendar feeds must reach the demo where `make run` serves it."""
    served = dry_run("run", "PORT=8123", FORUM_ENV="development").stdout
    assert "-b 127.0.0.1:8123" in served
    assert served.count("FORUM_BASE_URL=http://127.0.0.1:8123 ") == 2  # demo data and server
    everywhere = dry_run("run", "HOST=0.0.0.0", FORUM_ENV="development").stdout
    assert "FORUM_BASE_URL=http://0.0.0.0" not in everywhere  # this machine's name instead
    assert "FORUM_BASE_URL=http://" in everywhere and ":5000 " in everywhere
    chosen = dry_run("run", FORUM_ENV="development",
                     FORUM_BASE_URL="https://forum.example.org").stdout
    assert chosen.count("FORUM_BASE_URL=https://forum.example.org ") == 2
