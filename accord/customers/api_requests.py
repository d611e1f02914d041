"""``/api/v1/account-requests`` (reps request accounts, stewards decide) and
``/api/v1/me/notifications``: thin handlers over :mod:`accord.customers.requests` and
:mod:`accord.org.notifications`."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from accord.core.api_support import InputSchema, QuerySchema, actor, read_only
from accord.core.selectors import get_visible
from accord.customers import requests as services
from accord.customers.models import AccountRequest, AccountRequestStatus
from accord.customers.requests import AccountRequestOrdering
from accord.customers.schemas import AccountFieldsOut, AccountInputFields, MatchCandidateOut
from accord.org import notifications as notes
from accord.org.models import User

account_requests = Router(tags=["account requests"])
me_notifications = Router(tags=["notifications"])

Str255 = Field(default=None, max_length=255)


# --- schemas ------------------------------------------------------------------------------


class AccountRequestFields(AccountInputFields):
    """The proposed account's fields (named as an account's)."""


class AccountRequestIn(AccountRequestFields):
    justification: str | None = Field(
        default=None,
        max_length=services.JUSTIFICATION_MAX,
        description='Why this is not an existing account ("a separate branch", "a '
        'different company"): required when the duplicate check blocks the request.',
    )


class AccountRequestPatch(AccountRequestIn):
    """Any of the request's fields, while it is pending (the requester only)."""


class AccountRequestApproveIn(AccountRequestFields):
    """Corrections the steward makes before the account is created (all optional)."""

    duplicate_justification: str | None = Field(
        default=None,
        max_length=1000,
        description="Why this is not a duplicate: creates the account although the "
        "duplicate check blocks it (audited).",
    )


class AccountRequestRejectIn(InputSchema):
    reason: str = Field(max_length=services.REASON_MAX, description="Told to the requester.")


class AccountRequestResolveIn(InputSchema):
    customer_code: str = Field(
        max_length=20, description="The existing account's code (its check digit is verified)."
    )
    reason: str | None = Field(default=None, max_length=services.REASON_MAX)


class AccountRequestOut(AccountFieldsOut):
    id: uuid.UUID = read_only()
    requester: uuid.UUID = read_only()
    business_unit: uuid.UUID | None = read_only(description="The requester's unit.")
    justification: str
    candidates: list[MatchCandidateOut] = read_only(
        description="The possible duplicates shown when the request was submitted."
    )
    status: AccountRequestStatus = read_only()
    decided_by: uuid.UUID | None = read_only()
    decided_at: dt.datetime | None = read_only()
    decision_reason: str = read_only()
    account: uuid.UUID | None = read_only(
        description="The account created on approval, or the existing one resolved to."
    )
    account_customer_code: str | None = read_only()
    created_at: dt.datetime = read_only()
    updated_at: dt.datetime = read_only()

    @staticmethod
    def resolve_requester(obj: AccountRequest) -> uuid.UUID:
        return obj.requester_id

    @staticmethod
    def resolve_business_unit(obj: AccountRequest) -> uuid.UUID | None:
        return obj.business_unit_id

    @staticmethod
    def resolve_decided_by(obj: AccountRequest) -> uuid.UUID | None:
        return obj.decided_by_id

    @staticmethod
    def resolve_account(obj: AccountRequest) -> uuid.UUID | None:
        return obj.account_id

    @staticmethod
    def resolve_account_customer_code(obj: AccountRequest) -> str | None:
        return obj.account.customer_code if obj.account_id and obj.account else None


class AccountRequestPage(Schema):
    items: list[AccountRequestOut]
    next_cursor: str | None


class AccountRequestFilters(QuerySchema):
    status: AccountRequestStatus | None = None
    business_unit: uuid.UUID | None = Field(default=None, description="The requester's unit.")
    district: uuid.UUID | None = None
    requester: uuid.UUID | None = None
    ordering: AccountRequestOrdering = Field(
        default="-created_at", description="`created_at`: oldest first (the review queue)."
    )
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


class NotificationOut(Schema):
    id: uuid.UUID = read_only()
    kind: str
    title: str
    body: str
    url: str
    related_type: str
    related_id: str
    read_at: dt.datetime | None
    created_at: dt.datetime


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None
    unread_count: int


class NotificationFilters(QuerySchema):
    unread: bool | None = None
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


class NotificationsReadIn(InputSchema):
    ids: list[uuid.UUID] | None = Field(
        default=None, max_length=200, description="Which to mark read; omitted: all of them."
    )


class NotificationsReadOut(Schema):
    marked: int
    unread_count: int


# --- account requests ---------------------------------------------------------------------


def _request(user: User, request_id: uuid.UUID) -> AccountRequest:
    return get_visible(
        services.account_requests_visible(user).select_related("account"),
        request_id,
        what="account request",
    )


@account_requests.post(
    "", response={201: AccountRequestOut}, summary="Request a new account (reps)"
)
def account_request_submit(request: HttpRequest, payload: AccountRequestIn) -> Status[Any]:
    """The data-entry template for accounts applies. A blocking duplicate answers ``409
    duplicate_suspected`` with the ``candidates`` unless a ``justification`` is given; the
    candidates shown are kept with the request."""
    return Status(
        201,
        services.account_request_submit(
            actor=actor(request), data=payload.model_dump(exclude_unset=True)
        ),
    )


@account_requests.get("", response=AccountRequestPage, summary="List account requests")
def account_request_list(
    request: HttpRequest, filters: Query[AccountRequestFilters]
) -> AccountRequestPage:
    """A rep sees their own requests, a manager their team's, the CRM team all of them.
    The review queue: ``status=pending&ordering=created_at``."""
    page = services.account_request_list(user=actor(request), **filters.dict())
    return AccountRequestPage(items=page.items, next_cursor=page.next_cursor)  # type: ignore[arg-type]


@account_requests.get("/{request_id}", response=AccountRequestOut, summary="Get an account request")
def account_request_get(request: HttpRequest, request_id: uuid.UUID) -> AccountRequest:
    return _request(actor(request), request_id)


@account_requests.patch(
    "/{request_id}", response=AccountRequestOut, summary="Change a pending request (requester)"
)
def account_request_update(
    request: HttpRequest, request_id: uuid.UUID, payload: AccountRequestPatch
) -> AccountRequest:
    user = actor(request)
    return services.account_request_update(
        actor=user,
        request=_request(user, request_id),
        data=payload.model_dump(exclude_unset=True),
    )


@account_requests.post(
    "/{request_id}/approve",
    response=AccountRequestOut,
    summary="Approve: create the account and issue its customer code (CRM team)",
)
def account_request_approve(
    request: HttpRequest, request_id: uuid.UUID, payload: AccountRequestApproveIn
) -> AccountRequest:
    user = actor(request)
    data = payload.model_dump(exclude_unset=True)
    justification = data.pop("duplicate_justification", None)
    return services.account_request_approve(
        actor=user,
        request=_request(user, request_id),
        data=data,
        duplicate_justification=justification,
    )


@account_requests.post(
    "/{request_id}/reject", response=AccountRequestOut, summary="Reject, with a reason (CRM team)"
)
def account_request_reject(
    request: HttpRequest, request_id: uuid.UUID, payload: AccountRequestRejectIn
) -> AccountRequest:
    user = actor(request)
    return services.account_request_reject(
        actor=user, request=_request(user, request_id), reason=payload.reason
    )


@account_requests.post(
    "/{request_id}/resolve",
    response=AccountRequestOut,
    summary="Resolve to an existing account, by its customer code (CRM team)",
)
def account_request_resolve(
    request: HttpRequest, request_id: uuid.UUID, payload: AccountRequestResolveIn
) -> AccountRequest:
    """A code that fails its check digit is ``422 invalid_customer_code``."""
    user = actor(request)
    return services.account_request_resolve(
        actor=user,
        request=_request(user, request_id),
        customer_code=payload.customer_code,
        reason=payload.reason or "",
    )


@account_requests.post(
    "/{request_id}/withdraw", response=AccountRequestOut, summary="Withdraw a pending request"
)
def account_request_withdraw(request: HttpRequest, request_id: uuid.UUID) -> AccountRequest:
    user = actor(request)
    return services.account_request_withdraw(actor=user, request=_request(user, request_id))


# --- notifications ------------------------------------------------------------------------


@me_notifications.get("/notifications", response=NotificationPage, summary="My notifications")
def notification_list(request: HttpRequest, filters: Query[NotificationFilters]) -> dict[str, Any]:
    user = actor(request)
    page = notes.notification_list(user=user, **filters.dict())
    return {
        "items": page.items,
        "next_cursor": page.next_cursor,
        "unread_count": notes.unread_count(user),
    }


@me_notifications.post(
    "/notifications/read", response=NotificationsReadOut, summary="Mark notifications read"
)
def notifications_mark_read(request: HttpRequest, payload: NotificationsReadIn) -> dict[str, int]:
    user = actor(request)
    marked = notes.notifications_mark_read(user=user, ids=payload.ids)
    return {"marked": marked, "unread_count": notes.unread_count(user)}
