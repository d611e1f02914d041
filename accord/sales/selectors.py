"""Reads on leads, opportunities, pipelines and products."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from accord.core.pagination import Page, keyset_page
from accord.core.selectors import search_fragment
from accord.org.models import User
from accord.sales.models import Lead, Opportunity, Pipeline, Product, StageOutcome
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
    count: int  # the opportunities the user may see in the stage (closed: recently closed)
    amount: Decimal  # their total in the default currency
    closed_since: dt.datetime | None = None  # closed stages: the start of the window shown


BOARD_CARDS_PER_STAGE = 20
#: The won and lost columns show the deals closed in this many days: what a manager reviews
#: on the board is the current pipeline and its recent results; the opportunity list has
#: every closed deal. Counting all of them would make the board read years of history.
BOARD_CLOSED_DAYS = 90
Totals = dict[uuid.UUID, tuple[int, Decimal]]


def _grouped_totals(qs: QuerySet[Opportunity]) -> Totals:
    """Count and default-currency total per stage of ``qs``, in one grouped query."""
    in_default = Q(currency=settings.ACCORD_DEFAULT_CURRENCY)
    return {
        row["stage_id"]: (row["n"], row["amount"] or Decimal(0))
        for row in qs.values("stage_id")
        .annotate(n=Count("*"), amount=Sum("amount", filter=in_default))
        .order_by()
    }


def _open_totals(
    *, user: User, visible: QuerySet[Opportunity], stage_ids: list[uuid.UUID]
) -> Totals:
    """The open stages' counts and totals over what ``user`` may see, exact either way.

    When the visible opportunities are exactly some owners' (or all), the opportunity cells
    (``insights.cells``, summed ahead per owner and stage) answer for every opportunity they
    hold — a few thousand cells for a manager of fifty reps instead of a quarter of a million
    opportunities — and the few the cells leave out (no expected close date, another
    currency) are read from their own small partial index
    (``opp_open_uncelled``, sales 0009). Otherwise one grouped query over the opportunities.
    """
    from accord.insights.models import OpportunityCell

    owners = visibility.opportunity_owners_visible_to(user)
    open_qs = visible.filter(stage_id__in=stage_ids)
    if owners is None:
        return _grouped_totals(open_qs)
    # Dated cells only: the deals with no expected close date are read below, whether or
    # not the cells also hold them (in a placeholder month, ``date.min``).
    cells = OpportunityCell.objects.filter(stage_id__in=stage_ids, month__gt=dt.date.min)
    if owners != "all":
        cells = cells.filter(owner_id__in=owners)
    totals: Totals = {
        row["stage_id"]: (row["n"], row["amount"] or Decimal(0))
        for row in cells.values("stage_id").annotate(n=Sum("n"), amount=Sum("amount")).order_by()
    }
    # Exactly the rows insights.cells._place leaves out of an open stage's cell.
    # (Owner, unit and stage are never empty; the amount never either.)
    uncelled = open_qs.filter(
        Q(expected_close_date__isnull=True) | ~Q(currency=settings.ACCORD_DEFAULT_CURRENCY)
    )
    for stage_id, (n, amount) in _grouped_totals(uncelled).items():
        count, total = totals.get(stage_id, (0, Decimal(0)))
        totals[stage_id] = (count + n, total + amount)
    return totals


def _all_of(parts: list[QuerySet[Opportunity]]) -> list[Opportunity]:
    """The rows of every (ordered, sliced) part: one ``UNION ALL`` query where the database
    allows a limit in each part (PostgreSQL; each part still reads its own index range),
    else a query per part. On a busy server a round trip costs more than the part."""
    if len(parts) > 1 and connection.features.supports_slicing_ordering_in_compound:
        first, *rest = parts
        return list(first.union(*rest, all=True))
    return [row for part in parts for row in part]


def pipeline_board(
    *,
    user: User,
    pipeline: Pipeline,
    per_stage: int = BOARD_CARDS_PER_STAGE,
    now: dt.datetime | None = None,
) -> list[BoardColumn]:
    """The pipeline board: each stage of ``pipeline`` with how many opportunities ``user``
    may see in it and their total, and the newest ``per_stage`` of them as cards. The won
    and lost stages hold the deals closed in the last :data:`BOARD_CLOSED_DAYS` days (the
    most recently closed first). A fixed number of queries, whatever the rows."""
    visible = visibility.opportunities_visible_to(user)
    stages = list(pipeline.stages.order_by("position"))
    open_ids = [s.pk for s in stages if s.outcome == StageOutcome.OPEN]
    closed_ids = [s.pk for s in stages if s.outcome != StageOutcome.OPEN]
    since = (now or timezone.now()) - dt.timedelta(days=BOARD_CLOSED_DAYS)
    recently_closed = visible.filter(closed_at__gte=since)
    totals = _open_totals(user=user, visible=visible, stage_ids=open_ids) if open_ids else {}
    if closed_ids:
        # The (owner, closed_at) covering index answers this for one's own and one's team's.
        totals |= _grouped_totals(recently_closed.filter(stage_id__in=closed_ids))
    # Only what a card shows: whole account and user rows would be most of the work.
    card_fields = (
        "name",
        "amount",
        "currency",
        "stage_id",
        "created_at",
        "closed_at",
        "account__legal_name",
        "owner__username",
        "owner__first_name",
        "owner__last_name",
    )
    per_stage_cards = [
        (visible if stage.outcome == StageOutcome.OPEN else recently_closed)
        .filter(stage=stage)
        .select_related("account", "owner")
        .only(*card_fields)
        .order_by(
            *(
                ("-created_at", "-pk")
                if stage.outcome == StageOutcome.OPEN
                else ("-closed_at", "-pk")
            )
        )[:per_stage]
        for stage in stages
    ]
    cards_of: dict[uuid.UUID, list[Opportunity]] = {stage.pk: [] for stage in stages}
    for card in _all_of(per_stage_cards):
        cards_of[card.stage_id].append(card)
    columns = []
    for stage in stages:
        order = "created_at" if stage.outcome == StageOutcome.OPEN else "closed_at"
        cards = sorted(cards_of[stage.pk], key=lambda o: (getattr(o, order), o.pk), reverse=True)
        count, amount = totals.get(stage.pk, (0, Decimal(0)))
        since_shown = None if stage.outcome == StageOutcome.OPEN else since
        columns.append(BoardColumn(stage, cards, count, amount, since_shown))
    return columns
