"""``/api/v1/accounts/{id}/owners``, ``/api/v1/accounts/{id}/team`` and
``/api/v1/territories/assignment-rules``: thin handlers over
:mod:`accord.territories.ownership`. An account the caller may not see is a 404."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from accord.core.api_support import InputSchema, actor, read_only
from accord.core.errors import NotFound
from accord.core.selectors import get_visible
from accord.core.services import resolve
from accord.customers.models import Account, Industry
from accord.org.models import BusinessUnit, ProductLine, User
from accord.territories import ownership, visibility
from accord.territories.models import (
    Access,
    AccountOwner,
    AccountTeamMember,
    AccountTeamRole,
    AssignmentRule,
    OwnershipSource,
)

router = Router(tags=["ownership"])

AccountAccess = Literal["read", "read_write"]


# --- schemas ------------------------------------------------------------------------------


class AccountOwnerOut(Schema):
    id: uuid.UUID = read_only()
    business_unit: uuid.UUID
    business_unit_name: str = read_only()
    product_line: uuid.UUID | None = Field(description="Empty: every product line of the unit.")
    product_line_name: str = read_only()
    owner: uuid.UUID
    owner_username: str = read_only()
    source: OwnershipSource = read_only()
    rule: uuid.UUID | None = read_only(description="The assignment rule that chose the owner.")


class AccountOwnerIn(InputSchema):
    business_unit: uuid.UUID
    product_line: uuid.UUID | None = Field(
        default=None, description="One product line of the unit (empty: the whole unit)."
    )
    owner: uuid.UUID = Field(description="An active member of the unit.")


class TeamMemberOut(Schema):
    id: uuid.UUID = read_only()
    user: uuid.UUID
    username: str = read_only()
    role: AccountTeamRole
    account_access: AccountAccess
    opportunity_access: Access


class TeamMemberIn(InputSchema):
    user: uuid.UUID
    role: AccountTeamRole
    account_access: AccountAccess = "read"
    opportunity_access: Access = Access.READ


class TeamMemberPatch(InputSchema):
    role: AccountTeamRole | None = None
    account_access: AccountAccess | None = None
    opportunity_access: Access | None = None


class AssignmentRuleOut(Schema):
    id: uuid.UUID = read_only()
    name: str
    position: int
    business_unit: uuid.UUID
    product_line: uuid.UUID | None
    districts: list[uuid.UUID]
    industries: list[str]
    owner: uuid.UUID
    is_active: bool


class AssignmentRuleIn(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    business_unit: uuid.UUID
    product_line: uuid.UUID | None = Field(
        default=None, description="Set: the rule fills only this product line's owner."
    )
    districts: list[uuid.UUID] = Field(default_factory=list, description="Empty: any district.")
    industries: list[Industry] = Field(default_factory=list, description="Empty: any industry.")
    owner: uuid.UUID = Field(description="An active member of the unit.")
    position: int | None = Field(
        default=None, ge=0, le=1_000_000, description="Lower is tried first; empty: last."
    )
    is_active: bool = True


class AssignmentRulePatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    business_unit: uuid.UUID | None = None
    product_line: uuid.UUID | None = None
    districts: list[uuid.UUID] | None = None
    industries: list[Industry] | None = None
    owner: uuid.UUID | None = None
    position: int | None = Field(default=None, ge=0, le=1_000_000)
    is_active: bool | None = None


class AssignmentRuleMoveIn(InputSchema):
    position: int = Field(ge=1, le=1_000_000, description="1: tried first in its unit.")


class AssignmentRunIn(InputSchema):
    keep_manual: bool = Field(
        default=True,
        description="Keep owners set by the CRM team, a manager, a dispute or a handover.",
    )


class AssignmentPreviewIn(AssignmentRunIn):
    limit: int = Field(default=50, ge=0, le=1000, description="How many changes to list.")


class OwnerChangeOut(Schema):
    account: uuid.UUID
    account_label: str
    business_unit: uuid.UUID
    business_unit_name: str
    product_line: uuid.UUID | None
    product_line_name: str
    old_owner: uuid.UUID | None
    new_owner: uuid.UUID
    new_owner_username: str
    rule: uuid.UUID
    rule_name: str


class AssignmentCounts(Schema):
    assign: int = Field(description="Empty slots that get an owner.")
    change: int = Field(description="Owners replaced.")
    keep: int = Field(description="Owners a person chose, kept.")
    same: int = Field(description="Already the owner the rules give.")


class AssignmentPreviewOut(Schema):
    accounts: int
    counts: dict[str, AssignmentCounts] = Field(description="Per business unit (its name).")
    changes: list[OwnerChangeOut]


class AssignmentApplyOut(Schema):
    counts: dict[str, AssignmentCounts]


# --- helpers ------------------------------------------------------------------------------


def _account(request: HttpRequest, account_id: uuid.UUID) -> Account:
    return get_visible(visibility.accounts_visible_to(actor(request)), account_id, what="account")


def _owner_out(row: AccountOwner) -> AccountOwnerOut:
    return AccountOwnerOut(
        id=row.pk,
        business_unit=row.business_unit_id,
        business_unit_name=row.business_unit.name,
        product_line=row.product_line_id,
        product_line_name=row.product_line.name if row.product_line else "",
        owner=row.owner_id,
        owner_username=row.owner.username,
        source=OwnershipSource(row.source),
        rule=row.rule_id,
    )


def _member_out(member: AccountTeamMember) -> TeamMemberOut:
    return TeamMemberOut(
        id=member.pk,
        user=member.user_id,
        username=member.user.username,
        role=AccountTeamRole(member.role),
        account_access="read_write" if member.account_access == Access.READ_WRITE else "read",
        opportunity_access=Access(member.opportunity_access),
    )


def _member(account: Account, member_id: uuid.UUID) -> AccountTeamMember:
    found = (
        AccountTeamMember.objects.select_related("user", "account")
        .filter(account=account, pk=member_id)
        .first()
    )
    if found is None:
        raise NotFound("No such member of this account's team.")
    return found


def _rule_out(rule: AssignmentRule) -> AssignmentRuleOut:
    return AssignmentRuleOut(
        id=rule.pk,
        name=rule.name,
        position=rule.position,
        business_unit=rule.business_unit_id,
        product_line=rule.product_line_id,
        districts=sorted(d.pk for d in rule.districts.all()),
        industries=list(rule.industries or []),
        owner=rule.owner_id,
        is_active=rule.is_active,
    )


def _counts(counts: dict[str, dict[str, int]]) -> dict[str, AssignmentCounts]:
    return {unit: AssignmentCounts(**c) for unit, c in counts.items()}


def _rule_data(payload: Schema, *, partial: bool) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=partial)
    if partial:  # null clears a rule's product line; other fields keep their value
        data = {k: v for k, v in data.items() if v is not None or k == "product_line"}
    if "industries" in data and data["industries"] is not None:
        data["industries"] = [str(Industry(i)) for i in data["industries"]]
    return data


# --- owners -------------------------------------------------------------------------------


@router.get(
    "/accounts/{account_id}/owners",
    response=list[AccountOwnerOut],
    summary="The account's owners (one per business unit, or per product line after a split)",
)
def owners_list(request: HttpRequest, account_id: uuid.UUID) -> list[AccountOwnerOut]:
    account = _account(request, account_id)
    rows = AccountOwner.objects.filter(account=account).select_related(
        "business_unit", "product_line", "owner"
    )
    return [_owner_out(row) for row in rows]


@router.put(
    "/accounts/{account_id}/owners",
    response=AccountOwnerOut,
    summary="Set the owner of the account in one business unit (CRM team, unit's manager)",
)
def owner_set(request: HttpRequest, account_id: uuid.UUID, payload: AccountOwnerIn) -> Any:
    account = _account(request, account_id)
    unit = resolve(
        BusinessUnit.objects.all(), payload.business_unit, field="business_unit", label="unit"
    )
    owner = resolve(User.objects.all(), payload.owner, field="owner", label="user")
    line = resolve(
        ProductLine.objects.all(), payload.product_line, field="product_line", label="line"
    )
    assert unit is not None and owner is not None
    row = ownership.account_owner_set(
        actor=actor(request), account=account, business_unit=unit, owner=owner, product_line=line
    )
    return _owner_out(
        AccountOwner.objects.select_related("business_unit", "product_line", "owner").get(pk=row.pk)
    )


# --- account team -------------------------------------------------------------------------


@router.get(
    "/accounts/{account_id}/team",
    response=list[TeamMemberOut],
    summary="The people the account is shared with, and their roles",
)
def team_list(request: HttpRequest, account_id: uuid.UUID) -> list[TeamMemberOut]:
    account = _account(request, account_id)
    return [_member_out(m) for m in ownership.account_team_of(account)]


@router.post(
    "/accounts/{account_id}/team",
    response={201: TeamMemberOut},
    summary="Add a person to the account's team (who may change the account)",
)
def team_add(request: HttpRequest, account_id: uuid.UUID, payload: TeamMemberIn) -> Any:
    account = _account(request, account_id)
    user = resolve(User.objects.all(), payload.user, field="user", label="user")
    assert user is not None
    member = ownership.account_team_add(
        actor=actor(request),
        account=account,
        user=user,
        data=payload.model_dump(exclude={"user"}),
    )
    return Status(201, _member_out(member))


@router.patch(
    "/accounts/{account_id}/team/{member_id}",
    response=TeamMemberOut,
    summary="Change a team member's role or access",
)
def team_update(
    request: HttpRequest, account_id: uuid.UUID, member_id: uuid.UUID, payload: TeamMemberPatch
) -> TeamMemberOut:
    member = _member(_account(request, account_id), member_id)
    data = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    updated = ownership.account_team_update(actor=actor(request), member=member, data=data)
    return _member_out(updated)


@router.delete(
    "/accounts/{account_id}/team/{member_id}",
    response={204: None},
    summary="Remove a person from the account's team",
)
def team_remove(request: HttpRequest, account_id: uuid.UUID, member_id: uuid.UUID) -> Any:
    member = _member(_account(request, account_id), member_id)
    ownership.account_team_remove(actor=actor(request), member=member)
    return Status(204, None)


# --- assignment rules (administrators) ----------------------------------------------------


@router.get(
    "/territories/assignment-rules",
    response=list[AssignmentRuleOut],
    summary="The assignment rules, per unit in the order they are tried (administrators)",
)
def rules_list(request: HttpRequest) -> list[AssignmentRuleOut]:
    return [_rule_out(r) for r in ownership.assignment_rules_list(actor=actor(request))]


@router.post(
    "/territories/assignment-rules",
    response={201: AssignmentRuleOut},
    summary="Add an assignment rule",
)
def rule_create(request: HttpRequest, payload: AssignmentRuleIn) -> Any:
    rule = ownership.assignment_rule_create(
        actor=actor(request), data=_rule_data(payload, partial=False)
    )
    return Status(201, _rule_out(rule))


@router.post(
    "/territories/assignment-rules/preview",
    response=AssignmentPreviewOut,
    summary="What re-running the rules over every account would change (nothing changes)",
)
def rules_preview(request: HttpRequest, payload: AssignmentPreviewIn) -> AssignmentPreviewOut:
    preview = ownership.assignment_preview(
        actor=actor(request), keep_manual=payload.keep_manual, limit=payload.limit
    )
    return AssignmentPreviewOut(
        accounts=preview.accounts,
        counts=_counts(preview.counts),
        changes=[
            OwnerChangeOut(
                account=c.account_id,
                account_label=c.account_label,
                business_unit=c.business_unit_id,
                business_unit_name=c.business_unit,
                product_line=c.product_line_id,
                product_line_name=c.product_line,
                old_owner=c.old_owner.pk if c.old_owner else None,
                new_owner=c.new_owner.pk,
                new_owner_username=c.new_owner.username,
                rule=c.rule.pk,
                rule_name=c.rule.name,
            )
            for c in preview.changes
        ],
    )


@router.post(
    "/territories/assignment-rules/apply",
    response=AssignmentApplyOut,
    summary="Re-run the rules over every account and change the owners the preview lists",
)
def rules_apply(request: HttpRequest, payload: AssignmentRunIn) -> AssignmentApplyOut:
    counts = ownership.assignment_apply(actor=actor(request), keep_manual=payload.keep_manual)
    return AssignmentApplyOut(counts=_counts(counts))


@router.get(
    "/territories/assignment-rules/{rule_id}",
    response=AssignmentRuleOut,
    summary="One assignment rule",
)
def rule_get(request: HttpRequest, rule_id: uuid.UUID) -> AssignmentRuleOut:
    return _rule_out(ownership.assignment_rule_get(actor=actor(request), pk=rule_id))


@router.patch(
    "/territories/assignment-rules/{rule_id}",
    response=AssignmentRuleOut,
    summary="Change an assignment rule",
)
def rule_update(
    request: HttpRequest, rule_id: uuid.UUID, payload: AssignmentRulePatch
) -> AssignmentRuleOut:
    user = actor(request)
    rule = ownership.assignment_rule_get(actor=user, pk=rule_id)
    updated = ownership.assignment_rule_update(
        actor=user, rule=rule, data=_rule_data(payload, partial=True)
    )
    return _rule_out(updated)


@router.delete(
    "/territories/assignment-rules/{rule_id}",
    response={204: None},
    summary="Delete an assignment rule (the owners it gave stay)",
)
def rule_delete(request: HttpRequest, rule_id: uuid.UUID) -> Any:
    user = actor(request)
    ownership.assignment_rule_delete(
        actor=user, rule=ownership.assignment_rule_get(actor=user, pk=rule_id)
    )
    return Status(204, None)


@router.post(
    "/territories/assignment-rules/{rule_id}/move",
    response=AssignmentRuleOut,
    summary="Move a rule to a place in its unit's order (1: tried first)",
)
def rule_move(
    request: HttpRequest, rule_id: uuid.UUID, payload: AssignmentRuleMoveIn
) -> AssignmentRuleOut:
    user = actor(request)
    rule = ownership.assignment_rule_move(
        actor=user,
        rule=ownership.assignment_rule_get(actor=user, pk=rule_id),
        position=payload.position,
    )
    return _rule_out(rule)
