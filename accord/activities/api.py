"""``/api/v1/activities``."""

from __future__ import annotations

import uuid

from django.http import HttpRequest
from ninja import Query, Router, Status

from accord.activities import selectors, services
from accord.activities.models import Activity
from accord.activities.schemas import (
    ActivityFilters,
    ActivityIn,
    ActivityOut,
    ActivityPage,
    ActivityPatch,
)
from accord.core.api_support import actor
from accord.core.selectors import get_visible
from accord.territories import visibility

router = Router(tags=["activities"])


def _activity(request: HttpRequest, activity_id: uuid.UUID) -> Activity:
    return get_visible(
        visibility.activities_visible_to(actor(request)), activity_id, what="activity"
    )


@router.get("", response=ActivityPage, summary="List activities")
def activity_list(request: HttpRequest, filters: Query[ActivityFilters]) -> ActivityPage:
    page = selectors.activity_list(user=actor(request), **filters.dict())
    return ActivityPage(items=page.items, next_cursor=page.next_cursor)  # type: ignore[arg-type]


@router.post("", response={201: ActivityOut}, summary="Log an activity")
def activity_create(request: HttpRequest, payload: ActivityIn) -> Status[Activity]:
    return Status(
        201,
        services.activity_create(actor=actor(request), data=payload.model_dump(exclude_unset=True)),
    )


@router.get("/{activity_id}", response=ActivityOut, summary="Get an activity")
def activity_get(request: HttpRequest, activity_id: uuid.UUID) -> Activity:
    return _activity(request, activity_id)


@router.patch("/{activity_id}", response=ActivityOut, summary="Change an activity")
def activity_update(
    request: HttpRequest, activity_id: uuid.UUID, payload: ActivityPatch
) -> Activity:
    return services.activity_update(
        actor=actor(request),
        activity=_activity(request, activity_id),
        data=payload.model_dump(exclude_unset=True),
    )


@router.delete("/{activity_id}", response={204: None}, summary="Delete an activity")
def activity_delete(request: HttpRequest, activity_id: uuid.UUID) -> Status[None]:
    services.activity_delete(actor=actor(request), activity=_activity(request, activity_id))
    return Status(204, None)
