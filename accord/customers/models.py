"""Customers: accounts (one verified record per company branch) and their contacts."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accord.core.models import BaseModel
from accord.core.thai import HEAD_OFFICE_BRANCH, validate_branch_code, validate_tax_id
from accord.org.models import BusinessUnit, District, Language, User


class Industry(models.TextChoices):
    MANUFACTURING = "manufacturing", _("Manufacturing")
    RETAIL = "retail", _("Retail and wholesale")
    FINANCE = "finance", _("Banking and finance")
    GOVERNMENT = "government", _("Government")
    EDUCATION = "education", _("Education")
    HEALTHCARE = "healthcare", _("Healthcare")
    HOSPITALITY = "hospitality", _("Hotels and hospitality")
    LOGISTICS = "logistics", _("Logistics and transport")
    CONSTRUCTION = "construction", _("Construction and property")
    ENERGY = "energy", _("Energy and utilities")
    TECHNOLOGY = "technology", _("IT and telecoms")
    PROFESSIONAL = "professional", _("Professional services")
    AGRICULTURE = "agriculture", _("Agriculture and food")
    OTHER = "other", _("Other")


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DORMANT = "dormant", _("Dormant")
    MERGED = "merged", _("Merged")


class CodeSequence(models.Model):
    """Counters for system-issued codes; a row is locked while a code is drawn."""

    name = models.CharField(max_length=40, primary_key=True)
    last_value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.last_value}"


class Account(BaseModel):
    customer_code = models.CharField(max_length=12, unique=True, editable=False)
    legal_name = models.CharField(_("legal name"), max_length=255)
    name_th = models.CharField(_("Thai name"), max_length=255, blank=True)
    name_en = models.CharField(_("English name"), max_length=255, blank=True)
    tax_id = models.CharField(
        _("tax ID"), max_length=13, blank=True, validators=[validate_tax_id], db_index=True
    )
    branch_code = models.CharField(
        _("branch number"),
        max_length=5,
        default=HEAD_OFFICE_BRANCH,
        validators=[validate_branch_code],
    )
    industry = models.CharField(max_length=32, choices=Industry.choices, blank=True)
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    address_line1 = models.CharField(_("address"), max_length=255, blank=True)
    address_line2 = models.CharField(_("address (line 2)"), max_length=255, blank=True)
    subdistrict = models.CharField(_("sub-district (tambon/khwaeng)"), max_length=120, blank=True)
    city = models.CharField(_("district (amphoe/khet)"), max_length=120, blank=True)
    province = models.CharField(max_length=120, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    country = models.CharField(max_length=2, default="TH")
    shipping_address = models.TextField(_("shipping address"), blank=True)
    status = models.CharField(
        max_length=16, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_accounts"
    )
    # Lower-cased names, code and tax ID in one column, for fragment search.
    search_text = models.TextField(editable=False, default="")
    # The legal name's matching key (dataquality.normalize): legal form, branch wording,
    # case, spaces and punctuation removed. Blocking keys of every name: AccountMatchKey.
    name_key = models.CharField(max_length=255, editable=False, default="", db_index=True)

    class Meta:
        ordering = ["legal_name", "id"]
        indexes = [
            # Covers a searched or territory-filtered walk in name order (PostgreSQL; other
            # databases ignore "include"), so rejected rows are never read from the table.
            models.Index(
                fields=["legal_name", "id"],
                include=["search_text", "district"],
                name="account_name_keyset",
            ),
            models.Index(fields=["created_at", "id"], name="account_created_keyset"),
            models.Index(fields=["updated_at", "id"], name="account_updated_keyset"),
            # One district's accounts in name order; with the search column a searched walk
            # of a covered district is index-only (visibility.account_search_parts).
            models.Index(
                fields=["district", "legal_name", "id"],
                include=["search_text"],
                name="account_district_name",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tax_id", "branch_code"],
                condition=~models.Q(tax_id="") & ~models.Q(status="merged"),
                name="account_unique_tax_id_branch",
                violation_error_message=_("An account with this tax ID and branch exists."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.legal_name} ({self.customer_code})"


class Contact(BaseModel):
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="contacts", db_index=False
    )  # indexed by contact_account_name
    salutation = models.CharField(max_length=20, blank=True)
    first_name = models.CharField(max_length=120)
    last_name = models.CharField(max_length=120, blank=True)
    first_name_th = models.CharField(max_length=120, blank=True)
    last_name_th = models.CharField(max_length=120, blank=True)
    nickname = models.CharField(max_length=60, blank=True)
    job_title = models.CharField(max_length=120, blank=True)
    department = models.CharField(max_length=120, blank=True)
    email = models.EmailField(blank=True)
    email_secondary = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    mobile = models.CharField(max_length=32, blank=True)
    line_id = models.CharField(_("LINE ID"), max_length=64, blank=True)
    preferred_language = models.CharField(
        max_length=2, choices=Language.choices, default=Language.TH
    )
    is_active = models.BooleanField(default=True)
    search_text = models.TextField(editable=False, default="")

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["last_name", "id"], name="contact_name_keyset"),
            models.Index(fields=["created_at", "id"], name="contact_created_keyset"),
            models.Index(fields=["account", "last_name"], name="contact_account_name"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class AccountMatchKey(models.Model):
    """A blocking key of an account (``n:`` name key, ``a:``/``z:`` its halves, ``p:`` phone…).

    Written by the account services on every save; the matching engine finds candidates
    with one indexed ``key IN (…)`` lookup instead of scanning accounts.
    """

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="match_keys", db_index=False
    )
    key = models.CharField(max_length=300)

    class Meta:
        indexes = [models.Index(fields=["key", "account"], name="account_match_key")]
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="account_match_key_unique")
        ]

    def __str__(self) -> str:
        return self.key


class ContactMatchKey(models.Model):
    """A blocking key of a contact (``n:`` name key, ``e:`` email, ``p:`` phone…)."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="match_keys", db_index=False
    )
    key = models.CharField(max_length=300)

    class Meta:
        indexes = [models.Index(fields=["key", "contact"], name="contact_match_key")]
        constraints = [
            models.UniqueConstraint(fields=["contact", "key"], name="contact_match_key_unique")
        ]

    def __str__(self) -> str:
        return self.key


class AccountRequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RESOLVED = "resolved", _("Resolved to an existing account")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class AccountRequest(BaseModel):
    """A rep's request for a new account, decided by a data steward.

    Holds the proposed account's fields (named as on :class:`Account`), the requester's
    justification and the duplicate candidates shown at submit. Approval creates the account
    (and its customer code) through the account service; resolving points the request at an
    existing account instead.
    """

    requester = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="account_requests", db_index=False
    )  # indexed by account_request_requester
    business_unit = models.ForeignKey(
        BusinessUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )  # indexed by account_request_unit
    legal_name = models.CharField(_("legal name"), max_length=255, blank=True)
    name_th = models.CharField(_("Thai name"), max_length=255, blank=True)
    name_en = models.CharField(_("English name"), max_length=255, blank=True)
    tax_id = models.CharField(_("tax ID"), max_length=13, blank=True, validators=[validate_tax_id])
    branch_code = models.CharField(
        _("branch number"),
        max_length=5,
        default=HEAD_OFFICE_BRANCH,
        validators=[validate_branch_code],
    )
    industry = models.CharField(max_length=32, choices=Industry.choices, blank=True)
    district = models.ForeignKey(
        District,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="account_requests",
        db_index=False,
    )  # indexed by account_request_district
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    address_line1 = models.CharField(_("address"), max_length=255, blank=True)
    address_line2 = models.CharField(_("address (line 2)"), max_length=255, blank=True)
    subdistrict = models.CharField(_("sub-district (tambon/khwaeng)"), max_length=120, blank=True)
    city = models.CharField(_("district (amphoe/khet)"), max_length=120, blank=True)
    province = models.CharField(max_length=120, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    country = models.CharField(max_length=2, default="TH")
    shipping_address = models.TextField(_("shipping address"), blank=True)
    justification = models.TextField(_("justification"), blank=True)
    # The duplicate check's candidates at submit (``Candidate.as_dict()`` each).
    candidates = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16,
        choices=AccountRequestStatus.choices,
        default=AccountRequestStatus.PENDING,
    )
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )  # indexed by account_request_decided_by (partial)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    # The account created on approval, or the existing one the request was resolved to.
    account = models.ForeignKey(
        Account,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
        db_index=False,
    )  # indexed by account_request_account (partial)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The steward queue: one status, oldest first.
            models.Index(fields=["status", "created_at", "id"], name="account_request_queue"),
            models.Index(fields=["created_at", "id"], name="account_request_created"),
            models.Index(
                fields=["requester", "created_at", "id"], name="account_request_requester"
            ),
            models.Index(fields=["business_unit", "created_at", "id"], name="account_request_unit"),
            models.Index(fields=["district", "created_at", "id"], name="account_request_district"),
            models.Index(
                fields=["account"],
                condition=models.Q(account__isnull=False),
                name="account_request_account",
            ),
            models.Index(
                fields=["decided_by"],
                condition=models.Q(decided_by__isnull=False),
                name="account_request_decided_by",
            ),
        ]

    def __str__(self) -> str:
        return self.legal_name or self.name_en or self.name_th or str(self.pk)

    @property
    def is_pending(self) -> bool:
        return self.status == AccountRequestStatus.PENDING
