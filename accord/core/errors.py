"""Domain errors raised by services, mapped to RFC 9457 problem+json by the API.

Services raise these; views turn them into field messages, the API into
``application/problem+json`` with a stable ``code``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError


class DomainError(Exception):
    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        errors: Mapping[str, Iterable[str]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.title
        # Extension members of the problem document (RFC 9457 §3.2), e.g. "candidates".
        self.extra: dict[str, Any] = dict(extra or {})
        if code:
            self.code = code
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in (errors or {}).items()}
        super().__init__(self.detail)


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"
    title = "Some fields are invalid"

    @classmethod
    def from_django(cls, exc: DjangoValidationError) -> ValidationFailed:
        if hasattr(exc, "error_dict"):
            errors = {
                ("__all__" if field == "__all__" else field): [
                    str(msg) for err in errs for msg in err.messages
                ]
                for field, errs in exc.error_dict.items()
            }
        else:
            errors = {"__all__": [str(m) for m in exc.messages]}
        return cls(errors=errors)


class MissingRequiredFields(ValidationFailed):
    code = "required_fields_missing"
    title = "Required fields are missing"


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"
    title = "You may not do this"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"
