"""``/api/v1/duplicates``: the steward's duplicate queue, merges and unmerges (thin handlers)."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from accord.core.api_support import actor
from accord.core.errors import PermissionDenied, ValidationFailed
from accord.dataquality import merge as merging
from accord.dataquality import review
from accord.dataquality.batch import ClusterFound
from accord.dataquality.models import DuplicateCluster, MergeRecord
from accord.dataquality.schemas import (
    ClusterDetailOut,
    ClusterFilters,
    ClusterMergeIn,
    ClusterOut,
    ClusterPage,
    DismissIn,
    EnqueueIn,
    EnqueueOut,
    MergeDetailOut,
    MergeFilters,
    MergeIn,
    MergeOut,
    MergePage,
    UnmergeOut,
)
from accord.org.models import User
from accord.territories import visibility

router = Router(tags=["duplicates"])


def _steward(request: HttpRequest) -> User:
    user = actor(request)
    if not visibility.may_steward(user):
        raise PermissionDenied("Only the CRM team reviews duplicates.", code="steward_only")
    return user


def cluster_out(cluster: DuplicateCluster, *, detail: bool = False) -> dict[str, Any]:
    records = review.cluster_records(cluster)
    data: dict[str, Any] = {
        "id": cluster.pk,
        "record_type": cluster.record_type,
        "status": cluster.status,
        "source": cluster.source,
        "best_score": cluster.best_score,
        "created_at": cluster.created_at,
        "age_days": review.cluster_age(cluster).days,
        "resolved_by": cluster.resolved_by_id,
        "resolved_at": cluster.resolved_at,
        "members": [
            {
                "id": r.pk,
                "label": str(r),
                "code": review.record_code(r),
                "district": review.record_district_id(r),
                "status": review.record_status(r),
                "fields": review.record_values(r),
            }
            for r in records
        ],
    }
    if detail:
        data["pairs"] = [
            {"left": p.left_id, "right": p.right_id, "score": p.score, "reasons": p.reasons}
            for p in cluster.pairs.all()
        ]
        data["merge_fields"] = list(review.merge_fields(cluster.record_type))
    return data


def merge_out(merge: MergeRecord, *, detail: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": merge.pk,
        "record_type": merge.record_type,
        "survivor": merge.survivor_id,
        "losers": merge.loser_ids,
        "status": merge.status,
        "actor": merge.actor_id,
        "created_at": merge.created_at,
        "cluster": merge.cluster_id,
        "field_choices": merge.field_choices,
        "changes": merge.changes,
        "moved_count": len(merge.moved),
        "undoable": merging.merge_is_undoable(merge),
        "undone_by": merge.undone_by_id,
        "undone_at": merge.undone_at,
    }
    if detail:
        data["before"] = merge.before
        data["moved"] = [
            {"model": m, "id": pk, "field": f, "old_value": old} for m, pk, f, old in merge.moved
        ]
    return data


@router.get("/clusters", response=ClusterPage, summary="The duplicate review queue")
def cluster_list(request: HttpRequest, filters: Query[ClusterFilters]) -> dict[str, Any]:
    """Clusters of possible duplicates, oldest first (CRM team only)."""
    page = review.duplicate_clusters_queue(user=_steward(request), **filters.dict())
    return {"items": [cluster_out(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/clusters", response=EnqueueOut, summary="Queue clusters of possible duplicates")
def cluster_enqueue(request: HttpRequest, payload: EnqueueIn) -> dict[str, int]:
    """Dismissed pairs, missing and merged-away records are dropped; a cluster that overlaps
    an open one extends it."""
    _steward(request)
    found = [
        ClusterFound(
            member_ids=tuple(str(m) for m in c.member_ids),
            pairs=tuple((str(p.left), str(p.right), p.score, tuple(p.reasons)) for p in c.pairs),
        )
        for c in payload.clusters
    ]
    queued = review.duplicate_clusters_enqueue(
        record_type=payload.record_type, clusters=found, source=payload.source
    )
    return {"queued": queued}


@router.get("/clusters/{cluster_id}", response=ClusterDetailOut, summary="A duplicate cluster")
def cluster_get(request: HttpRequest, cluster_id: uuid.UUID) -> dict[str, Any]:
    cluster = review.duplicate_cluster_get(user=_steward(request), cluster_id=cluster_id)
    return cluster_out(cluster, detail=True)


@router.post(
    "/clusters/{cluster_id}/dismiss", response=ClusterOut, summary="Not duplicates: dismiss"
)
def cluster_dismiss(request: HttpRequest, cluster_id: uuid.UUID, payload: DismissIn) -> Any:
    user = _steward(request)
    cluster = review.duplicate_cluster_get(user=user, cluster_id=cluster_id)
    cluster = review.duplicate_cluster_dismiss(actor=user, cluster=cluster, reason=payload.reason)
    return cluster_out(review.duplicate_cluster_get(user=user, cluster_id=cluster.pk))


@router.post("/clusters/{cluster_id}/merge", response={201: MergeOut}, summary="Merge a cluster")
def cluster_merge(
    request: HttpRequest, cluster_id: uuid.UUID, payload: ClusterMergeIn
) -> Status[dict[str, Any]]:
    user = _steward(request)
    cluster = review.duplicate_cluster_get(user=user, cluster_id=cluster_id)
    member_ids = [r.pk for r in review.cluster_records(cluster)]
    if payload.survivor not in member_ids:
        raise ValidationFailed(errors={"survivor": ["Choose a member of the cluster."]})
    losers = payload.losers
    if losers is None:
        losers = [m for m in member_ids if m != payload.survivor]
    elif any(m not in member_ids for m in losers):
        raise ValidationFailed(errors={"losers": ["Choose members of the cluster."]})
    merge = merging.record_merge(
        actor=user,
        record_type=cluster.record_type,
        survivor_id=payload.survivor,
        loser_ids=losers,
        field_choices=payload.field_choices,
        cluster=cluster,
    )
    return Status(201, merge_out(merge))


@router.get("/merges", response=MergePage, summary="Merge history, newest first")
def merge_list(request: HttpRequest, filters: Query[MergeFilters]) -> dict[str, Any]:
    from accord.core.pagination import keyset_page

    qs = merging.merges_list(
        actor=_steward(request), record_type=filters.record_type, record_id=filters.record
    )
    page = keyset_page(qs, ordering="-created_at", cursor=filters.cursor, limit=filters.limit)
    return {"items": [merge_out(m) for m in page.items], "next_cursor": page.next_cursor}


@router.post("/merges", response={201: MergeOut}, summary="Merge records (no cluster)")
def merge_create(request: HttpRequest, payload: MergeIn) -> Status[dict[str, Any]]:
    merge = merging.record_merge(
        actor=_steward(request),
        record_type=payload.record_type,
        survivor_id=payload.survivor,
        loser_ids=payload.losers,
        field_choices=payload.field_choices,
    )
    return Status(201, merge_out(merge))


@router.get("/merges/{merge_id}", response=MergeDetailOut, summary="A merge, with what it moved")
def merge_get(request: HttpRequest, merge_id: uuid.UUID) -> dict[str, Any]:
    return merge_out(merging.merge_get(actor=_steward(request), merge_id=merge_id), detail=True)


@router.post("/merges/{merge_id}/unmerge", response=UnmergeOut, summary="Undo a merge")
def merge_undo(request: HttpRequest, merge_id: uuid.UUID) -> dict[str, Any]:
    """Restores the survivor's merged values (unless changed since), the merged-away records
    and every moved row. 409 while a later merge involves the same records."""
    user = _steward(request)
    result = merging.record_unmerge(
        actor=user, merge=merging.merge_get(actor=user, merge_id=merge_id)
    )
    return {
        "merge": merge_out(result.merge),
        "kept": result.kept,
        "not_restored": result.not_restored,
    }
