"""Counting failed sign-ins per account and per address.

Only failures count, and the sign-in form answers with its own message, so this uses the
`limits` library (Flask-Limiter's engine) directly. Each app keeps its own counter storage:
in memory for one process, or Redis (FORUM_REDIS_URL) so that every worker sees the same counts
(keys under `<FORUM_REDIS_PREFIX>:limits:`, forum.redis_names).
"""

from __future__ import annotations

from flask import Flask, current_app
from limits import parse
from limits.strategies import MovingWindowRateLimiter

from forum.redis_names import limits_storage

_EXTENSION = "forum_login_throttle"


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = MovingWindowRateLimiter(limits_storage(app.config))


def _limiter() -> MovingWindowRateLimiter:
    return current_app.extensions[_EXTENSION]


def _items():
    config = current_app.config
    return (
        (parse(config["FORUM_LOGIN_LIMIT_PER_ACCOUNT"]), "login-account"),
        (parse(config["FORUM_LOGIN_LIMIT_PER_ADDRESS"]), "login-address"),
    )


def is_blocked(email: str, address: str) -> bool:
    (account_item, account_ns), (address_item, address_ns) = _items()
    limiter = _limiter()
    return not (
        limiter.test(account_item, account_ns, email)
        and limiter.test(address_item, address_ns, address)
    )


def record_failure(email: str, address: str) -> None:
    (account_item, account_ns), (address_item, address_ns) = _items()
    limiter = _limiter()
    limiter.hit(account_item, account_ns, email)
    limiter.hit(address_item, address_ns, address)


def clear_account(email: str) -> None:
    """A successful sign-in forgives the account's earlier failures (not the address's)."""
    (account_item, account_ns), _ = _items()
    _limiter().clear(account_item, account_ns, email)
