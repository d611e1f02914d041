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


class Comparison(models.TextChoices):
    EXACT = "exact", _("same normalised value")
    FUZZY_NAME = "fuzzy_name", _("similar name (rapidfuzz on the name key)")
    TAX_ID_BRANCH = "tax_id_branch", _("same tax ID and branch")
    PHONE = "phone", _("same phone number (E.164)")
    EMAIL = "email", _("same email address")
    EMAIL_DOMAIN = "email_domain", _("same company email domain (free-mail never matches)")
    WEBSITE_DOMAIN = "website_domain", _("same website domain")


# The fields a match condition may compare, per record type, and the comparisons allowed.
MATCH_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    RecordType.ACCOUNT: {
        "name": (Comparison.FUZZY_NAME, Comparison.EXACT),
        "tax_id": (Comparison.TAX_ID_BRANCH, Comparison.EXACT),
        "branch": (Comparison.EXACT,),
        "phone": (Comparison.PHONE, Comparison.EXACT),
        "email": (Comparison.EMAIL, Comparison.EMAIL_DOMAIN, Comparison.EXACT),
        "website": (Comparison.WEBSITE_DOMAIN, Comparison.EXACT),
    },
    RecordType.CONTACT: {
        "name": (Comparison.FUZZY_NAME, Comparison.EXACT),
        "account": (Comparison.EXACT,),
        "phone": (Comparison.PHONE, Comparison.EXACT),
        "email": (Comparison.EMAIL, Comparison.EXACT),
    },
}


class MatchRule(BaseModel):
    """A declarative duplicate rule: it matches when *every* condition holds.

    ``conditions`` is a list of ``{"field", "comparison", "weight", "min_similarity"}``. A
    condition holds when the compared values are present on both sides and equal (or, for
    ``fuzzy_name``, at least ``min_similarity`` alike, 0 to 1). The rule's score is the sum of
    ``weight * similarity`` over its conditions (at most 1); a candidate's score is that of
    its best matching rule, judged against the record type's :class:`MatchThreshold`.
    """

    record_type = models.CharField(
        max_length=16,
        choices=[(RecordType.ACCOUNT, _("Account")), (RecordType.CONTACT, _("Contact"))],
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    conditions = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["record_type", "name"]
        constraints = [
            models.UniqueConstraint(fields=["record_type", "name"], name="match_rule_unique")
        ]

    def __str__(self) -> str:
        return f"{self.record_type}: {self.name}"

    def clean(self) -> None:
        fields = MATCH_FIELDS.get(self.record_type, {})
        if not isinstance(self.conditions, list) or not self.conditions:
            raise ValidationError({"conditions": _("List at least one condition.")})
        errors: list[str] = []
        for i, cond in enumerate(self.conditions, start=1):
            if not isinstance(cond, dict):
                errors.append(_("Condition %(n)d is not an object.") % {"n": i})
                continue
            unknown = set(cond) - {"field", "comparison", "weight", "min_similarity"}
            if unknown:
                errors.append(
                    _("Condition %(n)d: unknown keys %(keys)s.")
                    % {"n": i, "keys": ", ".join(sorted(unknown))}
                )
            field, comparison = cond.get("field"), cond.get("comparison")
            if field not in fields:
                errors.append(
                    _("Condition %(n)d: field must be one of %(fields)s.")
                    % {"n": i, "fields": ", ".join(fields)}
                )
            elif comparison not in fields[field]:
                errors.append(
                    _("Condition %(n)d: compare %(field)s with one of %(cmp)s.")
                    % {"n": i, "field": field, "cmp": ", ".join(fields[field])}
                )
            for key in ("weight", "min_similarity"):
                value = cond.get(key, 0 if key == "weight" else 1)
                if not isinstance(value, int | float) or isinstance(value, bool):
                    errors.append(_("Condition %(n)d: %(key)s is a number.") % {"n": i, "key": key})
                elif not 0 <= value <= 1:
                    errors.append(
                        _("Condition %(n)d: %(key)s lies between 0 and 1.") % {"n": i, "key": key}
                    )
        if errors:
            raise ValidationError({"conditions": errors})


class MatchThreshold(BaseModel):
    """Per record type: a candidate scoring ``block`` or more stops the write (unless a
    justification overrides it); ``warn`` or more is shown but lets the write through."""

    record_type = models.CharField(
        max_length=16,
        unique=True,
        choices=[(RecordType.ACCOUNT, _("Account")), (RecordType.CONTACT, _("Contact"))],
    )
    block = models.FloatField(default=0.9)
    warn = models.FloatField(default=0.75)

    class Meta:
        ordering = ["record_type"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(warn__gt=0, warn__lte=models.F("block"), block__lte=1),
                name="match_threshold_order",
                violation_error_message=_("0 < warn ≤ block ≤ 1."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.record_type}: block ≥ {self.block}, warn ≥ {self.warn}"
