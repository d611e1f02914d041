from __future__ import annotations

from django.contrib import admin

from accord.core.admin import AuditedAdmin, AuditedInline
from accord.sales.models import Pipeline, Product, Stage


class StageInline(AuditedInline):
    model = Stage
    fields = ["position", "name", "name_th", "probability", "forecast_category", "outcome", "color"]
    ordering = ["position"]


@admin.register(Pipeline)
class PipelineAdmin(AuditedAdmin):
    list_display = ["name", "business_unit", "is_default"]
    list_filter = ["business_unit"]
    inlines = [StageInline]


@admin.register(Product)
class ProductAdmin(AuditedAdmin):
    list_display = ["code", "name", "product_line", "list_price", "currency", "is_active"]
    list_filter = ["product_line", "is_active"]
    search_fields = ["code", "name"]
