"""Reads on leads, opportunities, pipelines and products."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from accord.core.pagination import Page, keyset_page
from accord.core.selectors import search_fragment
from accord.org.models import User
from accord.sales.models import Lead, Opportunity, Pipeline, Product
from accord.territories import visibility
from accord.territories.visibility import ListScope

LeadOrdering = Literal["company_name", "-company_name", "created_at", "-created_at"]
OpportunityOrdering = Literal["name", "-name", "created_at", "-created_at", "amount", "-amount"]


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the local zone (Asia/Bangkok by default)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def day_from(day: dt.date) -> dt.datetime | None:
    """The inclusive start bound of a day range; ``None`` for the first representable days,
    which nothing precedes (and which would overflow once moved to UTC)."""
    return None if day <= dt.date.min + dt.timedelta(days=1) else day_start(day)


def day_after(day: dt.date) -> dt.datetime | None:
    """Midnight at the end of ``day`` (local zone): the exclusive bound of a day range;
    ``None`` for the last representable day, which has no end to filter on."""
    return None if day >= dt.date.max else day_start(day + dt.timedelta(days=1))


def lead_list(
    *,
    user: User,
    search: str | None = None,
    status: str | None = None,
    source: str | None = None,
    owner: uuid.UUID | None = None,
    business_unit: uuid.UUID | None = None,
    district: uuid.UUID | None = None,
    scope: ListScope | None = None,
    created_from: dt.date | None = None,
    created_to: dt.date | None = None,
    ordering: LeadOrdering = "-created_at",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Lead]:
    """Leads ``user`` may see; ``created_from``/``created_to`` are local days, inclusive."""
    qs = visibility.leads_visible_to(user)
    qs = visibility.narrow_to_scope(qs, user=user, scope=scope, owner_field="owner_id")
    if search:
        qs = qs.filter(search_text__contains=search_fragment(search))
    filters = {
        "status": status,
        "source": source,
        "owner_id": owner,
        "business_unit_id": business_unit,
        "district_id": district,
        "created_at__gte": day_from(created_from) if created_from else None,
        "created_at__lt": day_after(created_to) if created_to else None,
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
    district: uuid.UUID | None = None,
    scope: ListScope | None = None,
    ordering: OpportunityOrdering = "-created_at",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Opportunity]:
    qs = visibility.opportunities_visible_to(user).prefetch_related("line_items")
    qs = visibility.narrow_to_scope(qs, user=user, scope=scope, owner_field="owner_id")
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
        "account__district_id": district,
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
        # The pipeline through the stage and COUNT(*): the (owner, stage) index with the
        # amount and currency answers it without visiting the opportunities.
        .values("stage_id", "stage__name", "stage__position", "stage__pipeline__name", "currency")
        .annotate(count=Count("*"), total=Sum("amount"))
        .order_by("stage__pipeline__name", "stage__position", "currency")
    )
    return [{**row, "pipeline__name": row.pop("stage__pipeline__name")} for row in map(dict, rows)]


@dataclass(frozen=True)
class BoardColumn:
    stage: Any
    cards: list[Opportunity]
    count: int  # every opportunity the user may see in the stage
    amount: Decimal  # their total (default currency)


BOARD_CARDS_PER_STAGE = 20


def pipeline_board(
    *, user: User, pipeline: Pipeline, per_stage: int = BOARD_CARDS_PER_STAGE
) -> list[BoardColumn]:
    """The pipeline board: each stage of ``pipeline`` with how many opportunities ``user``
    may see in it and their total, and the newest ``per_stage`` of them as cards. One
    grouped query for the totals and one per stage for the cards, whatever the rows."""
    visible = visibility.opportunities_visible_to(user)
    stages = list(pipeline.stages.order_by("position"))
    totals = {
        row["stage_id"]: (row["n"], row["amount"] or Decimal(0))
        # By stage ids and COUNT(*): the (owner, stage) index with the amount then answers
        # the counts and totals of one's own opportunities without visiting the table.
        for row in visible.filter(stage_id__in=[stage.pk for stage in stages])
        .values("stage_id")
        .annotate(n=Count("*"), amount=Sum("amount"))
        .order_by()
    }
    # Only what a card shows: whole account and user rows would be most of the work.
    cards_of = visible.select_related("account", "owner").only(
        "name",
        "amount",
        "currency",
        "stage_id",
        "created_at",
        "account__legal_name",
        "owner__username",
        "owner__first_name",
        "owner__last_name",
    )
    columns = []
    for stage in stages:
        cards = list(cards_of.filter(stage=stage).order_by("-created_at", "-pk")[:per_stage])
        count, amount = totals.get(stage.pk, (0, Decimal(0)))
        columns.append(BoardColumn(stage, cards, count, amount))
    return columns
