"""``/api/v1/forecasts`` and ``/api/v1/quotas``: thin handlers over selectors and services."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from accord.core.api_support import actor
from accord.core.pagination import keyset_page
from accord.core.selectors import get_visible
from accord.insights import selectors, services
from accord.insights.models import ForecastAdjustment, Quota
from accord.insights.periods import Period, PeriodKind, period_containing, period_parse
from accord.insights.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    ForecastFilters,
    ForecastOut,
    PeriodFilter,
    QuotaFilters,
    QuotaIn,
    QuotaOut,
    QuotaPage,
    QuotaPatch,
    TrendOut,
)
from accord.org.models import User
from accord.territories import visibility

forecasts = Router(tags=["forecasts"])
quotas = Router(tags=["quotas"])


def period_or_current(key: str | None) -> Period:
    from django.utils import timezone

    if key:
        return period_parse(key)
    return period_containing(timezone.localdate(), PeriodKind.QUARTER)


def _node(filters: ForecastFilters) -> selectors.OrgNode:
    return selectors.OrgNode(
        region_id=filters.region, unit_id=filters.unit, district_id=filters.district
    )


def forecast_payload(user: User, forecast: selectors.Forecast, subject: User | None) -> Any:
    return {
        "period": forecast.period,
        "subject": forecast.subject,
        "children": forecast.children,
        "child_level": forecast.child_level,
        "may_adjust": subject is not None and visibility.may_adjust_forecast(user, subject),
    }


@forecasts.get("", response=ForecastOut, summary="The organisation's forecast at one node")
def forecast_org(request: HttpRequest, filters: Query[ForecastFilters]) -> Any:
    """Company (no filter), a region, a unit (within a region, if given), or a district,
    with one row per next-level child (region → unit → district → owner). Executives and
    administrators see every node; a regional manager the nodes of their region."""
    user = actor(request)
    forecast = selectors.org_forecast(
        viewer=user, node=_node(filters), period=period_or_current(filters.period)
    )
    return forecast_payload(user, forecast, None)


@forecasts.get("/trend", response=TrendOut, summary="Weekly trend of an organisation node")
def forecast_org_trend(request: HttpRequest, filters: Query[ForecastFilters]) -> Any:
    user = actor(request)
    node = _node(filters)
    period = period_or_current(filters.period)
    selectors.org_forecast(viewer=user, node=node, period=period)  # 404 unless visible
    key = selectors.node_key(
        region_id=node.region_id, unit_id=node.unit_id, district_id=node.district_id
    )
    weeks = list(selectors.forecast_trend(node=key, period=period))
    return {"node": key, "period": period, "weeks": weeks}


@forecasts.get("/users/{user_id}", response=ForecastOut, summary="A person's forecast roll-up")
def forecast_user(request: HttpRequest, user_id: uuid.UUID, filters: Query[PeriodFilter]) -> Any:
    """The person's own opportunities plus everyone reporting to them, with a row per
    direct report. Visible to the person and those above them."""
    user = actor(request)
    subject = selectors.forecast_subject_get(viewer=user, user_id=user_id)
    forecast = selectors.user_forecast(
        viewer=user, subject=subject, period=period_or_current(filters.period)
    )
    return forecast_payload(user, forecast, subject)


@forecasts.get("/users/{user_id}/trend", response=TrendOut, summary="Weekly trend of a person")
def forecast_user_trend(
    request: HttpRequest, user_id: uuid.UUID, filters: Query[PeriodFilter]
) -> Any:
    subject = selectors.forecast_subject_get(viewer=actor(request), user_id=user_id)
    period = period_or_current(filters.period)
    key = f"user:{subject.pk}"
    weeks = list(selectors.forecast_trend(node=key, period=period))
    return {"node": key, "period": period, "weeks": weeks}


@forecasts.post(
    "/users/{user_id}/adjustments",
    response={201: AdjustmentOut},
    summary="Adjust a person's roll-up (their managers)",
)
def forecast_adjust(request: HttpRequest, user_id: uuid.UUID, payload: AdjustmentIn) -> Status[Any]:
    user = actor(request)
    subject = selectors.forecast_subject_get(viewer=user, user_id=user_id)
    adjustment: ForecastAdjustment = services.forecast_adjust(
        actor=user,
        subject=subject,
        period=period_parse(payload.period),
        category=payload.category,
        amount=payload.amount,
        note=payload.note,
    )
    return Status(201, selectors.adjustment_view(adjustment))


# --- quotas -------------------------------------------------------------------------------


def _quota(user: User, quota_id: uuid.UUID) -> Quota:
    return get_visible(selectors.quotas_visible_to(user), quota_id, what="quota")


@quotas.get("", response=QuotaPage, summary="List quotas")
def quota_list(request: HttpRequest, filters: Query[QuotaFilters]) -> Any:
    qs = selectors.quotas_visible_to(actor(request))
    if filters.period:
        period = period_parse(filters.period)
        qs = qs.filter(period_kind=period.kind, period_start=period.start)
    if filters.user:
        qs = qs.filter(user_id=filters.user)
    page = keyset_page(qs, ordering="period_start", cursor=filters.cursor, limit=filters.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@quotas.post("", response={201: QuotaOut}, summary="Set a person's quota for a period")
def quota_create(request: HttpRequest, payload: QuotaIn) -> Status[Quota]:
    user = actor(request)
    subject = selectors.forecast_subject_get(viewer=user, user_id=payload.user)
    return Status(
        201,
        services.quota_create(
            actor=user,
            user=subject,
            period=period_parse(payload.period),
            amount=payload.amount,
            district=payload.district,
            note=payload.note,
        ),
    )


@quotas.get("/{quota_id}", response=QuotaOut, summary="Get a quota")
def quota_get(request: HttpRequest, quota_id: uuid.UUID) -> Quota:
    return _quota(actor(request), quota_id)


@quotas.patch("/{quota_id}", response=QuotaOut, summary="Change a quota")
def quota_update(request: HttpRequest, quota_id: uuid.UUID, payload: QuotaPatch) -> Quota:
    user = actor(request)
    return services.quota_update(
        actor=user, quota=_quota(user, quota_id), data=payload.model_dump(exclude_unset=True)
    )


@quotas.delete("/{quota_id}", response={204: None}, summary="Delete a quota")
def quota_delete(request: HttpRequest, quota_id: uuid.UUID) -> Status[None]:
    user = actor(request)
    services.quota_delete(actor=user, quota=_quota(user, quota_id))
    return Status(204, None)
