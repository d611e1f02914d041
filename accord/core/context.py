"""Who is acting, from where: carried with the request into services and the audit trail.

The request middleware and the API auth set it; management commands, imports and
background jobs set it with :func:`acting_as`. Services read it only for the audit trail;
permission checks take the actor explicitly.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accord.org.models import User


class Source(StrEnum):
    WEB = "web"
    API = "api"
    IMPORT = "import"
    SYSTEM = "system"
    INTEGRATION = "integration"


@dataclass(frozen=True)
class ExecutionContext:
    actor: User | None = None
    source: Source = Source.SYSTEM
    request_id: str = ""
    ip: str = ""


_current: ContextVar[ExecutionContext] = ContextVar("accord_context", default=ExecutionContext())  # noqa: B039 - frozen dataclass


def current() -> ExecutionContext:
    return _current.get()


@contextlib.contextmanager
def acting_as(
    actor: User | None = None,
    source: Source = Source.SYSTEM,
    *,
    request_id: str | None = None,
    ip: str = "",
) -> Iterator[ExecutionContext]:
    ctx = ExecutionContext(
        actor=actor, source=source, request_id=request_id or uuid.uuid4().hex, ip=ip
    )
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def update(**changes: object) -> None:
    """Refine the current context (e.g. once API auth has identified the user)."""
    _current.set(replace(_current.get(), **changes))  # type: ignore[arg-type]
