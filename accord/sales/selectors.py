"""Reads on leads, opportunities, pipelines and products."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from django.db.models import QuerySet

from accord.core.pagination import Page, keyset_page
from accord.core.selectors import search_fragment
from accord.org.models import User
from accord.sales.models import Lead, Opportunity, Pipeline, Product
from accord.territories import visibility

LeadOrdering = Literal["company_name", "-company_name", "created_at", "-created_at"]
OpportunityOrdering = Literal["name", "-name", "created_at", "-created_at", "amount", "-amount"]


def lead_list(
    *,
    user: User,
    search: str | None = None,
    status: str | None = None,
    source: str | None = None,
    owner: uuid.UUID | None = None,
    business_unit: uuid.UUID | None = None,
    district: uuid.UUID | None = None,
    ordering: LeadOrdering = "-created_at",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Lead]:
    qs = visibility.leads_visible_to(user)
    if search:
        qs = qs.filter(search_text__contains=search_fragment(search))
    filters = {
        "status": status,
        "source": source,
        "owner_id": owner,
        "business_unit_id": business_unit,
        "district_id": district,
    }
    qs = qs.filter(**{k: v for k, v in filters.items() if v})
    return keyset_page(qs, ordering=ordering, cursor=cursor, limit=limit)


def opportunity_list(
    *,
    user: User,
    search: str | None = None,
    account: uuid.UUID | None = None,
    owner: uuid.UUID | None = None,
    business_unit: uuid.UUID | None = None,
    stage: uuid.UUID | None = None,
    outcome: str | None = None,
    close_from: dt.date | None = None,
    close_to: dt.date | None = None,
    ordering: OpportunityOrdering = "-created_at",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Opportunity]:
    qs = visibility.opportunities_visible_to(user).prefetch_related("line_items")
    if search:
        qs = qs.filter(search_text__contains=search_fragment(search))
    filters = {
        "account_id": account,
        "owner_id": owner,
        "business_unit_id": business_unit,
        "stage_id": stage,
        "stage__outcome": outcome,
        "expected_close_date__gte": close_from,
        "expected_close_date__lte": close_to,
    }
    qs = qs.filter(**{k: v for k, v in filters.items() if v})
    return keyset_page(qs, ordering=ordering, cursor=cursor, limit=limit)


def pipelines_with_stages() -> QuerySet[Pipeline]:
    return Pipeline.objects.select_related("business_unit").prefetch_related("stages")


def products_active() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True).select_related("product_line")


def open_opportunities_by_stage(*, user: User) -> list[dict[str, Any]]:
    """``user``'s own open opportunities per stage: stage name, position, pipeline, count and
    total per currency, in pipeline order (one grouped query)."""
    from django.db.models import Count, Sum

    rows = (
        visibility.opportunities_visible_to(user)
        .filter(owner=user, stage__outcome="open")
        .values("stage_id", "stage__name", "stage__position", "pipeline__name", "currency")
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by("pipeline__name", "stage__position", "currency")
    )
    return [dict(row) for row in rows]


def pipeline_board(
    *, user: User, pipeline: Pipeline, per_stage: int = 50
) -> list[tuple[Any, list[Opportunity]]]:
    """The pipeline board: each stage of ``pipeline`` with the opportunities ``user`` may see
    in it (newest first, at most ``per_stage``). One query per stage, whatever the rows."""
    visible = visibility.opportunities_visible_to(user).select_related("account", "owner")
    columns = []
    for stage in pipeline.stages.order_by("position"):
        cards = list(visible.filter(stage=stage).order_by("-created_at", "-pk")[:per_stage])
        columns.append((stage, cards))
    return columns
