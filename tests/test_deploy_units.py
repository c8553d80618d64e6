"""deploy/systemd/: the units pass `systemd-analyze verify` (with /srv/forum pointed at this
checkout, so every ExecStart binary must exist), name real `flask forum` commands and options,
and agree with deploy/gunicorn.conf.py on how long a stop takes."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNITS = ROOT / "deploy" / "systemd"
CHECKOUT = "/srv/forum"


def parse(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values]}} (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def here(command: str, instance: str = "8001") -> list[str]:
    """An ExecStart line as it would run from this checkout."""
    return shlex.split(command.replace(CHECKOUT, str(ROOT)).replace("%i", instance))


def test_the_expected_units_are_there():
    assert sorted(p.name for p in UNITS.iterdir()) == [
        "forum-backup.service", "forum-backup.timer", "forum-digest.service",
        "forum-digest.timer", "forum-mail.service", "forum-retention.service",
        "forum-retention.timer", "forum@.service"]


def test_systemd_analyze_verify_accepts_every_unit(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        from tests.loud_skips import skip_missing

        skip_missing("systemd", "systemd-analyze not found (apt-get install systemd)")
    for unit in UNITS.iterdir():
        (tmp_path / unit.name).write_text(unit.read_text().replace(CHECKOUT, str(ROOT)))
    names = [name for name in sorted(os.listdir(tmp_path)) if name != "forum@.service"]
    result = subprocess.run(
        [analyze, "verify", "--man=no", "./forum@8001.service", *[f"./{n}" for n in names]],
        cwd=tmp_path, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "notice"})
    assert result.returncode == 0, result.stdout + result.stderr
    # Unknown keys and bad values are only warnings: there must be none.
    assert result.stdout.strip() == "" and result.stderr.strip() == "", result.stderr


def _flask_commands() -> set[str]:
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "forum", "--help"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        env={**os.environ, "FORUM_ENV": "testing"})
    assert result.returncode == 0, result.stderr
    listing = result.stdout.split("Commands:", 1)[1]
    return {line.split()[0] for line in listing.splitlines() if line.strip()}


@pytest.mark.parametrize("unit", ["forum-mail.service", "forum-digest.service",
                                  "forum-backup.service", "forum-retention.service"])
def test_flask_units_run_real_commands_with_real_options(unit, tmp_path):
    service = parse(UNITS / unit)["Service"]
    [command] = service["ExecStart"]
    argv = here(command)
    assert argv[:4] == [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "forum"]
    assert Path(argv[0]).exists()
    assert argv[4] in _flask_commands(), argv
    # click refuses unknown options before it shows the help, so this checks them all.
    options = [arg for arg in argv[5:] if arg.startswith("--")]
    result = subprocess.run(
        [*argv[:5], *options, "--help"], cwd=ROOT, capture_output=True, text=True,
        timeout=120, stdin=subprocess.DEVNULL, env={**os.environ, "FORUM_ENV": "testing"})
    assert result.returncode == 0, result.stderr
    assert service["WorkingDirectory"] == [CHECKOUT]
    assert service["EnvironmentFile"] == ["/etc/forum/forum.env"]
    assert service["User"] == ["forum"]


def test_the_backup_writes_where_it_may():
    service = parse(UNITS / "forum-backup.service")["Service"]
    destination = here(service["ExecStart"][0])[-1]
    assert destination == "/var/backups/forum"
    assert destination in service["ReadWritePaths"]
    assert service["ProtectSystem"] == ["strict"]


def test_timers_start_their_services():
    for timer, service in (("forum-digest.timer", "forum-digest.service"),
                           ("forum-backup.timer", "forum-backup.service"),
                           ("forum-retention.timer", "forum-retention.service")):
        sections = parse(UNITS / timer)
        assert sections["Timer"].get("Unit", [service]) == [service]
        assert sections["Timer"]["Persistent"] == ["true"]
        assert sections["Install"]["WantedBy"] == ["timers.target"]
    assert parse(UNITS / "forum-digest.timer")["Timer"]["OnCalendar"] == ["Mon *-*-* 07:00:00"]


def test_app_unit_runs_the_gunicorn_conf_and_stops_after_its_graceful_timeout():
    service = parse(UNITS / "forum@.service")["Service"]
    argv = here(service["ExecStart"][0], instance="8001")
    assert argv[0] == str(ROOT / ".venv" / "bin" / "gunicorn")
    assert argv[1:5] == ["-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "-b", "127.0.0.1:8001"]
    assert argv[-1] == "wsgi:app"
    # The app processes leave e-mail to forum-mail.service.
    assert "FORUM_MAIL_WORKER=0" in service["Environment"]
    # Environment= comes first so that forum.env could override it: it must not set it.
    # systemd sends SIGTERM to gunicorn only and SIGKILLs what remains after TimeoutStopSec,
    # which must leave gunicorn its graceful_timeout.
    conf = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    graceful = int(re.search(r"^graceful_timeout = (\d+)", conf, re.M).group(1))
    assert int(service["TimeoutStopSec"][0]) > graceful
    assert service["KillMode"] == ["mixed"] and service["KillSignal"] == ["SIGTERM"]
    assert service["Type"] == ["notify"]
    # Its own runtime directory per port: gunicorn's control socket is not shared.
    assert service["RuntimeDirectory"] == ["forum/%i"]
    assert "RUNTIME_DIRECTORY" in conf


def test_gunicorn_accepts_the_app_unit_command():
    service = parse(UNITS / "forum@.service")["Service"]
    argv = here(service["ExecStart"][0], instance="8001")
    result = subprocess.run(
        [*argv[:-1], "--check-config", argv[-1]], cwd=ROOT, capture_output=True, text=True,
        timeout=120, stdin=subprocess.DEVNULL,
        env={**os.environ, "FORUM_ENV": "testing", "FORUM_MAIL_WORKER": "0"})
    assert result.returncode == 0, result.stdout + result.stderr
