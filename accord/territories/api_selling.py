"""``/api/v1/selling``: the cross-selling check and the selling exceptions; thin handlers
over :mod:`accord.territories.selling`."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from accord.core.api_support import InputSchema, QuerySchema, actor, read_only
from accord.core.errors import PermissionDenied, ValidationFailed
from accord.core.pagination import keyset_page
from accord.core.selectors import get_visible
from accord.customers.models import Account
from accord.org.models import BusinessUnit, User
from accord.territories import selling, visibility
from accord.territories.models import ExceptionStatus, SellingException

router = Router(tags=["selling"])


# --- schemas ------------------------------------------------------------------------------


class SellingCheckQuery(QuerySchema):
    account: uuid.UUID
    business_unit: uuid.UUID | None = Field(
        default=None, description="The selling unit; default: the seller's."
    )
    product_lines: list[uuid.UUID] = Field(
        default_factory=list, description="The product lines to sell (repeat the parameter)."
    )
    owner: uuid.UUID | None = Field(
        default=None,
        description="Check for this seller (yourself or someone you may assign records to); "
        "default: you.",
    )


class SellingOptionOut(Schema):
    action: str = Field(description="request_exception, open_dispute or view_exception.")
    label: str
    url: str = Field(description="The page in the web UI.")
    api: str = Field(description="The API operation.")
    method: str


class SellingDecisionOut(Schema):
    allowed: bool
    code: str
    message: str
    options: list[SellingOptionOut]
    owner: uuid.UUID | None
    owner_name: str | None
    approver: uuid.UUID | None = Field(description="Who decides an exception (null: an admin).")
    approver_name: str | None
    exception: uuid.UUID | None = Field(
        description="The approved exception that allows the sale, or your pending request."
    )


class SellingExceptionIn(InputSchema):
    account: uuid.UUID
    business_unit: uuid.UUID | None = Field(default=None, description="Default: yours.")
    product_lines: list[uuid.UUID] = Field(
        default_factory=list, max_length=100, description="Empty: every product line."
    )
    reason: str = Field(max_length=selling.REASON_MAX)


class SellingExceptionDecideIn(InputSchema):
    approve: bool
    note: str = Field(default="", max_length=selling.REASON_MAX, description="Required to refuse.")


class SellingExceptionOut(Schema):
    id: uuid.UUID = read_only()
    account: uuid.UUID
    business_unit: uuid.UUID
    requester: uuid.UUID = read_only()
    product_lines: list[uuid.UUID]
    reason: str
    status: ExceptionStatus = read_only()
    expired: bool = read_only(description="Approved, but past valid_until.")
    approver: uuid.UUID | None = read_only()
    decided_by: uuid.UUID | None = read_only()
    decided_at: dt.datetime | None = read_only()
    decision_note: str = read_only()
    valid_until: dt.datetime | None = read_only()
    created_at: dt.datetime = read_only()

    @staticmethod
    def resolve_account(obj: SellingException) -> uuid.UUID:
        return obj.account_id

    @staticmethod
    def resolve_business_unit(obj: SellingException) -> uuid.UUID:
        return obj.business_unit_id

    @staticmethod
    def resolve_requester(obj: SellingException) -> uuid.UUID:
        return obj.requester_id

    @staticmethod
    def resolve_product_lines(obj: SellingException) -> list[uuid.UUID]:
        return sorted(pl.pk for pl in obj.product_lines.all())

    @staticmethod
    def resolve_expired(obj: SellingException) -> bool:
        return selling.is_expired(obj)

    @staticmethod
    def resolve_approver(obj: SellingException) -> uuid.UUID | None:
        return obj.approver_id

    @staticmethod
    def resolve_decided_by(obj: SellingException) -> uuid.UUID | None:
        return obj.decided_by_id


class SellingExceptionPage(Schema):
    items: list[SellingExceptionOut]
    next_cursor: str | None


class SellingExceptionFilters(QuerySchema):
    status: ExceptionStatus | None = None
    role: Literal["all", "mine", "to_decide"] = Field(
        default="all",
        description="`mine`: my requests; `to_decide`: the pending ones I decide; `all`: "
        "every one I may see.",
    )
    account: uuid.UUID | None = None
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


# --- helpers ------------------------------------------------------------------------------


def _account(user: User, account_id: uuid.UUID) -> Account:
    return get_visible(
        visibility.accounts_visible_to(user).select_related("district"), account_id, what="account"
    )


def _unit(unit_id: uuid.UUID | None, default: BusinessUnit | None) -> BusinessUnit | None:
    if unit_id is None:
        return default
    return get_visible(BusinessUnit.objects.all(), unit_id, what="business unit")


def _exception(user: User, exception_id: uuid.UUID) -> SellingException:
    return get_visible(
        selling.selling_exceptions_visible_to(user).select_related(
            "account", "requester", "approver"
        ),
        exception_id,
        what="selling exception",
    )


# --- endpoints ----------------------------------------------------------------------------


@router.get("/check", response=SellingDecisionOut, summary="May I sell this to this account?")
def selling_check(request: HttpRequest, query: Query[SellingCheckQuery]) -> dict[str, Any]:
    """The cross-selling rules' answer, with the refusal's ``code``, a message naming the
    owner, and the ``options`` (ask for an exception, open a dispute)."""
    user = actor(request)
    account = _account(user, query.account)
    seller = user
    if query.owner is not None and query.owner != user.pk:
        seller = get_visible(User.objects.filter(is_active=True), query.owner, what="user")
        if not visibility.may_assign_to(user, seller):
            raise PermissionDenied(
                "You may check only for yourself or the people who report to you.",
                code="owner_not_assignable",
            )
    unit = _unit(query.business_unit, seller.business_unit)
    if unit is None:
        raise ValidationFailed(errors={"business_unit": ["This field is required."]})
    decision = selling.selling_decision(
        user=seller,
        account=account,
        business_unit=unit,
        product_lines=query.product_lines,
        actor=user,
    )
    return decision.as_dict()


@router.get("/exceptions", response=SellingExceptionPage, summary="List selling exceptions")
def selling_exception_list(
    request: HttpRequest, filters: Query[SellingExceptionFilters]
) -> dict[str, Any]:
    """A rep sees their own requests, a manager their team's and those they decide;
    the people who see everything, all. Newest first."""
    user = actor(request)
    if filters.role == "to_decide":
        qs = selling.selling_exceptions_to_decide(user)
    else:
        qs = selling.selling_exceptions_visible_to(user)
        if filters.role == "mine":
            qs = qs.filter(requester=user)
    if filters.status is not None:
        qs = qs.filter(status=filters.status)
    if filters.account is not None:
        qs = qs.filter(account_id=filters.account)
    page = keyset_page(
        qs.prefetch_related("product_lines"),
        ordering="-created_at",
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post(
    "/exceptions",
    response={201: SellingExceptionOut},
    summary="Ask for a selling exception (decided by the owner's manager)",
)
def selling_exception_request(request: HttpRequest, payload: SellingExceptionIn) -> Status[Any]:
    """Only when the rules refuse the sale: ``409 selling_exception_not_needed`` otherwise,
    ``409 selling_exception_pending`` while a request waits, ``403
    selling_exception_not_available`` when the policy blocks it outright."""
    user = actor(request)
    account = _account(user, payload.account)
    return Status(
        201,
        selling.selling_exception_request(
            actor=user,
            account=account,
            business_unit=_unit(payload.business_unit, None),
            product_lines=payload.product_lines,
            reason=payload.reason,
        ),
    )


@router.get(
    "/exceptions/{exception_id}", response=SellingExceptionOut, summary="Get a selling exception"
)
def selling_exception_get(request: HttpRequest, exception_id: uuid.UUID) -> SellingException:
    return _exception(actor(request), exception_id)


@router.post(
    "/exceptions/{exception_id}/decide",
    response=SellingExceptionOut,
    summary="Approve or refuse (the approver or an administrator)",
)
def selling_exception_decide(
    request: HttpRequest, exception_id: uuid.UUID, payload: SellingExceptionDecideIn
) -> SellingException:
    user = actor(request)
    return selling.selling_exception_decide(
        actor=user,
        exception=_exception(user, exception_id),
        approve=payload.approve,
        note=payload.note,
    )


@router.post(
    "/exceptions/{exception_id}/withdraw",
    response=SellingExceptionOut,
    summary="Withdraw a pending request (the requester)",
)
def selling_exception_withdraw(request: HttpRequest, exception_id: uuid.UUID) -> SellingException:
    user = actor(request)
    return selling.selling_exception_withdraw(actor=user, exception=_exception(user, exception_id))
