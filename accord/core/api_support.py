"""Shared pieces of the REST API: authentication, problem+json errors, schema helpers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth
from pydantic import AfterValidator, ConfigDict, Field, field_validator

from accord.core import context
from accord.core.context import Source
from accord.core.errors import DomainError, NotFound, PermissionDenied
from accord.org.models import User
from accord.org.services import api_token_authenticate

PROBLEM_CONTENT_TYPE = "application/problem+json"


class Problem(Schema):
    """RFC 9457 problem details, with a stable machine-readable ``code``."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: dict[str, list[str]] = Field(default_factory=dict)
    request_id: str = ""


MIN_YEAR, MAX_YEAR = 1900, 2999


def _sane_date(value: dt.date) -> dt.date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"Dates must fall between the years {MIN_YEAR} and {MAX_YEAR}.")
    return value


def _aware_utc(value: dt.datetime) -> dt.datetime:
    """Naive input is local time (the configured zone); everything is stored in UTC."""
    from django.utils import timezone

    _sane_date(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value.astimezone(dt.UTC)


ApiDate = Annotated[dt.date, AfterValidator(_sane_date)]
ApiDateTime = Annotated[dt.datetime, AfterValidator(_aware_utc)]


class QuerySchema(Schema):
    """Query parameters. Text may not contain NUL, which no database stores."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("Text may not contain NUL characters.")
        return value


class InputSchema(QuerySchema):
    """Request bodies: unknown or read-only fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


def read_only(**kwargs: Any) -> Any:
    return Field(json_schema_extra={"readOnly": True}, **kwargs)


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
            context.update(actor=user, source=Source.API)
        return user


class ActiveSessionAuth(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None and not getattr(user, "is_active", False):
            return None
        return user


def actor(request: HttpRequest) -> User:
    auth = getattr(request, "auth", None)
    user = auth if isinstance(auth, User) else request.user
    assert isinstance(user, User)
    return user


def problem_response(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: dict[str, list[str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    import json

    body = Problem(
        type=f"urn:accord:problem:{code}",
        title=title,
        status=status,
        detail=detail,
        code=code,
        errors=errors or {},
        request_id=context.current().request_id,
    )
    return HttpResponse(
        json.dumps({**body.model_dump(), **(extra or {})}, ensure_ascii=False),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def _loc_to_field(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "filters")]
    return ".".join(parts) or "__all__"


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        if isinstance(exc, PermissionDenied):
            from accord.audit.models import SecurityEventKind
            from accord.audit.security import security_event

            security_event(
                SecurityEventKind.ACCESS_DENIED,
                request=request,
                code=exc.code,
                method=request.method,
                path=request.path,
            )
        return problem_response(
            request,
            status=exc.status,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            errors=exc.errors,
            extra=exc.extra,
        )

    @api.exception_handler(NinjaValidationError)
    def invalid_input(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors: dict[str, list[str]] = {}
        for err in exc.errors:
            errors.setdefault(_loc_to_field(err.get("loc", ())), []).append(
                str(err.get("msg", "Invalid value."))
            )
        return problem_response(
            request,
            status=422,
            code="invalid_request",
            title="The request is not valid",
            detail="Some fields are missing or invalid: " + ", ".join(sorted(errors)),
            errors=errors,
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = problem_response(
            request,
            status=401,
            code="not_authenticated",
            title="Authentication required",
            detail="Sign in, or send 'Authorization: Bearer <token>' with a valid API token.",
        )
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(AuthorizationError)
    def forbidden(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
        return problem_response(
            request, status=403, code="csrf_failed", title="Forbidden", detail=str(exc)
        )

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return domain_error(request, NotFound("No such record, or you may not see it."))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        csrf = exc.status_code == 403 and "CSRF" in str(exc)
        return problem_response(
            request,
            status=exc.status_code,
            code="csrf_failed" if csrf else "http_error",
            title="Request failed",
            detail=str(exc),
        )


ERROR_STATUSES = {
    "400": "Malformed request",
    "401": "Authentication required",
    "403": "Not allowed",
    "404": "Not found, or not visible to you",
    "409": "Conflict with the current state",
    "422": "Invalid input",
}


class AccordNinjaAPI(NinjaAPI):
    """Documents every error response as problem+json in the OpenAPI schema."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        problem_ref = {"$ref": "#/components/schemas/Problem"}
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
            Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = {str(k): v for k, v in operation["responses"].items()}
                operation["responses"] = responses
                for status, description in ERROR_STATUSES.items():
                    responses.setdefault(
                        status,
                        {
                            "description": description,
                            "content": {PROBLEM_CONTENT_TYPE: {"schema": problem_ref}},
                        },
                    )
                for status, response in responses.items():
                    content = response.get("content") or {}
                    if str(status).startswith(("4", "5")) and "application/json" in content:
                        content[PROBLEM_CONTENT_TYPE] = content.pop("application/json")
        _add_links(schema.get("paths", {}), schema["components"]["schemas"])
        return schema


def _add_links(paths: dict[str, Any], components: dict[str, Any]) -> None:
    """OpenAPI links from each create to the operations on the created record.

    ``POST /x`` answers ``201`` with the record; ``/x/{x_id}…`` operations take its ``id``.
    Clients (and schemathesis' stateful tests) can follow them.
    """
    for collection, item in paths.items():
        create = item.get("post")
        if not create or "201" not in create.get("responses", {}):
            continue
        body = create["responses"]["201"].get("content", {}).get("application/json", {})
        ref = body.get("schema", {}).get("$ref", "")
        if "id" not in components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}):
            continue
        links: dict[str, Any] = {}
        for path, path_item in paths.items():
            rest = path[len(collection) :]
            if not (path.startswith(collection + "/{") and rest.count("{") == 1):
                continue
            param = rest[rest.index("{") + 1 : rest.index("}")]
            for method, operation in path_item.items():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                name = operation["operationId"].rsplit("_", 2)[-2:]
                links["_".join(name) + "_" + method] = {
                    "operationId": operation["operationId"],
                    "parameters": {param: "$response.body#/id"},
                }
        if links:
            create["responses"]["201"]["links"] = links
