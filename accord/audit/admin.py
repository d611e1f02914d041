from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accord.audit.models import AuditEvent
from accord.core.admin import RoleAccessMixin
from accord.org.models import Role


@admin.register(AuditEvent)
class AuditEventAdmin(RoleAccessMixin, admin.ModelAdmin):
    """Read-only: the application never changes or deletes audit events."""

    admin_roles = frozenset({Role.ADMINISTRATOR})
    list_display = [
        "seq",
        "occurred_at",
        "actor_name",
        "source",
        "action",
        "record_type",
        "record_label",
    ]
    list_filter = ["action", "source", "record_type"]
    search_fields = ["record_id", "actor_name", "request_id"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
