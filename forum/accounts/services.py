"""Accounts and organisations: sign-in, passwords, profiles, administration of users."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import zoneinfo
from functools import cache

from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template
from flask_babel import force_locale, lazy_ngettext
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from forum.accounts import throttle
from forum.accounts.models import Organisation, OrganisationKind, User, new_alternative_id
from forum.audit.services import record_audit
from forum.config import LOCALES
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.groups.policy import can_administer
from forum.i18n import sorted_by_name
from forum.notifications.outbox import ACCOUNT_KIND, deliver_after_commit, queue_email
from forum.observability.addresses import log_address
from forum.realtime.server import disconnect_after_commit
from forum.text import name_problem
from forum.timeutil import utcnow

security_log = logging.getLogger("forum.security")

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
# zxcvbn: 3 = "safely unguessable"; refuses common, breached-style and patterned passwords.
MIN_PASSWORD_SCORE = 3


def too_long(limit: int):
    return lazy_ngettext("Use at most %(num)d character.", "Use at most %(num)d characters.",
                         limit)


def _too_short(limit: int):
    return lazy_ngettext("Use at least %(num)d character.", "Use at least %(num)d characters.",
                         limit)


class TooManyAttempts(Exception):
    """Too many failed sign-ins here for this account; `seconds` until the next try."""

    def __init__(self, seconds: int = 0):
        super().__init__(seconds)
        self.seconds = seconds


# --- validation ------------------------------------------------------------------------------


def normalise_email(raw: str, field: str = "email") -> str:
    try:
        checked = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError:
        raise InvalidInput({field: _l("Enter a valid e-mail address.")}) from None
    return checked.normalized.lower()


def check_password(password: str, *, hints: tuple[str, ...] = (), field="password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput({field: _too_short(MIN_PASSWORD_LENGTH)})
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput({field: too_long(MAX_PASSWORD_LENGTH)})
    words = [part for hint in hints if hint for part in hint.lower().replace("@", " ").split()]
    if zxcvbn(password[:100], user_inputs=words)["score"] < MIN_PASSWORD_SCORE:
        raise InvalidInput(
            {
                field: _l(
                    "This password is too easy to guess: it is common, was seen in breaches or "
                    "follows a simple pattern. Try a phrase of several unrelated words."
                )
            }
        )


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["FORUM_PASSWORD_HASH_METHOD"])


@cache
def time_zone_names() -> tuple[str, ...]:
    return tuple(
        sorted(
            name
            for name in zoneinfo.available_timezones()
            if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))
        )
    )


def name_error(name: str):
    """The message for a name that cannot be used (forum.text.name_problem), or None."""
    problem = name_problem(name)
    if problem == "unstorable":
        return _l("The name contains a character that cannot be stored.")
    if problem == "direction":
        return _l("A name cannot contain characters that change the direction of the text.")
    if problem == "invisible":
        return _l("A name needs letters you can see.")
    return None


def check_profile_fields(name: str, position: str, locale: str, time_zone: str) -> dict:
    errors = {}
    if not name.strip():
        errors["name"] = _l("Enter your name.")
    elif len(name) > 120:
        errors["name"] = too_long(120)
    elif name_error(name):
        errors["name"] = name_error(name)
    if len(position) > 120:
        errors["position"] = too_long(120)
    if locale and locale not in LOCALES:
        errors["locale"] = _l("Choose a language from the list.")
    if time_zone and time_zone not in time_zone_names():
        errors["time_zone"] = _l("Choose a time zone from the list.")
    return errors


def organisation_or_error(organisation_id: int | None, errors: dict) -> Organisation | None:
    if not organisation_id:
        return None
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        errors["organisation_id"] = _l("Choose an organisation from the list.")
    return organisation


# --- sign-in ---------------------------------------------------------------------------------

# Compared against when the e-mail is unknown, so both answers take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(db.select(User).where(User.email == email.strip().lower()))


def authenticate(email: str, password: str, address: str,
                 known_ids: frozenset[int] = frozenset()) -> User:
    """The user for these credentials, or InvalidInput/TooManyAttempts. Logs without secrets.

    `known_ids`: the accounts this browser has signed in to before (forum.accounts.login):
    for them only the account-and-address count applies (forum.accounts.throttle)."""
    key = (email or "").strip().lower()[:254]
    user = find_user_by_email(key) if key else None
    wait = throttle.wait_seconds(key, address,
                                 trusted=user is not None and user.id in known_ids)
    if wait:
        security_log.warning("sign-in refused (rate limit) user_id=%s address=%s wait=%ss",
                             user.id if user else "unknown", log_address(address), wait)
        raise TooManyAttempts(wait)
    valid = check_password_hash(user.password_hash if user and user.password_hash else _DUMMY_HASH,
                                password or "")
    if user is None or not user.password_hash or not valid:  # no password yet: none matches
        throttle.record_failure(key, address)
        security_log.warning(
            "sign-in refused (bad credentials) user_id=%s address=%s",
            user.id if user else "unknown", log_address(address),
        )
        raise InvalidInput({"": _l("Wrong e-mail address or password.")})
    if not user.active:
        security_log.warning("sign-in refused (deactivated) user_id=%s address=%s",
                             user.id, log_address(address))
        raise InvalidInput(
            {"": _l("This account has been deactivated. Contact the forum administrator.")}
        )
    throttle.clear_pair(key, address)
    security_log.info("sign-in user_id=%s address=%s", user.id, log_address(address))
    return user


# --- unlocking sign-in by e-mail, and administrators clearing the counts ----------------------


def _unlock_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="sign-in-unlock")


def request_unlock(email: str, address: str) -> None:
    """Mail the account a link that lets its owner sign in again from the browser that opens
    it (no captcha). The same answer, known address or not, as for a password reset."""
    key = normalise_email(email)
    user = find_user_by_email(key)
    if user is None or not user.active:
        security_log.info("sign-in unlock for unknown or inactive account address=%s",
                          log_address(address))
        return
    token = _unlock_serializer().dumps({"u": user.id, "a": user.alternative_id})
    url = f"{current_app.config['FORUM_BASE_URL']}/login/unlock/{token}"
    minutes = current_app.config["FORUM_PASSWORD_RESET_SECONDS"] // 60
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = str(_l("Sign in again to %(site)s",
                         site=current_app.config["FORUM_SITE_NAME"]))
        body = render_template("email/sign_in_unlock.txt", user=user, url=url, minutes=minutes)
    security_log.info("sign-in unlock requested user_id=%s address=%s", user.id,
                      log_address(address))
    outbox_id = queue_email(ACCOUNT_KIND, user, subject, body,
                            dedupe_key=f"sign-in-unlock:{user.id}:{secrets.token_hex(8)}")
    deliver_after_commit(outbox_id)
    db.session.commit()


def unlock_sign_in(token: str, address: str) -> User:
    """The owner opened the unlock link: the account's counts and this address's count on it
    start again. InvalidInput for a link that is expired, altered or already out of date (the
    person signed out everywhere or changed the password since: its alternative id moved)."""
    try:
        data = _unlock_serializer().loads(
            token, max_age=current_app.config["FORUM_PASSWORD_RESET_SECONDS"])
    except SignatureExpired:
        raise InvalidInput({"": _l("This link has expired. Ask for a new one.")}) from None
    except BadSignature:
        raise InvalidInput({"": _l("This link is not valid. Ask for a new one.")}) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or user.alternative_id != data.get("a"):
        raise InvalidInput({"": _l("This link is not valid. Ask for a new one.")})
    throttle.clear_unlocked(user.email, address)
    security_log.info("sign-in unlocked by e-mail link user_id=%s address=%s", user.id,
                      log_address(address))
    return user


def recent_failed_sign_ins(user: User) -> int:
    """Failed sign-ins of the account in the shortest account-wide window (admin page)."""
    return throttle.failures_now(user.email)


def clear_sign_in_blocks(actor: User | None, user: User) -> None:
    """An administrator clears every failed sign-in count of the account (every address)."""
    if actor is not None and not can_administer(actor):
        raise PermissionDenied()
    throttle.clear_account(user.email)
    record_audit(actor, "user.sign_in_unblock", target=user.email, subject=user)
    db.session.commit()


def end_all_sessions(user: User) -> None:
    """Sign the user out everywhere: every session and remember cookie stops working."""
    user.alternative_id = new_alternative_id()
    disconnect_after_commit(user.id, "signed_out")  # and every open chat socket
    db.session.commit()


def touch_last_seen(user: User, every_seconds: int = 300) -> None:
    now = utcnow()
    if user.last_seen_at is None or (now - user.last_seen_at).total_seconds() > every_seconds:
        user.last_seen_at = now
        db.session.commit()


# --- passwords -------------------------------------------------------------------------------


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def _password_fingerprint(user: User) -> str:
    # Part of the token: once the password changes, older reset links stop working.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_reset_token(user: User, purpose: str = "reset") -> str:
    """A signed link token; "setup" tokens (new accounts) live as long as invitations."""
    return _reset_serializer().dumps({"u": user.id, "p": _password_fingerprint(user),
                                      "k": purpose})


def _token_lifetime(purpose: str) -> int:
    if purpose == "setup":
        return current_app.config["FORUM_INVITATION_DAYS"] * 86400
    return current_app.config["FORUM_PASSWORD_RESET_SECONDS"]


def request_password_reset(email: str, address: str) -> None:
    """Queue a reset link for the account if it exists (sent at once after the commit, in the
    background; retried by the mail worker when that fails). The caller answers the same
    either way, and nothing here depends on the SMTP server."""
    key = normalise_email(email)
    user = find_user_by_email(key)
    if user is None or not user.active:
        security_log.info("password reset for unknown or inactive account address=%s",
                          log_address(address))
        return
    token = make_reset_token(user)
    url = f"{current_app.config['FORUM_BASE_URL']}/password/reset/{token}"
    minutes = current_app.config["FORUM_PASSWORD_RESET_SECONDS"] // 60
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = str(_l("Reset your password"))
        body = render_template("email/password_reset.txt", user=user, url=url, minutes=minutes)
    security_log.info("password reset requested user_id=%s address=%s", user.id,
                      log_address(address))
    # Every request is a new e-mail (the form's rate limit bounds them); the key holds no token.
    outbox_id = queue_email(ACCOUNT_KIND, user, subject, body,
                            dedupe_key=f"password-reset:{user.id}:{secrets.token_hex(8)}")
    deliver_after_commit(outbox_id)
    db.session.commit()


def user_for_reset_token(token: str) -> User:
    expired = InvalidInput({"": _l("This link has expired. Ask for a new one.")})
    longest = max(_token_lifetime("setup"), _token_lifetime("reset"))
    try:
        data, signed_at = _reset_serializer().loads(token, max_age=longest,
                                                    return_timestamp=True)
    except SignatureExpired:
        raise expired from None
    except BadSignature:
        raise InvalidInput({"": _l("This link is not valid. Ask for a new one.")}) from None
    if (utcnow() - signed_at).total_seconds() > _token_lifetime(data.get("k", "reset")):
        raise expired
    user = db.session.get(User, data.get("u"))
    if user is None or not user.active or not hmac.compare_digest(
        data.get("p", ""), _password_fingerprint(user)
    ):
        raise InvalidInput({"": _l("This link has already been used. Ask for a new one.")})
    return user


def reset_password(token: str, new_password: str) -> User:
    user = user_for_reset_token(token)
    check_password(new_password, hints=(user.email, user.name))
    user.password_hash = hash_password(new_password)
    user.alternative_id = new_alternative_id()
    disconnect_after_commit(user.id, "signed_out")
    db.session.commit()
    security_log.info("password reset done user_id=%s", user.id)
    return user


def change_password(actor: User, current: str, new: str) -> None:
    if not check_password_hash(actor.password_hash, current or ""):
        raise InvalidInput({"current_password": _l("This is not your current password.")})
    if current == new:
        raise InvalidInput(
            {"new_password": _l("Choose a password different from the current one.")})
    check_password(new, hints=(actor.email, actor.name), field="new_password")
    actor.password_hash = hash_password(new)
    actor.alternative_id = new_alternative_id()
    disconnect_after_commit(actor.id, "signed_out")
    db.session.commit()
    security_log.info("password changed user_id=%s", actor.id)


# --- profiles --------------------------------------------------------------------------------


def update_profile(actor: User, user: User, *, name: str, organisation_id: int | None,
                   position: str, locale: str, time_zone: str) -> User:
    if actor.id != user.id and not can_administer(actor):
        raise NotFound()
    errors = check_profile_fields(name, position, locale, time_zone)
    organisation = organisation_or_error(organisation_id, errors)
    if errors:
        raise InvalidInput(errors)
    user.name = name.strip()
    user.organisation = organisation
    user.position = position.strip()
    user.locale = locale
    user.time_zone = time_zone
    db.session.commit()
    return user


# --- administration of accounts --------------------------------------------------------------


def create_user(actor: User | None, *, email: str, name: str, password: str | None = None,
                organisation_id: int | None = None, position: str = "", locale: str = "",
                time_zone: str = "", is_admin: bool = False, check_strength: bool = True) -> User:
    """Create an account. `actor` None means the operator's command line."""
    if actor is not None and not can_administer(actor):
        raise PermissionDenied()
    errors = check_profile_fields(name, position, locale, time_zone)
    try:
        email = normalise_email(email)
    except InvalidInput as exc:
        errors.update(exc.errors)
    else:
        if find_user_by_email(email):
            errors["email"] = _l("An account with this e-mail address already exists.")
    organisation = organisation_or_error(organisation_id, errors)
    if password is not None and check_strength and "password" not in errors:
        try:
            check_password(password, hints=(email, name))
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    user = User(
        email=email, name=name.strip(), organisation=organisation, position=position.strip(),
        locale=locale, time_zone=time_zone, is_admin=is_admin,
        password_hash=hash_password(password) if password else "",
    )
    db.session.add(user)
    db.session.flush()
    record_audit(actor, "user.create", target=email, details={"admin": is_admin}, subject=user)
    if not password:
        _mail_account_setup(user)
    db.session.commit()
    return user


def _mail_account_setup(user: User) -> None:
    """Queue a "choose your password" link for an account created without one (in the
    caller's transaction; sent at once after its commit)."""
    token = make_reset_token(user, purpose="setup")
    url = f"{current_app.config['FORUM_BASE_URL']}/password/reset/{token}"
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = str(_l("Your account on %(site)s", site=current_app.config["FORUM_SITE_NAME"]))
        body = render_template("email/account_setup.txt", user=user, url=url,
                               days=current_app.config["FORUM_INVITATION_DAYS"])
    outbox_id = queue_email(ACCOUNT_KIND, user, subject, body,
                            dedupe_key=f"account-setup:{user.id}")
    deliver_after_commit(outbox_id)


def set_user_active(actor: User | None, user: User, active: bool) -> None:
    if actor is not None and not can_administer(actor):
        raise PermissionDenied()
    if actor is not None and actor.id == user.id and not active:
        raise InvalidInput({"": _l("You cannot deactivate your own account.")})
    if user.anonymised_at is not None:  # forum.privacy.erasure: an empty shell stays so
        raise InvalidInput({"": _l("This account has been erased: it cannot be changed.")})
    user.active = active
    if not active:
        user.alternative_id = new_alternative_id()  # ends every session at once
        disconnect_after_commit(user.id, "signed_out")
    record_audit(actor, "user.activate" if active else "user.deactivate", target=user.email,
                 subject=user)
    db.session.commit()


def set_user_admin(actor: User | None, user: User, admin: bool) -> None:
    if actor is not None and not can_administer(actor):
        raise PermissionDenied()
    if actor is not None and actor.id == user.id and not admin:
        raise InvalidInput({"": _l("You cannot remove your own administrator rights.")})
    if user.anonymised_at is not None:
        raise InvalidInput({"": _l("This account has been erased: it cannot be changed.")})
    user.is_admin = admin
    record_audit(actor, "user.admin" if admin else "user.unadmin", target=user.email,
                 subject=user)
    db.session.commit()


def get_user_for_admin(actor: User, user_id: int) -> User:
    if not can_administer(actor):
        raise NotFound()
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    return user


def list_users(actor: User, query: str = "", *, after_id: int | None = None, limit: int = 50):
    """Accounts ordered by id, keyset-paginated; `query` matches name or e-mail."""
    if not can_administer(actor):
        raise NotFound()
    statement = db.select(User).order_by(User.id).limit(limit + 1)
    if query:
        pattern = f"%{query.strip().lower()}%"
        statement = statement.where(
            (func.lower(User.name).like(pattern)) | (User.email.like(pattern))
        )
    if after_id:
        statement = statement.where(User.id > after_id)
    users = list(db.session.scalars(statement))
    return users[:limit], (users[limit - 1].id if len(users) > limit else None)


# --- organisations ---------------------------------------------------------------------------

ORGANISATION_KINDS = {
    OrganisationKind.RURAL_COMMUNE: _l("rural commune"),
    OrganisationKind.URBAN_RURAL_COMMUNE: _l("urban-rural commune"),
    OrganisationKind.CITY: _l("city"),
    OrganisationKind.COUNTY: _l("county"),
    OrganisationKind.SCHOOL: _l("school"),
    OrganisationKind.PARTNER: _l("partner institution"),
}


def list_organisations() -> list[Organisation]:
    return sorted_by_name(db.session.scalars(db.select(Organisation)
                                             .order_by(Organisation.name)))


def _check_organisation(name: str, kind: str, region: str, existing_id: int | None) -> None:
    errors = {}
    if not name.strip():
        errors["name"] = _l("Enter a name.")
    elif len(name) > 200:
        errors["name"] = too_long(200)
    elif name_error(name):
        errors["name"] = name_error(name)
    else:
        clash = db.session.scalar(
            db.select(Organisation).where(func.lower(Organisation.name) == name.strip().lower())
        )
        if clash is not None and clash.id != existing_id:
            errors["name"] = _l("An organisation with this name already exists.")
    if kind not in ORGANISATION_KINDS:
        errors["kind"] = _l("Choose a kind from the list.")
    if len(region) > 120:
        errors["region"] = too_long(120)
    if errors:
        raise InvalidInput(errors)


def create_organisation(actor: User | None, *, name: str, kind: str,
                        region: str = "") -> Organisation:
    if actor is not None and not can_administer(actor):
        raise PermissionDenied()
    _check_organisation(name, kind, region, None)
    organisation = Organisation(name=name.strip(), kind=kind, region=region.strip())
    db.session.add(organisation)
    record_audit(actor, "organisation.create", target=organisation.name, subject=organisation)
    db.session.commit()
    return organisation


def update_organisation(actor: User, organisation: Organisation, *, name: str, kind: str,
                        region: str = "") -> Organisation:
    if not can_administer(actor):
        raise PermissionDenied()
    _check_organisation(name, kind, region, organisation.id)
    organisation.name, organisation.kind, organisation.region = name.strip(), kind, region.strip()
    record_audit(actor, "organisation.update", target=organisation.name, subject=organisation)
    db.session.commit()
    return organisation


def get_organisation_for_admin(actor: User, organisation_id: int) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id) if can_administer(actor) else None
    if organisation is None:
        raise NotFound()
    return organisation
