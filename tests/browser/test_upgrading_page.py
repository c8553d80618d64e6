"""The "being upgraded" page (a production process on a schema behind its code) in Chromium:
what a visitor sees, and that it passes axe like every other page."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from forum import ROOT, create_app, health
from forum.extensions import db
from tests.browser.conftest import _logging_config_kept, _serving, assert_accessible, expect
from tests.conftest import make_config
from tests.servers import free_port


def test_upgrading_page_is_shown_and_accessible(browser, smtp, tmp_path, monkeypatch):
    monkeypatch.setenv("FORUM_ALLOW_DOWNGRADE", "1")  # a production downgrade, on purpose
    scripts = ScriptDirectory(str(ROOT / "migrations"))
    [head] = scripts.get_heads()
    app = create_app(make_config(f"sqlite:///{tmp_path / 'behind.db'}", smtp,
                                 FORUM_STORAGE_ROOT=str(tmp_path / "uploads"), TESTING=False))
    app.config["FORUM_ENV"] = "production"
    health.init_app(app)  # what create_app does in production
    try:
        with app.app_context(), _logging_config_kept():
            upgrade()
            downgrade(revision=scripts.get_revision(head).down_revision)
        port = free_port()
        with _serving(app, port) as errors:
            context = browser.new_context(base_url=f"http://127.0.0.1:{port}", locale="en-US")
            try:
                page = context.new_page()
                response = page.goto("/login")
                assert response.status == 503
                expect(page.get_by_role("heading", level=1)).to_have_text(
                    "The forum is being upgraded")
                expect(page.get_by_role("link", name="Try again")).to_be_visible()
                assert_accessible(page)
            finally:
                context.close()
            assert errors == []
    finally:
        with app.app_context():
            db.engine.dispose()
