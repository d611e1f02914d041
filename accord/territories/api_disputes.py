"""``/api/v1/disputes``: ownership disputes (thin handlers over
:mod:`accord.territories.disputes`)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from accord.core.api_support import InputSchema, QuerySchema, actor, read_only
from accord.core.errors import ValidationFailed
from accord.core.pagination import keyset_page
from accord.core.selectors import get_visible
from accord.org.models import BusinessUnit
from accord.territories import disputes as services
from accord.territories import visibility
from accord.territories.models import DisputeOutcome, DisputeStatus, OwnershipDispute

router = Router(tags=["disputes"])


class DisputeIn(InputSchema):
    account: uuid.UUID = Field(description="The account claimed (one you may see).")
    business_unit: uuid.UUID | None = Field(
        default=None, description="The unit the account is claimed in; default: yours."
    )
    reason: str = Field(max_length=services.REASON_MAX)
    evidence: str = Field(default="", max_length=services.EVIDENCE_MAX)
    activities: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=services.ACTIVITIES_MAX,
        description="Activities on the account that back the claim.",
    )


class DisputeAnswerIn(InputSchema):
    answer: str = Field(max_length=services.ANSWER_MAX)


class DisputeDecideIn(InputSchema):
    outcome: DisputeOutcome
    product_lines: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=100,
        description="For a split: the unit's product lines the claimant gets.",
    )
    note: str = Field(max_length=services.NOTE_MAX, description="Why; on the record.")


class DisputeOut(Schema):
    id: uuid.UUID = read_only()
    account: uuid.UUID
    business_unit: uuid.UUID
    claimant: uuid.UUID
    owner: uuid.UUID | None
    reason: str
    evidence: str
    activities: list[uuid.UUID]
    status: DisputeStatus
    owner_answer: str
    answered_at: dt.datetime | None
    decider: uuid.UUID | None
    deadline: dt.datetime
    escalated_at: dt.datetime | None
    outcome: str = Field(description="keep, transfer or split; empty until decided.")
    split_product_lines: list[uuid.UUID]
    decided_by: uuid.UUID | None
    decided_at: dt.datetime | None
    decision_note: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_account(obj: OwnershipDispute) -> uuid.UUID:
        return obj.account_id

    @staticmethod
    def resolve_business_unit(obj: OwnershipDispute) -> uuid.UUID:
        return obj.business_unit_id

    @staticmethod
    def resolve_claimant(obj: OwnershipDispute) -> uuid.UUID:
        return obj.claimant_id

    @staticmethod
    def resolve_owner(obj: OwnershipDispute) -> uuid.UUID | None:
        return obj.owner_id

    @staticmethod
    def resolve_decider(obj: OwnershipDispute) -> uuid.UUID | None:
        return obj.decider_id

    @staticmethod
    def resolve_decided_by(obj: OwnershipDispute) -> uuid.UUID | None:
        return obj.decided_by_id

    @staticmethod
    def resolve_activities(obj: OwnershipDispute) -> list[uuid.UUID]:
        return [a.pk for a in obj.activities.all()]

    @staticmethod
    def resolve_split_product_lines(obj: OwnershipDispute) -> list[uuid.UUID]:
        return [p.pk for p in obj.split_product_lines.all()]


class DisputePage(Schema):
    items: list[DisputeOut]
    next_cursor: str | None


class DisputeFilters(QuerySchema):
    status: DisputeStatus | None = None
    unit: uuid.UUID | None = Field(default=None, description="Only this business unit.")
    account: uuid.UUID | None = Field(default=None, description="Only this account.")
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


def _dispute(request: HttpRequest, dispute_id: uuid.UUID) -> OwnershipDispute:
    return services.dispute_get(actor(request), dispute_id)


def _fresh(dispute: OwnershipDispute) -> OwnershipDispute:
    return OwnershipDispute.objects.prefetch_related("activities", "split_product_lines").get(
        pk=dispute.pk
    )


@router.get("", response=DisputePage, summary="List the ownership disputes you may see")
def dispute_list(request: HttpRequest, filters: Query[DisputeFilters]) -> dict[str, Any]:
    """Claimants, owners and deciders see theirs (managers their people's); a regional
    manager their region's; administrators, CRM officers and executives all of them."""
    qs = services.disputes_visible_to(actor(request)).prefetch_related(
        "activities", "split_product_lines"
    )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.unit:
        qs = qs.filter(business_unit_id=filters.unit)
    if filters.account:
        qs = qs.filter(account_id=filters.account)
    page = keyset_page(qs, ordering="-created_at", cursor=filters.cursor, limit=filters.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("", response={201: DisputeOut}, summary="Claim an account (open a dispute)")
def dispute_open(request: HttpRequest, payload: DisputeIn) -> Status[Any]:
    """The owner of the account in the unit and the manager who decides are notified.
    Claiming an account you own, or twice, is ``409``."""
    user = actor(request)
    account = get_visible(visibility.accounts_visible_to(user), payload.account, what="account")
    unit = None
    if payload.business_unit is not None:
        unit = BusinessUnit.objects.filter(pk=payload.business_unit, is_active=True).first()
        if unit is None:
            raise ValidationFailed(errors={"business_unit": ["No such business unit."]})
    dispute = services.dispute_open(
        actor=user,
        account=account,
        business_unit=unit,
        reason=payload.reason,
        evidence=payload.evidence,
        activities=payload.activities,
    )
    return Status(201, _fresh(dispute))


@router.get("/{dispute_id}", response=DisputeOut, summary="Get an ownership dispute")
def dispute_get(request: HttpRequest, dispute_id: uuid.UUID) -> OwnershipDispute:
    return _fresh(_dispute(request, dispute_id))


@router.post(
    "/{dispute_id}/answer", response=DisputeOut, summary="Answer a claim (the owner, once)"
)
def dispute_answer(
    request: HttpRequest, dispute_id: uuid.UUID, payload: DisputeAnswerIn
) -> OwnershipDispute:
    dispute = services.dispute_answer(
        actor=actor(request), dispute=_dispute(request, dispute_id), answer=payload.answer
    )
    return _fresh(dispute)


@router.post(
    "/{dispute_id}/decide",
    response=DisputeOut,
    summary="Decide: keep, transfer or split by product line (the manager responsible)",
)
def dispute_decide(
    request: HttpRequest, dispute_id: uuid.UUID, payload: DisputeDecideIn
) -> OwnershipDispute:
    dispute = services.dispute_decide(
        actor=actor(request),
        dispute=_dispute(request, dispute_id),
        outcome=payload.outcome,
        product_lines=payload.product_lines,
        note=payload.note,
    )
    return _fresh(dispute)


@router.post("/{dispute_id}/withdraw", response=DisputeOut, summary="Withdraw a claim (claimant)")
def dispute_withdraw(request: HttpRequest, dispute_id: uuid.UUID) -> OwnershipDispute:
    dispute = services.dispute_withdraw(actor=actor(request), dispute=_dispute(request, dispute_id))
    return _fresh(dispute)
