"""Slowing down password guessing without locking out the right password (issue 19).

Failed sign-ins are counted in three scopes, each with tiers of growing windows
(`FORUM_LOGIN_LIMIT_*`, e.g. "5/minute;10/15minute;20/day"): once a tier is full, attempts in
that scope wait until its window ends, so a guesser is slowed down more and more:

- **account and address** together (`…_PER_PAIR`): someone guessing one person's password
  from one place. Nobody else is affected: the same person signs in from another address.
- **account** from any address (`…_PER_ACCOUNT`) and **address** for any account
  (`…_PER_ADDRESS`): guessing spread over many addresses, or many accounts tried from one.
  These two do not apply to a browser that has signed in to that account before (a signed
  "known browser" cookie, forum.accounts.login) nor to one opened by the e-mailed unlock link:
  an attack from elsewhere cannot lock the owner out, and a town hall behind one address is
  not blocked because of one colleague's typos.

A successful sign-in clears the pair's failures; the e-mailed unlock link clears the pair's and
the account's; an administrator can clear every count of an account (a new "generation" of its
keys, so the pairs of every address go too). Counters live in the app's rate-limit storage:
memory for one process, Redis (FORUM_REDIS_URL, keys under `<FORUM_REDIS_PREFIX>:limits:`)
for several.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import Flask, current_app
from limits import parse_many
from limits.storage import MemoryStorage

from forum.redis_names import limits_storage

log = logging.getLogger(__name__)
_EXTENSION = "forum_login_throttle"
SCOPES = {"pair": "FORUM_LOGIN_LIMIT_PER_PAIR", "account": "FORUM_LOGIN_LIMIT_PER_ACCOUNT",
          "address": "FORUM_LOGIN_LIMIT_PER_ADDRESS"}
GENERATION_SECONDS = 86400 * 30  # how long an administrator's "clear" is remembered


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = _FallingBack(limits_storage(app.config))


def _storage():
    return current_app.extensions[_EXTENSION]


class _FallingBack:
    """The counter storage, or this process's memory while it cannot be reached (Redis down):
    signing in keeps working, with the counts kept per process until Redis is back, and a
    warning in the log (issue 18: Redis down made every sign-in a server error)."""

    RETRY_SECONDS = 5.0

    def __init__(self, primary):
        self.primary = primary
        self.memory = MemoryStorage()
        self.failed_at = None  # when the primary last failed (None: it works)

    def _call(self, name: str, *args):
        now = time.monotonic()
        if self.failed_at is None or now - self.failed_at > self.RETRY_SECONDS:
            try:
                result = getattr(self.primary, name)(*args)
            except Exception as error:  # redis.ConnectionError, TimeoutError, …
                if self.failed_at is None:
                    log.warning("sign-in counters: storage unreachable (%s); counting in this "
                                "process until it is back", error)
                self.failed_at = now
            else:
                if self.failed_at is not None:
                    log.warning("sign-in counters: storage reachable again")
                self.failed_at = None
                return result
        return getattr(self.memory, name)(*args)

    def get(self, key):
        return self._call("get", key)

    def incr(self, key, expiry):
        return self._call("incr", key, expiry)

    def clear(self, key):
        return self._call("clear", key)

    def reset(self):
        self.memory.reset()
        return self._call("reset")


def _tiers(scope: str) -> list[tuple[int, int]]:
    """(failures allowed, window in seconds) for each tier of the scope."""
    return [(item.amount, item.get_expiry())
            for item in parse_many(current_app.config[SCOPES[scope]])]


def _account(email: str) -> str:
    """The account in counter keys: a digest, so that no e-mail address sits in Redis."""
    return hashlib.sha256(email.encode()).hexdigest()[:32]


def _generation(email: str) -> int:
    return _storage().get(f"login-generation/{_account(email)}")


def _identity(scope: str, email: str, address: str) -> str:
    if scope == "address":
        return address
    account = f"{_account(email)}/{_generation(email)}"
    return account if scope == "account" else f"{account}/{address}"


def _key(scope: str, identity: str, window: int, now: float) -> str:
    return f"login-{scope}/{window}/{int(now // window)}/{identity}"


def _scopes(trusted: bool) -> tuple[str, ...]:
    return ("pair",) if trusted else ("pair", "account", "address")


def wait_seconds(email: str, address: str, *, trusted: bool = False) -> int:
    """0 when an attempt may be checked now, else how many seconds until it may."""
    now = time.time()
    storage, wait = _storage(), 0.0
    for scope in _scopes(trusted):
        identity = _identity(scope, email, address)
        for allowed, window in _tiers(scope):
            if storage.get(_key(scope, identity, window, now)) >= allowed:
                wait = max(wait, (now // window + 1) * window - now)
    return math.ceil(wait)


def record_failure(email: str, address: str) -> None:
    """Count a failure in every scope (a known browser's too: it stops being exempt from
    nothing but the shared scopes, which keep counting what every attempt did)."""
    now = time.time()
    storage = _storage()
    for scope in SCOPES:
        identity = _identity(scope, email, address)
        for _allowed, window in _tiers(scope):
            storage.incr(_key(scope, identity, window, now), window)


def clear_pair(email: str, address: str) -> None:
    """A successful sign-in forgives this address's failures on the account (not others')."""
    _clear(("pair",), email, address)


def clear_unlocked(email: str, address: str) -> None:
    """The unlock link: the account's and this address's counts on it start again."""
    _clear(("pair", "account"), email, address)


def _clear(scopes, email: str, address: str) -> None:
    now = time.time()
    storage = _storage()
    for scope in scopes:
        identity = _identity(scope, email, address)
        for _allowed, window in _tiers(scope):
            storage.clear(_key(scope, identity, window, now))


def clear_account(email: str) -> None:
    """An administrator's "clear sign-in blocks": every count of the account, from every
    address, starts again (its keys move to a new generation; the old ones expire)."""
    _storage().incr(f"login-generation/{_account(email)}", GENERATION_SECONDS)


def failures_now(email: str) -> int:
    """The account's failures in its shortest account-wide window (for the admin page)."""
    now = time.time()
    tiers = _tiers("account")
    if not tiers:
        return 0
    allowed, window = min(tiers, key=lambda tier: tier[1])
    return _storage().get(_key("account", _identity("account", email, ""), window, now))
