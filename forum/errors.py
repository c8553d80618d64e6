"""Domain errors raised by services; each entry point translates them its own way."""

from __future__ import annotations


class ForumError(Exception):
    """Base class of the errors a service may raise."""


class NotFound(ForumError):
    """Missing, or not visible to the actor: the two are never told apart."""


class PermissionDenied(ForumError):
    """The actor can see the thing but may not do this to it."""


class InvalidInput(ForumError):
    """Input that breaks a rule: `errors` maps a form field (or "" for the form) to a message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class Refused(InvalidInput):
    """A refused action with a machine-readable code, for socket acknowledgements
    (`{"ok": false, "error": code, "message": ...}` plus any `extra` fields)."""

    def __init__(self, code: str, message, field: str = "", **extra):
        super().__init__({field: message})
        self.code = code
        self.message = message
        self.extra = extra

    def ack(self) -> dict:
        return {"ok": False, "error": self.code, "message": str(self.message), **self.extra}


def denial_reason(error: BaseException) -> str:
    """Why something was refused, for the security log: the kind of refusal, where it was
    decided (the innermost function of the forum in the traceback, e.g.
    forum.groups.services.get_group_for) and the error's own words when it has any."""
    kind = "not_found_or_hidden" if isinstance(error, NotFound) or getattr(
        error, "code", None) == 404 else "not_allowed"
    where = "?"
    traceback = error.__traceback__
    while traceback is not None:
        module = traceback.tb_frame.f_globals.get("__name__", "")
        if module.startswith("forum."):
            where = f"{module}.{traceback.tb_frame.f_code.co_name}"
        traceback = traceback.tb_next
    words = str(error) if isinstance(error, ForumError) else ""
    return f"{kind} at {where}" + (f": {words}" if words else "")
