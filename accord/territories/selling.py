"""Cross-selling rules: who may sell what to an account, and the exceptions reps ask for.

The rules (configured by an administrator in :class:`~accord.territories.models.
SellingPolicy`; one row, defaults when there is none) decide whether ``user`` may open an
opportunity, change its lines or log a sale on ``account`` for ``business_unit`` (the
opportunity's unit, by default its owner's):

* **people who are not sellers pass** — administrators, integration users and the CRM team
  (data stewards) keep records right; they do not compete for customers;
* **across units** (``cross_unit_product_lines_only``) — when another unit owns the account,
  a unit sells it only the product lines it sells (``BusinessUnit.product_lines``);
* **within a unit** (``same_unit_owner_only``) — an account the unit has an owner for (for
  the whole unit, or for the product lines sold) is sold to only by that owner, the people
  the owner reports to, members of the account team with write access to its
  opportunities, and holders of an approved, unexpired exception covering the lines;
* **outside the territory** (``outside_territory``) — an account without an owner in the
  unit, in a district the seller (and their team) does not cover, is allowed, allowed only
  with an exception, or blocked.

Every refusal carries a stable ``code``, a message that names the owner and says what to
do, and the options open to the rep: ask the owner's manager for an exception
(:func:`selling_exception_request`, decided by :func:`selling_exception_decide`) or open an
ownership dispute (``/accounts/<id>/claim/``, ``POST /api/v1/disputes``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accord.audit.models import AuditAction
from accord.audit.services import audit_record_change, snapshot
from accord.core.errors import Conflict, PermissionDenied, ValidationFailed
from accord.customers.models import Account
from accord.org.models import BusinessUnit, ProductLine, Role, User
from accord.org.notifications import notify
from accord.territories import visibility
from accord.territories.models import (
    Access,
    AccountOwner,
    AccountTeamMember,
    ExceptionStatus,
    OutsideTerritory,
    SellingException,
    SellingPolicy,
)

#: People who keep records right but do not sell: the rules do not apply to them.
NOT_SELLER_ROLES = frozenset({Role.ADMINISTRATOR, Role.INTEGRATION, Role.CRM_OFFICER})
REASON_MAX = 2000

# Stable codes of the decisions.
ALLOWED_NOT_A_SELLER = "selling_not_a_seller"
ALLOWED_OWNER = "selling_owner"
ALLOWED_TEAM = "selling_account_team"
ALLOWED_EXCEPTION = "selling_exception"
ALLOWED = "selling_allowed"
OWNED_BY_OTHER = "cross_sell_owned_by_other"
PRODUCT_LINE_NOT_SOLD = "cross_sell_product_line_not_sold"
OUTSIDE_TERRITORY = "cross_sell_outside_territory"

REQUEST_EXCEPTION = "request_exception"
OPEN_DISPUTE = "open_dispute"
VIEW_EXCEPTION = "view_exception"


def policy() -> SellingPolicy:
    """The selling policy in force: the administrator's row, or the defaults (unsaved)."""
    found = SellingPolicy.objects.order_by("created_at").first()
    return found if found is not None else SellingPolicy()


# --- the decision -------------------------------------------------------------------------


@dataclass(frozen=True)
class SellingOption:
    """Something the rep can do instead: a page (``url``) and the API call (``api``)."""

    action: str
    label: str
    url: str
    api: str
    method: str = "POST"

    def as_dict(self) -> dict[str, str]:
        return {
            "action": self.action,
            "label": self.label,
            "url": self.url,
            "api": self.api,
            "method": self.method,
        }


@dataclass(frozen=True)
class SellingDecision:
    allowed: bool
    code: str
    message: str = ""
    options: tuple[SellingOption, ...] = ()
    #: The owner who stands in the way (or, allowed, whose account it is).
    owner: User | None = None
    #: Who would decide an exception (``None``: an administrator).
    approver: User | None = None
    #: The approved exception that allows the sale, or the pending request.
    exception: SellingException | None = None
    exception_possible: bool = False
    product_lines: tuple[ProductLine, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "code": self.code,
            "message": self.message,
            "options": [o.as_dict() for o in self.options],
            "owner": self.owner.pk if self.owner is not None else None,
            "owner_name": str(self.owner) if self.owner is not None else None,
            "approver": self.approver.pk if self.approver is not None else None,
            "approver_name": str(self.approver) if self.approver is not None else None,
            "exception": self.exception.pk if self.exception is not None else None,
        }


def is_seller(user: User) -> bool:
    return not (user.is_superuser or user.role in NOT_SELLER_ROLES)


def _product_lines(product_lines: Iterable[Any]) -> list[ProductLine]:
    ids: set[uuid.UUID] = set()
    given: dict[uuid.UUID, ProductLine] = {}
    for line in product_lines:
        if isinstance(line, ProductLine):
            given[line.pk] = line
        elif line is not None and line != "":
            ids.add(uuid.UUID(str(line)))
    if ids - given.keys():
        given.update(ProductLine.objects.in_bulk(list(ids - given.keys())))
    return sorted(given.values(), key=lambda pl: pl.name)


def _names(lines: Sequence[ProductLine]) -> str:
    return ", ".join(pl.name for pl in lines)


def _acts_for(user: User, owner: User) -> bool:
    """``user`` is ``owner`` or someone ``owner`` reports to (directly or not)."""
    return user.pk == owner.pk or user.pk in visibility.manager_chain_ids(owner)


def _responsible(rows: Sequence[AccountOwner], lines: Sequence[ProductLine]) -> list[AccountOwner]:
    """The owners (in one unit) of the lines sold: a line's own owner, else the unit's."""
    unit_wide = next((r for r in rows if r.product_line_id is None), None)
    by_line = {r.product_line_id: r for r in rows if r.product_line_id is not None}
    if not lines:
        return [unit_wide] if unit_wide is not None else list(by_line.values())
    found: dict[uuid.UUID, AccountOwner] = {}
    for line in lines:
        row = by_line.get(line.pk, unit_wide)
        if row is not None:
            found[row.pk] = row
    return list(found.values())


def _valid_exceptions(
    user: User, account: Account, business_unit: BusinessUnit
) -> list[SellingException]:
    now = timezone.now()
    return list(
        SellingException.objects.filter(
            requester=user,
            account=account,
            business_unit=business_unit,
            status=ExceptionStatus.APPROVED,
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .prefetch_related("product_lines")
    )


def _covering(
    exceptions: Sequence[SellingException], lines: Sequence[ProductLine]
) -> SellingException | None:
    """The exception that covers ``lines`` (one with no lines covers every line)."""
    for exc in exceptions:
        if not exc.product_lines.all():
            return exc
    wanted = {pl.pk for pl in lines}
    granted: set[uuid.UUID] = set()
    for exc in exceptions:
        granted |= {pl.pk for pl in exc.product_lines.all()}
        if wanted <= granted:
            return exc
    return None


def _pending(user: User, account: Account, business_unit: BusinessUnit) -> SellingException | None:
    return (
        SellingException.objects.filter(
            requester=user,
            account=account,
            business_unit=business_unit,
            status=ExceptionStatus.PENDING,
        )
        .select_related("approver")
        .first()
    )


def _options(
    *,
    account: Account,
    business_unit: BusinessUnit,
    lines: Sequence[ProductLine],
    exception_possible: bool,
    pending: SellingException | None,
) -> tuple[SellingOption, ...]:
    options: list[SellingOption] = []
    if pending is not None:
        options.append(
            SellingOption(
                VIEW_EXCEPTION,
                _("See your exception request"),
                reverse("web:selling_exception_detail", args=[pending.pk]),
                f"/api/v1/selling/exceptions/{pending.pk}",
                "GET",
            )
        )
    elif exception_possible:
        query = {"unit": str(business_unit.pk)}
        if lines:
            query["lines"] = ",".join(str(pl.pk) for pl in lines)
        options.append(
            SellingOption(
                REQUEST_EXCEPTION,
                _("Ask for an exception"),
                reverse("web:selling_exception_new", args=[account.pk]) + "?" + urlencode(query),
                "/api/v1/selling/exceptions",
            )
        )
    options.append(
        SellingOption(
            OPEN_DISPUTE,
            _("Open an ownership dispute"),
            f"/accounts/{account.pk}/claim/",
            "/api/v1/disputes",
        )
    )
    return tuple(options)


def _ask(approver: User | None, pending: SellingException | None, *, possible: bool) -> str:
    """The sentence that tells the rep what to do."""
    if pending is not None:
        who = str(pending.approver) if pending.approver is not None else _("an administrator")
        return _("Your exception request is waiting for %(who)s's decision.") % {"who": who}
    if not possible:
        return _("Open an ownership dispute if the account should be yours.")
    who = str(approver) if approver is not None else _("an administrator")
    return _(
        "Ask %(who)s for an exception, or open an ownership dispute if the account should be yours."
    ) % {"who": who}


def selling_decision(
    *,
    user: User,
    account: Account,
    business_unit: BusinessUnit,
    product_lines: Iterable[Any] = (),
    actor: User | None = None,
) -> SellingDecision:
    """May ``user`` sell ``product_lines`` (instances or ids; none: not known yet) to
    ``account`` for ``business_unit``? ``actor`` (who makes the change, when not ``user``)
    passes too when they are not a seller."""
    lines = _product_lines(product_lines)
    if not is_seller(user) or (actor is not None and not is_seller(actor)):
        return SellingDecision(True, ALLOWED_NOT_A_SELLER, product_lines=tuple(lines))
    rules = policy()
    rows = list(
        AccountOwner.objects.filter(account=account).select_related(
            "owner__manager", "business_unit", "product_line"
        )
    )
    in_unit = [r for r in rows if r.business_unit_id == business_unit.pk]
    elsewhere = [r for r in rows if r.business_unit_id != business_unit.pk]
    exceptions = _valid_exceptions(user, account, business_unit)
    covering = _covering(exceptions, lines) if exceptions else None
    on_team = AccountTeamMember.objects.filter(
        account=account, user=user, opportunity_access=Access.READ_WRITE
    ).exists()

    def refuse(code: str, text: str, owner: User | None, approver: User | None) -> SellingDecision:
        pending = _pending(user, account, business_unit)
        possible = code != OUTSIDE_TERRITORY or rules.outside_territory != OutsideTerritory.BLOCK
        return SellingDecision(
            False,
            code,
            f"{text} {_ask(approver, pending, possible=possible)}",
            _options(
                account=account,
                business_unit=business_unit,
                lines=lines,
                exception_possible=possible,
                pending=pending,
            ),
            owner=owner,
            approver=approver,
            exception=pending,
            exception_possible=possible and pending is None,
            product_lines=tuple(lines),
        )

    # Across units: only the lines this unit sells.
    if rules.cross_unit_product_lines_only and elsewhere and lines and covering is None:
        sold = set(business_unit.product_lines.values_list("pk", flat=True))
        not_sold = [pl for pl in lines if pl.pk not in sold]
        if not_sold:
            other = _responsible(elsewhere, not_sold) or elsewhere
            owner = other[0].owner
            return refuse(
                PRODUCT_LINE_NOT_SOLD,
                _(
                    "%(unit)s does not sell %(lines)s, and %(account)s is %(owner)s's account "
                    "in %(other_unit)s: a unit sells another unit's accounts only the product "
                    "lines it sells."
                )
                % {
                    "unit": business_unit.name,
                    "lines": _names(not_sold),
                    "account": account.legal_name,
                    "owner": owner,
                    "other_unit": other[0].business_unit.name,
                },
                owner,
                owner.manager,
            )

    # Within the unit: the owner of the lines, their managers, the team, an exception.
    responsible = _responsible(in_unit, lines)
    if responsible:
        others = [r for r in responsible if not _acts_for(user, r.owner)]
        if not lines and len(others) < len(responsible):
            others = []  # no lines yet: owning a part of the account is enough
        if not others or not rules.same_unit_owner_only:
            return SellingDecision(
                True, ALLOWED_OWNER, owner=responsible[0].owner, product_lines=tuple(lines)
            )
        if on_team:
            return SellingDecision(
                True, ALLOWED_TEAM, owner=others[0].owner, product_lines=tuple(lines)
            )
        if covering is not None:
            return SellingDecision(
                True,
                ALLOWED_EXCEPTION,
                owner=others[0].owner,
                exception=covering,
                product_lines=tuple(lines),
            )
        owner = others[0].owner
        scope = (
            _("for %(lines)s") % {"lines": others[0].product_line.name}
            if others[0].product_line is not None
            else _("in %(unit)s") % {"unit": business_unit.name}
        )
        return refuse(
            OWNED_BY_OTHER,
            _(
                "%(account)s is %(owner)s's account %(scope)s: only the owner, their managers "
                "and the account team sell to it."
            )
            % {"account": account.legal_name, "owner": owner, "scope": scope},
            owner,
            owner.manager,
        )

    # No owner in the unit: the territory.
    district_id = account.district_id
    if (
        district_id is not None
        and rules.outside_territory != OutsideTerritory.ALLOW
        and district_id not in visibility.scope_of(user).district_ids
    ):
        if on_team:
            return SellingDecision(True, ALLOWED_TEAM, product_lines=tuple(lines))
        if rules.outside_territory == OutsideTerritory.EXCEPTION and covering is not None:
            return SellingDecision(
                True, ALLOWED_EXCEPTION, exception=covering, product_lines=tuple(lines)
            )
        where = account.district.name if account.district is not None else "—"
        if rules.outside_territory == OutsideTerritory.BLOCK:
            text = _(
                "%(account)s is in %(district)s, outside your districts, and has no owner in "
                "%(unit)s: selling outside your territory is not allowed."
            )
        else:
            text = _(
                "%(account)s is in %(district)s, outside your districts, and has no owner in "
                "%(unit)s: selling outside your territory needs an approved exception."
            )
        return refuse(
            OUTSIDE_TERRITORY,
            text % {"account": account.legal_name, "district": where, "unit": business_unit.name},
            None,
            user.manager,
        )
    return SellingDecision(True, ALLOWED, product_lines=tuple(lines))


def require_selling_allowed(
    *,
    user: User,
    account: Account,
    business_unit: BusinessUnit,
    product_lines: Iterable[Any] = (),
    actor: User | None = None,
) -> SellingDecision:
    """:func:`selling_decision`, raising ``PermissionDenied`` (its code, message and
    ``options``) when it refuses."""
    decision = selling_decision(
        user=user,
        account=account,
        business_unit=business_unit,
        product_lines=product_lines,
        actor=actor,
    )
    if not decision.allowed:
        raise PermissionDenied(
            decision.message,
            code=decision.code,
            extra={"options": [o.as_dict() for o in decision.options]},
        )
    return decision


# --- exceptions: reads --------------------------------------------------------------------


def is_expired(exception: SellingException, *, now: dt.datetime | None = None) -> bool:
    return (
        exception.status == ExceptionStatus.APPROVED
        and exception.valid_until is not None
        and exception.valid_until <= (now or timezone.now())
    )


def selling_exceptions_visible_to(user: User) -> QuerySet[SellingException]:
    """All of them for the people who see everything; else the user's and their reports'
    requests, and those the user is to decide."""
    qs = SellingException.objects.all()
    scope = visibility.scope_of(user)
    if scope.sees_all:
        return qs
    if not user.is_active:
        return qs.none()
    return qs.filter(Q(requester_id__in=scope.user_ids) | Q(approver=user))


def selling_exceptions_to_decide(user: User) -> QuerySet[SellingException]:
    """The approver's queue: pending requests they decide (an administrator: also those
    nobody else can decide)."""
    qs = SellingException.objects.filter(status=ExceptionStatus.PENDING)
    if may_decide_any(user):
        return qs.filter(Q(approver=user) | Q(approver__isnull=True))
    return qs.filter(approver=user)


def may_decide_any(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role == Role.ADMINISTRATOR)


def may_decide(user: User, exception: SellingException) -> bool:
    return user.is_active and (exception.approver_id == user.pk or may_decide_any(user))


# --- exceptions: writes -------------------------------------------------------------------


def _locked(exception: SellingException) -> SellingException:
    return SellingException.objects.select_for_update().get(pk=exception.pk)


def _must_be_pending(exception: SellingException) -> None:
    if exception.status != ExceptionStatus.PENDING:
        raise Conflict(
            _("This exception request has already been decided or withdrawn (%(status)s).")
            % {"status": exception.get_status_display()},
            code="selling_exception_not_pending",
        )


def _snapshot(exception: SellingException) -> dict[str, Any]:
    data = snapshot(exception)
    data["product_lines"] = sorted(str(pl.pk) for pl in exception.product_lines.all())
    return data


def _notify(
    recipient: User, exception: SellingException, *, kind: str, title: str, body: str
) -> None:
    notify(
        recipient=recipient,
        kind=kind,
        title=title,
        body=body,
        url=reverse("web:selling_exception_detail", args=[exception.pk]),
        related=exception,
    )


@transaction.atomic
def selling_exception_request(
    *,
    actor: User,
    account: Account,
    business_unit: BusinessUnit | None = None,
    product_lines: Iterable[Any] = (),
    reason: str,
) -> SellingException:
    """``actor`` asks to sell ``product_lines`` (none: every line) to ``account`` for
    ``business_unit`` (default: theirs). Decided by the owner's manager (outside the
    territory: the rep's own manager; nobody: an administrator)."""
    if not is_seller(actor) or not visibility.may_create_selling_records(actor):
        raise PermissionDenied(
            _("Only sales people ask for selling exceptions."),
            code="selling_exception_not_a_seller",
        )
    unit = business_unit or actor.business_unit
    if unit is None:
        raise ValidationFailed(errors={"business_unit": [_("This field is required.")]})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(errors={"reason": [_("Say why you should sell to this account.")]})
    if len(reason) > REASON_MAX:
        raise ValidationFailed(
            errors={"reason": [_("At most %(n)d characters.") % {"n": REASON_MAX}]}
        )
    lines = _product_lines(product_lines)
    pending = _pending(actor, account, unit)
    if pending is not None:
        raise Conflict(
            _("You already asked for an exception on this account; it is waiting for a decision."),
            code="selling_exception_pending",
            extra={"exception": str(pending.pk)},
        )
    decision = selling_decision(
        user=actor, account=account, business_unit=unit, product_lines=lines
    )
    if decision.allowed:
        raise Conflict(
            _("You may already sell this to the account; no exception is needed."),
            code="selling_exception_not_needed",
        )
    if not decision.exception_possible:
        raise PermissionDenied(
            decision.message,
            code="selling_exception_not_available",
            extra={"options": [o.as_dict() for o in decision.options]},
        )
    approver = decision.approver
    if approver is not None and (not approver.is_active or approver.pk == actor.pk):
        approver = None
    exception = SellingException.objects.create(
        account=account,
        business_unit=unit,
        requester=actor,
        reason=reason,
        approver=approver,
    )
    exception.product_lines.set(lines)
    audit_record_change(
        action=AuditAction.CREATE,
        instance=exception,
        after=_snapshot(exception),
        extra={"refused": [decision.code]},
    )
    recipients = (
        [approver]
        if approver is not None
        else list(User.objects.filter(is_active=True, role=Role.ADMINISTRATOR))
    )
    for recipient in recipients:
        with translation.override(recipient.language):
            _notify(
                recipient,
                exception,
                kind="selling_exception_requested",
                title=_("Selling exception to decide: %(account)s")
                % {"account": account.legal_name},
                body=_("%(rep)s asks to sell %(lines)s to %(account)s: %(reason)s")
                % {
                    "rep": actor,
                    "lines": _names(lines) or _("every product line"),
                    "account": account.legal_name,
                    "reason": reason,
                },
            )
    return exception


@transaction.atomic
def selling_exception_decide(
    *, actor: User, exception: SellingException, approve: bool, note: str = ""
) -> SellingException:
    """The approver (or an administrator) approves — valid for the policy's
    ``exception_valid_days`` — or refuses, saying why."""
    exception = _locked(exception)
    if not may_decide(actor, exception):
        raise PermissionDenied(
            _("Only the owner's manager (or an administrator) decides this exception."),
            code="selling_exception_not_approver",
        )
    _must_be_pending(exception)
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationFailed(
            _("Say why the exception is refused."),
            errors={"note": [_("A reason is required to refuse an exception.")]},
        )
    if len(note) > REASON_MAX:
        raise ValidationFailed(
            errors={"note": [_("At most %(n)d characters.") % {"n": REASON_MAX}]}
        )
    before = _snapshot(exception)
    now = timezone.now()
    exception.status = ExceptionStatus.APPROVED if approve else ExceptionStatus.REFUSED
    exception.decided_by = actor
    exception.decided_at = now
    exception.decision_note = note
    exception.valid_until = (
        now + dt.timedelta(days=policy().exception_valid_days) if approve else None
    )
    exception.save(
        update_fields=[
            "status",
            "decided_by",
            "decided_at",
            "decision_note",
            "valid_until",
            "updated_at",
        ]
    )
    audit_record_change(
        action=AuditAction.UPDATE, instance=exception, before=before, after=_snapshot(exception)
    )
    requester = exception.requester
    account = exception.account
    with translation.override(requester.language):
        if approve:
            title = _("Selling exception approved: %(account)s") % {"account": account.legal_name}
            body = _("You may sell to %(account)s until %(until)s.") % {
                "account": account.legal_name,
                "until": timezone.localtime(exception.valid_until).date().isoformat()
                if exception.valid_until
                else "—",
            }
        else:
            title = _("Selling exception refused: %(account)s") % {"account": account.legal_name}
            body = _("%(who)s refused your exception: %(note)s") % {"who": actor, "note": note}
        if note and approve:
            body += " " + note
        _notify(
            requester,
            exception,
            kind=f"selling_exception_{exception.status}",
            title=title,
            body=body,
        )
    return exception


@transaction.atomic
def selling_exception_withdraw(*, actor: User, exception: SellingException) -> SellingException:
    exception = _locked(exception)
    if exception.requester_id != actor.pk:
        raise PermissionDenied(
            _("Only the person who asked for this exception may withdraw it."),
            code="selling_exception_not_yours",
        )
    _must_be_pending(exception)
    before = _snapshot(exception)
    exception.status = ExceptionStatus.WITHDRAWN
    exception.decided_by = actor
    exception.decided_at = timezone.now()
    exception.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    audit_record_change(
        action=AuditAction.UPDATE, instance=exception, before=before, after=_snapshot(exception)
    )
    return exception
