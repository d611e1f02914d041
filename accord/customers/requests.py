"""Account requests: a rep asks for a new account, a data steward decides.

Reps do not create accounts (only the CRM team does, ``services.account_create``); they
*request* one. The request runs the same data-entry template and duplicate check as an
account: a blocking look-alike refuses it unless the rep says why it is not a duplicate
(``justification``), and the candidates shown are stored with it. A steward then

* **approves** it — the account is created through ``account_create`` (the same checks
  again; the steward may correct the fields and override a blocking duplicate with their own
  justification) and its customer code issued;
* **rejects** it, with a reason; or
* **resolves** it to an existing account, entered by its customer code (check digit
  verified, so a mistyped code is refused rather than taken for another customer).

The requester may change or withdraw the request while it is pending, and is notified of
the decision in the app and by e-mail.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accord.audit.models import AuditAction
from accord.audit.services import audit_record_change, snapshot
from accord.core.errors import Conflict, PermissionDenied, ValidationFailed
from accord.core.pagination import Page, keyset_page
from accord.core.services import apply_fields, save_or_conflict, validate
from accord.customers.models import (
    Account,
    AccountRequest,
    AccountRequestStatus,
    AccountStatus,
)
from accord.customers.services import (
    ACCOUNT_FIELDS,
    _clean_account_input,
    account_create,
    customer_code_is_valid,
)
from accord.dataquality import matching
from accord.dataquality.models import RecordType
from accord.dataquality.required import required_fields_check
from accord.org.models import User
from accord.org.notifications import notify
from accord.territories import visibility

# The proposed account's fields: an account's, less its status (a new account is active).
REQUEST_FIELDS = tuple(f for f in ACCOUNT_FIELDS if f != "status")
JUSTIFICATION_MAX = 1000
REASON_MAX = 2000

AccountRequestOrdering = Literal["created_at", "-created_at"]


# --- helpers ------------------------------------------------------------------------------


def _clean_request_input(data: Mapping[str, Any]) -> dict[str, Any]:
    clean = _clean_account_input({k: v for k, v in data.items() if k in REQUEST_FIELDS})
    if isinstance(data.get("justification"), str):
        clean["justification"] = data["justification"].strip()
    return clean


def _locked(request: AccountRequest) -> AccountRequest:
    return AccountRequest.objects.select_for_update().get(pk=request.pk)


def _must_be_pending(request: AccountRequest) -> None:
    if not request.is_pending:
        raise Conflict(
            _("This request has already been decided or withdrawn (%(status)s).")
            % {"status": request.get_status_display()},
            code="account_request_not_pending",
        )


def _must_review(actor: User) -> None:
    if not visibility.may_review_account_requests(actor):
        raise PermissionDenied(
            _("Only the CRM team decides account requests."),
            code="account_request_review_requires_steward",
        )


def _must_be_requester(actor: User, request: AccountRequest) -> None:
    if request.requester_id != actor.pk:
        raise PermissionDenied(
            _("Only the person who made this request may change or withdraw it."),
            code="account_request_not_yours",
        )


def _check(request: AccountRequest, *, actor: User) -> list[dict[str, Any]]:
    """The account's data-entry template, model validation and duplicate check, applied to
    the proposed fields; return the duplicate candidates (refused if one blocks and the
    request carries no justification)."""
    required_fields_check(RecordType.ACCOUNT, get=lambda f: getattr(request, f, None))
    if not request.legal_name:
        request.legal_name = request.name_en or request.name_th
    if not request.legal_name:
        raise ValidationFailed(
            errors={"legal_name": [_("Give the company's legal, Thai or English name.")]}
        )
    if len(request.justification) > JUSTIFICATION_MAX:
        raise ValidationFailed(
            errors={"justification": [_("At most %(n)d characters.") % {"n": JUSTIFICATION_MAX}]}
        )
    validate(request, exclude=["requester", "business_unit", "decided_by", "account"])
    candidates = matching.account_matches(
        user=actor, data={f: getattr(request, f) for f in matching.ACCOUNT_MATCH_FIELDS}
    )
    if request.justification or not any(c.decision == matching.BLOCK for c in candidates):
        return [c.as_dict() for c in candidates]
    blocking = [c for c in candidates if c.decision == matching.BLOCK]
    raise Conflict(
        _(
            "This account looks like one that exists already. Ask for the existing account, "
            "or say why it is a different one (a separate branch, a different company) to "
            "request it anyway."
        ),
        code="duplicate_suspected",
        errors={
            "__all__": [f"{c.customer_code} {c.name}: {', '.join(c.reasons)}" for c in blocking],
            "justification": [_("Say why this is not the existing account.")],
        },
        extra={"candidates": [c.as_dict() for c in candidates]},
    )


def _notify_requester(request: AccountRequest, *, title: str, body: str) -> None:
    notify(
        recipient=request.requester,
        kind=f"account_request_{request.status}",
        title=title,
        body=body,
        url=reverse("web:account_request_detail", args=[request.pk]),
        related=request,
    )


def _decide(
    request: AccountRequest,
    *,
    actor: User,
    status: AccountRequestStatus,
    reason: str = "",
    account: Account | None = None,
) -> None:
    request.status = status
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_reason = reason
    if account is not None:
        request.account = account


def _name(request: AccountRequest) -> str:
    return request.legal_name or request.name_en or request.name_th


# --- writes -------------------------------------------------------------------------------


@transaction.atomic
def account_request_submit(*, actor: User, data: Mapping[str, Any]) -> AccountRequest:
    """Request a new account; refused with the candidates when it duplicates one."""
    if not visibility.may_request_accounts(actor):
        raise PermissionDenied(
            _("You may not request accounts."), code="account_request_not_allowed"
        )
    clean = _clean_request_input(data)
    request = AccountRequest(requester=actor, business_unit_id=actor.business_unit_id)
    apply_fields(request, clean, (*REQUEST_FIELDS, "justification"))
    request.candidates = _check(request, actor=actor)
    save_or_conflict(request, force_insert=True)
    audit_record_change(action=AuditAction.CREATE, instance=request, after=snapshot(request))
    return request


@transaction.atomic
def account_request_update(
    *, actor: User, request: AccountRequest, data: Mapping[str, Any]
) -> AccountRequest:
    """The requester changes a pending request; the checks run again."""
    request = _locked(request)
    _must_be_requester(actor, request)
    _must_be_pending(request)
    before = snapshot(request)
    apply_fields(request, _clean_request_input(data), (*REQUEST_FIELDS, "justification"))
    request.candidates = _check(request, actor=actor)
    save_or_conflict(request)
    audit_record_change(
        action=AuditAction.UPDATE, instance=request, before=before, after=snapshot(request)
    )
    return request


@transaction.atomic
def account_request_withdraw(*, actor: User, request: AccountRequest) -> AccountRequest:
    request = _locked(request)
    _must_be_requester(actor, request)
    _must_be_pending(request)
    before = snapshot(request)
    _decide(request, actor=actor, status=AccountRequestStatus.WITHDRAWN)
    request.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    audit_record_change(
        action=AuditAction.UPDATE, instance=request, before=before, after=snapshot(request)
    )
    return request


@transaction.atomic
def account_request_approve(
    *,
    actor: User,
    request: AccountRequest,
    data: Mapping[str, Any] | None = None,
    duplicate_justification: str | None = None,
) -> AccountRequest:
    """Create the requested account (with the steward's corrections in ``data``).

    The account service runs the data-entry template and the duplicate check again; a
    blocking look-alike is overridden only by the steward's own ``duplicate_justification``.
    """
    request = _locked(request)
    _must_review(actor)
    _must_be_pending(request)
    before = snapshot(request)
    apply_fields(request, _clean_request_input(data or {}), REQUEST_FIELDS)
    account_data: dict[str, Any] = {f: getattr(request, f) for f in REQUEST_FIELDS}
    account_data["district"] = request.district_id
    justification = (duplicate_justification or "").strip()
    if justification:
        account_data["duplicate_justification"] = justification
    account = account_create(actor=actor, data=account_data)
    # The account service filled and normalised the names; the request shows what was made.
    request.legal_name = account.legal_name
    _decide(
        request,
        actor=actor,
        status=AccountRequestStatus.APPROVED,
        reason=justification,
        account=account,
    )
    validate(request, exclude=["requester", "business_unit", "decided_by", "account"])
    save_or_conflict(request)
    audit_record_change(
        action=AuditAction.UPDATE, instance=request, before=before, after=snapshot(request)
    )
    with translation.override(request.requester.language):
        _notify_requester(
            request,
            title=_("Account approved: %(name)s (%(code)s)")
            % {"name": account.legal_name, "code": account.customer_code},
            body=_(
                "Your request for %(name)s was approved. The account's customer code is %(code)s."
            )
            % {"name": account.legal_name, "code": account.customer_code},
        )
    return request


@transaction.atomic
def account_request_reject(*, actor: User, request: AccountRequest, reason: str) -> AccountRequest:
    request = _locked(request)
    _must_review(actor)
    _must_be_pending(request)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Say why the request is rejected."),
            errors={"reason": [_("A reason is required to reject a request.")]},
        )
    if len(reason) > REASON_MAX:
        raise ValidationFailed(
            errors={"reason": [_("At most %(n)d characters.") % {"n": REASON_MAX}]}
        )
    before = snapshot(request)
    _decide(request, actor=actor, status=AccountRequestStatus.REJECTED, reason=reason)
    request.save(
        update_fields=["status", "decided_by", "decided_at", "decision_reason", "updated_at"]
    )
    audit_record_change(
        action=AuditAction.UPDATE, instance=request, before=before, after=snapshot(request)
    )
    with translation.override(request.requester.language):
        _notify_requester(
            request,
            title=_("Account request rejected: %(name)s") % {"name": _name(request)},
            body=_("Your request for %(name)s was rejected: %(reason)s")
            % {"name": _name(request), "reason": reason},
        )
    return request


def _account_by_code(actor: User, code: str) -> Account:
    """The existing account a request is resolved to; a mistyped code is invalid, never
    another customer."""
    code = (code or "").strip().upper()
    if not customer_code_is_valid(code):
        raise ValidationFailed(
            _("This is not a valid customer code: a character is wrong, missing or extra."),
            code="invalid_customer_code",
            errors={"customer_code": [_("Not a valid customer code.")]},
        )
    account = visibility.accounts_visible_to(actor).filter(customer_code=code).first()
    if account is None:
        raise ValidationFailed(
            errors={"customer_code": [_("No account has this customer code.")]},
        )
    if account.status == AccountStatus.MERGED:
        survivor = account.merged_into.customer_code if account.merged_into else ""
        raise ValidationFailed(
            errors={
                "customer_code": [
                    _("This account was merged into %(code)s; use that one.") % {"code": survivor}
                ]
            },
        )
    return account


@transaction.atomic
def account_request_resolve(
    *, actor: User, request: AccountRequest, customer_code: str, reason: str = ""
) -> AccountRequest:
    """Point the request at an existing account instead of creating one."""
    request = _locked(request)
    _must_review(actor)
    _must_be_pending(request)
    account = _account_by_code(actor, customer_code)
    reason = (reason or "").strip()[:REASON_MAX]
    before = snapshot(request)
    _decide(
        request,
        actor=actor,
        status=AccountRequestStatus.RESOLVED,
        reason=reason,
        account=account,
    )
    request.save(
        update_fields=[
            "status",
            "decided_by",
            "decided_at",
            "decision_reason",
            "account",
            "updated_at",
        ]
    )
    audit_record_change(
        action=AuditAction.UPDATE, instance=request, before=before, after=snapshot(request)
    )
    with translation.override(request.requester.language):
        body = _("The customer you asked for already exists: %(account)s (%(code)s).") % {
            "account": account.legal_name,
            "code": account.customer_code,
        }
        if reason:
            body += " " + reason
        _notify_requester(
            request,
            title=_("Account request: %(name)s is %(code)s")
            % {"name": _name(request), "code": account.customer_code},
            body=body,
        )
    return request


# --- reads --------------------------------------------------------------------------------


def account_request_list(
    *,
    user: User,
    status: str | None = None,
    business_unit: uuid.UUID | None = None,
    district: uuid.UUID | None = None,
    requester: uuid.UUID | None = None,
    ordering: AccountRequestOrdering = "-created_at",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[AccountRequest]:
    """The requests ``user`` may see (a rep: their own; a manager: their team's; stewards:
    all), filtered."""
    qs = visibility.account_requests_visible_to(user).select_related("account")
    if status:
        qs = qs.filter(status=status)
    if business_unit:
        qs = qs.filter(business_unit_id=business_unit)
    if district:
        qs = qs.filter(district_id=district)
    if requester:
        qs = qs.filter(requester_id=requester)
    return keyset_page(qs, ordering=ordering, cursor=cursor, limit=limit)


def account_request_queue(
    *,
    user: User,
    business_unit: uuid.UUID | None = None,
    district: uuid.UUID | None = None,
    status: str = AccountRequestStatus.PENDING,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[AccountRequest]:
    """The stewards' review queue: pending requests, oldest first."""
    _must_review(user)
    return account_request_list(
        user=user,
        status=status,
        business_unit=business_unit,
        district=district,
        ordering="created_at",
        cursor=cursor,
        limit=limit,
    )


def account_request_age(request: AccountRequest, *, now: dt.datetime | None = None) -> dt.timedelta:
    """How long the request has waited (until its decision, once decided)."""
    end = request.decided_at or now or timezone.now()
    return end - request.created_at


def account_requests_visible(user: User) -> QuerySet[AccountRequest]:
    return visibility.account_requests_visible_to(user)
