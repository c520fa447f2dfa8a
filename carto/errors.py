"""Domain errors: raised by services, turned into the one API error shape by api/errors.py."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the action; `code` is machine-readable, `status` the HTTP hint."""

    status = 400

    def __init__(self, code: str, message: str, *, fields: dict | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}
        if status is not None:
            self.status = status


class InvalidInput(DomainError):
    """The input is well-formed but breaks a domain rule (outside the Métropole, unknown theme…)."""

    status = 400


class Conflict(DomainError):
    """The action conflicts with what is stored (idempotency key reused with another body…)."""

    status = 422


class NotAllowed(DomainError):
    """The actor may not do this."""

    status = 403
