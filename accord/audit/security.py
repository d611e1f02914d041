"""The security log and the sign-in throttle.

Every sign-in and failed sign-in, refusal, export, ownership change and permission change
is a :class:`~accord.audit.models.SecurityEvent` (and a line on the ``accord.security``
logger for the operator's log collector). The throttle counts recent failures in the same
table, per user name and per client address, so it holds across processes and restarts
and needs no cache server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from accord.audit.models import SecurityEvent, SecurityEventKind
from accord.core import context
from accord.core.middleware import client_ip

logger = logging.getLogger("accord.security")


@dataclass(frozen=True)
class ThrottlePolicy:
    window: timedelta
    per_username: int  # failures of one user name within the window
    per_client: int  # failures from one address within the window (any names)


def throttle_policy() -> ThrottlePolicy:
    return ThrottlePolicy(
        window=timedelta(seconds=settings.ACCORD_LOGIN_THROTTLE_WINDOW),
        per_username=settings.ACCORD_LOGIN_THROTTLE_PER_USERNAME,
        per_client=settings.ACCORD_LOGIN_THROTTLE_PER_CLIENT,
    )


def security_event(
    kind: SecurityEventKind,
    *,
    request: HttpRequest | None = None,
    actor: Any = None,
    username: str = "",
    **detail: Any,
) -> SecurityEvent:
    """Write one entry of the security log; who and where come from the request context."""
    ctx = context.current()
    if actor is None and ctx.actor is not None:
        actor = ctx.actor
    user_agent = ""
    ip = ctx.ip
    if request is not None:
        user_agent = str(request.headers.get("User-Agent", ""))[:255]
        ip = client_ip(request)
    event = SecurityEvent.objects.create(
        occurred_at=timezone.now(),
        kind=kind,
        actor_id=getattr(actor, "pk", None),
        username=(username or getattr(actor, "username", ""))[:150],
        ip=ip[:64],
        user_agent=user_agent,
        source=ctx.source,
        request_id=ctx.request_id,
        detail=detail,
    )
    logger.info(
        "%s user=%s ip=%s %s", kind, event.username, event.ip, detail, extra={"kind": str(kind)}
    )
    return event


def login_throttled(*, username: str, ip: str) -> bool:
    """Has this user name, or this address, failed to sign in too often lately?"""
    policy = throttle_policy()
    since = timezone.now() - policy.window
    failures = SecurityEvent.objects.filter(
        kind=SecurityEventKind.LOGIN_FAILED, occurred_at__gte=since
    )
    if username and (
        failures.filter(username=username[:150])[: policy.per_username].count()
        >= policy.per_username
    ):
        return True
    return bool(ip) and (
        failures.filter(ip=ip[:64])[: policy.per_client].count() >= policy.per_client
    )
