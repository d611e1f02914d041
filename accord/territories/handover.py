"""Handover: when a rep leaves, their open work goes to colleagues in one operation.

What moves is the leaver's *open* work: open leads (new, working, qualified), open
opportunities (stage outcome "open") and open activities (tasks, visits, meetings not done)
— and their accounts: each business unit (or product line) they own an account in
(``account``; the new owner must be a member of that unit) and their places on account
teams (``account_team``; dropped where the new person is on the team already).
History stays as it happened: won and lost opportunities keep the rep who closed them (their
figures stay theirs in forecasts and reports), done activities keep who did them, and every
change of owner is on the audit trail of the record, so the new owner sees the whole story.

Who gets what is decided by a rule, then adjusted one by one:

* ``to`` — everything to one person; or
* ``by_district`` — each record to a colleague of the leaver's business unit who covers the
  record's district (its account's, or the lead's), the first by user name; records with no
  such colleague go to ``to`` if given, else to the leaver's manager.

``overrides`` (record id → user) then change single records. :func:`handover_plan` is the
preview; :func:`handover_apply` recomputes the same plan inside its transaction, applies it
and can deactivate the leaver (ending their sessions and tokens) in the same step.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import transaction
from django.db.models import Q

from accord.activities.models import Activity
from accord.audit.models import AuditAction, SecurityEventKind
from accord.audit.security import security_event
from accord.audit.services import audit_record_change, audited_delete
from accord.core.errors import PermissionDenied, ValidationFailed
from accord.org.models import Role, User
from accord.org.services import user_deactivate
from accord.sales.models import Lead, LeadStatus, Opportunity, StageOutcome
from accord.territories import visibility
from accord.territories.models import AccountOwner, AccountTeamMember, OwnershipSource

Rule = Literal["to", "by_district"]
OPEN_LEAD_STATUSES = (LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.QUALIFIED)
MANAGER_ROLES = frozenset({Role.SALES_MANAGER, Role.REGIONAL_MANAGER, Role.ADMINISTRATOR})


@dataclass
class HandoverItem:
    kind: str  # lead / opportunity / activity / account / account_team
    id: uuid.UUID
    label: str
    district_id: uuid.UUID | None
    new_owner: User | None = None
    reason: str = ""
    business_unit_id: uuid.UUID | None = None  # an account's: whose member must own it


@dataclass
class HandoverPlan:
    leaving: User
    items: list[HandoverItem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for item in self.items:
            found[item.kind] = found.get(item.kind, 0) + 1
        return found


def may_hand_over(actor: User, leaving: User) -> bool:
    """Administrators, and managers up the leaver's reporting line."""
    if not actor.is_active or actor.pk == leaving.pk:
        return False
    if actor.is_superuser or actor.role == Role.ADMINISTRATOR:
        return True
    if actor.role not in MANAGER_ROLES:
        return False
    return leaving.pk in visibility.scope_of(actor).user_ids


def _open_work(leaving: User) -> list[HandoverItem]:
    items = [
        HandoverItem("lead", lead.pk, lead.company_name, lead.district_id)
        for lead in Lead.objects.filter(owner=leaving, status__in=OPEN_LEAD_STATUSES).order_by(
            "company_name", "id"
        )
    ]
    items += [
        HandoverItem(
            "opportunity", opp.pk, f"{opp.name} · {opp.account.legal_name}", opp.account.district_id
        )
        for opp in Opportunity.objects.filter(owner=leaving, stage__outcome=StageOutcome.OPEN)
        .select_related("account")
        .order_by("name", "id")
    ]
    items += [
        HandoverItem(
            "activity",
            act.pk,
            f"{act.get_kind_display()}: {act.subject}",
            act.account.district_id if act.account is not None else None,
        )
        for act in Activity.objects.filter(performed_by=leaving, is_done=False)
        .select_related("account")
        .order_by("occurred_at", "id")
    ]
    items += [
        HandoverItem(
            "account",
            row.pk,
            f"{row.account.legal_name} · {row.business_unit.name}"
            + (f" · {row.product_line.name}" if row.product_line else ""),
            row.account.district_id,
            business_unit_id=row.business_unit_id,
        )
        for row in AccountOwner.objects.filter(owner=leaving)
        .select_related("account", "business_unit", "product_line")
        .order_by("account__legal_name", "id")
    ]
    items += [
        HandoverItem(
            "account_team",
            member.pk,
            f"{member.account.legal_name} · {member.get_role_display()}",
            member.account.district_id,
        )
        for member in AccountTeamMember.objects.filter(user=leaving)
        .select_related("account")
        .order_by("account__legal_name", "id")
    ]
    return items


def _district_colleagues(leaving: User) -> dict[uuid.UUID, User]:
    """District → the first active colleague of the leaver's unit covering it."""
    colleagues = (
        User.objects.filter(is_active=True, business_unit_id=leaving.business_unit_id)
        .exclude(pk=leaving.pk)
        .filter(role__in=[Role.SALES_REP, Role.SALES_MANAGER])
        .prefetch_related("districts")
        .order_by("username")
    )
    found: dict[uuid.UUID, User] = {}
    for colleague in colleagues:
        for district in colleague.districts.all():
            found.setdefault(district.pk, colleague)
    return found


def _user(value: Any, *, field_name: str) -> User:
    if isinstance(value, User):
        return value
    try:
        return User.objects.get(pk=uuid.UUID(str(value)), is_active=True)
    except (ValueError, User.DoesNotExist) as exc:
        raise ValidationFailed(errors={field_name: ["Unknown or deactivated user."]}) from exc


def handover_plan(
    *,
    actor: User,
    leaving: User,
    rule: Rule = "to",
    to: Any = None,
    overrides: Mapping[str, Any] | None = None,
) -> HandoverPlan:
    """Who would get each open record of ``leaving`` (the preview; nothing is changed)."""
    if not may_hand_over(actor, leaving):
        raise PermissionDenied(
            "Only the leaver's managers or an administrator hand their work over.",
            code="handover_not_allowed",
        )
    target = _user(to, field_name="to") if to not in (None, "") else None
    if rule == "to" and target is None:
        raise ValidationFailed(errors={"to": ["Choose who takes the work over."]})
    if rule not in ("to", "by_district"):
        raise ValidationFailed(errors={"rule": ["Choose 'to' or 'by_district'."]})
    fallback = target or (
        leaving.manager if leaving.manager and leaving.manager.is_active else None
    )
    colleagues = _district_colleagues(leaving) if rule == "by_district" else {}
    plan = HandoverPlan(leaving=leaving, items=_open_work(leaving))
    for item in plan.items:
        covering = colleagues.get(item.district_id) if item.district_id else None
        if covering is not None:
            item.new_owner, item.reason = covering, "covers the district"
        elif fallback is not None:
            item.new_owner = fallback
            item.reason = "chosen" if rule == "to" else "nobody else covers the district"
    chosen = {str(k): v for k, v in (overrides or {}).items() if v not in (None, "")}
    by_id = {str(item.id): item for item in plan.items}
    unknown = sorted(set(chosen) - set(by_id))
    if unknown:
        raise ValidationFailed(
            errors={"overrides": [f"Not an open record of this user: {', '.join(unknown)}."]}
        )
    for record_id, user in chosen.items():
        by_id[record_id].new_owner = _user(user, field_name=f"overrides.{record_id}")
        by_id[record_id].reason = "chosen one by one"
    errors: dict[str, list[str]] = {}
    for item in plan.items:
        if item.new_owner is None:
            errors.setdefault("to", []).append(f"Nobody to take over {item.label}.")
        elif item.new_owner.pk == leaving.pk:
            errors.setdefault(f"overrides.{item.id}", []).append("Choose someone else.")
        elif not visibility.may_assign_to(actor, item.new_owner):
            errors.setdefault(f"overrides.{item.id}", []).append(
                f"You may not assign work to {item.new_owner.get_full_name() or item.new_owner}."
            )
        elif item.kind == "account" and item.new_owner.business_unit_id != item.business_unit_id:
            errors.setdefault(f"overrides.{item.id}", []).append(
                f"{item.label}: the new owner must be a member of the account's business unit."
            )
    if errors:
        raise ValidationFailed("Some records have nobody to go to.", errors=errors)
    return plan


_MODELS: dict[str, tuple[Any, str]] = {
    "lead": (Lead, "owner"),
    "opportunity": (Opportunity, "owner"),
    "activity": (Activity, "performed_by"),
}


@transaction.atomic
def handover_apply(
    *,
    actor: User,
    leaving: User,
    rule: Rule = "to",
    to: Any = None,
    overrides: Mapping[str, Any] | None = None,
    deactivate: bool = False,
) -> HandoverPlan:
    """Apply the plan: every open record to its new owner, audited one by one."""
    leaving = User.objects.select_for_update().get(pk=leaving.pk)
    plan = handover_plan(actor=actor, leaving=leaving, rule=rule, to=to, overrides=overrides)
    for kind, (model, owner_field) in _MODELS.items():
        items = {item.id: item for item in plan.items if item.kind == kind}
        rows = model.objects.select_for_update().filter(pk__in=list(items))
        for row in rows:
            new_owner = items[row.pk].new_owner
            assert new_owner is not None
            if getattr(row, f"{owner_field}_id") != leaving.pk:
                continue  # changed since the preview by someone else
            setattr(row, owner_field, new_owner)
            row.save(update_fields=[owner_field, "updated_at"])
            audit_record_change(
                action=AuditAction.UPDATE,
                instance=row,
                before={owner_field: str(leaving.pk)},
                after={owner_field: str(new_owner.pk)},
                extra={"handover": {"from": leaving.username, "by": actor.username}},
            )
    _accounts_apply(plan, actor=actor, leaving=leaving)
    security_event(
        SecurityEventKind.OWNERSHIP_CHANGE,
        actor=actor,
        handover_from=leaving.username,
        counts=plan.counts(),
        to=sorted({i.new_owner.username for i in plan.items if i.new_owner}),
    )
    if deactivate:
        user_deactivate(user=leaving)
    return plan


def _accounts_apply(plan: HandoverPlan, *, actor: User, leaving: User) -> None:
    """Move the leaver's account ownerships and account team places (inside the apply)."""
    extra = {"handover": {"from": leaving.username, "by": actor.username}}
    owned = {item.id: item for item in plan.items if item.kind == "account"}
    rows = AccountOwner.objects.select_for_update().filter(pk__in=list(owned)).order_by("pk")
    for row in rows:
        new_owner = owned[row.pk].new_owner
        assert new_owner is not None
        if row.owner_id != leaving.pk:
            continue  # changed since the preview by someone else
        row.owner, row.source, row.rule = new_owner, OwnershipSource.HANDOVER, None
        row.save(update_fields=["owner", "source", "rule", "updated_at"])
        audit_record_change(
            action=AuditAction.UPDATE,
            instance=row,
            before={"owner": str(leaving.pk)},
            after={"owner": str(new_owner.pk)},
            extra=extra,
        )
    places = {item.id: item for item in plan.items if item.kind == "account_team"}
    members = (
        AccountTeamMember.objects.select_for_update().filter(pk__in=list(places)).order_by("pk")
    )
    for member in members:
        new_user = places[member.pk].new_owner
        assert new_user is not None
        if member.user_id != leaving.pk:
            continue
        if AccountTeamMember.objects.filter(account_id=member.account_id, user=new_user).exists():
            audited_delete(member, what="account team member", extra_before=extra)
            continue
        member.user = new_user
        member.save(update_fields=["user", "updated_at"])
        audit_record_change(
            action=AuditAction.UPDATE,
            instance=member,
            before={"user": str(leaving.pk)},
            after={"user": str(new_user.pk)},
            extra=extra,
        )


def still_owned_by(user: User) -> dict[str, int]:
    """Open work and accounts still in ``user``'s name (empty after a complete handover)."""
    counts = {
        "lead": Lead.objects.filter(owner=user, status__in=OPEN_LEAD_STATUSES).count(),
        "opportunity": Opportunity.objects.filter(
            owner=user, stage__outcome=StageOutcome.OPEN
        ).count(),
        "activity": Activity.objects.filter(Q(performed_by=user) & Q(is_done=False)).count(),
        "account": AccountOwner.objects.filter(owner=user).count(),
        "account_team": AccountTeamMember.objects.filter(user=user).count(),
    }
    return {k: v for k, v in counts.items() if v}
