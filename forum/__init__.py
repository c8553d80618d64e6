"""Forum for exchange groups: the application factory (wiring only, no side effects)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from forum import redis_names
from forum.config import engine_options, load_config
from forum.ids import IdConverter

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(load_config(app.instance_path))
    app.url_map.converters["int"] = IdConverter  # before any route: ids stay in range
    if config:
        app.config.update(config)
        redis_names.follow_overrides(app, config)  # the default prefix follows database/secret

    register_extensions(app)
    register_socket_handlers(app)
    register_blueprints(app)
    register_audit_links(app)
    register_inbox(app)
    register_thread_merge_hooks(app)
    register_material_threads(app)
    register_thread_polls(app)
    register_cli(app)
    register_web_hooks(app)
    return app


def register_extensions(app: Flask) -> None:
    from forum import i18n
    from forum.accounts import throttle
    from forum.extensions import (
        babel,
        csrf,
        db,
        limiter,
        login_manager,
        mark_reading_request,
        migrate,
        socketio,
        use_sqlite_synchronous,
    )

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)  # pool per database
    db.init_app(app)
    app.before_request(mark_reading_request)  # first: before anything reads the database
    use_sqlite_synchronous(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    redis_names.configure_flask_limiter(app)  # its Redis keys carry FORUM_REDIS_PREFIX
    limiter.init_app(app)
    throttle.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        timezone_selector=i18n.select_timezone,
        default_translation_directories=str(ROOT / "forum" / "translations"),
    )
    i18n.install_template_gettext(app)
    login_manager.init_app(app)
    from forum.realtime import server as realtime

    # gevent or threading, Redis queue (SOCKETIO_MESSAGE_QUEUE), own origin only.
    socketio.init_app(app, **realtime.socketio_options(app))
    realtime.init_app(app)  # this app's Socket.IO server, chat presence and rate limits
    from forum.accounts import login  # noqa: F401  (registers the user loader)
    from forum.attendance import models as attendance_models  # noqa: F401  (issue 17 tables)
    from forum.evaluation import models as evaluation_models  # noqa: F401
    from forum.minutes import models as minutes_models  # noqa: F401
    from forum.notifications import models  # noqa: F401  (outbox tables for migrations)
    from forum.privacy import models as privacy_models  # noqa: F401  (data-rights tables)


def register_blueprints(app: Flask) -> None:
    from forum.accounts.views import bp as accounts_bp
    from forum.admin.views import bp as admin_bp
    from forum.attendance.views import bp as attendance_bp
    from forum.audit.views import bp as audit_bp
    from forum.certificates.views import bp as certificates_bp
    from forum.chat.views import bp as chat_bp
    from forum.discussions import curation_views, live_views  # noqa: F401  (their routes)
    from forum.discussions.views import bp as discussions_bp
    from forum.evaluation.views import bp as evaluation_bp
    from forum.health import bp as health_bp
    from forum.library.views import bp as library_bp
    from forum.mailings.views import bp as mailings_bp
    from forum.materials.views import bp as materials_bp
    from forum.minutes.views import bp as minutes_bp
    from forum.moderation.views import bp as moderation_bp
    from forum.notifications.views import bp as notifications_bp
    from forum.pages.groups import bp as groups_bp
    from forum.pages.workshops import bp as workshops_bp
    from forum.polls.views import bp as polls_bp
    from forum.recommendations.views import bp as recommendations_bp
    from forum.report.views import bp as report_bp
    from forum.reviews.views import bp as reviews_bp
    from forum.search.views import bp as search_bp
    from forum.tournaments.views import bp as tournaments_bp

    for bp in (health_bp, accounts_bp, groups_bp, workshops_bp, materials_bp, discussions_bp,
               search_bp, chat_bp, admin_bp, moderation_bp, audit_bp, notifications_bp,
               mailings_bp, reviews_bp, polls_bp, recommendations_bp, library_bp,
               tournaments_bp, attendance_bp, certificates_bp, evaluation_bp, minutes_bp,
               report_bp):
        app.register_blueprint(bp)
    from forum.privacy.export_views import bp as export_bp  # /profile/data: export my data

    app.register_blueprint(export_bp)
    from forum.privacy.erasure_views import bp as erasure_bp  # delete my account; erase

    app.register_blueprint(erasure_bp)
    from forum.privacy.pages_views import bp as privacy_pages_bp  # /privacy, /accessibility

    app.register_blueprint(privacy_pages_bp)


def register_audit_links(app: Flask) -> None:
    # The audit log links its entries to the items they are about; each feature resolves its own.
    from forum.audit.services import register_links
    from forum.chat.services import message_links
    from forum.discussions.services import post_links, thread_links
    from forum.materials.services import material_links
    from forum.moderation.reports import report_links
    from forum.polls.services import poll_links
    from forum.recommendations.services import recommendation_links
    from forum.reviews.services import review_links
    from forum.tournaments.services import tournament_links
    from forum.workshops.services import workshop_links

    for subject_type, resolver in (("thread", thread_links), ("post", post_links),
                                   ("chat_message", message_links), ("material", material_links),
                                   ("workshop", workshop_links), ("report", report_links),
                                   ("review", review_links), ("poll", poll_links),
                                   ("recommendation", recommendation_links),
                                   ("tournament", tournament_links)):
        register_links(app, subject_type, resolver)


def register_inbox(app: Flask) -> None:
    # A notification about a chat message (a mention) leads to the message in the chat.
    from forum.chat.services import notification_url
    from forum.notifications.inbox import register_opener

    register_opener(app, "chat_message_id", notification_url)
    # A review reminder leads to the review.
    from forum.notifications.inbox import register_kind_opener
    from forum.reviews.services import REMINDER_KIND, reminder_url

    register_kind_opener(app, REMINDER_KIND, reminder_url)
    # A poll reminder leads to the poll.
    from forum.polls import services as polls

    register_kind_opener(app, polls.REMINDER_KIND, polls.reminder_url)
    # A message about a good practice leads to the conversation.
    from forum.library import services as library

    register_kind_opener(app, library.CONTACT_KIND, library.contact_url)
    # A reminder of a session one registered for leads to its attendance page.
    from forum.attendance import services as attendance

    register_kind_opener(app, attendance.REMINDER_KIND, attendance.reminder_url)


def register_thread_merge_hooks(app: Flask) -> None:
    # Merging threads: the chat moves its own rows about the source thread.
    from forum.chat.services import move_thread_notices
    from forum.discussions.curation import on_merge

    on_merge(app, move_thread_notices)
    from forum.polls.services import move_polls

    on_merge(app, move_polls)


def register_material_threads(app: Flask) -> None:
    # A material's page lists the threads about it.
    from forum.discussions.services import list_threads
    from forum.materials.views import show_threads_with

    show_threads_with(app, lambda actor, group, material: list_threads(
        actor, group, material=material))


def register_thread_polls(app: Flask) -> None:
    # A thread's page lists its polls.
    from forum.discussions.thread_page import show_polls_with
    from forum.polls.services import thread_cards

    show_polls_with(app, thread_cards)


def register_socket_handlers(app: Flask) -> None:
    # On the Socket.IO server that `socketio.init_app` has just made for this app (tests make
    # many apps; nothing is registered on the process-wide object).
    from forum.chat import rooms, sockets
    from forum.discussions import live, live_sockets
    from forum.extensions import socketio
    from forum.polls import sockets as poll_sockets
    from forum.realtime.server import on_disconnect_user, on_queue_resumed

    sockets.register(socketio)  # /chat
    live_sockets.register(socketio)  # /threads: follow a thread
    poll_sockets.register(socketio)  # /threads: follow a poll's results
    on_disconnect_user(app, rooms.disconnect_user)  # sign-out, removal: cut the sockets off
    on_disconnect_user(app, live.disconnect_user)
    on_queue_resumed(app, sockets.resync_after_outage)
    on_queue_resumed(app, live.resync_after_outage)  # Redis back: clients fetch what they missed


def register_cli(app: Flask) -> None:
    from forum.cli import forum_cli

    app.cli.add_command(forum_cli)


def register_web_hooks(app: Flask) -> None:
    from forum import health, observability, web
    from forum.mailings import worker

    observability.init_app(app)  # log handler, request ids, /metrics
    health.init_app(app)  # production: "being upgraded" while the schema is behind the code
    web.init_app(app)
    worker.init_app(app)  # the background mail sender (FORUM_MAIL_WORKER)
