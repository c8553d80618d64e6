"""Settings from environment variables (FORUM_*).

`load_config()` reads the environment once at start-up; tests pass overrides to `create_app`.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import timedelta
from pathlib import Path

LOCALES = ("pl", "ca", "en")


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the app refuses to start."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    """A whole-number setting; a typo stops the start with the setting's name, not a traceback."""
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def _number(env: dict[str, str], name: str, default: float, minimum: float = 0) -> float:
    raw = env.get(name, "").strip()
    if raw == "":
        return float(default)
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def _dev_secret_key(instance_path: Path) -> str:
    """A random key kept in instance/ so development sessions survive a restart."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


# The example value printed in .env.example and the README: never accepted in production.
EXAMPLE_SECRET_KEY = "change-me-to-a-long-random-value"
MIN_SECRET_KEY_BYTES = 32
_GENERATE_KEY = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


def _check_production_secret_key(secret_key: str) -> None:
    """Refuse the example key and short keys: whoever knows the key can forge sessions."""
    if secret_key.strip() == EXAMPLE_SECRET_KEY:
        raise ConfigError(
            "FORUM_SECRET_KEY is still the example value from .env.example. "
            f"Generate a random one ({_GENERATE_KEY}) and keep it secret."
        )
    length = len(secret_key.encode("utf-8"))
    if length < MIN_SECRET_KEY_BYTES:
        raise ConfigError(
            f"FORUM_SECRET_KEY is {length} bytes long; production needs at least "
            f"{MIN_SECRET_KEY_BYTES}. Generate one with {_GENERATE_KEY}."
        )


def default_redis_prefix(database_url: str, secret_key: str) -> str:
    """A Redis name prefix unique to one installation (its database and its secret), so that
    two installations sharing a Redis server (production and a staging copy) never meet."""
    digest = hashlib.sha256(f"{database_url}\n{secret_key}".encode()).hexdigest()[:12]
    return f"forum-{digest}"


def load_config(instance_path: str, env: dict[str, str] | None = None) -> dict:
    env = dict(os.environ if env is None else env)
    mode = env.get("FORUM_ENV", "production").strip().lower()
    if mode not in {"production", "development", "testing"}:
        raise ConfigError(f"FORUM_ENV must be production, development or testing, not {mode!r}")
    development = mode == "development"
    instance = Path(instance_path)

    secret_key = env.get("FORUM_SECRET_KEY", "")
    if not secret_key:
        if mode == "production":
            raise ConfigError(
                "FORUM_SECRET_KEY is not set. Set it to a long random value "
                "(python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        secret_key = _dev_secret_key(instance) if development else secrets.token_hex(32)
    elif mode == "production":
        _check_production_secret_key(secret_key)

    # The public address: links in e-mails, and the one origin whose pages may open the chat's
    # connection in production. A default there would trust http://127.0.0.1:5000 (issue 19).
    base_url = env.get("FORUM_BASE_URL", "").strip()
    if not base_url:
        if mode == "production":
            raise ConfigError(
                "FORUM_BASE_URL is not set. Set it to the address people type, such as "
                "https://forum.example.org (links in e-mails; the only origin allowed to open "
                "the chat's connection).")
        base_url = "http://127.0.0.1:5000"

    database_url = env.get("FORUM_DATABASE_URL", f"sqlite:///{instance / 'forum.db'}")
    redis_url = env.get("FORUM_REDIS_URL", "")
    # gevent serves the chat (WebSocket, many clients); tests use Flask's test client: threads.
    async_mode = env.get("FORUM_ASYNC_MODE", "threading" if mode == "testing" else "gevent")
    if async_mode not in {"gevent", "threading"}:
        raise ConfigError(f"FORUM_ASYNC_MODE must be gevent or threading, not {async_mode!r}")
    secure_cookies = _bool(env.get("FORUM_SECURE_COOKIES"), default=mode == "production")
    outbox = env.get("FORUM_MAIL_OUTBOX", str(instance / "outbox") if development else "")

    config = {
        "FORUM_ENV": mode,
        "DEBUG": False,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # SQLite: pool_pre_ping (engine_options); PostgreSQL: a check after idling
        # (forum.extensions), not a round trip on every request.
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # Connections per process (PostgreSQL): pool size plus overflow at most.
        "FORUM_DB_POOL_SIZE": _int(env, "FORUM_DB_POOL_SIZE", 5, minimum=1),
        "FORUM_DB_MAX_OVERFLOW": _int(env, "FORUM_DB_MAX_OVERFLOW", 10),
        # SQLite (WAL): "normal" syncs the log to disk at checkpoints, not at every commit; a
        # killed process loses nothing committed, a power cut may lose the last commits (the
        # database stays consistent). "full": every commit waits for the disk.
        "FORUM_SQLITE_SYNCHRONOUS": (env.get("FORUM_SQLITE_SYNCHRONOUS", "").strip().lower()
                                     or "normal"),
        # Behind PgBouncer in transaction mode: no server-side prepared statements (psycopg).
        "FORUM_DB_PGBOUNCER": _bool(env.get("FORUM_DB_PGBOUNCER")),
        "FORUM_BASE_URL": base_url.rstrip("/"),
        "FORUM_SITE_NAME": env.get("FORUM_SITE_NAME", "Forum Współpracy"),
        "FORUM_REDIS_URL": redis_url,
        # Every Redis name (Socket.IO channel, presence, rate limits) starts with this.
        "FORUM_REDIS_PREFIX": env.get("FORUM_REDIS_PREFIX", "")
        or default_redis_prefix(database_url, secret_key),
        "FORUM_TRUST_PROXY": _bool(env.get("FORUM_TRUST_PROXY")),
        "FORUM_DEFAULT_TIMEZONE": env.get("FORUM_DEFAULT_TIMEZONE", "Europe/Warsaw"),
        "FORUM_INVITATION_DAYS": _int(env, "FORUM_INVITATION_DAYS", 14, minimum=1),
        "FORUM_PASSWORD_RESET_SECONDS": _int(env, "FORUM_PASSWORD_RESET_SECONDS", 3600, minimum=1),
        # Werkzeug's scrypt; tests switch to a cheap method to stay fast.
        "FORUM_PASSWORD_HASH_METHOD": "scrypt",
        # Failed sign-ins before attempts wait (forum.accounts.throttle): tiers of growing
        # windows per account and address together, and for browsers that never signed in to
        # the account, per account and per address.
        "FORUM_LOGIN_LIMIT_PER_PAIR": env.get("FORUM_LOGIN_LIMIT_PER_PAIR",
                                              "5/minute;10/15minute;20/day"),
        "FORUM_LOGIN_LIMIT_PER_ACCOUNT": env.get("FORUM_LOGIN_LIMIT_PER_ACCOUNT",
                                                 "30/15minute;100/day"),
        "FORUM_LOGIN_LIMIT_PER_ADDRESS": env.get("FORUM_LOGIN_LIMIT_PER_ADDRESS",
                                                 "100/15minute;500/day"),
        # Forms that send e-mail (password reset), per client address.
        "FORUM_MAIL_FORM_LIMIT": env.get("FORUM_MAIL_FORM_LIMIT", "10/hour"),
        "FORUM_CONTROLLER": env.get(
            "FORUM_CONTROLLER", "the organiser of the exchange programme (set FORUM_CONTROLLER)"
        ),
        # Data rights (forum.privacy): who to write to, and how long things are kept.
        # Every retention period is in days, 0 = kept without a time limit; applied by
        # `flask forum apply-retention` and stated on /privacy.
        "FORUM_DPO_CONTACT": env.get("FORUM_DPO_CONTACT", ""),
        "FORUM_ACCESSIBILITY_CONTACT": env.get("FORUM_ACCESSIBILITY_CONTACT", ""),
        "FORUM_RETAIN_CHAT_DAYS": _int(env, "FORUM_RETAIN_CHAT_DAYS", 730),
        "FORUM_RETAIN_NOTIFICATIONS_DAYS": _int(env, "FORUM_RETAIN_NOTIFICATIONS_DAYS", 180),
        "FORUM_RETAIN_FAILED_MAIL_DAYS": _int(env, "FORUM_RETAIN_FAILED_MAIL_DAYS", 90),
        "FORUM_EXPORT_KEEP_DAYS": _int(env, "FORUM_EXPORT_KEEP_DAYS", 7, minimum=1),
        "FORUM_RETAIN_SIGNIN_DAYS": _int(env, "FORUM_RETAIN_SIGNIN_DAYS", 30),
        "FORUM_RETAIN_AUDIT_DAYS": _int(env, "FORUM_RETAIN_AUDIT_DAYS", 1825),
        "FORUM_RETAIN_ATTENDANCE_DAYS": _int(env, "FORUM_RETAIN_ATTENDANCE_DAYS", 0),
        # E-mail
        "MAIL_HOST": env.get("FORUM_MAIL_HOST", "localhost"),
        "MAIL_PORT": _int(env, "FORUM_MAIL_PORT", 25, minimum=1),
        "MAIL_SECURITY": env.get("FORUM_MAIL_SECURITY", "none").lower(),  # none|starttls|ssl
        "MAIL_USERNAME": env.get("FORUM_MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("FORUM_MAIL_PASSWORD", ""),
        "MAIL_SENDER": env.get("FORUM_MAIL_SENDER", "forum@localhost"),
        "MAIL_OUTBOX": outbox,
        # E-mail notifications and digests (forum.notifications): the outbox sender and batcher.
        # At most one notification e-mail per person per this many minutes ("every event").
        "FORUM_MAIL_BATCH_MINUTES": _int(env, "FORUM_MAIL_BATCH_MINUTES", 10),
        # How often the background sender looks for work (worker in the app, send-mail --loop).
        "FORUM_MAIL_POLL_SECONDS": _number(env, "FORUM_MAIL_POLL_SECONDS", 30),
        # Run the sender inside each served process (off: run `flask forum send-mail --loop`).
        "FORUM_MAIL_WORKER": _bool(env.get("FORUM_MAIL_WORKER"), default=mode != "testing"),
        # Attempts before an e-mail is marked failed; the wait doubles from the first retry.
        "FORUM_MAIL_MAX_ATTEMPTS": _int(env, "FORUM_MAIL_MAX_ATTEMPTS", 8, minimum=1),
        "FORUM_MAIL_RETRY_SECONDS": _int(env, "FORUM_MAIL_RETRY_SECONDS", 60),
        # How long a sender owns the e-mails it claimed; after that another sender retries them.
        "FORUM_MAIL_CLAIM_SECONDS": _int(env, "FORUM_MAIL_CLAIM_SECONDS", 300),
        # Unsubscribe links in e-mails work this long.
        "FORUM_UNSUBSCRIBE_DAYS": _int(env, "FORUM_UNSUBSCRIBE_DAYS", 90, minimum=1),
        # Sent e-mails are kept this long in the outbox (for operators), then deleted.
        "FORUM_MAIL_KEEP_DAYS": _int(env, "FORUM_MAIL_KEEP_DAYS", 30),
        # Sessions and cookies
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_NAME": "forum_session",
        "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        "REMEMBER_COOKIE_NAME": "forum_remember",
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead of a clock
        # Rate limits (Flask-Limiter); Redis shares counters between workers.
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": False,
        # Redis unreachable: Flask-Limiter counts in memory meanwhile instead of failing.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # Live chat: Socket.IO through Redis when several workers serve it (FORUM_REDIS_URL).
        "SOCKETIO_MESSAGE_QUEUE": env.get("SOCKETIO_MESSAGE_QUEUE", redis_url),
        "FORUM_ASYNC_MODE": async_mode,
        "FORUM_CHAT_MAX_LENGTH": _int(env, "FORUM_CHAT_MAX_LENGTH", 4000, minimum=1),
        "FORUM_CHAT_RATE": env.get("FORUM_CHAT_RATE", "20/minute"),
        # Who came and went in a group's chat, announced once per this many seconds (one
        # event listing them all); 0 announces each at once (the test-suite's default).
        "FORUM_CHAT_PRESENCE_SECONDS": _number(env, "FORUM_CHAT_PRESENCE_SECONDS",
                                               0 if mode == "testing" else 1),
        # Without Redis, how often a serving process reads the cut-offs written by other
        # processes (a member removed from the command line): 0 reads none (tests' default).
        "FORUM_CUTOFF_POLL_SECONDS": _number(env, "FORUM_CUTOFF_POLL_SECONDS",
                                             0 if mode == "testing" else 0.5),
        # "websocket" alone for several processes behind a balancer without sticky sessions.
        "FORUM_CHAT_TRANSPORTS": env.get("FORUM_CHAT_TRANSPORTS", "polling,websocket"),
        # Uploads: the file limit, and a request limit a little above it for the form fields.
        "FORUM_MAX_UPLOAD_MB": _int(env, "FORUM_MAX_UPLOAD_MB", 50, minimum=1),
        # A virus scanner every upload must pass (the file's path is added), e.g.
        # "clamdscan --no-summary --fdpass"; empty: none (forum.materials.scan).
        "FORUM_SCAN_COMMAND": env.get("FORUM_SCAN_COMMAND", ""),
        "MAX_CONTENT_LENGTH": (_int(env, "FORUM_MAX_UPLOAD_MB", 50, minimum=1) + 1) * 1024 * 1024,
        "FORUM_STORAGE_ROOT": env.get("FORUM_STORAGE_ROOT", str(instance / "uploads")),
        # Attendance certificates (forum.certificates): the folder holding DejaVuSans.ttf and
        # DejaVuSans-Bold.ttf (Debian's fonts-dejavu-core), fonts with Polish letters.
        "FORUM_CERTIFICATE_FONT_DIR": env.get("FORUM_CERTIFICATE_FONT_DIR", "").strip()
        or "/usr/share/fonts/truetype/dejavu",
        # Object storage instead of the disk: s3://bucket/optional/prefix (S3 API, boto3).
        "FORUM_STORAGE_URL": env.get("FORUM_STORAGE_URL", ""),
        "FORUM_S3_ENDPOINT_URL": env.get("FORUM_S3_ENDPOINT_URL", ""),
        "FORUM_S3_REGION": env.get("FORUM_S3_REGION", ""),
        # Downloads from object storage: 0 streams them through the app; N > 0 redirects to a
        # signed URL valid for N seconds.
        "FORUM_S3_REDIRECT_SECONDS": _int(env, "FORUM_S3_REDIRECT_SECONDS", 0),
        # Logs and metrics
        "FORUM_LOG_FORMAT": env.get("FORUM_LOG_FORMAT", "text").strip().lower(),
        "FORUM_LOG_LEVEL": env.get("FORUM_LOG_LEVEL", "INFO").strip().upper(),
        # /metrics: with a token, `Authorization: Bearer <token>` from anywhere; without one,
        # only requests from this machine (127.0.0.1, ::1).
        "FORUM_METRICS_TOKEN": env.get("FORUM_METRICS_TOKEN", ""),
        "BABEL_DEFAULT_LOCALE": env.get("FORUM_DEFAULT_LOCALE", "pl"),
        "BABEL_DEFAULT_TIMEZONE": "UTC",
    }
    check_settings(config)
    return config


MAIL_SECURITY_MODES = ("none", "starttls", "ssl")
CHAT_TRANSPORTS = ("polling", "websocket")
SQLITE_SYNCHRONOUS_LEVELS = ("normal", "full")


def check_settings(config: dict) -> None:
    """Refuse settings the app would otherwise misread quietly (a mistyped FORUM_MAIL_SECURITY
    sending passwords over plain SMTP, an unknown time zone failing on the first page).
    The log settings are checked where the logs are set up (forum.observability)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from limits import parse_many

    def one_of(name: str, value: str, allowed) -> None:
        if value not in allowed:
            raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")

    one_of("FORUM_MAIL_SECURITY", config["MAIL_SECURITY"], MAIL_SECURITY_MODES)
    one_of("FORUM_DEFAULT_LOCALE", config["BABEL_DEFAULT_LOCALE"], LOCALES)
    one_of("FORUM_SQLITE_SYNCHRONOUS", config["FORUM_SQLITE_SYNCHRONOUS"],
           SQLITE_SYNCHRONOUS_LEVELS)
    transports = [t.strip() for t in config["FORUM_CHAT_TRANSPORTS"].split(",") if t.strip()]
    if not transports or any(t not in CHAT_TRANSPORTS for t in transports):
        raise ConfigError("FORUM_CHAT_TRANSPORTS must list polling and/or websocket, "
                          f"not {config['FORUM_CHAT_TRANSPORTS']!r}")
    try:
        ZoneInfo(config["FORUM_DEFAULT_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("FORUM_DEFAULT_TIMEZONE must be a time zone name such as "
                          f"Europe/Warsaw, not {config['FORUM_DEFAULT_TIMEZONE']!r}") from None
    for name in ("FORUM_CHAT_RATE", "FORUM_LOGIN_LIMIT_PER_PAIR", "FORUM_LOGIN_LIMIT_PER_ACCOUNT",
                 "FORUM_LOGIN_LIMIT_PER_ADDRESS", "FORUM_MAIL_FORM_LIMIT"):
        try:
            parse_many(config[name])
        except ValueError:
            raise ConfigError(f"{name} must be a rate such as 20/minute, "
                              f"not {config[name]!r}") from None
    if not config["FORUM_BASE_URL"].startswith(("http://", "https://")):
        raise ConfigError("FORUM_BASE_URL must start with https:// (or http://), "
                          f"not {config['FORUM_BASE_URL']!r}")
    storage_url = config["FORUM_STORAGE_URL"]
    if storage_url and not storage_url.startswith("s3://"):
        raise ConfigError(f"FORUM_STORAGE_URL must be s3://bucket[/prefix], not {storage_url!r}")


def engine_options(config) -> dict:
    """SQLALCHEMY_ENGINE_OPTIONS for the configured database, decided when the app starts (tests
    change the URL after load_config). Server databases get the pool settings; SQLite keeps
    SQLAlchemy's own pool (no server, no connection limit). Explicit options win."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        options.setdefault("pool_pre_ping", True)
        return options
    options.setdefault("pool_size", int(config.get("FORUM_DB_POOL_SIZE", 5)))
    options.setdefault("max_overflow", int(config.get("FORUM_DB_MAX_OVERFLOW", 10)))
    if config.get("FORUM_DB_PGBOUNCER"):
        # psycopg prepares a statement after 5 runs on a connection; a transaction pooler
        # hands the next transaction another server connection, where it does not exist.
        options["connect_args"] = {**options.get("connect_args", {}), "prepare_threshold": None}
    return options


def testing_overrides(database_url: str) -> dict:
    """Settings the test-suite applies on top of `load_config` in testing mode."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "FORUM_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "MAIL_OUTBOX": "",
        "SERVER_NAME": None,
    }
