"""Schemas of ``/api/v1/duplicates``: the review queue, merges and unmerges."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from accord.core.api_support import InputSchema, QuerySchema, read_only
from accord.dataquality.models import ClusterSource, ClusterStatus, MergeStatus

MergeableType = Literal["account", "contact"]


class PairIn(InputSchema):
    left: uuid.UUID
    right: uuid.UUID
    score: float = Field(ge=0, le=1, allow_inf_nan=False)
    reasons: list[str] = Field(default_factory=list, max_length=20)


class ClusterIn(InputSchema):
    member_ids: list[uuid.UUID] = Field(min_length=2, max_length=200)
    pairs: list[PairIn] = Field(min_length=1, max_length=2000)


class EnqueueIn(InputSchema):
    """Clusters found outside Accord's own dedupe (or by an integration)."""

    record_type: MergeableType
    source: ClusterSource = ClusterSource.BATCH
    clusters: list[ClusterIn] = Field(min_length=1, max_length=500)


class EnqueueOut(Schema):
    queued: int = Field(description="Clusters opened or grown.")


class ClusterFilters(QuerySchema):
    record_type: MergeableType = "account"
    status: ClusterStatus = ClusterStatus.OPEN
    unit: uuid.UUID | None = Field(default=None, description="Business unit covering a member")
    district: uuid.UUID | None = Field(default=None, description="District of a member")
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


class MemberOut(Schema):
    id: uuid.UUID
    label: str
    code: str = Field(description="The account's customer code (a contact's: its account's).")
    district: uuid.UUID | None
    status: str
    fields: dict[str, Any] = Field(description="The values a merge chooses between.")


class PairOut(Schema):
    left: uuid.UUID
    right: uuid.UUID
    score: float
    reasons: list[str]


class ClusterOut(Schema):
    id: uuid.UUID = read_only()
    record_type: MergeableType
    status: ClusterStatus
    source: ClusterSource
    best_score: float
    created_at: dt.datetime = read_only()
    age_days: int
    resolved_by: uuid.UUID | None
    resolved_at: dt.datetime | None
    members: list[MemberOut]


class ClusterDetailOut(ClusterOut):
    pairs: list[PairOut]
    merge_fields: list[str]


class ClusterPage(Schema):
    items: list[ClusterOut]
    next_cursor: str | None


class DismissIn(InputSchema):
    reason: str = Field(default="", max_length=1000)


class ClusterMergeIn(InputSchema):
    survivor: uuid.UUID
    losers: list[uuid.UUID] | None = Field(
        default=None,
        max_length=200,
        description="The members merged into the survivor; default: every other member.",
    )
    field_choices: dict[str, uuid.UUID] = Field(
        default_factory=dict,
        description="Per field, the record whose value survives; a field left out keeps "
        "the survivor's value, or the first non-empty one.",
    )


class MergeIn(ClusterMergeIn):
    record_type: MergeableType
    losers: list[uuid.UUID] = Field(min_length=1, max_length=200)


class MovedOut(Schema):
    model: str
    id: str
    field: str
    old_value: str


class MergeOut(Schema):
    id: uuid.UUID = read_only()
    record_type: MergeableType
    survivor: uuid.UUID
    losers: list[uuid.UUID]
    status: MergeStatus
    actor: uuid.UUID
    created_at: dt.datetime = read_only()
    cluster: uuid.UUID | None
    field_choices: dict[str, str]
    changes: dict[str, list[Any]]
    moved_count: int
    undoable: bool
    undone_by: uuid.UUID | None
    undone_at: dt.datetime | None


class MergeDetailOut(MergeOut):
    before: dict[str, Any]
    moved: list[MovedOut]


class MergePage(Schema):
    items: list[MergeOut]
    next_cursor: str | None


class MergeFilters(QuerySchema):
    record_type: MergeableType | None = None
    record: uuid.UUID | None = Field(default=None, description="Merges that touched a record")
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


class UnmergeOut(Schema):
    merge: MergeOut
    kept: list[str] = Field(description="Survivor fields changed since the merge; kept.")
    not_restored: int = Field(description="Moved rows deleted or moved on since the merge.")
