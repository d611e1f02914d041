"""Who owns an account: assignment rules, owners per business unit, account teams.

* **Assignment rules** (:class:`~accord.territories.models.AssignmentRule`) are tried per
  business unit by ``position``; the first active rule whose conditions all hold (districts,
  industries; an empty condition always holds) fills its *slot*: the unit as a whole
  (``product_line`` empty) or one product line of the unit. :func:`assignment_for` is the
  pure evaluation; administrators edit the rules (``assignment_rule_*``).
* **Approval assigns**: when a steward creates (approves) an account,
  :func:`account_owners_assign` fills its empty slots from the rules.
* **Re-running the rules** over every account: :func:`assignment_preview` says what would
  change, :func:`assignment_apply` changes it — both walk the accounts in keyset batches
  (one batch, a handful of queries), so they work at a million accounts. With
  ``keep_manual`` owners set by a steward, a manager, a dispute or a handover stay.
  A slot no rule matches any more keeps its owner: rules add and move owners, never
  remove them.
* **Manual ownership**: :func:`account_owner_set` / :func:`account_owner_remove` (stewards,
  administrators and the sales manager of the unit), audited, logged as a security event
  and told to the new and the old owner.
* **Account teams**: :func:`account_team_add` / ``_update`` / ``_remove`` — whoever may
  edit the account manages its team.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from accord.audit.models import AuditAction, SecurityEventKind
from accord.audit.security import security_event
from accord.audit.services import audit_event, audit_record_change, audited_delete, snapshot
from accord.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from accord.core.services import resolve
from accord.customers.models import Account, AccountStatus, Industry
from accord.org.models import BusinessUnit, District, ProductLine, Role, User
from accord.org.notifications import notify
from accord.territories import visibility
from accord.territories.models import (
    Access,
    AccountOwner,
    AccountTeamMember,
    AccountTeamRole,
    AssignmentRule,
    OwnershipSource,
)

Slot = tuple[uuid.UUID, uuid.UUID | None]  # (business unit, product line or None)

#: Owners a person chose (not a rule): a re-run with ``keep_manual`` leaves them.
MANUAL_SOURCES = frozenset(
    {
        OwnershipSource.STEWARD,
        OwnershipSource.MANAGER,
        OwnershipSource.DISPUTE,
        OwnershipSource.HANDOVER,
    }
)
BATCH_SIZE = 2000
PREVIEW_LIMIT = 200


# --- evaluation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedRule:
    """A rule with its conditions read once (districts as a set of ids)."""

    rule: AssignmentRule
    district_ids: frozenset[uuid.UUID]
    industries: frozenset[str]

    @property
    def slot(self) -> Slot:
        return (self.rule.business_unit_id, self.rule.product_line_id)

    def matches(self, account: Account) -> bool:
        if self.district_ids and account.district_id not in self.district_ids:
            return False
        return not self.industries or account.industry in self.industries


def assignment_rules_load() -> list[LoadedRule]:
    """The active rules of active units whose owner is active, in the order they are tried
    (three queries, whatever the number of rules)."""
    rules = (
        AssignmentRule.objects.filter(
            is_active=True, business_unit__is_active=True, owner__is_active=True
        )
        .select_related("owner", "business_unit", "product_line")
        .prefetch_related("districts")
        .order_by("business_unit__name", "business_unit_id", "position", "name", "id")
    )
    return [
        LoadedRule(
            rule,
            frozenset(d.pk for d in rule.districts.all()),
            frozenset(str(i) for i in rule.industries or []),
        )
        for rule in rules
    ]


def assignment_for(
    account: Account, rules: Sequence[LoadedRule] | None = None
) -> dict[Slot, tuple[User, AssignmentRule]]:
    """Slot → (owner, rule) the rules give ``account``: per slot, the first matching rule."""
    if rules is None:
        rules = assignment_rules_load()
    found: dict[Slot, tuple[User, AssignmentRule]] = {}
    for loaded in rules:
        if loaded.slot not in found and loaded.matches(account):
            found[loaded.slot] = (loaded.rule.owner, loaded.rule)
    return found


# --- helpers ------------------------------------------------------------------------------


def _account_url(account_id: uuid.UUID) -> str:
    return reverse("web:account_detail", args=[account_id])


def _slot_label(unit: BusinessUnit, line: ProductLine | None) -> str:
    return f"{unit.name} · {line.name}" if line is not None else unit.name


def _user_label(user: User | None) -> str:
    if user is None:
        return "nobody"
    return user.get_full_name() or user.username


def _is_admin(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role == Role.ADMINISTRATOR)


def may_set_owner(actor: User, business_unit: BusinessUnit) -> bool:
    """Stewards and administrators; the sales manager of ``business_unit``."""
    if visibility.may_create_accounts(actor):
        return True
    return (
        actor.is_active
        and actor.role == Role.SALES_MANAGER
        and actor.business_unit_id == business_unit.pk
    )


def _visible_account(actor: User, account: Account) -> Account:
    """``account`` locked for the write, or 404 when ``actor`` may not see it."""
    found = visibility.accounts_visible_to(actor).select_for_update().filter(pk=account.pk).first()
    if found is None:
        raise NotFound("No such account, or you may not see it.")
    if found.status == AccountStatus.MERGED:
        raise Conflict(
            "This account was merged; change the owners of the surviving account.",
            code="account_merged",
        )
    return found


def _check_owner(owner: User, unit: BusinessUnit, line: ProductLine | None) -> None:
    errors: dict[str, list[str]] = {}
    if not owner.is_active:
        errors["owner"] = ["The owner must be an active user."]
    elif owner.business_unit_id != unit.pk:
        errors["owner"] = [f"The owner must be a member of {unit.name}."]
    if line is not None and not unit.product_lines.filter(pk=line.pk).exists():
        errors["product_line"] = [f"{unit.name} does not sell {line.name}."]
    if errors:
        raise ValidationFailed(errors=errors)


def _owner_security_event(
    *, actor: User | None, account: Account, slot: str, old: User | None, new: User | None
) -> None:
    security_event(
        SecurityEventKind.OWNERSHIP_CHANGE,
        actor=actor,
        account=str(account.pk),
        customer_code=account.customer_code,
        slot=slot,
        old_owner=old.username if old is not None else None,
        new_owner=new.username if new is not None else None,
    )


def _notify_owners(
    *, account: Account, slot: str, old: User | None, new: User | None, actor: User
) -> None:
    url = _account_url(account.pk)
    if new is not None and new.pk != actor.pk:
        notify(
            recipient=new,
            kind="account_owner_assigned",
            title=f"You now own {account.legal_name} ({slot})",
            body=f"{_user_label(actor)} made you the owner of {account} in {slot}.",
            url=url,
            related=account,
        )
    if old is not None and old.pk != actor.pk and (new is None or old.pk != new.pk):
        notify(
            recipient=old,
            kind="account_owner_removed",
            title=f"You no longer own {account.legal_name} ({slot})",
            body=f"{_user_label(actor)} gave {account} in {slot} to {_user_label(new)}.",
            url=url,
            related=account,
        )


# --- approval: fill the empty slots -------------------------------------------------------


@transaction.atomic
def account_owners_assign(
    *, actor: User, account: Account, source: str = OwnershipSource.RULE
) -> list[AccountOwner]:
    """Give ``account`` an owner in every slot the rules fill and nobody holds yet (called
    when a steward approves an account). Returns the rows created."""
    if not visibility.may_create_accounts(actor):
        raise PermissionDenied(
            "Owners are assigned when the CRM team approves an account.",
            code="account_owner_not_allowed",
        )
    if account.status == AccountStatus.MERGED:
        return []
    taken = set(
        AccountOwner.objects.filter(account=account).values_list(
            "business_unit_id", "product_line_id"
        )
    )
    created: list[AccountOwner] = []
    for (unit_id, line_id), (owner, rule) in assignment_for(account).items():
        if (unit_id, line_id) in taken:
            continue
        row = AccountOwner.objects.create(
            account=account,
            business_unit_id=unit_id,
            product_line_id=line_id,
            owner=owner,
            source=source,
            rule=rule,
        )
        audit_record_change(
            action=AuditAction.CREATE,
            instance=row,
            after=snapshot(row),
            extra={"rule": rule.name},
        )
        slot = _slot_label(rule.business_unit, rule.product_line)
        if owner.pk != actor.pk:
            notify(
                recipient=owner,
                kind="account_owner_assigned",
                title=f"You now own {account.legal_name} ({slot})",
                body=f"The assignment rule “{rule.name}” made you the owner of {account}.",
                url=_account_url(account.pk),
                related=account,
            )
        created.append(row)
    return created


# --- manual ownership ---------------------------------------------------------------------


def _slot_row(account: Account, unit: BusinessUnit, line: ProductLine | None) -> Any:
    return (
        AccountOwner.objects.select_for_update()
        .select_related("owner")
        .filter(account=account, business_unit=unit, product_line=line)
        .order_by("pk")  # no outer join from the default ordering: FOR UPDATE refuses one
        .first()
    )


@transaction.atomic
def account_owner_set(
    *,
    actor: User,
    account: Account,
    business_unit: BusinessUnit,
    owner: User,
    product_line: ProductLine | None = None,
) -> AccountOwner:
    """Make ``owner`` responsible for ``account`` in ``business_unit`` (or one line of it)."""
    account = _visible_account(actor, account)
    if not may_set_owner(actor, business_unit):
        raise PermissionDenied(
            "Only the CRM team, an administrator or the unit's sales manager sets owners.",
            code="account_owner_not_allowed",
        )
    _check_owner(owner, business_unit, product_line)
    source = (
        OwnershipSource.STEWARD
        if visibility.may_create_accounts(actor)
        else OwnershipSource.MANAGER
    )
    slot = _slot_label(business_unit, product_line)
    row: AccountOwner | None = _slot_row(account, business_unit, product_line)
    old: User | None = None
    if row is None:
        row = AccountOwner.objects.create(
            account=account,
            business_unit=business_unit,
            product_line=product_line,
            owner=owner,
            source=source,
        )
        audit_record_change(action=AuditAction.CREATE, instance=row, after=snapshot(row))
    else:
        if row.owner_id == owner.pk:
            return row
        old = row.owner
        before = snapshot(row)
        row.owner, row.source, row.rule = owner, source, None
        row.save(update_fields=["owner", "source", "rule", "updated_at"])
        audit_record_change(
            action=AuditAction.UPDATE,
            instance=row,
            before=before,
            after=snapshot(row),
            extra={"owners": [old.username, owner.username]},
        )
    _owner_security_event(actor=actor, account=account, slot=slot, old=old, new=owner)
    _notify_owners(account=account, slot=slot, old=old, new=owner, actor=actor)
    return row


@transaction.atomic
def account_owner_remove(
    *,
    actor: User,
    account: Account,
    business_unit: BusinessUnit,
    product_line: ProductLine | None = None,
) -> None:
    """Leave the slot without an owner (until someone or a rule fills it)."""
    account = _visible_account(actor, account)
    if not may_set_owner(actor, business_unit):
        raise PermissionDenied(
            "Only the CRM team, an administrator or the unit's sales manager sets owners.",
            code="account_owner_not_allowed",
        )
    row = _slot_row(account, business_unit, product_line)
    if row is None:
        raise NotFound("This account has no owner there.")
    old = row.owner
    slot = _slot_label(business_unit, product_line)
    audited_delete(row, what="account owner")
    _owner_security_event(actor=actor, account=account, slot=slot, old=old, new=None)
    _notify_owners(account=account, slot=slot, old=old, new=None, actor=actor)


# --- account teams ------------------------------------------------------------------------

TEAM_FIELDS = ("role", "account_access", "opportunity_access")
_TEAM_CHOICES: dict[str, frozenset[str]] = {
    "role": frozenset(AccountTeamRole.values),
    "account_access": frozenset({Access.READ, Access.READ_WRITE}),
    "opportunity_access": frozenset(Access.values),
}


def _check_team_data(data: Mapping[str, Any]) -> dict[str, str]:
    clean: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for name in TEAM_FIELDS:
        if name not in data:
            continue
        value = str(data[name] or "")
        if value not in _TEAM_CHOICES[name]:
            errors[name] = [f"Choose one of: {', '.join(sorted(_TEAM_CHOICES[name]))}."]
        clean[name] = value
    if errors:
        raise ValidationFailed(errors=errors)
    return clean


def _may_manage_team(actor: User, account: Account) -> None:
    if not visibility.may_edit_account(actor, account):
        raise PermissionDenied(
            "Only who may change this account manages its team.", code="account_team_not_allowed"
        )


def account_team_of(account: Account) -> list[AccountTeamMember]:
    return list(
        AccountTeamMember.objects.filter(account=account)
        .select_related("user")
        .order_by("role", "user__username")
    )


@transaction.atomic
def account_team_add(
    *, actor: User, account: Account, user: User, data: Mapping[str, Any]
) -> AccountTeamMember:
    """Share ``account`` with ``user`` in a role (``data``: role, account_access,
    opportunity_access)."""
    account = _visible_account(actor, account)
    _may_manage_team(actor, account)
    if "role" not in data:
        raise ValidationFailed(errors={"role": ["Choose the person's role on the account."]})
    clean = _check_team_data(data)
    if not user.is_active:
        raise ValidationFailed(errors={"user": ["Choose an active user."]})
    if AccountTeamMember.objects.filter(account=account, user=user).exists():
        raise Conflict(
            f"{_user_label(user)} is already on this account's team.", code="account_team_exists"
        )
    member = AccountTeamMember.objects.create(account=account, user=user, added_by=actor, **clean)
    audit_record_change(action=AuditAction.CREATE, instance=member, after=snapshot(member))
    if user.pk != actor.pk:
        notify(
            recipient=user,
            kind="account_team_added",
            title=f"You are on the team of {account.legal_name}",
            body=f"{_user_label(actor)} added you as {member.get_role_display()}.",
            url=_account_url(account.pk),
            related=account,
        )
    return member


@transaction.atomic
def account_team_update(
    *, actor: User, member: AccountTeamMember, data: Mapping[str, Any]
) -> AccountTeamMember:
    account = _visible_account(actor, member.account)
    _may_manage_team(actor, account)
    member = AccountTeamMember.objects.select_for_update().get(pk=member.pk)
    clean = _check_team_data(data)
    before = snapshot(member)
    for name, value in clean.items():
        setattr(member, name, value)
    member.save(update_fields=[*clean, "updated_at"])
    audit_record_change(
        action=AuditAction.UPDATE, instance=member, before=before, after=snapshot(member)
    )
    return member


@transaction.atomic
def account_team_remove(*, actor: User, member: AccountTeamMember) -> None:
    account = _visible_account(actor, member.account)
    _may_manage_team(actor, account)
    audited_delete(member, what="account team member")


# --- re-running the rules over every account ----------------------------------------------


@dataclass
class OwnerChange:
    account_id: uuid.UUID
    account_label: str
    business_unit_id: uuid.UUID
    business_unit: str
    product_line_id: uuid.UUID | None
    product_line: str
    old_owner: User | None
    new_owner: User
    rule: AssignmentRule


@dataclass
class AssignmentPreview:
    """What a re-run would do. ``counts``: unit name → {"assign": new owners in empty
    slots, "change": owners replaced, "keep": manual owners kept, "same": already right}."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    changes: list[OwnerChange] = field(default_factory=list)
    accounts: int = 0

    @property
    def total_changes(self) -> int:
        return sum(c["assign"] + c["change"] for c in self.counts.values())

    def count(self, unit: str, what: str) -> None:
        row = self.counts.setdefault(unit, {"assign": 0, "change": 0, "keep": 0, "same": 0})
        row[what] += 1


def _may_run_rules(actor: User) -> None:
    if not _is_admin(actor):
        raise PermissionDenied(
            "Only an administrator runs the assignment rules.", code="assignment_admin_only"
        )


def _account_batches(size: int) -> Iterator[list[Account]]:
    """Every account not merged away, in keyset batches by id (one query per batch)."""
    last: uuid.UUID | None = None
    while True:
        qs = (
            Account.objects.exclude(status=AccountStatus.MERGED)
            .only("id", "legal_name", "customer_code", "district_id", "industry", "status")
            .order_by("pk")
        )
        if last is not None:
            qs = qs.filter(pk__gt=last)
        batch = list(qs[:size])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def _batch_changes(
    batch: Sequence[Account],
    rules: Sequence[LoadedRule],
    *,
    keep_manual: bool,
    preview: AssignmentPreview,
    lock: bool = False,
) -> list[tuple[OwnerChange, AccountOwner | None]]:
    """The changes the rules make to one batch (and the counts, added to ``preview``)."""
    rows = (
        AccountOwner.objects.filter(account_id__in=[a.pk for a in batch])
        .select_related("owner")
        .order_by("pk")  # no outer join from the default ordering: FOR UPDATE refuses one
    )
    if lock:
        rows = rows.select_for_update()
    current: dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID | None], AccountOwner] = {
        (r.account_id, r.business_unit_id, r.product_line_id): r for r in rows
    }
    found: list[tuple[OwnerChange, AccountOwner | None]] = []
    for account in batch:
        preview.accounts += 1
        for (unit_id, line_id), (owner, rule) in assignment_for(account, rules).items():
            unit_name = rule.business_unit.name
            row = current.get((account.pk, unit_id, line_id))
            if row is not None and row.owner_id == owner.pk:
                preview.count(unit_name, "same")
                continue
            if row is not None and keep_manual and row.source in MANUAL_SOURCES:
                preview.count(unit_name, "keep")
                continue
            preview.count(unit_name, "assign" if row is None else "change")
            change = OwnerChange(
                account_id=account.pk,
                account_label=str(account),
                business_unit_id=unit_id,
                business_unit=unit_name,
                product_line_id=line_id,
                product_line=rule.product_line.name if rule.product_line else "",
                old_owner=row.owner if row is not None else None,
                new_owner=owner,
                rule=rule,
            )
            found.append((change, row))
    return found


def assignment_preview(
    *,
    actor: User,
    keep_manual: bool = True,
    limit: int = PREVIEW_LIMIT,
    batch_size: int = BATCH_SIZE,
) -> AssignmentPreview:
    """What re-running the rules over every account would change (nothing is changed):
    counts per unit and the first ``limit`` changes."""
    _may_run_rules(actor)
    rules = assignment_rules_load()
    preview = AssignmentPreview()
    for batch in _account_batches(batch_size):
        for change, _row in _batch_changes(batch, rules, keep_manual=keep_manual, preview=preview):
            if len(preview.changes) < limit:
                preview.changes.append(change)
    return preview


def assignment_apply(
    *, actor: User, keep_manual: bool = True, batch_size: int = BATCH_SIZE
) -> dict[str, dict[str, int]]:
    """Re-run the rules over every account and apply what :func:`assignment_preview` shows.

    Each batch is its own transaction (rows locked, then written in bulk, with one audit
    entry per batch listing every owner it changed), so a run over a million accounts
    holds no long lock and a crash loses at most the batch in progress; running it again
    finishes the work. Each new owner is told once, with their count. Returns the counts
    per unit."""
    _may_run_rules(actor)
    rules = assignment_rules_load()
    preview = AssignmentPreview()
    gained: dict[uuid.UUID, int] = defaultdict(int)
    owners: dict[uuid.UUID, User] = {}
    for batch in _account_batches(batch_size):
        now = timezone.now()
        with transaction.atomic():
            changes = _batch_changes(
                batch, rules, keep_manual=keep_manual, preview=preview, lock=True
            )
            if not changes:
                continue
            created: list[AccountOwner] = []
            updated: list[AccountOwner] = []
            for change, row in changes:
                if row is None:
                    created.append(
                        AccountOwner(
                            account_id=change.account_id,
                            business_unit_id=change.business_unit_id,
                            product_line_id=change.product_line_id,
                            owner=change.new_owner,
                            source=OwnershipSource.RULE,
                            rule=change.rule,
                        )
                    )
                else:
                    row.owner, row.source, row.rule = (
                        change.new_owner,
                        OwnershipSource.RULE,
                        change.rule,
                    )
                    row.updated_at = now
                    updated.append(row)
                gained[change.new_owner.pk] += 1
                owners[change.new_owner.pk] = change.new_owner
            AccountOwner.objects.bulk_create(created)
            AccountOwner.objects.bulk_update(updated, ["owner", "source", "rule", "updated_at"])
            audit_event(
                action="rules_assign",
                record_type="territories.accountowner",
                record_id=str(batch[0].pk),  # the batch: accounts batch[0]…batch[-1]
                label=f"Assignment rules re-run: {len(changes)} owners",
                data={
                    "accounts": [str(batch[0].pk), str(batch[-1].pk)],
                    "keep_manual": keep_manual,
                    "by": actor.username,
                    "changes": [
                        {
                            "account": str(c.account_id),
                            "business_unit": str(c.business_unit_id),
                            "product_line": str(c.product_line_id) if c.product_line_id else None,
                            "owner": [
                                str(c.old_owner.pk) if c.old_owner else None,
                                str(c.new_owner.pk),
                            ],
                            "rule": str(c.rule.pk),
                        }
                        for c, _row in changes
                    ],
                },
            )
    with transaction.atomic():
        security_event(
            SecurityEventKind.OWNERSHIP_CHANGE,
            actor=actor,
            assignment_rules=True,
            keep_manual=keep_manual,
            counts=preview.counts,
        )
        for user_id, n in gained.items():
            notify(
                recipient=owners[user_id],
                kind="account_owner_assigned",
                title=f"The assignment rules gave you {n} accounts",
                body="An administrator re-ran the assignment rules; see your accounts.",
                url=reverse("web:account_list") + "?scope=mine",
            )
    return preview.counts


# --- rule administration ------------------------------------------------------------------

RULE_FIELDS = (
    "name",
    "business_unit",
    "product_line",
    "districts",
    "industries",
    "owner",
    "position",
    "is_active",
)


def _may_edit_rules(actor: User) -> None:
    if not _is_admin(actor):
        raise PermissionDenied(
            "Only an administrator edits the assignment rules.", code="assignment_admin_only"
        )


def _ids(value: Any) -> list[Any]:
    if value in (None, ""):
        return []
    if isinstance(value, (str, uuid.UUID)):
        return [value]
    return list(value)


def _clean_rule(
    data: Mapping[str, Any], rule: AssignmentRule | None
) -> tuple[dict[str, Any], list[District] | None]:
    """Resolved values of the fields in ``data`` and the districts (``None``: unchanged),
    checked against each other and the rule's current values."""
    clean: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if "name" in data or rule is None:
        name = str(data.get("name") or "").strip()
        if not name:
            errors["name"] = ["Give the rule a name."]
        elif len(name) > 120:
            errors["name"] = ["At most 120 characters."]
        clean["name"] = name
    for name, model, label in (
        ("business_unit", BusinessUnit, "business unit"),
        ("product_line", ProductLine, "product line"),
        ("owner", User, "user"),
    ):
        if name in data:
            try:
                clean[name] = resolve(model.objects.all(), data[name], field=name, label=label)
            except ValidationFailed as exc:
                errors.update(exc.errors)
    districts: list[District] | None = None
    if "districts" in data:
        wanted = _ids(data["districts"])
        try:
            keys = {uuid.UUID(str(getattr(v, "pk", v))) for v in wanted}
        except ValueError:
            keys = set()
            errors["districts"] = ["Unknown district."]
        districts = list(District.objects.filter(pk__in=keys))
        if len(districts) != len(keys):
            errors["districts"] = ["Unknown district."]
    if "industries" in data:
        industries = [str(i) for i in _ids(data["industries"])]
        unknown = sorted(set(industries) - set(Industry.values))
        if unknown:
            errors["industries"] = [f"Unknown industry: {', '.join(unknown)}."]
        clean["industries"] = sorted(set(industries))
    if "position" in data and data["position"] not in (None, ""):
        try:
            position = int(data["position"])
            if position < 0:
                raise ValueError
            clean["position"] = position
        except (TypeError, ValueError):
            errors["position"] = ["A whole number, 0 or more."]
    if "is_active" in data:
        clean["is_active"] = bool(data["is_active"])
    unit = clean.get("business_unit", rule.business_unit if rule else None)
    owner = clean.get("owner", rule.owner if rule else None)
    line = clean.get("product_line", rule.product_line if rule else None)
    if unit is None and "business_unit" not in errors:
        errors["business_unit"] = ["Choose the business unit."]
    if owner is None and "owner" not in errors:
        errors["owner"] = ["Choose the owner the rule gives."]
    if unit is not None and owner is not None and "owner" not in errors:
        if not owner.is_active:
            errors["owner"] = ["The owner must be an active user."]
        elif owner.business_unit_id != unit.pk:
            errors["owner"] = [f"The owner must be a member of {unit.name}."]
    if (
        unit is not None
        and line is not None
        and "product_line" not in errors
        and not unit.product_lines.filter(pk=line.pk).exists()
    ):
        errors["product_line"] = [f"{unit.name} does not sell {line.name}."]
    if errors:
        raise ValidationFailed(errors=errors)
    return clean, districts


def _rule_snapshot(rule: AssignmentRule) -> dict[str, Any]:
    return {
        **snapshot(rule),
        "districts": sorted(str(pk) for pk in rule.districts.values_list("pk", flat=True)),
    }


@transaction.atomic
def assignment_rule_create(*, actor: User, data: Mapping[str, Any]) -> AssignmentRule:
    _may_edit_rules(actor)
    clean, districts = _clean_rule(data, None)
    rule = AssignmentRule(**clean)
    if "position" not in clean:
        last = AssignmentRule.objects.filter(business_unit=rule.business_unit).aggregate(
            m=Max("position")
        )["m"]
        rule.position = (last or 0) + 10
    rule.save()
    if districts:
        rule.districts.set(districts)
    audit_record_change(action=AuditAction.CREATE, instance=rule, after=_rule_snapshot(rule))
    return rule


@transaction.atomic
def assignment_rule_update(
    *, actor: User, rule: AssignmentRule, data: Mapping[str, Any]
) -> AssignmentRule:
    _may_edit_rules(actor)
    rule = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
    clean, districts = _clean_rule(data, rule)
    before = _rule_snapshot(rule)
    for name, value in clean.items():
        setattr(rule, name, value)
    rule.save()
    if districts is not None:
        rule.districts.set(districts)
    audit_record_change(
        action=AuditAction.UPDATE, instance=rule, before=before, after=_rule_snapshot(rule)
    )
    return rule


@transaction.atomic
def assignment_rule_delete(*, actor: User, rule: AssignmentRule) -> None:
    """Owners the rule gave stay (their ``rule`` is cleared)."""
    _may_edit_rules(actor)
    districts = sorted(str(pk) for pk in rule.districts.values_list("pk", flat=True))
    audited_delete(rule, what="assignment rule", extra_before={"districts": districts})


@transaction.atomic
def assignment_rule_move(*, actor: User, rule: AssignmentRule, position: int) -> AssignmentRule:
    """Put ``rule`` at ``position`` (1 = tried first) among its unit's rules; the unit's
    rules are renumbered 10, 20, 30…"""
    _may_edit_rules(actor)
    siblings = list(
        AssignmentRule.objects.select_for_update()
        .filter(business_unit_id=rule.business_unit_id)
        .order_by("position", "name", "id")
    )
    moving = next((r for r in siblings if r.pk == rule.pk), None)
    if moving is None:
        raise NotFound("No such assignment rule.")
    siblings.remove(moving)
    index = min(max(int(position), 1), len(siblings) + 1) - 1
    siblings.insert(index, moving)
    for number, sibling in enumerate(siblings, start=1):
        new_position = number * 10
        if sibling.position != new_position:
            old_position = sibling.position
            sibling.position = new_position
            sibling.save(update_fields=["position", "updated_at"])
            audit_record_change(
                action=AuditAction.UPDATE,
                instance=sibling,
                before={"position": old_position},
                after={"position": new_position},
            )
    return moving


def assignment_rules_list(*, actor: User) -> list[AssignmentRule]:
    _may_edit_rules(actor)
    return list(
        AssignmentRule.objects.select_related("business_unit", "product_line", "owner")
        .prefetch_related("districts")
        .order_by("business_unit__name", "position", "name", "id")
    )


def assignment_rule_get(*, actor: User, pk: Any) -> AssignmentRule:
    _may_edit_rules(actor)
    try:
        return AssignmentRule.objects.select_related("business_unit", "owner").get(
            pk=uuid.UUID(str(pk))
        )
    except (ValueError, AssignmentRule.DoesNotExist) as exc:
        raise NotFound("No such assignment rule.") from exc
