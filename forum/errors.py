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
