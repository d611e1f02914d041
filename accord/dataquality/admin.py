from __future__ import annotations

from django.contrib import admin

from accord.core.admin import AuditedAdmin
from accord.dataquality.models import RequiredFieldRule


@admin.register(RequiredFieldRule)
class RequiredFieldRuleAdmin(AuditedAdmin):
    """Data-entry templates: the compulsory fields per record type and pipeline stage."""

    list_display = ["record_type", "field", "stage", "applies_to_later_stages", "is_active"]
    list_filter = ["record_type", "is_active"]
