from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field

from accord.activities.models import Activity, ActivityKind
from accord.activities.selectors import ActivityOrdering, TimelineEntry
from accord.audit.schemas import AuditEventOut
from accord.core.api_support import ApiDate, ApiDateTime, InputSchema, QuerySchema, read_only
from accord.territories.visibility import ListScope


class ActivityOut(Schema):
    id: uuid.UUID = read_only()
    kind: ActivityKind
    subject: str
    body: str
    start_at: dt.datetime | None
    end_at: dt.datetime | None
    due_date: dt.date | None
    is_done: bool
    done_at: dt.datetime | None = read_only()
    outcome: str
    latitude: Decimal | None
    longitude: Decimal | None
    location: str
    performed_by: uuid.UUID
    account: uuid.UUID | None
    contact: uuid.UUID | None
    lead: uuid.UUID | None
    opportunity: uuid.UUID | None
    occurred_at: dt.datetime = read_only()
    created_at: dt.datetime = read_only()
    updated_at: dt.datetime = read_only()

    @staticmethod
    def resolve_performed_by(obj: Activity) -> uuid.UUID:
        return obj.performed_by_id

    @staticmethod
    def resolve_account(obj: Activity) -> uuid.UUID | None:
        return obj.account_id

    @staticmethod
    def resolve_contact(obj: Activity) -> uuid.UUID | None:
        return obj.contact_id

    @staticmethod
    def resolve_lead(obj: Activity) -> uuid.UUID | None:
        return obj.lead_id

    @staticmethod
    def resolve_opportunity(obj: Activity) -> uuid.UUID | None:
        return obj.opportunity_id


class ActivityPatch(InputSchema):
    kind: ActivityKind | None = None
    subject: str | None = Field(default=None, min_length=1, max_length=255)
    body: str | None = Field(default=None, max_length=20000)
    start_at: ApiDateTime | None = None
    end_at: ApiDateTime | None = None
    due_date: ApiDate | None = None
    is_done: bool | None = None
    outcome: str | None = Field(default=None, max_length=255)
    latitude: Decimal | None = Field(default=None, ge=-90, le=90, decimal_places=6)
    longitude: Decimal | None = Field(default=None, ge=-180, le=180, decimal_places=6)
    location: str | None = Field(default=None, max_length=255)
    performed_by: uuid.UUID | None = None
    account: uuid.UUID | None = None
    contact: uuid.UUID | None = None
    lead: uuid.UUID | None = None
    opportunity: uuid.UUID | None = None


class ActivityIn(ActivityPatch):
    kind: ActivityKind
    subject: str = Field(min_length=1, max_length=255)


class ActivityPage(Schema):
    items: list[ActivityOut]
    next_cursor: str | None


class ActivityFilters(QuerySchema):
    search: str | None = Field(default=None, max_length=100)
    kind: ActivityKind | None = None
    account: uuid.UUID | None = None
    contact: uuid.UUID | None = None
    lead: uuid.UUID | None = None
    opportunity: uuid.UUID | None = None
    performed_by: uuid.UUID | None = None
    is_done: bool | None = None
    occurred_from: ApiDateTime | None = None
    occurred_to: ApiDateTime | None = None
    date_from: ApiDate | None = Field(
        default=None, description="Happened or due on or after this day (local time)."
    )
    date_to: ApiDate | None = Field(
        default=None, description="Happened or due on or before this day (local time)."
    )
    district: uuid.UUID | None = Field(default=None, description="The account's district.")
    business_unit: uuid.UUID | None = Field(
        default=None, description="The unit of the person who performed it."
    )
    scope: ListScope | None = Field(
        default=None, description="mine: performed by me; team: by my team or my reports."
    )
    ordering: ActivityOrdering = "-occurred_at"
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


class TimelineItemOut(Schema):
    kind: Literal["activity", "audit"]
    at: dt.datetime
    activity: ActivityOut | None = None
    event: AuditEventOut | None = None


class TimelinePage(Schema):
    items: list[TimelineItemOut]
    next_cursor: str | None


def timeline_item(entry: TimelineEntry) -> dict[str, object]:
    """A timeline entry as the response schema reads it (ninja resolves the nested rows)."""
    return {"kind": entry.kind, "at": entry.at, "activity": entry.activity, "event": entry.event}
