from __future__ import annotations

import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from accord.core import context
from accord.core.context import Source

REQUEST_ID_HEADER = "X-Request-ID"


def client_ip(request: HttpRequest) -> str:
    """The client's address.

    Behind ``ACCORD_TRUSTED_PROXIES`` reverse proxies, the address the nearest trusted
    proxy saw: the entry that many places from the right of X-Forwarded-For. Entries a
    client writes itself are further left, so a spoofed header cannot choose the address.
    Without trusted proxies the header is ignored: the peer address is the client.
    """
    peer = str(request.META.get("REMOTE_ADDR", ""))
    hops = settings.ACCORD_TRUSTED_PROXIES
    if hops <= 0:
        return peer
    forwarded = [p.strip() for p in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    forwarded = [p for p in forwarded if p]
    return forwarded[-hops] if len(forwarded) >= hops else peer


class RequestContextMiddleware:
    """Give every request an id and an execution context (source web or api)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else ""
        request_id = request_id or uuid.uuid4().hex
        source = Source.API if request.path.startswith("/api/") else Source.WEB
        with context.acting_as(None, source, request_id=request_id, ip=client_ip(request)):
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class ActorContextMiddleware:
    """Once the session is read, record the signed-in user as the actor."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            context.update(actor=user)
        return self.get_response(request)
