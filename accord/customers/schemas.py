from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from ninja import Schema
from pydantic import Field

from accord.core.api_support import ApiDateTime, InputSchema, QuerySchema, read_only
from accord.customers.models import Account, AccountRequest, AccountStatus, Contact, Industry
from accord.customers.selectors import AccountOrdering, ContactOrdering
from accord.territories.visibility import ListScope

WritableStatus = Literal["active", "dormant"]
Lang = Literal["en", "th"]

Str255 = Field(default=None, max_length=255)


class AccountFieldsOut(Schema):
    """The fields an account and a request for one share."""

    legal_name: str
    name_th: str
    name_en: str
    tax_id: str
    branch_code: str
    industry: str
    district: uuid.UUID | None
    phone: str
    email: str
    website: str
    address_line1: str
    address_line2: str
    subdistrict: str
    city: str
    province: str
    postal_code: str
    country: str
    shipping_address: str

    @staticmethod
    def resolve_district(obj: Account | AccountRequest) -> uuid.UUID | None:
        return obj.district_id


class AccountOut(AccountFieldsOut):
    id: uuid.UUID = read_only()
    customer_code: str = read_only(description="Issued by Accord; never typed by a person.")
    status: AccountStatus
    merged_into: uuid.UUID | None = read_only()
    created_at: dt.datetime = read_only()
    updated_at: dt.datetime = read_only()

    @staticmethod
    def resolve_merged_into(obj: Account) -> uuid.UUID | None:
        return obj.merged_into_id


class AccountInputFields(InputSchema):
    """The writable fields of an account, as an account and a request for one take them."""

    legal_name: str | None = Field(default=None, max_length=255)
    name_th: str | None = Str255
    name_en: str | None = Str255
    tax_id: str | None = Field(default=None, max_length=20, description="13 digits; dashes ok")
    branch_code: str | None = Field(default=None, pattern=r"^\d{5}$")
    industry: Industry | Literal[""] | None = None
    district: uuid.UUID | None = None
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    website: str | None = Field(default=None, max_length=200)
    address_line1: str | None = Str255
    address_line2: str | None = Str255
    subdistrict: str | None = Field(default=None, max_length=120)
    city: str | None = Field(default=None, max_length=120)
    province: str | None = Field(default=None, max_length=120)
    postal_code: str | None = Field(default=None, max_length=10)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    shipping_address: str | None = Field(default=None, max_length=2000)


class AccountPatch(AccountInputFields):
    legal_name: str | None = Field(default=None, min_length=1, max_length=255)
    status: WritableStatus | None = None
    duplicate_justification: str | None = Field(
        default=None,
        max_length=1000,
        description="Why this is not a duplicate: saves it although the duplicate check "
        "blocks it (the justification is audited).",
    )


class AccountIn(AccountPatch):
    legal_name: str = Field(min_length=1, max_length=255)


class AccountPage(Schema):
    items: list[AccountOut]
    next_cursor: str | None


class AccountFilters(QuerySchema):
    search: str | None = Field(default=None, max_length=100, description="Name, code, tax ID…")
    district: uuid.UUID | None = None
    status: AccountStatus | None = None
    industry: Industry | None = None
    tax_id: str | None = Field(default=None, max_length=20)
    customer_code: str | None = Field(default=None, max_length=20)
    updated_since: ApiDateTime | None = None
    owner: uuid.UUID | None = Field(default=None, description="Accounts this person owns.")
    business_unit: uuid.UUID | None = Field(
        default=None, description="Accounts owned in this business unit."
    )
    scope: ListScope | None = Field(
        default=None, description="mine / team: accounts those people own or work on."
    )
    ordering: AccountOrdering = "legal_name"
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


class ContactOut(Schema):
    id: uuid.UUID = read_only()
    account: uuid.UUID
    salutation: str
    first_name: str
    last_name: str
    first_name_th: str
    last_name_th: str
    nickname: str
    job_title: str
    department: str
    email: str
    email_secondary: str
    phone: str
    mobile: str
    line_id: str
    preferred_language: Lang
    is_active: bool
    created_at: dt.datetime = read_only()
    updated_at: dt.datetime = read_only()

    @staticmethod
    def resolve_account(obj: Contact) -> uuid.UUID:
        return obj.account_id


class ContactPatch(InputSchema):
    account: uuid.UUID | None = None
    salutation: str | None = Field(default=None, max_length=20)
    first_name: str | None = Field(default=None, min_length=1, max_length=120)
    last_name: str | None = Field(default=None, max_length=120)
    first_name_th: str | None = Field(default=None, max_length=120)
    last_name_th: str | None = Field(default=None, max_length=120)
    nickname: str | None = Field(default=None, max_length=60)
    job_title: str | None = Field(default=None, max_length=120)
    department: str | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=254)
    email_secondary: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    mobile: str | None = Field(default=None, max_length=32)
    line_id: str | None = Field(default=None, max_length=64)
    preferred_language: Lang | None = None
    is_active: bool | None = None
    duplicate_justification: str | None = Field(
        default=None,
        max_length=1000,
        description="Why this is not a duplicate: saves it although the duplicate check "
        "blocks it (the justification is audited).",
    )


class ContactIn(ContactPatch):
    account: uuid.UUID
    first_name: str = Field(min_length=1, max_length=120)


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class ContactFilters(QuerySchema):
    search: str | None = Field(default=None, max_length=100)
    account: uuid.UUID | None = None
    email: str | None = Field(default=None, max_length=254)
    is_active: bool | None = None
    district: uuid.UUID | None = Field(default=None, description="The account's district.")
    scope: ListScope | None = Field(
        default=None, description="mine / team: contacts at accounts in those people's districts."
    )
    ordering: ContactOrdering = "last_name"
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


class AccountMatchIn(AccountPatch):
    """Any subset of an account's fields; a name alone will do."""


class ContactMatchIn(ContactPatch):
    """Any subset of a contact's fields; a name alone will do."""


class MatchCandidateOut(Schema):
    id: uuid.UUID
    customer_code: str = Field(description="The account's code (a contact's: its account's).")
    name: str
    score: float = Field(ge=0, le=1)
    decision: Literal["block", "warn"]
    reasons: list[str]


class MatchResultOut(Schema):
    candidates: list[MatchCandidateOut]
