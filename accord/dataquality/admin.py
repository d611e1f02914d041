from __future__ import annotations

from django.contrib import admin

from accord.core.admin import AuditedAdmin
from accord.dataquality.models import MatchRule, MatchThreshold, RequiredFieldRule


@admin.register(RequiredFieldRule)
class RequiredFieldRuleAdmin(AuditedAdmin):
    """Data-entry templates: the compulsory fields per record type and pipeline stage."""

    list_display = ["record_type", "field", "stage", "applies_to_later_stages", "is_active"]
    list_filter = ["record_type", "is_active"]


@admin.register(MatchRule)
class MatchRuleAdmin(AuditedAdmin):
    """Duplicate-detection rules: which fields, compared how, weighing how much."""

    list_display = ["record_type", "name", "is_active"]
    list_filter = ["record_type", "is_active"]


@admin.register(MatchThreshold)
class MatchThresholdAdmin(AuditedAdmin):
    """Per record type: the scores at which a duplicate blocks or warns."""

    list_display = ["record_type", "block", "warn"]
