"""Admin base: role-based access and an audit event for every change made in the admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from accord.audit.models import AuditAction
from accord.audit.services import Snapshot, audit_record_change, snapshot
from accord.org.models import Role

ORG_ADMIN_ROLES = frozenset({Role.ADMINISTRATOR, Role.CRM_OFFICER})


def full_snapshot(obj: models.Model) -> Snapshot:
    """Concrete fields plus many-to-many ids (e.g. a user's districts)."""
    data = snapshot(obj)
    if obj.pk is not None:
        for field in obj._meta.many_to_many:
            data[field.name] = sorted(
                str(pk) for pk in getattr(obj, field.name).values_list("pk", flat=True)
            )
    return data


def _has_role(request: HttpRequest, roles: frozenset[str]) -> bool:
    user = request.user
    return bool(
        user.is_active
        and user.is_staff
        and (user.is_superuser or getattr(user, "role", None) in roles)
    )


class RoleAccessMixin:
    """Administrators and CRM officers manage org data; superusers everything."""

    admin_roles: frozenset[str] = ORG_ADMIN_ROLES

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _has_role(request, self.admin_roles)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _has_role(request, self.admin_roles)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return _has_role(request, self.admin_roles)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _has_role(request, self.admin_roles)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _has_role(request, self.admin_roles)


class AuditedInline(RoleAccessMixin, admin.TabularInline):
    extra = 0


class AuditedAdmin(RoleAccessMixin, admin.ModelAdmin):
    """Writes an audit event for every add, change and delete, in the admin's transaction."""

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        before = full_snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        request._accord_audit_before = before  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        obj = form.instance
        audit_record_change(
            action=AuditAction.UPDATE if change else AuditAction.CREATE,
            instance=obj,
            before=getattr(request, "_accord_audit_before", None),
            after=full_snapshot(obj),
        )

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            gone = snapshot(obj)
            pk = obj.pk
            obj.delete()
            obj.pk = pk
            audit_record_change(action=AuditAction.DELETE, instance=obj, before=gone)
        for obj in instances:
            adding = obj._state.adding
            before = None if adding else snapshot(type(obj).objects.get(pk=obj.pk))
            obj.save()
            audit_record_change(
                action=AuditAction.CREATE if adding else AuditAction.UPDATE,
                instance=obj,
                before=before,
                after=snapshot(obj),
            )
        formset.save_m2m()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            before = full_snapshot(obj)
            pk = obj.pk
            super().delete_model(request, obj)
            obj.pk = pk
            audit_record_change(action=AuditAction.DELETE, instance=obj, before=before)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)
