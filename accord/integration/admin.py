"""Integration in the admin: connectors (audited, secrets masked in the trail),
the outbox and deliveries (read-only; replay, pause and resume go through services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from accord.audit.models import AuditAction
from accord.audit.services import Snapshot, audit_record_change
from accord.core.admin import AuditedAdmin, full_snapshot
from accord.core.errors import DomainError
from accord.integration.models import Connector, Delivery, DeliveryStatus, OutboxEvent
from accord.integration.services import connector_set_paused, delivery_replay
from accord.integration.validation import masked_settings
from accord.org.models import Role, User

INTEGRATION_ROLES = frozenset({Role.ADMINISTRATOR})


def _masked(data: Snapshot | None) -> Snapshot | None:
    if data is None:
        return None
    return {**data, "settings": masked_settings(data.get("settings"))}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@admin.register(Connector)
class ConnectorAdmin(AuditedAdmin):
    admin_roles = INTEGRATION_ROLES
    list_display = ("name", "kind", "enabled", "paused", "event_types")
    list_filter = ("kind", "enabled", "paused")
    actions = ("pause", "resume")

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        before = getattr(request, "_accord_audit_before", None)
        request._accord_audit_before = _masked(before)  # type: ignore[attr-defined]

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        admin.ModelAdmin.save_related(self, request, form, formsets, change)
        audit_record_change(
            action=AuditAction.UPDATE if change else AuditAction.CREATE,
            instance=form.instance,
            before=getattr(request, "_accord_audit_before", None),
            after=_masked(full_snapshot(form.instance)),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        before = _masked(full_snapshot(obj))
        pk = obj.pk
        admin.ModelAdmin.delete_model(self, request, obj)
        obj.pk = pk
        audit_record_change(action=AuditAction.DELETE, instance=obj, before=before)

    @admin.action(description="Pause the selected connectors")
    def pause(self, request: HttpRequest, queryset: QuerySet[Connector]) -> None:
        for connector in queryset:
            connector_set_paused(actor=_user(request), connector=connector, paused=True)

    @admin.action(description="Resume the selected connectors")
    def resume(self, request: HttpRequest, queryset: QuerySet[Connector]) -> None:
        for connector in queryset:
            connector_set_paused(actor=_user(request), connector=connector, paused=False)


class ReadOnlyAdmin(AuditedAdmin):
    admin_roles = INTEGRATION_ROLES

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "event_type", "aggregate_type", "aggregate_id", "seq")
    list_filter = ("event_type",)
    search_fields = ("aggregate_id", "ordering_key")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "event",
        "connector",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_error",
    )
    list_filter = ("status", "connector")
    list_select_related = ("event", "connector")
    search_fields = ("ordering_key",)
    actions = ("replay",)

    @admin.action(description="Replay the selected dead or failed deliveries")
    def replay(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        done = 0
        for row in queryset.filter(status__in=[DeliveryStatus.DEAD, DeliveryStatus.FAILED]):
            try:
                delivery_replay(actor=_user(request), delivery=row)
                done += 1
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
        self.message_user(request, f"{done} deliveries queued again.", messages.SUCCESS)
