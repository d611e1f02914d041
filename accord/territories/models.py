"""Who owns, who may see and who may sell to an account.

* :class:`SharingDefault` — the administrator's sharing model per record type: what everyone
  gets on records they do not own (the org-wide default), what people covering a record's
  district get (territory access), and whether managers get what their reports have.
* :class:`AccountOwner` — one responsible owner per account per business unit (optionally
  per product line inside the unit, after a dispute splits it or a rule names a line).
* :class:`AccountTeamMember` — explicit shares of one account with a person and a role.
* :class:`AssignmentRule` — ordered rules that pick owners (first match wins per slot).
* :class:`SellingPolicy`, :class:`SellingException` — the cross-selling rules and the
  exceptions a rep asks for.
* :class:`OwnershipDispute` — a rep's claim to an account, decided by a manager on the
  record.
* :class:`AccountReach` — derived, on PostgreSQL only: the accounts a person owns or sells to
  outside the districts they cover, in name order, for their searches.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accord.core.models import BaseModel


class Access(models.TextChoices):
    NONE = "none", _("No access (private)")
    READ = "read", _("Read only")
    READ_WRITE = "read_write", _("Read and write")


class SharedRecordType(models.TextChoices):
    ACCOUNT = "account", _("Account")
    LEAD = "lead", _("Lead")
    OPPORTUNITY = "opportunity", _("Opportunity")
    ACTIVITY = "activity", _("Activity")


class SharingDefault(BaseModel):
    """The sharing model of one record type. Contacts follow their account ("controlled by
    parent"). Missing rows mean the defaults of :data:`accord.territories.sharing.DEFAULTS`."""

    record_type = models.CharField(max_length=16, choices=SharedRecordType.choices, unique=True)
    default_access = models.CharField(
        _("org-wide default"),
        max_length=16,
        choices=Access.choices,
        default=Access.NONE,
        help_text=_("What everyone gets on records they neither own nor cover."),
    )
    territory_access = models.CharField(
        _("territory access"),
        max_length=16,
        choices=Access.choices,
        default=Access.NONE,
        help_text=_("What the people covering the record's district get."),
    )
    grant_via_hierarchy = models.BooleanField(
        _("grant access using the hierarchy"),
        default=True,
        help_text=_("A manager has what the people under them have."),
    )

    class Meta:
        ordering = ["record_type"]

    def __str__(self) -> str:
        return self.get_record_type_display()


class OwnershipSource(models.TextChoices):
    RULE = "rule", _("Assignment rule")
    STEWARD = "steward", _("Set by the CRM team")
    MANAGER = "manager", _("Set by a manager")
    DISPUTE = "dispute", _("Dispute decision")
    HANDOVER = "handover", _("Handover")
    MIGRATION = "migration", _("Migrated")


class AccountOwner(BaseModel):
    """``owner`` is responsible for ``account`` in ``business_unit`` — for every product line
    of the unit (``product_line`` empty) or for one line (after a split)."""

    account = models.ForeignKey(
        "customers.Account", on_delete=models.CASCADE, related_name="owners", db_index=False
    )  # indexed by account_owner_unique_unit and account_owner_unique_line
    business_unit = models.ForeignKey(
        "org.BusinessUnit", on_delete=models.PROTECT, related_name="account_owners"
    )
    product_line = models.ForeignKey(
        "org.ProductLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="account_owners",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_accounts",
        db_index=False,
    )  # indexed by account_owner_owner
    source = models.CharField(
        max_length=16, choices=OwnershipSource.choices, default=OwnershipSource.STEWARD
    )
    rule = models.ForeignKey(
        "territories.AssignmentRule",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["business_unit__name", "product_line__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "business_unit"],
                condition=Q(product_line__isnull=True),
                name="account_owner_unique_unit",
            ),
            models.UniqueConstraint(
                fields=["account", "business_unit", "product_line"],
                condition=Q(product_line__isnull=False),
                name="account_owner_unique_line",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "account"], name="account_owner_owner"),
            # The visibility probe "does one of these people own this account?" per row of
            # a list (the unique indexes are partial, so they cannot answer it).
            models.Index(fields=["account", "owner"], name="account_owner_account"),
        ]

    def __str__(self) -> str:
        return f"{self.owner} owns {self.account} in {self.business_unit}"


class AccountTeamRole(models.TextChoices):
    PRE_SALES = "pre_sales", _("Pre-sales engineer")
    SERVICE = "service", _("Service / support")
    ACCOUNT_MANAGER = "account_manager", _("Account manager")
    EXECUTIVE_SPONSOR = "executive_sponsor", _("Executive sponsor")
    OTHER = "other", _("Other")


class AccountTeamMember(BaseModel):
    """An explicit share: ``user`` works on ``account`` in ``role`` with these accesses."""

    account = models.ForeignKey(
        "customers.Account", on_delete=models.CASCADE, related_name="team_members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="account_teams",
        db_index=False,
    )  # indexed by account_team_user
    role = models.CharField(max_length=24, choices=AccountTeamRole.choices)
    account_access = models.CharField(
        max_length=16,
        choices=[(Access.READ, Access.READ.label), (Access.READ_WRITE, Access.READ_WRITE.label)],
        default=Access.READ,
    )
    opportunity_access = models.CharField(
        max_length=16, choices=Access.choices, default=Access.READ
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["role", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["account", "user"], name="account_team_unique_user")
        ]
        indexes = [models.Index(fields=["user", "account"], name="account_team_user")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) on {self.account}"


class AssignmentRule(BaseModel):
    """Picks the owner of an account in ``business_unit`` (and ``product_line``, if set).

    Rules of a unit are tried by ``position``; the first whose conditions all hold (an empty
    condition always holds) fills its slot."""

    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=100)
    business_unit = models.ForeignKey(
        "org.BusinessUnit", on_delete=models.CASCADE, related_name="assignment_rules"
    )
    product_line = models.ForeignKey(
        "org.ProductLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignment_rules",
        help_text=_("Empty: the owner for every product line of the unit."),
    )
    districts = models.ManyToManyField(
        "org.District",
        blank=True,
        related_name="assignment_rules",
        help_text=_("Empty: any district."),
    )
    industries = models.JSONField(
        default=list, blank=True, help_text=_("Industry codes; empty: any industry.")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignment_rules"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["business_unit__name", "position", "name"]
        indexes = [models.Index(fields=["business_unit", "position"], name="assignment_rule_order")]

    def __str__(self) -> str:
        return self.name


class OutsideTerritory(models.TextChoices):
    ALLOW = "allow", _("Allow")
    EXCEPTION = "exception", _("Only with an approved exception")
    BLOCK = "block", _("Block")


class SellingPolicy(BaseModel):
    """The cross-selling rules (one row; :func:`accord.territories.selling.policy` reads it)."""

    same_unit_owner_only = models.BooleanField(
        _("only the owner sells within a unit"),
        default=True,
        help_text=_("A rep may not sell to an account another rep of the same unit owns."),
    )
    cross_unit_product_lines_only = models.BooleanField(
        _("other units sell only their own product lines"), default=True
    )
    outside_territory = models.CharField(
        _("selling to an unowned account outside one's districts"),
        max_length=16,
        choices=OutsideTerritory.choices,
        default=OutsideTerritory.EXCEPTION,
    )
    exception_valid_days = models.PositiveIntegerField(default=90)
    dispute_answer_days = models.PositiveIntegerField(
        _("days the owner has to answer a dispute"), default=5
    )
    dispute_decision_days = models.PositiveIntegerField(
        _("days the manager has to decide a dispute"), default=10
    )

    class Meta:
        verbose_name_plural = "selling policy"

    def __str__(self) -> str:
        return "Selling policy"


class ExceptionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class SellingException(BaseModel):
    """A rep asks to sell ``product_lines`` to an account they may not sell to."""

    account = models.ForeignKey(
        "customers.Account", on_delete=models.CASCADE, related_name="selling_exceptions"
    )
    business_unit = models.ForeignKey(
        "org.BusinessUnit", on_delete=models.PROTECT, related_name="selling_exceptions"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="selling_exceptions"
    )
    product_lines = models.ManyToManyField(
        "org.ProductLine", blank=True, related_name="selling_exceptions"
    )
    reason = models.TextField()
    status = models.CharField(
        max_length=16, choices=ExceptionStatus.choices, default=ExceptionStatus.PENDING
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="exceptions_to_decide",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["account", "requester", "status"], name="selling_exception_acct"),
            models.Index(fields=["approver", "status"], name="selling_exception_approver"),
        ]

    def __str__(self) -> str:
        return f"Exception for {self.requester} on {self.account}"


class DisputeStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered by the owner")
    ESCALATED = "escalated", _("Escalated")
    DECIDED = "decided", _("Decided")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class DisputeOutcome(models.TextChoices):
    KEEP = "keep", _("Owner keeps the account")
    TRANSFER = "transfer", _("Transferred to the claimant")
    SPLIT = "split", _("Split by product line")


class OwnershipDispute(BaseModel):
    """``claimant`` claims ``account`` in ``business_unit`` from ``owner``."""

    account = models.ForeignKey(
        "customers.Account", on_delete=models.CASCADE, related_name="disputes"
    )
    business_unit = models.ForeignKey(
        "org.BusinessUnit", on_delete=models.PROTECT, related_name="disputes"
    )
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="disputes_claimed"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disputes_against",
    )
    reason = models.TextField()
    evidence = models.TextField(blank=True)
    activities = models.ManyToManyField("activities.Activity", blank=True, related_name="disputes")
    status = models.CharField(
        max_length=16, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    owner_answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    decider = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="disputes_to_decide",
    )
    deadline = models.DateTimeField()
    escalated_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=DisputeOutcome.choices, blank=True)
    split_product_lines = models.ManyToManyField("org.ProductLine", blank=True, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "deadline"], name="dispute_status_deadline"),
            models.Index(fields=["business_unit", "created_at"], name="dispute_unit"),
        ]

    def __str__(self) -> str:
        return f"Dispute on {self.account} by {self.claimant}"


class AccountReach(models.Model):
    """The accounts ``user_id`` owns (an :class:`AccountOwner` row) or owns an opportunity on,
    that lie outside the districts the user covers (their districts and their region's),
    with the account's name and search column: a search reads them in name order from one
    index instead of looking up thousands of accounts by key
    (``visibility.account_search_parts``, ADR 0009).

    Derived data, never written by Accord's code: on PostgreSQL, triggers keep it in step
    with owner rows, opportunities, the accounts' names and districts, and the users'
    districts and regions (migration ``territories/0003``); other databases leave it empty
    and never read it. Plain ids, no foreign keys: a merge moves the owner rows and
    opportunities, and the triggers follow."""

    user_id = models.UUIDField()
    account_id = models.UUIDField()
    legal_name = models.CharField(max_length=255)
    search_text = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "account_id"], name="account_reach_unique")
        ]
        indexes = [
            models.Index(
                fields=["user_id", "legal_name", "account_id"],
                include=["search_text"],
                name="account_reach_walk",
            ),
            models.Index(fields=["account_id"], name="account_reach_account"),
        ]

    def __str__(self) -> str:
        return f"{self.legal_name} reached by {self.user_id}"
