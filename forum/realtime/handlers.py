"""What every Socket.IO event shares: the acting person, the acknowledgement, the errors.

A socket's session is a snapshot taken at connect, so each event loads the person again by
the id saved at connect and compares their alternative id: signing out (anywhere), a password
change or a deactivation rotates it, and the next event of an old socket ends it. Each event
is answered `{"ok": true, ...}` or `{"ok": false, "error": "<code>", "message": "<text>"}`;
nothing a client sends raises out of a handler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache, wraps
from time import monotonic

from flask import request
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, bindparam, cast, func

from forum import observability
from forum.accounts.models import User
from forum.errors import InvalidInput, NotFound, PermissionDenied, Refused, denial_reason
from forum.extensions import db
from forum.groups.models import Membership
from forum.groups.policy import remember_roles
from forum.realtime.server import ack_error, state
from forum.text import unstorable

log = logging.getLogger(__name__)
security_log = logging.getLogger("forum.security")


@lru_cache(maxsize=1)
def _actor_statement():
    # Built once: composing it costs about as much as running it.
    roles = (db.select(func.aggregate_strings(
        cast(Membership.group_id, String) + ":" + Membership.role, ","))
        .where(Membership.user_id == User.id).scalar_subquery())
    return db.select(User, roles).where(User.id == bindparam("user_id"))


def load_actor(saved: tuple[int, str] | None) -> User | None:
    """The person behind a socket, as the database says now (None: session over), with their
    memberships for the event's permission checks, in one query.
    `saved` is (user id, alternative id at connect time) from the namespace's store."""
    if saved is None:
        return None
    user_id, alternative_id = saved
    observability.set_log_user(user_id)
    row = db.session.execute(_actor_statement(), {"user_id": user_id}).first()
    if row is None:
        return None
    user, memberships = row
    if not user.active or user.alternative_id != alternative_id:
        return None
    remember_roles(user, {int(group_id): role for group_id, role in (
        item.split(":", 1) for item in (memberships or "").split(",") if item)})
    return user


def end_session(namespace: str) -> dict:
    """Tell this socket its session is over, cut it off, and say so in the acknowledgement."""
    server = state().server
    server.emit("session_ended", {"reason": "signed_out"}, to=request.sid, namespace=namespace)
    server.disconnect(request.sid, namespace=namespace)
    return ack_error("session_ended", _l("Your session has ended. Sign in again."))


def _log_denial(actor, namespace: str, event: str, error: BaseException) -> None:
    """A refused socket event in the security log, as forum.web.log_denial logs pages."""
    security_log.warning("denied actor=%s target=%s %s reason=%s",
                         actor.id if actor is not None else "anonymous", namespace, event,
                         denial_reason(error))


def _holds_unstorable(value, depth: int = 0) -> bool:
    """NUL or a lone surrogate anywhere in an event's data (a JSON "\\ud800" decodes to one)."""
    if isinstance(value, str):
        return unstorable(value)
    if depth > 4:
        return False
    if isinstance(value, dict):
        return any(_holds_unstorable(k, depth + 1) or _holds_unstorable(v, depth + 1)
                   for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_unstorable(v, depth + 1) for v in value)
    return False


def unknown_event(event, *args) -> dict:
    """Every event gets an answer (README, "Protocol"): one no handler knows, this one."""
    if not spend_event(request.sid):
        return ack_error("rate_limited", _l("Too many events at once. Wait a moment."))
    return ack_error("unknown_event", _l("This connection does not know the event %(event)s.",
                                         event=str(event)[:64]))


def not_found() -> dict:
    return ack_error("not_found", _l("There is nothing here, or you do not have access to it."))


def bad_request(field: str, message) -> Refused:
    return Refused("bad_request", message, field=field)


# --- a budget of events per socket ---------------------------------------------------------

# Each socket may send EVENT_BURST events at once and EVENT_RATE a second after that; beyond
# it an event is answered "rate_limited" without touching the database, and a socket refused
# more than EVENT_CUTOFF times (no client of ours ever is) is disconnected. One client's flood
# of `join`s (10,000 delayed everybody by seconds, issue 18) then costs next to nothing.
EVENT_RATE = 20.0
EVENT_BURST = 60.0
EVENT_CUTOFF = 200
_budgets: dict[str, list[float]] = {}  # sid → [tokens, last time, refusals so far]
_BUDGETS_KEPT = 100_000  # forget the oldest when this many sockets have been seen


def spend_event(sid: str, now: float | None = None) -> bool:
    """Take one event from the socket's budget; False when it has none left."""
    now = monotonic() if now is None else now
    budget = _budgets.get(sid)
    if budget is None:
        if len(_budgets) >= _BUDGETS_KEPT:
            _budgets.pop(next(iter(_budgets)))
        budget = _budgets[sid] = [EVENT_BURST, now, 0]
    budget[0] = min(EVENT_BURST, budget[0] + (now - budget[1]) * EVENT_RATE)
    budget[1] = now
    if budget[0] < 1:
        budget[2] += 1
        return False
    budget[0] -= 1
    return True


def refusals(sid: str) -> int:
    budget = _budgets.get(sid)
    return int(budget[2]) if budget else 0


def forget_socket(sid: str) -> None:
    """At disconnect: the socket's budget goes."""
    _budgets.pop(sid, None)


def _over_budget(namespace: str) -> dict:
    sid = request.sid
    if refusals(sid) > EVENT_CUTOFF:
        log.warning("%s socket %s disconnected: it kept sending past its event budget",
                    namespace, sid)
        state().server.disconnect(sid, namespace=namespace)
    return ack_error("rate_limited", _l("Too many events at once. Wait a moment."))


def socket_event(namespace: str, who: Callable[[str], tuple[int, str] | None]):
    """Wrap `fn(actor, data) -> ack` with the checks every event gets.

    `who(sid)` returns what the namespace saved at connect. A service's NotFound becomes
    `not_found`, PermissionDenied `forbidden`, Refused its own code, InvalidInput `invalid`,
    anything else `server_error` (logged); the transaction is always ended, since a socket
    event has no request teardown of its own.
    """

    def decorate(fn):
        @wraps(fn)
        def handler(*args):
            if not spend_event(request.sid):
                return _over_budget(namespace)
            actor = None
            try:
                actor = load_actor(who(request.sid))
                if actor is None:
                    return end_session(namespace)
                data = args[0] if args else None
                if not isinstance(data, dict):
                    raise bad_request("", _l("Send an object with the fields of this event."))
                if _holds_unstorable(data):
                    raise bad_request("", _l("The text contains a character that cannot be "
                                             "stored (a NUL byte or a broken character)."))
                return fn(actor, data)
            except Refused as error:
                return error.ack()
            except NotFound as error:
                _log_denial(actor, namespace, fn.__name__, error)
                return not_found()
            except PermissionDenied as error:
                _log_denial(actor, namespace, fn.__name__, error)
                return ack_error("forbidden", _l("You are not allowed to do this."))
            except InvalidInput as error:
                return ack_error("invalid", " ".join(str(m) for m in error.errors.values()))
            except Exception:
                log.exception("%s event %s failed", namespace, fn.__name__)
                return ack_error("server_error", _l("Something went wrong. Try again."))
            finally:
                db.session.rollback()

        return handler

    return decorate
