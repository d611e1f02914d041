"""Execution CRM — selling: leads, pipelines and stages (as data), products, opportunities."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accord.core.models import BaseModel
from accord.core.money import AmountField, CurrencyField
from accord.customers.models import Account, Contact
from accord.org.models import BusinessUnit, District, ProductLine


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", _("Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    CLOSED_WON = "closed_won", _("Closed won")
    OMITTED = "omitted", _("Omitted")


class StageOutcome(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Pipeline(BaseModel):
    business_unit = models.ForeignKey(
        BusinessUnit, on_delete=models.PROTECT, related_name="pipelines"
    )
    name = models.CharField(max_length=120)
    is_default = models.BooleanField(default=True)

    class Meta:
        ordering = ["business_unit__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["business_unit", "name"], name="pipeline_unique_name"),
            models.UniqueConstraint(
                fields=["business_unit"],
                condition=models.Q(is_default=True),
                name="pipeline_one_default_per_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.business_unit} — {self.name}"


class Stage(BaseModel):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=80)
    name_th = models.CharField(max_length=80, blank=True)
    position = models.PositiveSmallIntegerField()
    probability = models.PositiveSmallIntegerField(help_text=_("Win probability in percent."))
    forecast_category = models.CharField(max_length=16, choices=ForecastCategory.choices)
    outcome = models.CharField(max_length=8, choices=StageOutcome.choices, default="open")
    color = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["pipeline", "position"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "position"], name="stage_unique_position"),
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_unique_name"),
            models.CheckConstraint(
                condition=models.Q(probability__lte=100), name="stage_probability_percent"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.outcome != StageOutcome.OPEN


class Product(BaseModel):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    product_line = models.ForeignKey(ProductLine, on_delete=models.PROTECT, related_name="products")
    list_price = AmountField()
    currency = CurrencyField()
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class LeadSource(models.TextChoices):
    WEB_FORM = "web_form", _("Web form")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Event or trade show")
    PARTNER = "partner", _("Partner")
    COLD_CALL = "cold_call", _("Cold call")
    OTHER = "other", _("Other")


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    WORKING = "working", _("Working")
    QUALIFIED = "qualified", _("Qualified")
    DISQUALIFIED = "disqualified", _("Disqualified")
    CONVERTED = "converted", _("Converted")


class Lead(BaseModel):
    company_name = models.CharField(max_length=255)
    first_name = models.CharField(max_length=120, blank=True)
    last_name = models.CharField(max_length=120, blank=True)
    job_title = models.CharField(max_length=120, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    source = models.CharField(max_length=16, choices=LeadSource.choices, default="other")
    status = models.CharField(max_length=16, choices=LeadStatus.choices, default="new")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="leads"
    )
    business_unit = models.ForeignKey(
        BusinessUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="leads"
    )
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.PROTECT, related_name="leads"
    )
    description = models.TextField(blank=True)
    disqualified_reason = models.CharField(max_length=255, blank=True)
    converted_account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    search_text = models.TextField(editable=False, default="")

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["company_name", "id"], name="lead_name_keyset"),
            models.Index(fields=["created_at", "id"], name="lead_created_keyset"),
            models.Index(fields=["owner", "status"], name="lead_owner_status"),
            # The "mine / my team" lists: an owner's leads, newest first, a page at a time.
            models.Index(fields=["owner", "created_at", "id"], name="lead_owner_created"),
            # "Recent changes on my records" (My day): an owner's recently changed leads.
            models.Index(fields=["owner", "updated_at"], name="lead_owner_updated"),
        ]

    def __str__(self) -> str:
        return self.company_name


class Opportunity(BaseModel):
    name = models.CharField(max_length=255)
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="opportunities", db_index=False
    )  # indexed by opp_account_created
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    business_unit = models.ForeignKey(
        BusinessUnit, on_delete=models.PROTECT, related_name="opportunities"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="opportunities",
        db_index=False,
    )  # indexed by opp_owner_stage_amount
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="opportunities")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="opportunities")
    amount = AmountField()
    currency = CurrencyField()
    expected_close_date = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    lost_reason = models.CharField(max_length=255, blank=True)
    next_step = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    search_text = models.TextField(editable=False, default="")

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name_plural = "opportunities"
        indexes = [
            models.Index(fields=["name", "id"], name="opp_name_keyset"),
            models.Index(fields=["created_at", "id"], name="opp_created_keyset"),
            models.Index(fields=["amount", "id"], name="opp_amount_keyset"),
            # Read from the index alone: a board's counts and totals for the people one
            # sees, and the accounts of one's opportunities (implicit account access).
            models.Index(
                fields=["owner", "stage"],
                include=["amount", "currency", "account"],
                name="opp_owner_stage_amount",
            ),
            # A board column: a stage's newest cards (and whoever may see them all).
            models.Index(fields=["stage", "created_at", "id"], name="opp_stage_created"),
            models.Index(fields=["account", "created_at"], name="opp_account_created"),
            # The "mine / my team" lists and the close-date filter of the opportunity list.
            models.Index(fields=["owner", "created_at", "id"], name="opp_owner_created"),
            models.Index(fields=["owner", "updated_at"], name="opp_owner_updated"),
            models.Index(
                fields=["expected_close_date"],
                condition=models.Q(expected_close_date__isnull=False),
                name="opp_close_date",
            ),
            # The reports at a million opportunities, read from the index alone: business
            # closed in a period (win rate, deal size, sales cycle, lost reasons) for
            # everyone and per person, and a team's pipeline expected to close in a period.
            models.Index(
                fields=["closed_at"],
                include=["owner", "stage", "amount", "currency", "created_at", "lost_reason"],
                condition=models.Q(closed_at__isnull=False),
                name="opp_closed_cover",
            ),
            models.Index(
                fields=["owner", "closed_at"],
                include=["stage", "amount", "currency", "created_at", "lost_reason"],
                condition=models.Q(closed_at__isnull=False),
                name="opp_owner_closed_cover",
            ),
            models.Index(
                fields=["owner", "expected_close_date"],
                include=["stage", "amount", "currency", "business_unit", "account", "pipeline"],
                name="opp_owner_close_cover",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OpportunityLineItem(BaseModel):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="line_items"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(max_digits=12, decimal_places=2)
    unit_price = AmountField()
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    total = AmountField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["opportunity", "position"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id}"
