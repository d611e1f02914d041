from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.forms import ModelForm
from django.http import HttpRequest

from accord.audit.models import SecurityEventKind
from accord.audit.security import security_event
from accord.core.admin import AuditedAdmin, full_snapshot
from accord.org.models import ApiToken, BusinessUnit, District, ProductLine, Region, Team, User
from accord.org.services import user_access_end

# Who may do what and see whom: a change to any of these goes to the security log.
PERMISSION_FIELDS = (
    "role",
    "business_unit",
    "team",
    "manager",
    "region",
    "districts",
    "is_active",
    "is_staff",
    "is_superuser",
    "groups",
    "user_permissions",
)


@admin.register(ProductLine)
class ProductLineAdmin(AuditedAdmin):
    list_display = ["code", "name", "name_th"]
    search_fields = ["code", "name", "name_th"]


@admin.register(BusinessUnit)
class BusinessUnitAdmin(AuditedAdmin):
    list_display = ["code", "name", "name_th", "is_active"]
    search_fields = ["code", "name", "name_th"]
    filter_horizontal = ["product_lines"]


@admin.register(Region)
class RegionAdmin(AuditedAdmin):
    list_display = ["code", "name", "name_th"]
    search_fields = ["code", "name", "name_th"]


@admin.register(District)
class DistrictAdmin(AuditedAdmin):
    list_display = ["code", "name", "name_th", "region"]
    list_filter = ["region"]
    search_fields = ["code", "name", "name_th"]


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ["name", "business_unit", "manager"]
    list_filter = ["business_unit"]
    autocomplete_fields = ["manager"]


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "business_unit", "is_active"]
    list_filter = ["role", "business_unit", "is_active"]
    search_fields = [
        "username",
        "first_name",
        "last_name",
        "first_name_th",
        "last_name_th",
        "email",
    ]
    filter_horizontal = ["districts"]
    autocomplete_fields = ["manager"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Thai name", {"fields": ("first_name_th", "last_name_th", "phone", "language")}),
        (
            "Place in the organisation",
            {"fields": ("role", "business_unit", "team", "manager", "region", "districts")},
        ),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Only superusers hand out superuser rights.
        return () if request.user.is_superuser else ("is_superuser", "last_login", "date_joined")

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        user = form.instance
        before = getattr(request, "_accord_audit_before", None) or {}
        after = full_snapshot(user)
        changed = {
            f: {"from": before.get(f), "to": after.get(f)}
            for f in PERMISSION_FIELDS
            if before.get(f) != after.get(f)
        }
        if changed:
            security_event(
                SecurityEventKind.PERMISSION_CHANGE,
                request=request,
                user=str(user.pk),
                user_name=user.username,
                changes=changed,
            )
        if change and before.get("is_active") and not user.is_active:
            # Unticking "active" is a deactivation: end the user's sessions and tokens too.
            user_access_end(user=user)


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    readonly_fields = ["user", "name", "prefix", "key_hash", "last_used_at", "expires_at"]
    fields = ["user", "name", "prefix", "last_used_at", "expires_at", "revoked_at"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # issued by `accord token-create` or the user's own settings
