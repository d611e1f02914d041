"""Intelligent CRM — forecasts and quotas (ADR 0007).

Forecast figures are not stored: they are computed from opportunities with aggregate
queries (:mod:`accord.insights.selectors`). What is stored is what people decide —
quotas and managers' adjustments — and the weekly snapshots that make a trend.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accord.core.models import BaseModel
from accord.core.money import AmountField, CurrencyField
from accord.org.models import BusinessUnit, District, ProductLine


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class AdjustableCategory(models.TextChoices):
    """The cumulative forecast figures a manager may adjust (closed won is a fact)."""

    COMMIT = "commit", _("Commit")
    BEST_CASE = "best_case", _("Best case")
    PIPELINE = "pipeline", _("Pipeline")


class Quota(BaseModel):
    """A rep's target for a period. It rolls up to the unit and district it is placed in
    (the rep's unit and district when it was set), and up the rep's managers."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quotas", db_index=False
    )  # indexed by quota_unique_user_period
    period_kind = models.CharField(max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField()
    amount = AmountField()
    currency = CurrencyField()
    business_unit = models.ForeignKey(
        BusinessUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["period_start", "user", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "period_kind", "period_start"], name="quota_unique_user_period"
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="quota_not_negative"),
        ]
        indexes = [
            models.Index(fields=["period_start", "id"], name="quota_period_keyset"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.period_kind} {self.period_start}: {self.amount}"


class ForecastAdjustment(BaseModel):
    """A manager's number for a person's roll-up (category, period), with a note.

    Append-only: the latest adjustment for (subject, period, category) is the one in force;
    earlier ones and the computed figure at the time stay as the record of what was said.
    """

    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="forecast_adjustments",
        db_index=False,
    )  # indexed by adjustment_subject_period
    period_kind = models.CharField(max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField()
    category = models.CharField(max_length=16, choices=AdjustableCategory.choices)
    amount = AmountField()
    computed_amount = AmountField(help_text=_("The computed roll-up figure when adjusted."))
    note = models.CharField(max_length=500)
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["subject", "period_kind", "period_start", "created_at"],
                name="adjustment_subject_period",
            ),
            models.Index(fields=["period_kind", "period_start"], name="adjustment_period"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="adjustment_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.amount}"


class ForecastSnapshot(BaseModel):
    """One node's figures for one period as they stood in one ISO week (the trend).

    ``node`` is the node's key: ``user:<id>`` for a person's roll-up, ``company``,
    ``region:<id>``, ``region:<id>/unit:<id>``, ``region:<id>/unit:<id>/district:<id>``.
    """

    week_start = models.DateField(help_text=_("Monday of the ISO week."))
    node = models.CharField(max_length=160)
    period_kind = models.CharField(max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField()
    closed_won = AmountField()
    commit = AmountField()
    best_case = AmountField()
    pipeline = AmountField()
    adjusted_commit = AmountField(null=True, blank=True, default=None)
    adjusted_best_case = AmountField(null=True, blank=True, default=None)
    adjusted_pipeline = AmountField(null=True, blank=True, default=None)
    quota = AmountField(null=True, blank=True, default=None)

    class Meta:
        ordering = ["node", "period_start", "week_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["node", "period_kind", "period_start", "week_start"],
                name="snapshot_unique_node_week",
            ),
        ]
        indexes = [models.Index(fields=["week_start"], name="snapshot_week")]

    def __str__(self) -> str:
        return f"{self.node} {self.period_start} @ {self.week_start}"


class WeeklyDigest(BaseModel):
    """The weekly forecast e-mail a manager was sent for one ISO week (ADR 0007).

    One row per person per week: the row is written in the same transaction as the send, so
    a second run in the week sends nothing and a failed send leaves no row behind.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="weekly_digests",
        db_index=False,
    )  # indexed by weekly_digest_unique_user_week
    week_start = models.DateField(help_text=_("Monday of the ISO week."))
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-week_start", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "week_start"], name="weekly_digest_unique_user_week"
            ),
        ]
        indexes = [models.Index(fields=["week_start"], name="weekly_digest_week")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.week_start}"


class CellPlace(models.Model):
    """Where opportunities are summed ahead: owner, business unit, the account's district,
    stage and the local month they count in (see :class:`OpportunityCell`). No foreign-key
    constraints: derived data, rebuilt from the records."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    business_unit = models.ForeignKey(
        BusinessUnit, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    district = models.ForeignKey(
        District, null=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    stage = models.ForeignKey(
        "sales.Stage", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    month = models.DateField()

    class Meta:
        abstract = True


class OpportunityCell(CellPlace):
    """Opportunities summed by owner, business unit, district, stage and month: forecast and
    pipeline figures at a million opportunities without reading them (ADR 0007, "Cells").

    Derived data, kept in step with every opportunity and account write in the same
    transaction (:mod:`accord.insights.cells`); ``accord cells-rebuild`` recomputes it. The
    month is the local month an opportunity counts in: its close date (``closed_at``) once
    won or lost, its expected close date while open; only the default currency counts.
    """

    key = models.CharField(max_length=500, unique=True)
    # Lost deals are split by the reason given (the lost-reasons report); empty otherwise.
    lost_reason = models.CharField(max_length=255, blank=True, default="")
    n = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    # Closed deals only (the deal-size and sales-cycle reports): the smallest and largest
    # amount, and the sum, shortest and longest of ``closed_at - created_at``. Extremes are
    # recomputed from the opportunities when one that held them leaves the cell.
    amount_min = models.DecimalField(max_digits=20, decimal_places=2, null=True)
    amount_max = models.DecimalField(max_digits=20, decimal_places=2, null=True)
    cycle = models.DurationField(default=dt.timedelta)
    cycle_min = models.DurationField(null=True)
    cycle_max = models.DurationField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["month"], name="opp_cell_month"),
            models.Index(fields=["owner", "month"], name="opp_cell_owner_month"),
        ]

    def __str__(self) -> str:
        return self.key


class LineItemCell(CellPlace):
    """Opportunity line items summed by owner, business unit, district, stage, month and
    product line: the pipeline-by-product-line report at a million line items without
    reading them (ADR 0007, "Cells").

    ``n`` counts the opportunities with items of the line (an opportunity is in one place,
    so summing ``n`` over cells counts each once per line); ``amount`` sums the items'
    totals. Placed like :class:`OpportunityCell` (default currency only), kept in step by
    :mod:`accord.insights.line_cells`.
    """

    key = models.CharField(max_length=300, unique=True)
    product_line = models.ForeignKey(
        ProductLine, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    n = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        indexes = [
            models.Index(fields=["month"], name="line_cell_month"),
            models.Index(fields=["owner", "month"], name="line_cell_owner_month"),
        ]

    def __str__(self) -> str:
        return self.key


class ActivityWeekCell(models.Model):
    """Activities counted by who performed them, the account's district, kind, ISO week and
    month: the activities-per-week report over five million activities without reading
    them (ADR 0007, "Cells"). The month splits a week that straddles two, so a period of
    whole months counts exactly its own days. Kept in step like the opportunity cells
    (:mod:`accord.insights.activity_cells`)."""

    key = models.CharField(max_length=160, unique=True)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    district = models.ForeignKey(
        District, null=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    kind = models.CharField(max_length=16)
    week = models.DateField()
    month = models.DateField()
    n = models.IntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["month"], name="act_cell_month"),
            models.Index(fields=["performed_by", "month"], name="act_cell_person_month"),
        ]

    def __str__(self) -> str:
        return self.key
