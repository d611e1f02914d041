"""``/api/v1/org/users/{id}/handover``: preview and apply a leaver's handover."""

from __future__ import annotations

import uuid
from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from accord.core.api_support import InputSchema, actor
from accord.core.errors import NotFound
from accord.org.models import User
from accord.territories.handover import HandoverPlan, handover_apply, handover_plan

router = Router(tags=["handover"])


class HandoverIn(InputSchema):
    rule: Literal["to", "by_district"] = "to"
    to: uuid.UUID | None = Field(
        default=None,
        description="Who takes everything (rule 'to') "
        "or what nobody in the district takes (rule 'by_district').",
    )
    overrides: dict[str, uuid.UUID] = Field(
        default_factory=dict, description="Record id → the user who takes that record."
    )


class HandoverApplyIn(HandoverIn):
    deactivate: bool = Field(default=False, description="Deactivate the leaver afterwards.")


class HandoverItemOut(Schema):
    kind: str
    id: uuid.UUID
    label: str
    new_owner: uuid.UUID
    new_owner_username: str
    reason: str


class HandoverPlanOut(Schema):
    leaving: uuid.UUID
    counts: dict[str, int]
    items: list[HandoverItemOut]


def _leaving(user_id: uuid.UUID) -> User:
    found = User.objects.filter(pk=user_id).first()
    if found is None:
        raise NotFound("No such user.")
    return found


def _out(plan: HandoverPlan) -> HandoverPlanOut:
    return HandoverPlanOut(
        leaving=plan.leaving.pk,
        counts=plan.counts(),
        items=[
            HandoverItemOut(
                kind=i.kind,
                id=i.id,
                label=i.label,
                new_owner=i.new_owner.pk,
                new_owner_username=i.new_owner.username,
                reason=i.reason,
            )
            for i in plan.items
            if i.new_owner is not None
        ],
    )


@router.post(
    "/org/users/{user_id}/handover/preview",
    response=HandoverPlanOut,
    summary="Preview who would take over a leaver's open leads, opportunities and activities",
)
def preview(request: HttpRequest, user_id: uuid.UUID, payload: HandoverIn) -> HandoverPlanOut:
    plan = handover_plan(
        actor=actor(request),
        leaving=_leaving(user_id),
        rule=payload.rule,
        to=payload.to,
        overrides=payload.overrides,
    )
    return _out(plan)


@router.post(
    "/org/users/{user_id}/handover",
    response=HandoverPlanOut,
    summary="Hand a leaver's open work over (and optionally deactivate them)",
)
def apply(request: HttpRequest, user_id: uuid.UUID, payload: HandoverApplyIn) -> HandoverPlanOut:
    plan = handover_apply(
        actor=actor(request),
        leaving=_leaving(user_id),
        rule=payload.rule,
        to=payload.to,
        overrides=payload.overrides,
        deactivate=payload.deactivate,
    )
    return _out(plan)
