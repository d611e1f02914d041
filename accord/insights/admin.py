from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accord.core.admin import AuditedAdmin
from accord.core.errors import DomainError
from accord.insights import services
from accord.insights.models import ForecastAdjustment, Quota, WeeklyDigest
from accord.insights.periods import period_from_start


class QuotaAdminForm(forms.ModelForm):
    """The same rules as :func:`accord.insights.services.quota_create`: the start begins a
    month or quarter, and a person has a quarter's quota or monthly ones, not both."""

    class Meta:
        model = Quota
        fields = ["user", "period_kind", "period_start", "amount", "district", "note"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, start, user = data.get("period_kind"), data.get("period_start"), data.get("user")
        if kind and start:
            try:
                period = period_from_start(kind, start)
            except ValueError as exc:
                raise ValidationError({"period_start": str(exc)}) from exc
            if user is not None:
                try:
                    services.check_quota_overlap(user, period, exclude=self.instance.pk)
                except DomainError as exc:
                    raise ValidationError(exc.detail) from exc
        return data


@admin.register(Quota)
class QuotaAdmin(AuditedAdmin):
    form = QuotaAdminForm
    list_display = ["user", "period_kind", "period_start", "amount", "business_unit", "district"]
    list_filter = ["period_kind", "period_start", "business_unit"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]
    raw_id_fields = ["district"]

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> None:
        # Placed in the person's unit, like quotas set through the service.
        obj.business_unit_id = obj.user.business_unit_id
        super().save_model(request, obj, form, change)


@admin.register(ForecastAdjustment)
class ForecastAdjustmentAdmin(AuditedAdmin):
    """Read-only: managers adjust on the forecast page or through the API."""

    list_display = ["subject", "period_kind", "period_start", "category", "amount", "adjusted_by"]
    list_filter = ["period_kind", "period_start", "category"]
    readonly_fields = [f.name for f in ForecastAdjustment._meta.fields]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WeeklyDigest)
class WeeklyDigestAdmin(AuditedAdmin):
    """Read-only: who was sent the weekly forecast e-mail, and when (``accord weekly-digest``
    writes the rows). Deleting one would send that week's mail again, so nothing is editable."""

    list_display = ["user", "week_start", "sent_at"]
    list_filter = ["week_start"]
    search_fields = ["user__username", "user__email"]
    readonly_fields = [f.name for f in WeeklyDigest._meta.fields]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
