from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from accord.audit.models import SecurityEventKind
from accord.audit.security import security_event
from accord.core.admin import AuditedAdmin, full_snapshot
from accord.org.models import Role
from accord.territories.models import SellingPolicy, SharingDefault


@admin.register(SellingPolicy)
class SellingPolicyAdmin(AuditedAdmin):
    """The cross-selling rules: one row, set by administrators."""

    admin_roles = frozenset({Role.ADMINISTRATOR})
    list_display = [
        "__str__",
        "same_unit_owner_only",
        "cross_unit_product_lines_only",
        "outside_territory",
        "exception_valid_days",
    ]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return super().has_add_permission(request, *args) and not SellingPolicy.objects.exists()


@admin.register(SharingDefault)
class SharingDefaultAdmin(AuditedAdmin):
    """The sharing model: per record type, the org-wide default, what the people covering a
    record's district get, and whether managers get what their reports have. A record type
    without a row uses the defaults of ``accord.territories.visibility.SHARING_DEFAULTS``."""

    admin_roles = frozenset({Role.ADMINISTRATOR})
    list_display = ["record_type", "default_access", "territory_access", "grant_via_hierarchy"]

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        # Who may see what: every change of the sharing model is a permission change.
        before = getattr(request, "_accord_audit_before", None) or {}
        after = full_snapshot(form.instance)
        security_event(
            SecurityEventKind.PERMISSION_CHANGE,
            request=request,
            sharing=form.instance.record_type,
            changes={
                f: {"from": before.get(f), "to": after.get(f)}
                for f in ("default_access", "territory_access", "grant_via_hierarchy")
                if before.get(f) != after.get(f)
            },
        )
