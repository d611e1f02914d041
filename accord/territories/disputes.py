"""Ownership disputes: a rep claims an account, the manager responsible decides, on the record.

The steps (each audited in the write's transaction, each notifying the people concerned):

* **open** — a rep who may see the account claims it in their business unit, with a reason,
  evidence and optionally the activities that back the claim. The current owner is the
  unit's whole-account owner (:class:`~accord.territories.models.AccountOwner` with no
  product line; there may be none). The *decider* is the owner's manager when that is a
  sales manager of the unit, else an active sales manager of the unit covering the
  account's district, else the claimant's manager (else the region's regional manager).
  The decision is due ``dispute_decision_days`` later (the selling policy).
* **answer** — the owner may answer once, within ``dispute_answer_days``, before the
  decision.
* **decide** — the decider (after escalation: the regional manager of the account's
  region; always: an administrator) keeps the owner, transfers the unit's ownership to the
  claimant, or splits it by product line (the claimant gets the chosen lines of the unit,
  the owner keeps the rest). Every ownership change is audited with the old and new owner.
* **withdraw** — the claimant, while the dispute is undecided.
* **escalate** — :func:`disputes_escalate_overdue` (run by the worker and by
  ``accord disputes-escalate``) hands undecided disputes past their deadline to the
  regional manager with a new deadline.

Who sees a dispute: its claimant, owner and decider and the people above them, the
regional manager of the account's region, and everyone who sees every record.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accord.activities.models import Activity
from accord.audit.models import AuditAction, SecurityEventKind
from accord.audit.security import security_event
from accord.audit.services import audit_record_change, snapshot
from accord.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from accord.customers.models import Account
from accord.org.models import BusinessUnit, ProductLine, Role, User
from accord.org.notifications import notify
from accord.territories import visibility
from accord.territories.models import (
    AccountOwner,
    DisputeOutcome,
    DisputeStatus,
    OwnershipDispute,
    OwnershipSource,
    SellingPolicy,
)

REASON_MAX = 2000
EVIDENCE_MAX = 5000
ANSWER_MAX = 2000
NOTE_MAX = 2000
ACTIVITIES_MAX = 50

#: A dispute waiting for a decision.
UNDECIDED = (DisputeStatus.OPEN, DisputeStatus.ANSWERED, DisputeStatus.ESCALATED)
#: What the escalation looks at (an escalated dispute is not escalated again).
ESCALATABLE = (DisputeStatus.OPEN, DisputeStatus.ANSWERED)


# --- policy and people --------------------------------------------------------------------


def _policy_days() -> tuple[int, int]:
    """(days to answer, days to decide): the selling policy's, or the field defaults."""
    row = SellingPolicy.objects.first()
    if row is not None:
        return row.dispute_answer_days, row.dispute_decision_days
    fields = SellingPolicy._meta
    return (
        int(fields.get_field("dispute_answer_days").get_default()),
        int(fields.get_field("dispute_decision_days").get_default()),
    )


def answer_due(dispute: OwnershipDispute) -> dt.datetime:
    """Until when the owner may answer."""
    return dispute.created_at + dt.timedelta(days=_policy_days()[0])


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def regional_manager_of(account: Account) -> User | None:
    """The active regional manager of the region of the account's district."""
    if account.district_id is None:
        return None
    return (
        User.objects.filter(
            is_active=True, role=Role.REGIONAL_MANAGER, region__districts=account.district_id
        )
        .order_by("username")
        .first()
    )


def _is_unit_manager(user: User | None, unit: BusinessUnit) -> bool:
    return (
        user is not None
        and user.is_active
        and user.role == Role.SALES_MANAGER
        and user.business_unit_id == unit.pk
    )


def dispute_decider(
    *, account: Account, business_unit: BusinessUnit, owner: User | None, claimant: User
) -> User | None:
    """Who decides a claim: the owner's manager when a sales manager of the unit; else an
    active sales manager of the unit covering the account's district; else the claimant's
    manager; else the regional manager. Never the claimant."""
    if owner is not None and owner.manager_id is not None:
        manager = User.objects.filter(pk=owner.manager_id).first()
        if _is_unit_manager(manager, business_unit) and manager != claimant:
            return manager
    covering = (
        User.objects.filter(
            is_active=True,
            role=Role.SALES_MANAGER,
            business_unit=business_unit,
            districts=account.district_id,
        )
        .exclude(pk=claimant.pk)
        .order_by("username")
        .first()
    )
    if covering is not None:
        return covering
    if claimant.manager_id is not None:
        manager = User.objects.filter(pk=claimant.manager_id, is_active=True).first()
        if manager is not None:
            return manager
    regional = regional_manager_of(account)
    return regional if regional != claimant else None


def _is_admin(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role == Role.ADMINISTRATOR)


def may_decide(user: User, dispute: OwnershipDispute) -> bool:
    """The decider; after escalation the regional manager of the account's region; an
    administrator always. Only while the dispute is undecided."""
    if dispute.status not in UNDECIDED or not user.is_active:
        return False
    if _is_admin(user):
        return True
    if user.role in visibility.READ_ONLY_ROLES:
        return False
    if dispute.decider_id == user.pk and user.pk != dispute.claimant_id:
        return True
    return (
        dispute.status == DisputeStatus.ESCALATED
        and user.role == Role.REGIONAL_MANAGER
        and user.region_id is not None
        and dispute.account.district is not None
        and dispute.account.district.region_id == user.region_id
    )


def may_answer(user: User, dispute: OwnershipDispute, *, now: dt.datetime | None = None) -> bool:
    return (
        user.is_active
        and dispute.owner_id == user.pk
        and dispute.status in UNDECIDED
        and dispute.answered_at is None
        and _now(now) <= answer_due(dispute)
    )


def may_withdraw(user: User, dispute: OwnershipDispute) -> bool:
    return user.is_active and dispute.claimant_id == user.pk and dispute.status in UNDECIDED


def may_claim(user: User, account: Account) -> bool:
    """A person who sells (not read-only, in a unit) and sees the account."""
    return (
        user.is_active
        and user.role not in visibility.READ_ONLY_ROLES
        and user.business_unit_id is not None
        and visibility.accounts_visible_to(user).filter(pk=account.pk).exists()
    )


# --- helpers ------------------------------------------------------------------------------


def _locked(dispute: OwnershipDispute) -> OwnershipDispute:
    return (
        OwnershipDispute.objects.select_for_update(of=("self",))
        .select_related("account__district", "business_unit", "claimant", "owner", "decider")
        .get(pk=dispute.pk)
    )


def _must_be_undecided(dispute: OwnershipDispute) -> None:
    if dispute.status not in UNDECIDED:
        raise Conflict(
            _("This dispute is closed (%(status)s).") % {"status": dispute.get_status_display()},
            code="dispute_closed",
        )


def _text(value: str | None, *, field: str, limit: int, required: bool, missing: str) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed(errors={field: [missing]})
    if len(text) > limit:
        raise ValidationFailed(errors={field: [_("At most %(n)d characters.") % {"n": limit}]})
    return text


def _ids(values: Iterable[Any], *, field: str) -> list[uuid.UUID]:
    found: list[uuid.UUID] = []
    for value in values:
        pk = getattr(value, "pk", value)
        try:
            found.append(uuid.UUID(str(pk)))
        except ValueError as exc:
            raise ValidationFailed(
                errors={field: [_("Not a valid id: %(id)s.") % {"id": pk}]}
            ) from exc
    return list(dict.fromkeys(found))


def _dispute_url(dispute: OwnershipDispute) -> str:
    return reverse("web:dispute_detail", args=[dispute.pk])


def _tell(
    people: Iterable[User | None],
    dispute: OwnershipDispute,
    *,
    kind: str,
    title: str,
    body: str,
    skip: User | None = None,
) -> None:
    """Notify each person once, in their language (``title`` and ``body`` are msgids with
    ``%(account)s``, ``%(claimant)s`` and ``%(owner)s``)."""
    seen: set[uuid.UUID] = set()
    for person in people:
        if person is None or person.pk in seen or (skip is not None and person.pk == skip.pk):
            continue
        seen.add(person.pk)
        with translation.override(person.language):
            values = {
                "account": dispute.account.legal_name,
                "claimant": str(dispute.claimant),
                "owner": str(dispute.owner) if dispute.owner else _("nobody"),
            }
            notify(
                recipient=person,
                kind=kind,
                title=_(title) % values,
                body=_(body) % values,
                url=_dispute_url(dispute),
                related=dispute,
            )


def _audit_dispute(
    dispute: OwnershipDispute, *, before: dict[str, Any] | None, step: str, actor: User | None
) -> None:
    audit_record_change(
        action=AuditAction.CREATE if before is None else AuditAction.UPDATE,
        instance=dispute,
        before=before,
        after=snapshot(dispute),
        extra={"dispute_step": step, "by": actor.username if actor else "system"},
    )


# --- writes -------------------------------------------------------------------------------


@transaction.atomic
def dispute_open(
    *,
    actor: User,
    account: Account,
    business_unit: BusinessUnit | None = None,
    reason: str,
    evidence: str = "",
    activities: Iterable[Activity | uuid.UUID | str] = (),
    now: dt.datetime | None = None,
) -> OwnershipDispute:
    """``actor`` claims ``account`` in ``business_unit`` (default: their own unit)."""
    if not visibility.accounts_visible_to(actor).filter(pk=account.pk).exists():
        raise NotFound(_("No such account, or you may not see it."))
    if not actor.is_active or actor.role in visibility.READ_ONLY_ROLES:
        raise PermissionDenied(_("You may not claim accounts."), code="dispute_not_allowed")
    unit = business_unit
    if unit is None:
        if actor.business_unit_id is None:
            raise ValidationFailed(
                errors={"business_unit": [_("You belong to no business unit to claim it for.")]}
            )
        unit = BusinessUnit.objects.get(pk=actor.business_unit_id)
    if unit.pk != actor.business_unit_id:
        raise ValidationFailed(
            errors={"business_unit": [_("You may claim an account only for your own unit.")]}
        )
    reason = _text(
        reason,
        field="reason",
        limit=REASON_MAX,
        required=True,
        missing=_("Say why the account should be yours."),
    )
    evidence = _text(evidence, field="evidence", limit=EVIDENCE_MAX, required=False, missing="")
    activity_ids = _ids(activities, field="activities")
    if len(activity_ids) > ACTIVITIES_MAX:
        raise ValidationFailed(
            errors={"activities": [_("At most %(n)d activities.") % {"n": ACTIVITIES_MAX}]}
        )
    backing = list(
        visibility.activities_visible_to(actor).filter(pk__in=activity_ids, account=account)
    )
    if len(backing) != len(activity_ids):
        raise ValidationFailed(
            errors={"activities": [_("Choose activities on this account that you may see.")]}
        )
    account = (
        Account.objects.select_for_update(of=("self",))
        .select_related("district")
        .get(pk=account.pk)
    )
    current = (
        AccountOwner.objects.filter(account=account, business_unit=unit, product_line__isnull=True)
        .select_related("owner")
        .first()
    )
    owner = current.owner if current is not None else None
    if owner is not None and owner.pk == actor.pk:
        raise Conflict(
            _("You already own this account in %(unit)s.") % {"unit": unit.name},
            code="dispute_already_owner",
        )
    if OwnershipDispute.objects.filter(
        account=account, business_unit=unit, claimant=actor, status__in=UNDECIDED
    ).exists():
        raise Conflict(
            _("You already have an open claim on this account."), code="dispute_duplicate"
        )
    moment = _now(now)
    decider = dispute_decider(account=account, business_unit=unit, owner=owner, claimant=actor)
    dispute = OwnershipDispute(
        account=account,
        business_unit=unit,
        claimant=actor,
        owner=owner,
        reason=reason,
        evidence=evidence,
        decider=decider,
        deadline=moment + dt.timedelta(days=_policy_days()[1]),
    )
    dispute.save(force_insert=True)
    if now is not None:  # a controlled clock: the dispute is opened "now"
        OwnershipDispute.objects.filter(pk=dispute.pk).update(created_at=moment)
        dispute.created_at = moment
    dispute.activities.set(backing)
    audit_record_change(
        action=AuditAction.CREATE,
        instance=dispute,
        after=snapshot(dispute),
        extra={
            "dispute_step": "open",
            "by": actor.username,
            "activities": sorted(str(a.pk) for a in backing),
        },
    )
    _tell(
        [owner],
        dispute,
        kind="dispute_opened",
        title=gettext_noop("%(claimant)s claims %(account)s"),
        body=gettext_noop(
            "%(claimant)s claims %(account)s, which you own. You may answer the claim "
            "before the manager decides."
        ),
    )
    _tell(
        [decider],
        dispute,
        kind="dispute_to_decide",
        title=gettext_noop("Ownership dispute to decide: %(account)s"),
        body=gettext_noop(
            "%(claimant)s claims %(account)s from %(owner)s. Decide before the deadline."
        ),
        skip=owner,
    )
    return dispute


@transaction.atomic
def dispute_answer(
    *, actor: User, dispute: OwnershipDispute, answer: str, now: dt.datetime | None = None
) -> OwnershipDispute:
    """The owner answers the claim: once, within the answer period, before the decision."""
    dispute = _locked(dispute)
    if dispute.owner_id != actor.pk or not actor.is_active:
        raise PermissionDenied(
            _("Only the owner of the account answers the claim."), code="dispute_not_owner"
        )
    _must_be_undecided(dispute)
    if dispute.answered_at is not None:
        raise Conflict(_("The claim has already been answered."), code="dispute_answered")
    moment = _now(now)
    if moment > answer_due(dispute):
        raise Conflict(_("The time to answer this claim is over."), code="dispute_answer_too_late")
    text = _text(
        answer,
        field="answer",
        limit=ANSWER_MAX,
        required=True,
        missing=_("Write your answer."),
    )
    before = snapshot(dispute)
    dispute.owner_answer = text
    dispute.answered_at = moment
    if dispute.status == DisputeStatus.OPEN:
        dispute.status = DisputeStatus.ANSWERED
    dispute.save(update_fields=["owner_answer", "answered_at", "status", "updated_at"])
    _audit_dispute(dispute, before=before, step="answer", actor=actor)
    _tell(
        [dispute.decider, dispute.claimant],
        dispute,
        kind="dispute_answered",
        title=gettext_noop("%(owner)s answered the claim on %(account)s"),
        body=gettext_noop("%(owner)s answered %(claimant)s's claim on %(account)s."),
    )
    return dispute


def _set_owner(
    *,
    dispute: OwnershipDispute,
    product_line: ProductLine | None,
    new_owner: User,
    actor: User,
) -> dict[str, Any]:
    """Give the unit's slot (the whole unit, or one line) to ``new_owner``; audited."""
    row = (
        AccountOwner.objects.select_for_update(of=("self",))
        .filter(
            account=dispute.account,
            business_unit=dispute.business_unit,
            product_line=product_line,
        )
        .first()
    )
    old_owner_id = row.owner_id if row is not None else None
    extra = {
        "dispute": str(dispute.pk),
        "by": actor.username,
        "product_line": product_line.code if product_line is not None else None,
    }
    if row is None:
        row = AccountOwner.objects.create(
            account=dispute.account,
            business_unit=dispute.business_unit,
            product_line=product_line,
            owner=new_owner,
            source=OwnershipSource.DISPUTE,
        )
        audit_record_change(
            action=AuditAction.CREATE,
            instance=row,
            before={"owner": None},
            after={"owner": str(new_owner.pk)},
            extra=extra,
        )
    elif old_owner_id != new_owner.pk:
        row.owner = new_owner
        row.source = OwnershipSource.DISPUTE
        row.rule = None
        row.save(update_fields=["owner", "source", "rule", "updated_at"])
        audit_record_change(
            action=AuditAction.UPDATE,
            instance=row,
            before={"owner": str(old_owner_id)},
            after={"owner": str(new_owner.pk)},
            extra=extra,
        )
    return {
        "product_line": extra["product_line"],
        "from": str(old_owner_id) if old_owner_id else None,
        "to": str(new_owner.pk),
    }


@transaction.atomic
def dispute_decide(
    *,
    actor: User,
    dispute: OwnershipDispute,
    outcome: str,
    product_lines: Iterable[ProductLine | uuid.UUID | str] = (),
    note: str,
    now: dt.datetime | None = None,
) -> OwnershipDispute:
    """Keep the owner, transfer the unit's ownership to the claimant, or split it by
    product line (the claimant gets ``product_lines`` of the unit; the owner the rest)."""
    dispute = _locked(dispute)
    _must_be_undecided(dispute)
    if not may_decide(actor, dispute):
        raise PermissionDenied(
            _("Only the manager responsible (after escalation: the regional manager) decides."),
            code="dispute_not_decider",
        )
    if outcome not in DisputeOutcome.values:
        raise ValidationFailed(errors={"outcome": [_("Choose keep, transfer or split.")]})
    note = _text(
        note,
        field="note",
        limit=NOTE_MAX,
        required=True,
        missing=_("Say why you decide so (it is on the record)."),
    )
    line_ids = _ids(product_lines, field="product_lines")
    lines: list[ProductLine] = []
    if outcome == DisputeOutcome.SPLIT:
        sold = {line.pk: line for line in dispute.business_unit.product_lines.all()}
        if not line_ids:
            raise ValidationFailed(
                errors={"product_lines": [_("Choose the product lines the claimant gets.")]}
            )
        unknown = [pk for pk in line_ids if pk not in sold]
        if unknown:
            raise ValidationFailed(
                errors={
                    "product_lines": [
                        _("Choose product lines that %(unit)s sells.")
                        % {"unit": dispute.business_unit.name}
                    ]
                }
            )
        if len(line_ids) == len(sold):
            raise ValidationFailed(
                errors={
                    "product_lines": [
                        _("To give the claimant every line, transfer the account instead.")
                    ]
                }
            )
        lines = [sold[pk] for pk in line_ids]
    elif line_ids:
        raise ValidationFailed(
            errors={"product_lines": [_("Product lines are chosen only for a split.")]}
        )
    before = snapshot(dispute)
    changes: list[dict[str, Any]] = []
    if outcome == DisputeOutcome.TRANSFER:
        changes.append(
            _set_owner(dispute=dispute, product_line=None, new_owner=dispute.claimant, actor=actor)
        )
    elif outcome == DisputeOutcome.SPLIT:
        for line in lines:
            changes.append(
                _set_owner(
                    dispute=dispute, product_line=line, new_owner=dispute.claimant, actor=actor
                )
            )
    dispute.status = DisputeStatus.DECIDED
    dispute.outcome = outcome
    dispute.decided_by = actor
    dispute.decided_at = _now(now)
    dispute.decision_note = note
    dispute.save(
        update_fields=[
            "status",
            "outcome",
            "decided_by",
            "decided_at",
            "decision_note",
            "updated_at",
        ]
    )
    dispute.split_product_lines.set(lines)
    audit_record_change(
        action=AuditAction.UPDATE,
        instance=dispute,
        before=before,
        after=snapshot(dispute),
        extra={
            "dispute_step": "decide",
            "by": actor.username,
            "split_product_lines": sorted(line.code for line in lines),
            "ownership_changes": changes,
        },
    )
    if changes:
        security_event(
            SecurityEventKind.OWNERSHIP_CHANGE,
            actor=actor,
            dispute=str(dispute.pk),
            account=str(dispute.account_id),
            outcome=outcome,
            changes=changes,
        )
    titles = {
        DisputeOutcome.KEEP: gettext_noop("Dispute decided: %(owner)s keeps %(account)s"),
        DisputeOutcome.TRANSFER: gettext_noop("Dispute decided: %(account)s goes to %(claimant)s"),
        DisputeOutcome.SPLIT: gettext_noop("Dispute decided: %(account)s is split by product line"),
    }
    _tell(
        [dispute.claimant, dispute.owner],
        dispute,
        kind="dispute_decided",
        title=titles[DisputeOutcome(outcome)],
        body=gettext_noop(
            "The claim of %(claimant)s on %(account)s has been decided. See the decision "
            "and its reason."
        ),
    )
    return dispute


@transaction.atomic
def dispute_withdraw(
    *, actor: User, dispute: OwnershipDispute, now: dt.datetime | None = None
) -> OwnershipDispute:
    """The claimant withdraws their claim while it is undecided."""
    dispute = _locked(dispute)
    if dispute.claimant_id != actor.pk:
        raise PermissionDenied(
            _("Only the claimant withdraws a claim."), code="dispute_not_claimant"
        )
    _must_be_undecided(dispute)
    before = snapshot(dispute)
    dispute.status = DisputeStatus.WITHDRAWN
    dispute.decided_by = actor
    dispute.decided_at = _now(now)
    dispute.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    _audit_dispute(dispute, before=before, step="withdraw", actor=actor)
    _tell(
        [dispute.owner, dispute.decider],
        dispute,
        kind="dispute_withdrawn",
        title=gettext_noop("Claim withdrawn: %(account)s"),
        body=gettext_noop("%(claimant)s withdrew their claim on %(account)s."),
    )
    return dispute


def disputes_escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """Hand undecided disputes past their deadline to the regional manager of the account's
    region, with a new deadline; return how many. Escalated disputes are not escalated
    again, so running it twice changes nothing the second time."""
    moment = _now(now)
    due = list(
        OwnershipDispute.objects.filter(status__in=ESCALATABLE, deadline__lt=moment)
        .order_by("deadline", "pk")
        .values_list("pk", flat=True)
    )
    escalated = 0
    for pk in due:
        escalated += _escalate_one(pk, moment)
    return escalated


@transaction.atomic
def _escalate_one(pk: uuid.UUID, moment: dt.datetime) -> int:
    dispute = (
        OwnershipDispute.objects.select_for_update(of=("self",))
        .select_related("account__district", "business_unit", "claimant", "owner", "decider")
        .filter(pk=pk, status__in=ESCALATABLE, deadline__lt=moment)
        .first()
    )
    if dispute is None:  # decided, withdrawn or escalated meanwhile
        return 0
    before = snapshot(dispute)
    missed = dispute.decider
    regional = regional_manager_of(dispute.account)
    dispute.status = DisputeStatus.ESCALATED
    dispute.escalated_at = moment
    if regional is not None:
        dispute.decider = regional
    dispute.deadline = moment + dt.timedelta(days=_policy_days()[1])
    dispute.save(update_fields=["status", "escalated_at", "decider", "deadline", "updated_at"])
    _audit_dispute(dispute, before=before, step="escalate", actor=None)
    _tell(
        [dispute.decider],
        dispute,
        kind="dispute_escalated",
        title=gettext_noop("Ownership dispute escalated to you: %(account)s"),
        body=gettext_noop(
            "%(claimant)s's claim on %(account)s was not decided in time and is now yours "
            "to decide."
        ),
    )
    _tell(
        [dispute.claimant, dispute.owner, missed],
        dispute,
        kind="dispute_escalated",
        title=gettext_noop("Ownership dispute escalated: %(account)s"),
        body=gettext_noop(
            "The claim of %(claimant)s on %(account)s was not decided in time; the regional "
            "manager decides it now."
        ),
        skip=dispute.decider,
    )
    return 1


# --- reads --------------------------------------------------------------------------------


def disputes_visible_to(user: User) -> QuerySet[OwnershipDispute]:
    """Claimant, owner and decider, and the people above them; the regional manager of the
    account's region; everyone who sees every record."""
    scope = visibility.scope_of(user)
    qs = OwnershipDispute.objects.all()
    if scope.sees_all:
        return qs
    if not user.is_active or user.pk is None:
        return qs.none()
    people = scope.user_ids
    condition = Q(claimant_id__in=people) | Q(owner_id__in=people) | Q(decider_id__in=people)
    if user.role == Role.REGIONAL_MANAGER and user.region_id is not None:
        condition |= Q(account__district__region_id=user.region_id)
    return qs.filter(condition)


def disputes_of_account(user: User, account: Account) -> QuerySet[OwnershipDispute]:
    """The account's disputes ``user`` may see: the undecided first, then the past ones,
    most recent first."""
    return (
        disputes_visible_to(user)
        .filter(account=account)
        .select_related("business_unit", "claimant", "owner", "decider")
        .order_by(F("decided_at").desc(nulls_first=True), "-created_at", "-pk")
    )


def dispute_get(user: User, pk: Any) -> OwnershipDispute:
    """One dispute ``user`` may see (else :class:`NotFound`)."""
    from accord.core.selectors import get_visible

    return get_visible(
        disputes_visible_to(user).select_related(
            "account__district",
            "business_unit",
            "claimant",
            "owner",
            "decider",
            "decided_by",
        ),
        pk,
        what="dispute",
    )


def dispute_timeline(dispute: OwnershipDispute) -> list[dict[str, Any]]:
    """The steps of a dispute, oldest first: opened, answered, escalated, decided or
    withdrawn (each with when and who)."""
    steps: list[dict[str, Any]] = [
        {"step": "opened", "at": dispute.created_at, "by": dispute.claimant}
    ]
    if dispute.answered_at is not None:
        steps.append({"step": "answered", "at": dispute.answered_at, "by": dispute.owner})
    if dispute.escalated_at is not None:
        steps.append({"step": "escalated", "at": dispute.escalated_at, "by": dispute.decider})
    if dispute.decided_at is not None:
        step = "withdrawn" if dispute.status == DisputeStatus.WITHDRAWN else "decided"
        steps.append({"step": step, "at": dispute.decided_at, "by": dispute.decided_by})
    return sorted(steps, key=lambda s: s["at"])
