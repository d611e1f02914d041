from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from accord.core import context
from accord.core.context import Source

REQUEST_ID_HEADER = "X-Request-ID"


def client_ip(request: HttpRequest) -> str:
    """The peer address; X-Forwarded-For is not trusted (it is trivially spoofed)."""
    return str(request.META.get("REMOTE_ADDR", ""))


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
