"""Communicational CRM — every contact with a customer: visits, calls, meetings, email,
tasks and notes, linked explicitly to the records they concern."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accord.core.models import BaseModel
from accord.customers.models import Account, Contact
from accord.sales.models import Lead, Opportunity


class ActivityKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("Email")
    TASK = "task", _("Task")
    NOTE = "note", _("Note")


class Activity(BaseModel):
    kind = models.CharField(max_length=16, choices=ActivityKind.choices)
    subject = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    start_at = models.DateTimeField(null=True, blank=True)
    end_at = models.DateTimeField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    is_done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=255, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    location = models.CharField(max_length=255, blank=True)
    # Each link is indexed by a composite "(link, occurred_at, id)" index below, partial
    # for the links most activities leave empty; no separate single-column indexes.
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="activities",
        db_index=False,
    )
    account = models.ForeignKey(
        Account,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
        db_index=False,
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
        db_index=False,
    )
    lead = models.ForeignKey(
        Lead,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
        db_index=False,
    )
    opportunity = models.ForeignKey(
        Opportunity,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
        db_index=False,
    )
    # When it happened (or is due): the key of every timeline; set by the service.
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["occurred_at", "id"], name="activity_occurred_keyset"),
            models.Index(fields=["account", "occurred_at", "id"], name="activity_account_time"),
            models.Index(
                fields=["contact", "occurred_at", "id"],
                name="activity_contact_time",
                condition=models.Q(contact__isnull=False),
            ),
            models.Index(
                fields=["lead", "occurred_at", "id"],
                name="activity_lead_time",
                condition=models.Q(lead__isnull=False),
            ),
            models.Index(
                fields=["opportunity", "occurred_at", "id"],
                name="activity_opp_time",
                condition=models.Q(opportunity__isnull=False),
            ),
            # A person's activities by time, read from the index alone with their kind (the
            # activities-per-week report and the dashboards count one range per person).
            models.Index(
                fields=["performed_by", "occurred_at"],
                include=["kind", "account"],
                name="activity_user_time_kind",
            ),
            # "Recent changes on my records" (My day): a person's recently changed activities.
            models.Index(fields=["performed_by", "updated_at"], name="activity_user_updated"),
            # My day and "open" lists: a person's open activities by date, without walking
            # past the (many more) done ones.
            models.Index(
                fields=["performed_by", "occurred_at"],
                condition=models.Q(is_done=False),
                name="activity_user_open",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_at__isnull=True)
                | models.Q(start_at__isnull=True)
                | models.Q(end_at__gte=models.F("start_at")),
                name="activity_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"
