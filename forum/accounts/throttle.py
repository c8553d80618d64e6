"""Counting failed sign-ins per account and per address.

Uses Flask-Limiter's storage (memory, or Redis when configured, shared by all workers) directly,
because only failures count and the sign-in form must answer with its own message.
"""

from __future__ import annotations

from flask import current_app
from limits import parse

from forum.extensions import limiter


def _items():
    config = current_app.config
    return (
        (parse(config["FORUM_LOGIN_LIMIT_PER_ACCOUNT"]), "login-account"),
        (parse(config["FORUM_LOGIN_LIMIT_PER_ADDRESS"]), "login-address"),
    )


def is_blocked(email: str, address: str) -> bool:
    (account_item, account_ns), (address_item, address_ns) = _items()
    return not (
        limiter.limiter.test(account_item, account_ns, email)
        and limiter.limiter.test(address_item, address_ns, address)
    )


def record_failure(email: str, address: str) -> None:
    (account_item, account_ns), (address_item, address_ns) = _items()
    limiter.limiter.hit(account_item, account_ns, email)
    limiter.limiter.hit(address_item, address_ns, address)


def clear_account(email: str) -> None:
    """A successful sign-in forgives the account's earlier failures (not the address's)."""
    (account_item, account_ns), _ = _items()
    limiter.limiter.clear(account_item, account_ns, email)
