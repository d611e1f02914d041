"""Writes on accounts and contacts.

Accounts are the verified customer record: only data stewards (CRM officers), administrators
and integrations create them or change their identifying fields; the reps who cover an
account's district may keep its contact details current.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from accord.audit.models import AuditAction
from accord.audit.services import audit_record_change, audited_delete, snapshot
from accord.core.codes import check_digit_ok, with_check_digit
from accord.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from accord.core.services import (
    apply_fields,
    resolve,
    save_or_conflict,
    validate,
)
from accord.core.thai import normalise_tax_id
from accord.customers.models import (
    Account,
    AccountMatchKey,
    AccountStatus,
    CodeSequence,
    Contact,
    ContactMatchKey,
)
from accord.dataquality import matching
from accord.dataquality.models import RecordType
from accord.dataquality.normalize import company_name_key
from accord.dataquality.required import required_fields_check
from accord.integration.models import EventType
from accord.integration.outbox import ACCOUNT_SYNC_FIELDS, account_event_emit
from accord.org.models import District, User
from accord.territories import visibility
from accord.territories.ownership import account_owners_assign

ACCOUNT_FIELDS = (
    "legal_name",
    "name_th",
    "name_en",
    "tax_id",
    "branch_code",
    "industry",
    "district",
    "phone",
    "email",
    "website",
    "address_line1",
    "address_line2",
    "subdistrict",
    "city",
    "province",
    "postal_code",
    "country",
    "shipping_address",
    "status",
)
# Identifying fields: only stewards change them once the account exists.
ACCOUNT_STEWARD_FIELDS = frozenset(
    {"legal_name", "name_th", "name_en", "tax_id", "branch_code", "district", "status"}
)
CONTACT_FIELDS = (
    "account",
    "salutation",
    "first_name",
    "last_name",
    "first_name_th",
    "last_name_th",
    "nickname",
    "job_title",
    "department",
    "email",
    "email_secondary",
    "phone",
    "mobile",
    "line_id",
    "preferred_language",
    "is_active",
)

SEARCH_TEXT_MAX = 400  # x 4 bytes, beside a 255-character name: under the 2.7 kB entry limit
CUSTOMER_CODE_PREFIX = "C"
CUSTOMER_CODE_DIGITS = 8  # plus one check digit


# --- customer codes -----------------------------------------------------------------------


def customer_code_format(number: int) -> str:
    return CUSTOMER_CODE_PREFIX + with_check_digit(f"{number:0{CUSTOMER_CODE_DIGITS}d}")


def customer_code_is_valid(code: str) -> bool:
    """Right prefix, right length and a correct check digit."""
    code = code.strip().upper()
    body = code[len(CUSTOMER_CODE_PREFIX) :]
    return (
        code.startswith(CUSTOMER_CODE_PREFIX)
        and len(body) == CUSTOMER_CODE_DIGITS + 1
        and check_digit_ok(body)
    )


def customer_codes_reserve(count: int) -> range:
    """Reserve ``count`` consecutive code numbers (locks the sequence row until commit)."""
    with transaction.atomic():
        seq, _ = CodeSequence.objects.select_for_update().get_or_create(name="customer_code")
        start = seq.last_value + 1
        seq.last_value += count
        seq.save(update_fields=["last_value"])
    return range(start, start + count)


def customer_code_issue() -> str:
    return customer_code_format(customer_codes_reserve(1)[0])


# --- accounts -----------------------------------------------------------------------------


def account_search_text(account: Account) -> str:
    parts = [
        account.legal_name,
        account.name_th,
        account.name_en,
        account.customer_code,
        account.tax_id,
        account.phone,
        account.email,
    ]
    # Bounded, so that it fits beside the name in a covering index entry.
    return " ".join(p for p in parts if p).casefold()[:SEARCH_TEXT_MAX]


def _clean_account_input(data: Mapping[str, Any]) -> dict[str, Any]:
    clean = dict(data)
    for key in ("legal_name", "name_th", "name_en"):
        if isinstance(clean.get(key), str):
            clean[key] = " ".join(clean[key].split())
    if isinstance(clean.get("tax_id"), str):
        clean["tax_id"] = normalise_tax_id(clean["tax_id"])
    if "district" in clean:
        clean["district"] = resolve(
            District.objects.all(), clean["district"], field="district", label="district"
        )
    return clean


def _justification(data: Mapping[str, Any]) -> str | None:
    value = data.get("duplicate_justification")
    return value if isinstance(value, str) else None


def _account_match_keys_write(account: Account, *, creating: bool) -> None:
    keys = matching.account_match_keys(matching.account_features(matching.object_getter(account)))
    if not creating:
        AccountMatchKey.objects.filter(account=account).delete()
    AccountMatchKey.objects.bulk_create(AccountMatchKey(account=account, key=k) for k in keys)


def _duplicate_checks_serialise(kind: str) -> None:
    """Let one duplicate check and its write of ``kind`` run at a time, until commit.

    Without it, two simultaneous requests for the same new company would each check, see
    nothing, and both save. The lock is a row (so it works the same on every database; on
    SQLite writers are serialised anyway); the second check then sees the first's commit.
    Creating and renaming customers is rare enough that one lane costs nothing.
    """
    CodeSequence.objects.select_for_update().get_or_create(name=f"{kind}_duplicate_check")


def _account_validate_and_save(
    account: Account,
    *,
    actor: User,
    creating: bool,
    check_duplicates: bool,
    justification: str | None,
) -> dict[str, Any] | None:
    """Validate, run the duplicate check, save; return the audit note of an override."""
    required_fields_check(RecordType.ACCOUNT, get=lambda f: getattr(account, f, None))
    if not account.legal_name:
        account.legal_name = account.name_en or account.name_th
    account.search_text = account_search_text(account)
    account.name_key = company_name_key(account.legal_name)[:255]
    validate(account, exclude=["merged_into"])
    override = None
    if check_duplicates:
        _duplicate_checks_serialise("account")
        candidates = matching.account_matches(
            user=actor,
            data={f: getattr(account, f) for f in matching.ACCOUNT_MATCH_FIELDS},
            exclude=None if creating else account.pk,
        )
        override = matching.refuse_blocking_duplicates(
            candidates, justification=justification, what="account"
        )
    save_or_conflict(account, force_insert=creating)
    if check_duplicates or creating:
        _account_match_keys_write(account, creating=creating)
    return override


@transaction.atomic
def account_create(*, actor: User, data: Mapping[str, Any]) -> Account:
    if not visibility.may_create_accounts(actor):
        raise PermissionDenied(
            "Accounts are created by the CRM team; request a new account instead.",
            code="account_create_requires_steward",
        )
    clean = _clean_account_input(data)
    if clean.get("status") == AccountStatus.MERGED:
        raise ValidationFailed(errors={"status": ["An account is merged only by a merge."]})
    account = Account()
    apply_fields(account, clean, ACCOUNT_FIELDS)
    account.customer_code = customer_code_issue()
    override = _account_validate_and_save(
        account,
        actor=actor,
        creating=True,
        check_duplicates=True,
        justification=_justification(data),
    )
    audit_record_change(
        action=AuditAction.CREATE, instance=account, after=snapshot(account), extra=override
    )
    # A steward's create is the approval of the customer: the ledger gets it.
    account_event_emit(event_type=EventType.ACCOUNT_APPROVED, account=account)
    account_owners_assign(actor=actor, account=account)
    return account


@transaction.atomic
def account_update(*, actor: User, account: Account, data: Mapping[str, Any]) -> Account:
    account = Account.objects.select_for_update().get(pk=account.pk)
    if not visibility.may_edit_account(actor, account):
        raise PermissionDenied("You may not change this account.", code="account_read_only")
    if account.status == AccountStatus.MERGED:
        survivor = account.merged_into
        raise Conflict(
            "This account was merged into "
            f"{survivor.customer_code if survivor else 'another account'}; change that one "
            "(or undo the merge).",
            code="account_merged",
        )
    clean = _clean_account_input(data)
    before = snapshot(account)
    apply_fields(account, clean, ACCOUNT_FIELDS)
    changed = {k for k, v in snapshot(account).items() if before.get(k) != v}
    if not visibility.may_create_accounts(actor):
        forbidden = sorted(changed & ACCOUNT_STEWARD_FIELDS)
        if forbidden:
            raise PermissionDenied(
                "Only the CRM team changes an account's names, tax ID, branch, district or "
                "status; ask them to make this change.",
                code="field_requires_steward",
                errors={f: ["Only the CRM team may change this field."] for f in forbidden},
            )
    if "status" in changed and AccountStatus.MERGED in (account.status, before["status"]):
        raise ValidationFailed(errors={"status": ["Merging is done by the merge tool."]})
    override = _account_validate_and_save(
        account,
        actor=actor,
        creating=False,
        check_duplicates=bool(changed & matching.ACCOUNT_MATCH_FIELDS),
        justification=_justification(data),
    )
    audit_record_change(
        action=AuditAction.UPDATE,
        instance=account,
        before=before,
        after=snapshot(account),
        extra=override,
    )
    if changed & ACCOUNT_SYNC_FIELDS:
        account_event_emit(event_type=EventType.ACCOUNT_UPDATED, account=account)
    return account


@transaction.atomic
def account_delete(*, actor: User, account: Account) -> None:
    """Delete an account entered by mistake; one with history must be made dormant."""
    if not visibility.may_create_accounts(actor):
        raise PermissionDenied("Only the CRM team deletes accounts.", code="account_read_only")
    if (
        account.contacts.exists()
        or account.opportunities.exists()
        or account.activities.exists()
        or account.merged_accounts.exists()
    ):
        raise Conflict(
            "This account has contacts, opportunities or activities; set its status to "
            "dormant instead of deleting it.",
            code="account_in_use",
        )
    audited_delete(account, what="account")


def account_get_by_code(*, actor: User, code: str) -> Account:
    if not customer_code_is_valid(code):
        raise ValidationFailed(
            "This is not a valid customer code (check digit mismatch).",
            code="invalid_customer_code",
            errors={"customer_code": ["Not a valid customer code."]},
        )
    # A merged-away account's code is an alias of the account it was merged into.
    found = Account.objects.filter(customer_code=code.strip().upper()).only("pk", "merged_into")
    target = found.first()
    account = None
    if target is not None:
        target_id = target.merged_into_id or target.pk
        account = visibility.accounts_visible_to(actor).filter(pk=target_id).first()
    if account is None:
        raise NotFound("No account with this customer code.")
    return account


# --- contacts -----------------------------------------------------------------------------


def contact_search_text(contact: Contact) -> str:
    parts = [
        contact.first_name,
        contact.last_name,
        contact.first_name_th,
        contact.last_name_th,
        contact.nickname,
        contact.email,
        contact.phone,
        contact.mobile,
    ]
    return " ".join(p for p in parts if p).casefold()


def _contact_match_keys_write(contact: Contact, *, creating: bool) -> None:
    keys = matching.contact_match_keys(matching.contact_features(matching.object_getter(contact)))
    if not creating:
        ContactMatchKey.objects.filter(contact=contact).delete()
    ContactMatchKey.objects.bulk_create(ContactMatchKey(contact=contact, key=k) for k in keys)


def _contact_validate_and_save(
    contact: Contact,
    *,
    actor: User,
    creating: bool,
    check_duplicates: bool,
    justification: str | None,
) -> dict[str, Any] | None:
    required_fields_check(RecordType.CONTACT, get=lambda f: getattr(contact, f, None))
    contact.search_text = contact_search_text(contact)
    validate(contact)
    override = None
    if check_duplicates:
        _duplicate_checks_serialise("contact")
        data: dict[str, Any] = {f: getattr(contact, f) for f in matching.CONTACT_MATCH_FIELDS}
        data["account"] = contact.account_id
        candidates = matching.contact_matches(
            user=actor, data=data, exclude=None if creating else contact.pk
        )
        override = matching.refuse_blocking_duplicates(
            candidates, justification=justification, what="contact"
        )
    save_or_conflict(contact, force_insert=creating)
    if check_duplicates or creating:
        _contact_match_keys_write(contact, creating=creating)
    return override


def _clean_contact_input(actor: User, data: Mapping[str, Any]) -> dict[str, Any]:
    clean = dict(data)
    for key in ("first_name", "last_name", "first_name_th", "last_name_th"):
        if isinstance(clean.get(key), str):
            clean[key] = " ".join(clean[key].split())
    if "account" in clean:
        clean["account"] = resolve(
            visibility.accounts_visible_to(actor),
            clean["account"],
            field="account",
            label="account",
        )
        if clean["account"] is None:
            raise ValidationFailed(errors={"account": ["A contact belongs to an account."]})
    return clean


@transaction.atomic
def contact_create(*, actor: User, data: Mapping[str, Any]) -> Contact:
    clean = _clean_contact_input(actor, data)
    contact = Contact()
    apply_fields(contact, clean, CONTACT_FIELDS)
    if contact.account_id is None:
        raise ValidationFailed(errors={"account": ["A contact belongs to an account."]})
    if not visibility.may_edit_contact(actor, contact):
        raise PermissionDenied("You may not add contacts to this account.", code="read_only")
    override = _contact_validate_and_save(
        contact,
        actor=actor,
        creating=True,
        check_duplicates=True,
        justification=_justification(data),
    )
    audit_record_change(
        action=AuditAction.CREATE, instance=contact, after=snapshot(contact), extra=override
    )
    return contact


@transaction.atomic
def contact_update(*, actor: User, contact: Contact, data: Mapping[str, Any]) -> Contact:
    contact = Contact.objects.select_for_update().select_related("account").get(pk=contact.pk)
    if not visibility.may_edit_contact(actor, contact):
        raise PermissionDenied("You may not change this contact.", code="read_only")
    clean = _clean_contact_input(actor, data)
    before = snapshot(contact)
    apply_fields(contact, clean, CONTACT_FIELDS)
    if not visibility.may_edit_contact(actor, contact):
        raise PermissionDenied("You may not move the contact to that account.", code="read_only")
    changed = {k for k, v in snapshot(contact).items() if before.get(k) != v}
    override = _contact_validate_and_save(
        contact,
        actor=actor,
        creating=False,
        check_duplicates=bool(changed & matching.CONTACT_MATCH_FIELDS),
        justification=_justification(data),
    )
    audit_record_change(
        action=AuditAction.UPDATE,
        instance=contact,
        before=before,
        after=snapshot(contact),
        extra=override,
    )
    return contact


@transaction.atomic
def contact_delete(*, actor: User, contact: Contact) -> None:
    if not visibility.may_edit_contact(actor, contact):
        raise PermissionDenied("You may not delete this contact.", code="read_only")
    audited_delete(contact, what="contact")
