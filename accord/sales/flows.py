"""Cross-app selling flows: converting a lead into an account, a contact and an opportunity.

A conversion is one transaction made of the ordinary services, so every rule of theirs holds
here too: a new account is created only by a data steward and only past the duplicate check
(a rep converts against an existing account, or requests a new one first); the contact runs
the contact duplicate check; the opportunity its stage's compulsory fields. If any step
fails, nothing of the conversion is saved.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from accord.audit.models import AuditAction
from accord.audit.services import audit_record_change, snapshot
from accord.core.errors import DomainError, PermissionDenied, ValidationFailed
from accord.core.services import resolve
from accord.customers import services as customer_services
from accord.customers.models import Account, Contact
from accord.org.models import User
from accord.sales import services
from accord.sales.models import Lead, LeadStatus, Opportunity
from accord.territories import visibility

# Lead fields a new contact starts from; the caller's ``contact`` data wins.
LEAD_TO_CONTACT = {
    "first_name": "first_name",
    "last_name": "last_name",
    "job_title": "job_title",
    "email": "email",
    "phone": "phone",
}
# Lead fields a new account starts from.
LEAD_TO_ACCOUNT = {"company_name": "legal_name", "phone": "phone", "district": "district"}


@dataclass(frozen=True)
class LeadConversion:
    lead: Lead
    account: Account
    contact: Contact | None
    opportunity: Opportunity | None


def lead_account_data(lead: Lead) -> dict[str, Any]:
    """What the lead tells about its company, as account fields (for a new account or a
    duplicate check against the existing ones)."""
    data: dict[str, Any] = {}
    for lead_field, account_field in LEAD_TO_ACCOUNT.items():
        value = getattr(lead, f"{lead_field}_id" if lead_field == "district" else lead_field)
        if value:
            data[account_field] = value
    return data


def _from_lead(lead: Lead, mapping: Mapping[str, str], given: Mapping[str, Any]) -> dict[str, Any]:
    data = {
        target: getattr(lead, source) for source, target in mapping.items() if getattr(lead, source)
    }
    data.update(given)
    return data


@contextmanager
def _part(name: str) -> Iterator[None]:
    """Prefix the field errors of one step with the part of the conversion it makes, so
    ``legal_name`` of the new account and ``name`` of the opportunity are told apart."""
    try:
        yield
    except DomainError as error:
        error.errors = {
            (k if k == "__all__" else f"{name}.{k}"): v for k, v in error.errors.items()
        }
        raise


@transaction.atomic
def lead_convert(
    *,
    actor: User,
    lead: Lead,
    account: Any = None,
    new_account: Mapping[str, Any] | None = None,
    contact: Mapping[str, Any] | None = None,
    create_contact: bool = True,
    opportunity: Mapping[str, Any] | None = None,
) -> LeadConversion:
    """Convert ``lead``: to the existing ``account`` (an id or instance the actor may see), or
    to ``new_account`` (account fields on top of the lead's; data stewards only).

    ``contact`` overrides the contact fields taken from the lead (``create_contact=False``
    makes none); ``opportunity`` (its fields, at least ``name``) opens one on the account.
    """
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if not visibility.may_edit_lead(actor, lead):
        raise PermissionDenied("You may not convert this lead.", code="read_only")
    if lead.status == LeadStatus.CONVERTED:
        raise ValidationFailed("This lead is converted already.", code="lead_converted")
    if lead.status == LeadStatus.DISQUALIFIED:
        raise ValidationFailed(
            "A disqualified lead is not converted; reopen it first.", code="lead_disqualified"
        )
    if (account is None) == (new_account is None):
        raise ValidationFailed(
            "Convert to an existing account or to a new one.",
            code="lead_convert_account",
            errors={"account": ["Choose an existing account, or give the new account's data."]},
        )
    before = snapshot(lead)

    if new_account is not None:
        if not visibility.may_create_accounts(actor):
            raise PermissionDenied(
                "Accounts are created by the CRM team: request the account, then convert the "
                "lead to it once it is approved.",
                code="account_create_requires_steward",
                errors={"account": ["Choose an existing account or request a new one."]},
            )
        with _part("new_account"):
            target = customer_services.account_create(
                actor=actor, data=_from_lead(lead, LEAD_TO_ACCOUNT, new_account)
            )
    else:
        found = resolve(
            visibility.accounts_visible_to(actor), account, field="account", label="account"
        )
        assert found is not None  # account is not None here
        target = found

    new_contact = None
    if create_contact:
        data = _from_lead(lead, LEAD_TO_CONTACT, contact or {})
        data["account"] = target.pk
        if data.get("first_name"):
            with _part("contact"):
                new_contact = customer_services.contact_create(actor=actor, data=data)
        elif contact:
            raise ValidationFailed(errors={"contact.first_name": ["A contact needs a name."]})

    new_opportunity = None
    if opportunity is not None:
        data = {
            "owner": lead.owner_id,
            "business_unit": lead.business_unit_id,
            **opportunity,
            "account": target.pk,
        }
        if new_contact is not None:
            data.setdefault("contact", new_contact.pk)
        with _part("opportunity"):
            new_opportunity = services.opportunity_create(actor=actor, data=data)

    lead.status = LeadStatus.CONVERTED
    lead.converted_account = target
    lead.save(update_fields=["status", "converted_account", "updated_at"])
    audit_record_change(
        action=AuditAction.UPDATE,
        instance=lead,
        before=before,
        after=snapshot(lead),
        extra={
            "converted": {
                "account": str(target.pk),
                "contact": str(new_contact.pk) if new_contact else None,
                "opportunity": str(new_opportunity.pk) if new_opportunity else None,
            }
        },
    )
    return LeadConversion(lead, target, new_contact, new_opportunity)
