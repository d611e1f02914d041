"""Reads on activities, and the timeline of a record (activities and audit events merged)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Literal

from django.db.models import Model, Q

from accord.activities.models import Activity
from accord.audit.models import AuditEvent
from accord.core.errors import ValidationFailed
from accord.core.pagination import Page, keyset_page
from accord.core.selectors import search_fragment
from accord.org.models import User
from accord.sales.selectors import day_after, day_from
from accord.territories import visibility
from accord.territories.visibility import ListScope

ActivityOrdering = Literal["-occurred_at", "occurred_at", "created_at", "-created_at"]


def activity_list(
    *,
    user: User,
    search: str | None = None,
    kind: str | None = None,
    account: uuid.UUID | None = None,
    contact: uuid.UUID | None = None,
    lead: uuid.UUID | None = None,
    opportunity: uuid.UUID | None = None,
    performed_by: uuid.UUID | None = None,
    is_done: bool | None = None,
    occurred_from: dt.datetime | None = None,
    occurred_to: dt.datetime | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    district: uuid.UUID | None = None,
    business_unit: uuid.UUID | None = None,
    scope: ListScope | None = None,
    ordering: ActivityOrdering = "-occurred_at",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Activity]:
    """Activities ``user`` may see. ``date_from``/``date_to`` are local days, inclusive, of
    when the activity happened or is due (a task's due date); ``business_unit`` is the
    unit of the person who performed it; the scope narrows by that person."""
    qs = visibility.activities_visible_to(user)
    qs = visibility.narrow_to_scope(qs, user=user, scope=scope, owner_field="performed_by_id")
    if search:
        qs = qs.filter(subject__icontains=search_fragment(search))
    filters = {
        "kind": kind,
        "account_id": account,
        "contact_id": contact,
        "lead_id": lead,
        "opportunity_id": opportunity,
        "performed_by_id": performed_by,
        "occurred_at__gte": occurred_from,
        "occurred_at__lt": occurred_to,
        "account__district_id": district,
        "performed_by__business_unit_id": business_unit,
    }
    qs = qs.filter(**{k: v for k, v in filters.items() if v})
    if is_done is not None:
        qs = qs.filter(is_done=is_done)
    if date_from and (start := day_from(date_from)) is not None:
        qs = qs.filter(occurred_at__gte=start)
    if date_to and (end := day_after(date_to)) is not None:
        qs = qs.filter(occurred_at__lt=end)
    return keyset_page(qs, ordering=ordering, cursor=cursor, limit=limit)


# --- timeline -----------------------------------------------------------------------------

TimelineKind = Literal["activity", "audit"]

# The foreign key on Activity that links it to each kind of record.
_ACTIVITY_LINK = {
    "customers.account": "account",
    "customers.contact": "contact",
    "sales.lead": "lead",
    "sales.opportunity": "opportunity",
}


@dataclass(frozen=True)
class TimelineEntry:
    kind: TimelineKind
    at: dt.datetime
    activity: Activity | None = None
    event: AuditEvent | None = None

    @property
    def key(self) -> tuple[dt.datetime, str, str]:
        ident = self.activity.pk.hex if self.activity else f"{self.event.seq:020d}"  # type: ignore[union-attr]
        return (self.at, self.kind, ident)


def _encode(entry: TimelineEntry) -> str:
    at, kind, ident = entry.key
    raw = json.dumps([at.isoformat(), kind, ident])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[dt.datetime, str, str]:
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode())
        at, kind, ident = json.loads(raw)
        if kind not in ("activity", "audit"):
            raise ValueError(kind)
        if kind == "activity":
            uuid.UUID(hex=ident)
        else:
            int(ident)
        return dt.datetime.fromisoformat(at), kind, ident
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            "The cursor is not valid for this timeline.",
            code="invalid_cursor",
            errors={"cursor": ["Invalid cursor."]},
        ) from exc


def record_timeline(
    *, user: User, record: Model, cursor: str | None = None, limit: int = 50
) -> Page[TimelineEntry]:
    """Activities and audit events of ``record`` (which the caller checked is visible)."""
    limit = max(1, min(limit, 200))
    label = record._meta.label_lower
    activities = visibility.activities_visible_to(user)
    link = _ACTIVITY_LINK.get(label)
    activities = activities.filter(**{link: record}) if link else activities.none()
    events = AuditEvent.objects.filter(record_type=label, record_id=str(record.pk))
    if cursor:
        at, kind, ident = _decode(cursor)
        # Entries sort by (at, kind, id) descending; keep those strictly after the cursor.
        if kind == "activity":
            act_q = Q(occurred_at__lt=at) | Q(occurred_at=at, pk__lt=uuid.UUID(hex=ident))
        else:  # "activity" < "audit": every activity at the same instant comes after
            act_q = Q(occurred_at__lte=at)
        evt_q = Q(occurred_at__lt=at)
        if kind == "audit":
            evt_q |= Q(occurred_at=at, seq__lt=int(ident))
        activities = activities.filter(act_q)
        events = events.filter(evt_q)
    act_rows = list(activities.order_by("-occurred_at", "-pk")[: limit + 1])
    evt_rows = list(events.order_by("-occurred_at", "-seq")[: limit + 1])
    entries = [TimelineEntry("activity", a.occurred_at, activity=a) for a in act_rows] + [
        TimelineEntry("audit", e.occurred_at, event=e) for e in evt_rows
    ]
    entries.sort(key=lambda e: e.key, reverse=True)
    page = entries[:limit]
    next_cursor = _encode(page[-1]) if len(entries) > limit else None
    return Page(items=page, next_cursor=next_cursor)


# --- my day -------------------------------------------------------------------------------


def activities_due_for(*, user: User, until: dt.datetime, limit: int = 50) -> list[Activity]:
    """``user``'s own open activities (tasks, planned visits, calls…) due before ``until``
    — today's and overdue ones — earliest first. Walks the (performed_by, occurred_at)
    index."""
    qs = visibility.activities_visible_to(user).filter(
        performed_by=user, is_done=False, occurred_at__lt=until
    )
    return list(
        qs.select_related("account", "opportunity").order_by("occurred_at", "pk")[: max(1, limit)]
    )


OWNED_CHANGED_LIMIT = 500


def records_owned_changed_since(
    *, user: User, since: dt.datetime, per_type: int = OWNED_CHANGED_LIMIT
) -> dict[str, list[uuid.UUID]]:
    """The ids of ``user``'s own leads, opportunities and activities changed since ``since``
    (at most ``per_type`` of each, most recently changed first), by ``"app.model"``: the
    records whose audit events "recent changes on my records" shows. One query per type,
    each walking the owner's index."""
    owned = {
        "sales.lead": visibility.leads_visible_to(user).filter(owner=user),
        "sales.opportunity": visibility.opportunities_visible_to(user).filter(owner=user),
        "activities.activity": visibility.activities_visible_to(user).filter(performed_by=user),
    }
    return {
        label: list(
            qs.filter(updated_at__gte=since)
            .order_by("-updated_at")
            .values_list("pk", flat=True)[:per_type]
        )
        for label, qs in owned.items()
    }
