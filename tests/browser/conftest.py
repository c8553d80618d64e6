"""Browser journeys: the real app served on 127.0.0.1, driven by Chromium through Playwright.

One server (SQLite file, demo data, SMTP sink) serves the whole session; every test gets fresh
browser contexts, so cookies and chosen languages never leak from one test to the next. Tests
must therefore leave the demo personas as they found them (use dedicated accounts to change
passwords and the like).

A missing Chromium or Playwright skips loudly (tests.loud_skips), which fails the run in CI.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.loud_skips import skip_missing
from tests.servers import (
    CHROMIUM_ARGS,
    ComponentUnavailable,
    SmtpSink,
    chromium_executable,
    free_port,
    smtp_sink,
)

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError as exc:  # pragma: no cover - depends on the installation
    # Test modules import `expect` from here, so that they still collect and then skip loudly.
    expect = sync_playwright = None
    _PLAYWRIGHT_MISSING = f"cannot import playwright ({exc}); pip install -e '.[test]'"

try:
    from axe_playwright_python.sync_playwright import Axe
except ImportError as exc:  # pragma: no cover - depends on the installation
    Axe = None
    _AXE_MISSING = f"cannot import axe_playwright_python ({exc}); pip install -e '.[test]'"

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ARTIFACTS = ROOT / "test-artifacts"

DEMO_PASSWORD = "demo-forum-2026"
TIMEOUT_MS = 10_000  # Playwright's default of 30 s only makes failures slow on a local server.

# axe-core rules: WCAG 2.0/2.1 levels A and AA, plus Deque's best practices.
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}


# --- marker and failure reports --------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees every collected item, not only ours: mark only the ones in this folder.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


_REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def _failed(node: pytest.Item) -> bool:
    return any(report.failed for report in node.stash.get(_REPORTS, {}).values())


# --- the live server -------------------------------------------------------------------------


class _QuietRequestHandler(WSGIRequestHandler):
    """No access log line per request; errors still go to the `werkzeug` logger."""

    def log_request(self, *args, **kwargs) -> None:
        pass

    def log_error(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        # A page that navigates away while its WebSocket closes may send the close frame
        # (0x88) after the development server has ended the socket; the server then reads it
        # as a new HTTP request and answers 400. Harmless, and a matter of this test server
        # (production serves WebSockets with gunicorn), so it is not a test failure.
        if args and "('\\x88" in str(args[-1]):
            return
        super().log_error(format, *args)


class _ErrorRecorder(logging.Handler):
    """Keeps every ERROR the app (or the server) logs, so a 500 cannot go unnoticed."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


@dataclass
class LiveServer:
    url: str
    smtp: SmtpSink
    app: object  # flask.Flask
    errors: list[str] = field(default_factory=list)

    # -- language -----------------------------------------------------------------------------

    def gettext(self, locale: str, msgid: str, **variables) -> str:
        """`msgid` as the app shows it in `locale` (falls back to English when untranslated)."""
        from flask_babel import force_locale, gettext

        with self.app.app_context(), force_locale(locale):
            return gettext(msgid, **variables)

    def text(self, page, msgid: str, **variables) -> str:
        """`msgid` in the language the page is shown in (its <html lang>)."""
        locale = page.locator("html").get_attribute("lang") or "en"
        return self.gettext(locale, msgid, **variables)

    # -- e-mail -------------------------------------------------------------------------------

    def mail_to(self, address: str, since: int, timeout: float = 10) -> EmailMessage:
        """The first message to `address` among those arriving after the first `since`."""
        deadline = time.monotonic() + timeout
        count = since + 1
        while True:
            remaining = max(deadline - time.monotonic(), 0.05)
            messages = self.smtp.wait_for(count, timeout=remaining)  # TimeoutError when late
            for message in messages[since:]:
                if message["To"] == address:
                    return message
            count = len(messages) + 1

    def link_in(self, message: EmailMessage, path: str) -> str:
        """The link to `path`… (e.g. "/invitations/") in a message's plain-text body."""
        body = message.get_body(preferencelist=("plain",)).get_content()
        match = re.search(rf"{re.escape(self.url + path)}\S+", body)
        assert match, f"no link to {path} in the message:\n{body}"
        return match.group(0)


@contextmanager
def _environ(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _logging_config_kept() -> Iterator[None]:
    """Undo what Alembic's env.py does to logging in this process.

    migrations/env.py calls logging.config.fileConfig(), which replaces the root logger's
    handlers (pytest's capture included) and, unless told disable_existing_loggers=False,
    disables every logger that already exists (forum.web, forum.security, …) for the rest
    of the test session.
    """
    manager = logging.root.manager
    root = logging.getLogger()
    saved_root = (root.level, list(root.handlers))
    saved = {
        name: (logger.disabled, logger.level, list(logger.handlers), logger.propagate)
        for name, logger in manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    try:
        yield
    finally:
        for handler in root.handlers:
            if handler not in saved_root[1]:
                handler.close()
        root.setLevel(saved_root[0])
        root.handlers[:] = saved_root[1]
        for name, logger in manager.loggerDict.items():
            if not isinstance(logger, logging.Logger):
                continue
            if name in saved:
                logger.disabled, level, handlers, logger.propagate = saved[name]
                logger.setLevel(level)
                logger.handlers[:] = handlers
            else:  # created by the migration run (alembic.*): leave it quiet but enabled
                logger.disabled = False
                for handler in logger.handlers:
                    handler.close()
                logger.handlers[:] = []
                logger.setLevel(logging.NOTSET)


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    import flask_migrate

    from forum import create_app
    from forum.config import testing_overrides
    from forum.demo import seed_demo
    from forum.extensions import db

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with smtp_sink() as sink, tempfile.TemporaryDirectory(prefix="forum-browser-") as tmp:
        database = Path(tmp) / "forum.db"
        # load_config() reads FORUM_ENV when the app is created; restore it straight after so
        # that tests running later in the session see the environment they expect.
        with _environ(FORUM_ENV="testing"):
            app = create_app(
                {
                    **testing_overrides(f"sqlite:///{database}"),
                    "FORUM_ENV": "testing",
                    "SECRET_KEY": "x" * 32,
                    "FORUM_BASE_URL": url,
                    "MAIL_HOST": sink.host,
                    "MAIL_PORT": sink.port,
                    "FORUM_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                    # Uploaded materials (the demo's and the tests') go with the database,
                    # not into the working copy's instance/uploads.
                    "FORUM_STORAGE_ROOT": str(Path(tmp) / "uploads"),
                    # Errors become 500 pages as in production; _ErrorRecorder reports them.
                    "TESTING": False,
                }
            )
        try:
            with app.app_context():
                with _logging_config_kept():
                    flask_migrate.upgrade()
                seed_demo()
            with _serving(app, port) as errors:
                yield LiveServer(url=url, smtp=sink, app=app, errors=errors)
        finally:
            with app.app_context():  # close SQLite connections before the folder goes
                db.engine.dispose()


@contextmanager
def _serving(app, port: int) -> Iterator[list[str]]:
    """Serve `app` on 127.0.0.1:`port` in a thread; yield the errors it logs meanwhile."""
    recorder = _ErrorRecorder()
    watched = [logging.getLogger("forum"), logging.getLogger("werkzeug")]
    for logger in watched:
        logger.addHandler(recorder)
    server = make_server(
        "127.0.0.1", port, app, threaded=True, request_handler=_QuietRequestHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield recorder.records
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        for logger in watched:
            logger.removeHandler(recorder)


# --- Chromium --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    try:
        executable = chromium_executable()
    except ComponentUnavailable as exc:
        skip_missing(exc.component, exc.reason)
    if sync_playwright is None:
        skip_missing("playwright", _PLAYWRIGHT_MISSING)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_context(browser, live_server, request) -> Iterator[Callable[..., object]]:
    """Make browser contexts (English, the live server as base URL); all closed afterwards.

    On failure every open page is saved as a screenshot in test-artifacts/. Errors that the
    server logged during the test fail it as well.
    """
    contexts = []
    errors_before = len(live_server.errors)

    def make(**options):
        context = browser.new_context(**{"base_url": live_server.url, "locale": "en-US",
                                         **options})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make

    if _failed(request.node):
        _save_screenshots(request.node, contexts)
    for context in contexts:
        context.close()
    server_errors = live_server.errors[errors_before:]
    if server_errors:
        pytest.fail("the server logged errors during this test:\n\n" + "\n\n".join(server_errors),
                    pytrace=False)


def _save_screenshots(node: pytest.Item, contexts: list) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", node.nodeid)[-150:]
    for c, context in enumerate(contexts):
        for p, page in enumerate(context.pages):
            try:
                page.screenshot(path=str(ARTIFACTS / f"{stem}-{c}-{p}.png"), full_page=True)
            except Exception as exc:  # a crashed page must not hide the test's own failure
                print(f"could not save a screenshot of {page.url}: {exc}")


@pytest.fixture
def page(new_context):
    return new_context().new_page()


# --- helpers for the journeys ----------------------------------------------------------------


def submit(page, button) -> None:
    """Click a button that sends a form and wait until the answer's page has loaded.

    A bare click() returns once the navigation has *started*; reading the page (or going
    elsewhere) straight after would race with the form's response.
    """
    with page.expect_navigation():
        button.click()


def sign_in(page, live_server: LiveServer, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the form, the way a person does (labels in the page's language)."""
    page.goto(f"{live_server.url}/login")
    page.get_by_label(live_server.text(page, "E-mail address"), exact=True).fill(email)
    page.get_by_label(live_server.text(page, "Password"), exact=True).fill(password)
    submit(page, page.get_by_role("button", name=live_server.text(page, "Sign in"), exact=True))


def open_header_menu(page, live_server: LiveServer) -> None:
    """Open the header's menu (profile, administration, language, sign out)."""
    menu = page.get_by_role("banner").locator("details[data-menu]")
    if menu.get_attribute("open") is None:
        menu.get_by_text(live_server.text(page, "Menu"), exact=True).click()


def sign_out(page, live_server: LiveServer) -> None:
    """Press "Sign out" in the page header's menu."""
    open_header_menu(page, live_server)
    button = page.get_by_role("banner").get_by_role(
        "button", name=live_server.text(page, "Sign out"), exact=True
    )
    submit(page, button)


def assert_accessible(page) -> None:
    """Run axe-core in the page; fail listing each violation and the nodes it was found on."""
    if Axe is None:
        skip_missing("axe-playwright-python", _AXE_MISSING)
    violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    if not violations:
        return
    lines = [f"{len(violations)} accessibility rule(s) violated on {page.url}:"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"<{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    at {target}: {summary}")
            lines.append(f"       {node.get('html', '')[:200]}")
    pytest.fail("\n".join(lines), pytrace=False)
