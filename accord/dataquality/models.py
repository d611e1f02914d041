"""Data-entry templates: which fields a record must have, per record type and stage."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accord.core.models import BaseModel


class RecordType(models.TextChoices):
    ACCOUNT = "account", _("Account")
    CONTACT = "contact", _("Contact")
    LEAD = "lead", _("Lead")
    OPPORTUNITY = "opportunity", _("Opportunity")
    ACTIVITY = "activity", _("Activity")


# The fields an administrator may make compulsory, per record type.
CONFIGURABLE_FIELDS: dict[str, tuple[str, ...]] = {
    RecordType.ACCOUNT: (
        "name_th",
        "name_en",
        "tax_id",
        "industry",
        "district",
        "phone",
        "email",
        "website",
        "address_line1",
        "subdistrict",
        "city",
        "province",
        "postal_code",
        "shipping_address",
    ),
    RecordType.CONTACT: (
        "last_name",
        "first_name_th",
        "last_name_th",
        "job_title",
        "department",
        "email",
        "phone",
        "mobile",
        "line_id",
    ),
    RecordType.LEAD: (
        "first_name",
        "last_name",
        "job_title",
        "email",
        "phone",
        "business_unit",
        "district",
        "description",
        "disqualified_reason",
    ),
    RecordType.OPPORTUNITY: (
        "contact",
        "amount",
        "expected_close_date",
        "next_step",
        "description",
        "lost_reason",
        "line_items",
    ),
    RecordType.ACTIVITY: (
        "body",
        "start_at",
        "end_at",
        "due_date",
        "outcome",
        "location",
        "contact",
        "opportunity",
    ),
}


class RequiredFieldRule(BaseModel):
    """``field`` must be filled in on every ``record_type`` (only in ``stage``, if set)."""

    record_type = models.CharField(max_length=16, choices=RecordType.choices)
    field = models.CharField(max_length=64)
    stage = models.ForeignKey(
        "sales.Stage",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="required_field_rules",
        help_text=_("Opportunities only: the rule applies from this stage on."),
    )
    applies_to_later_stages = models.BooleanField(
        default=True,
        help_text=_("Also require the field in every later open or won stage of the pipeline."),
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["record_type", "field"]
        constraints = [
            models.UniqueConstraint(
                fields=["record_type", "field"],
                condition=models.Q(stage__isnull=True),
                name="required_field_unique",
            ),
            models.UniqueConstraint(
                fields=["record_type", "field", "stage"],
                condition=models.Q(stage__isnull=False),
                name="required_field_unique_stage",
            ),
        ]

    def __str__(self) -> str:
        where = f" in {self.stage}" if self.stage_id else ""
        return f"{self.record_type}.{self.field} required{where}"

    def clean(self) -> None:
        allowed = CONFIGURABLE_FIELDS.get(self.record_type, ())
        if self.field not in allowed:
            raise ValidationError(
                {"field": _("Choose one of: %(fields)s") % {"fields": ", ".join(allowed)}}
            )
        if self.stage_id and self.record_type != RecordType.OPPORTUNITY:
            raise ValidationError({"stage": _("Only opportunity rules can name a stage.")})
