"""A worker that cannot run the app's background tasks is refused at start-up, not found out
when e-mails never leave (issue 18, finding 4): FORUM_ASYNC_MODE=gevent under a threaded
gunicorn worker."""

import subprocess

from tests.chat.live import BIN, ROOT, server_settings
from tests.servers import free_port


def _gunicorn(tmp_path, **env) -> subprocess.CompletedProcess:
    settings = {**server_settings(f"sqlite:///{tmp_path / 'f.db'}", "http://127.0.0.1", tmp_path),
                **env}
    return subprocess.run(
        [str(BIN / "gunicorn"), "-k", "gthread", "--threads", "2", "-w", "1",
         "-b", f"127.0.0.1:{free_port()}", "--no-control-socket", "--timeout", "5", "wsgi:app"],
        cwd=ROOT, env=settings, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        timeout=60)


def test_gevent_mode_under_a_threaded_worker_refuses_to_start(tmp_path):
    result = _gunicorn(tmp_path)
    assert result.returncode != 0
    assert "FORUM_ASYNC_MODE=gevent needs gunicorn's gevent worker" in result.stderr
