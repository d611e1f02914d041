"""The duplicate review queue: clusters of possible duplicates waiting for a data steward.

Writes (:func:`duplicate_clusters_enqueue`, :func:`duplicate_cluster_dismiss`) and reads
(:func:`duplicate_clusters_queue`, :func:`duplicate_cluster_get`). The batch dedupe, the
real-time check and account requests feed the queue; a steward merges a cluster
(``accord.dataquality.merge``) or dismisses it as "not duplicates", which is remembered per
pair so the same records are not queued together again.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accord.audit.services import audit_event
from accord.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from accord.core.pagination import Page, keyset_page
from accord.customers.models import Account, AccountStatus, Contact
from accord.dataquality.batch import ClusterFound
from accord.dataquality.models import (
    ClusterSource,
    ClusterStatus,
    DismissedPair,
    DuplicateCluster,
    DuplicateClusterMember,
    DuplicateClusterPair,
    RecordType,
)
from accord.org.models import User
from accord.territories import visibility

MERGEABLE = (RecordType.ACCOUNT, RecordType.CONTACT)
_CHUNK = 500


def _record_type(record_type: str) -> RecordType:
    if record_type not in MERGEABLE:
        raise ValidationFailed(
            errors={"record_type": ["Duplicates are reviewed for accounts and contacts."]}
        )
    return RecordType(record_type)


def pair_key(a: uuid.UUID | str, b: uuid.UUID | str) -> tuple[uuid.UUID, uuid.UUID]:
    """The pair (``a``, ``b``) in a fixed order, as stored in :class:`DismissedPair`."""
    x, y = uuid.UUID(str(a)), uuid.UUID(str(b))
    return (x, y) if str(x) < str(y) else (y, x)


def _live_ids(record_type: RecordType, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """The ids that name an existing record that may still be merged (not a tombstone)."""
    found: set[uuid.UUID] = set()
    ordered = sorted(ids, key=str)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        qs: QuerySet[Account] | QuerySet[Contact]
        if record_type == RecordType.ACCOUNT:
            qs = Account.objects.filter(pk__in=chunk).exclude(status=AccountStatus.MERGED)
        else:
            qs = Contact.objects.filter(pk__in=chunk, account__isnull=False)
        found.update(qs.values_list("pk", flat=True))
    return found


def _dismissed(record_type: RecordType, ids: set[uuid.UUID]) -> set[tuple[uuid.UUID, uuid.UUID]]:
    found: set[tuple[uuid.UUID, uuid.UUID]] = set()
    ordered = sorted(ids, key=str)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        rows = DismissedPair.objects.filter(record_type=record_type).filter(
            Q(low_id__in=chunk) | Q(high_id__in=chunk)
        )
        found.update(rows.values_list("low_id", "high_id"))
    return found


def _components(
    members: Iterable[uuid.UUID], pairs: Iterable[tuple[uuid.UUID, uuid.UUID]]
) -> list[set[uuid.UUID]]:
    """Connected groups of ``members`` linked by ``pairs`` (singletons dropped)."""
    parent: dict[uuid.UUID, uuid.UUID] = {m: m for m in members}

    def root(x: uuid.UUID) -> uuid.UUID:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb, key=str)] = min(ra, rb, key=str)
    groups: dict[uuid.UUID, set[uuid.UUID]] = {}
    for m in parent:
        groups.setdefault(root(m), set()).add(m)
    return [g for g in groups.values() if len(g) >= 2]


@dataclass(frozen=True)
class _Pair:
    left: uuid.UUID
    right: uuid.UUID
    score: float
    reasons: tuple[str, ...]


def _member_field(record_type: RecordType) -> str:
    return "account_id" if record_type == RecordType.ACCOUNT else "contact_id"


def _open_clusters_of(record_type: RecordType, ids: set[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """Record id -> the oldest open cluster holding it, for ``ids``."""
    field = _member_field(record_type)
    found: dict[uuid.UUID, uuid.UUID] = {}
    ordered = sorted(ids, key=str)
    for start in range(0, len(ordered), _CHUNK):
        rows = (
            DuplicateClusterMember.objects.filter(
                **{f"{field}__in": ordered[start : start + _CHUNK]},
                cluster__status=ClusterStatus.OPEN,
                cluster__record_type=record_type,
            )
            .order_by("cluster__created_at", "cluster_id")
            .values_list(field, "cluster_id")
        )
        for record_id, cluster_id in rows:
            found.setdefault(record_id, cluster_id)
    return found


def _cluster_contents(
    record_type: RecordType, cluster_ids: set[uuid.UUID]
) -> dict[uuid.UUID, tuple[set[uuid.UUID], set[tuple[uuid.UUID, uuid.UUID]]]]:
    """Per cluster: its member ids and its pairs (as stored, ``pair_key`` order)."""
    field = _member_field(record_type)
    held: dict[uuid.UUID, tuple[set[uuid.UUID], set[tuple[uuid.UUID, uuid.UUID]]]] = {
        c: (set(), set()) for c in cluster_ids
    }
    ordered = sorted(cluster_ids, key=str)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        members = DuplicateClusterMember.objects.filter(cluster_id__in=chunk)
        for cluster_id, record_id in members.values_list("cluster_id", field):
            held[cluster_id][0].add(record_id)
        pairs = DuplicateClusterPair.objects.filter(cluster_id__in=chunk)
        for cluster_id, left, right in pairs.values_list("cluster_id", "left_id", "right_id"):
            held[cluster_id][1].add(pair_key(left, right))
    return held


@dataclass
class _Pending:
    """Rows of clusters opened in this batch, written in bulk at the end."""

    field: str
    clusters: dict[uuid.UUID, DuplicateCluster]
    members: dict[uuid.UUID, set[uuid.UUID]]
    pairs: dict[uuid.UUID, dict[tuple[uuid.UUID, uuid.UUID], _Pair]]

    def add(self, cluster: DuplicateCluster, group: set[uuid.UUID], pairs: Sequence[_Pair]) -> None:
        self.clusters.setdefault(cluster.pk, cluster)
        self.members.setdefault(cluster.pk, set()).update(group)
        have = self.pairs.setdefault(cluster.pk, {})
        for p in pairs:
            have.setdefault((p.left, p.right), p)
        cluster.best_score = max([cluster.best_score, *(p.score for p in pairs)])

    def write(self) -> None:
        clusters = list(self.clusters.values())
        members = [
            DuplicateClusterMember(cluster_id=cid, **{self.field: m})
            for cid, ids in self.members.items()
            for m in sorted(ids, key=str)
        ]
        pairs = [
            DuplicateClusterPair(
                cluster_id=cid,
                left_id=p.left,
                right_id=p.right,
                score=p.score,
                reasons=list(p.reasons),
            )
            for cid, by_key in self.pairs.items()
            for p in by_key.values()
        ]
        for start in range(0, len(clusters), _CHUNK):
            DuplicateCluster.objects.bulk_create(clusters[start : start + _CHUNK])
        for start in range(0, len(members), _CHUNK):
            DuplicateClusterMember.objects.bulk_create(members[start : start + _CHUNK])
        for start in range(0, len(pairs), _CHUNK):
            DuplicateClusterPair.objects.bulk_create(pairs[start : start + _CHUNK])


def _add_to_cluster(
    cluster: DuplicateCluster,
    record_type: RecordType,
    ids: set[uuid.UUID],
    pairs: Sequence[_Pair],
) -> bool:
    """Add the members and pairs ``cluster`` lacks; True if anything was added."""
    field = _member_field(record_type)
    have = set(cluster.members.values_list(field, flat=True))
    new_members = sorted(ids - have, key=str)
    DuplicateClusterMember.objects.bulk_create(
        DuplicateClusterMember(cluster=cluster, **{field: m}) for m in new_members
    )
    have_pairs = {pair_key(a, b) for a, b in cluster.pairs.values_list("left_id", "right_id")}
    new_pairs = [p for p in pairs if pair_key(p.left, p.right) not in have_pairs]
    DuplicateClusterPair.objects.bulk_create(
        DuplicateClusterPair(
            cluster=cluster,
            left_id=p.left,
            right_id=p.right,
            score=p.score,
            reasons=list(p.reasons),
        )
        for p in new_pairs
    )
    best = max((p.score for p in new_pairs), default=0.0)
    if best > cluster.best_score:
        cluster.best_score = best
        cluster.save(update_fields=["best_score", "updated_at"])
    return bool(new_members or new_pairs)


@transaction.atomic
def duplicate_clusters_enqueue(
    *, record_type: str, clusters: Iterable[ClusterFound], source: str = "batch"
) -> int:
    """Put the clusters found (by the batch dedupe, the real-time check or a request) in
    the steward queue; return how many clusters were opened or grew.

    Members that no longer exist or were merged away are dropped, and so are pairs a
    steward dismissed as "not duplicates"; what is left splits into its linked groups. A
    group that overlaps an open cluster extends it (queueing the same cluster twice changes
    nothing), otherwise it opens a new cluster.
    """
    kind = _record_type(record_type)
    if source not in ClusterSource.values:
        raise ValidationFailed(errors={"source": [f"One of: {', '.join(ClusterSource.values)}."]})
    found = list(clusters)
    every_id = {uuid.UUID(str(m)) for c in found for m in c.member_ids}
    live = _live_ids(kind, every_id)
    dismissed = _dismissed(kind, live)
    # The open cluster each record is already in (one read for the whole batch).
    open_of = _open_clusters_of(kind, live)
    held = _cluster_contents(kind, set(open_of.values()))
    opened: list[str] = []
    grown: list[str] = []
    pending = _Pending(field=_member_field(kind), clusters={}, members={}, pairs={})
    for cluster_found in found:
        members = {uuid.UUID(str(m)) for m in cluster_found.member_ids} & live
        pairs: dict[tuple[uuid.UUID, uuid.UUID], _Pair] = {}
        for left, right, score, reasons in cluster_found.pairs:
            a, b = uuid.UUID(str(left)), uuid.UUID(str(right))
            key = pair_key(a, b)
            if a == b or a not in members or b not in members or key in dismissed:
                continue
            if key not in pairs or pairs[key].score < score:
                pairs[key] = _Pair(key[0], key[1], float(score), tuple(reasons))
        for group in _components(members, pairs):
            group_pairs = sorted(
                (p for k, p in pairs.items() if k[0] in group),
                key=lambda p: (-p.score, str(p.left), str(p.right)),
            )
            holders = {open_of[m] for m in group if m in open_of}
            if holders:
                # Overlaps an open cluster (perhaps one opened earlier in this batch).
                target_id = min(holders, key=str)
                if target_id in pending.clusters:
                    pending.add(pending.clusters[target_id], group, group_pairs)
                elif (
                    group <= held[target_id][0]
                    and {(p.left, p.right) for p in group_pairs} <= held[target_id][1]
                ):
                    pass  # queued already: nothing new
                else:
                    existing = DuplicateCluster.objects.select_for_update().get(pk=target_id)
                    if _add_to_cluster(existing, kind, group, group_pairs):
                        grown.append(str(existing.pk))
                for m in group:
                    open_of.setdefault(m, target_id)
                continue
            cluster = DuplicateCluster(record_type=kind, source=source)
            pending.add(cluster, group, group_pairs)
            for m in group:
                open_of[m] = cluster.pk
            opened.append(str(cluster.pk))
    pending.write()
    if opened or grown:
        audit_event(
            action="enqueue",
            record_type="dataquality.duplicatecluster",
            record_id="",
            label=f"{kind} duplicate clusters ({source})",
            data={"record_type": kind, "source": source, "opened": opened, "grown": grown},
        )
    return len(opened) + len(set(grown))


def _require_steward(actor: User) -> None:
    if not visibility.may_steward(actor):
        raise PermissionDenied("Only the CRM team reviews duplicates.", code="steward_only")


@transaction.atomic
def duplicate_cluster_dismiss(
    *, actor: User, cluster: DuplicateCluster, reason: str = ""
) -> DuplicateCluster:
    """ "Not duplicates": close the cluster and remember every pair of its members."""
    _require_steward(actor)
    cluster = DuplicateCluster.objects.select_for_update().get(pk=cluster.pk)
    if cluster.status != ClusterStatus.OPEN:
        raise Conflict("This cluster is no longer open.", code="cluster_not_open")
    ids = sorted(
        {
            m
            for m in cluster.members.values_list(
                _member_field(RecordType(cluster.record_type)), flat=True
            )
        },
        key=str,
    )
    have = _dismissed(RecordType(cluster.record_type), set(ids))
    new_pairs = [pair_key(a, b) for a, b in itertools.combinations(ids, 2)]
    DismissedPair.objects.bulk_create(
        DismissedPair(record_type=cluster.record_type, low_id=lo, high_id=hi, dismissed_by=actor)
        for lo, hi in new_pairs
        if (lo, hi) not in have
    )
    cluster.status = ClusterStatus.DISMISSED
    cluster.resolved_by = actor
    cluster.resolved_at = timezone.now()
    cluster.save(update_fields=["status", "resolved_by", "resolved_at", "updated_at"])
    audit_event(
        action="dismiss",
        record_type="dataquality.duplicatecluster",
        record_id=str(cluster.pk),
        label=str(cluster),
        data={"members": [str(i) for i in ids], "reason": reason},
    )
    return cluster


def duplicate_cluster_resolve(
    *, actor: User, cluster: DuplicateCluster, status: ClusterStatus
) -> None:
    """Mark ``cluster`` merged (or open again, after an unmerge); called by the merge."""
    cluster.status = status
    if status == ClusterStatus.OPEN:
        cluster.resolved_by = None
        cluster.resolved_at = None
    else:
        cluster.resolved_by = actor
        cluster.resolved_at = timezone.now()
    cluster.save(update_fields=["status", "resolved_by", "resolved_at", "updated_at"])


# --- reads --------------------------------------------------------------------------------


def _district_filter(record_type: str, district_ids: Iterable[uuid.UUID]) -> Q:
    path = (
        "account__district_id__in"
        if record_type == RecordType.ACCOUNT
        else ("contact__account__district_id__in")
    )
    return Q(
        Exists(
            DuplicateClusterMember.objects.filter(
                cluster=OuterRef("pk"), **{path: list(district_ids)}
            )
        )
    )


def unit_district_ids(unit: uuid.UUID) -> list[uuid.UUID]:
    """The districts the people of a business unit cover."""
    return list(
        User.districts.through.objects.filter(user__business_unit_id=unit)
        .values_list("district_id", flat=True)
        .distinct()
    )


def duplicate_clusters_queue(
    *,
    user: User,
    record_type: str = RecordType.ACCOUNT,
    status: str = ClusterStatus.OPEN,
    unit: uuid.UUID | None = None,
    district: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[DuplicateCluster]:
    """The queue, oldest first; filtered by the district (or business unit) of a member."""
    _require_steward(user)
    kind = _record_type(record_type)
    qs = DuplicateCluster.objects.filter(record_type=kind, status=status)
    if district is not None:
        qs = qs.filter(_district_filter(kind, [district]))
    if unit is not None:
        qs = qs.filter(_district_filter(kind, unit_district_ids(unit)))
    page = keyset_page(qs, ordering="created_at", cursor=cursor, limit=limit)
    _prefetch_members(page.items)
    return page


def _prefetch_members(clusters: Sequence[DuplicateCluster]) -> None:
    from django.db.models import prefetch_related_objects

    prefetch_related_objects(
        list(clusters),
        Prefetch(
            "members",
            queryset=DuplicateClusterMember.objects.select_related(
                "account", "account__district", "contact", "contact__account"
            ).order_by("created_at", "id"),
        ),
    )


def duplicate_cluster_get(*, user: User, cluster_id: uuid.UUID | str) -> DuplicateCluster:
    _require_steward(user)
    try:
        cluster = DuplicateCluster.objects.get(pk=uuid.UUID(str(cluster_id)))
    except (ValueError, DuplicateCluster.DoesNotExist) as exc:
        raise NotFound("No such duplicate cluster.") from exc
    _prefetch_members([cluster])
    return cluster


def cluster_age(cluster: DuplicateCluster, *, now: dt.datetime | None = None) -> dt.timedelta:
    return (now or timezone.now()) - cluster.created_at


def cluster_records(cluster: DuplicateCluster) -> list[Account] | list[Contact]:
    """The member records, in the order they joined the cluster."""
    members = list(cluster.members.all())
    if cluster.record_type == RecordType.ACCOUNT:
        return [m.account for m in members if m.account is not None]
    return [m.contact for m in members if m.contact is not None]


def merge_fields(record_type: str) -> tuple[str, ...]:
    """The fields a steward chooses between when merging ``record_type`` records."""
    from accord.dataquality.merge import ACCOUNT_MERGE_FIELDS, CONTACT_MERGE_FIELDS

    return ACCOUNT_MERGE_FIELDS if record_type == RecordType.ACCOUNT else CONTACT_MERGE_FIELDS


def record_values(record: Account | Contact) -> dict[str, object]:
    """A member's values of the merge fields (foreign keys as ids), for a side-by-side view."""
    from accord.audit.services import snapshot

    kind = RecordType.ACCOUNT if isinstance(record, Account) else RecordType.CONTACT
    return snapshot(record, merge_fields(kind))


def record_code(record: Account | Contact) -> str:
    if isinstance(record, Account):
        return record.customer_code
    return record.account.customer_code


def record_district_id(record: Account | Contact) -> uuid.UUID | None:
    if isinstance(record, Account):
        return record.district_id
    return record.account.district_id


def record_status(record: Account | Contact) -> str:
    if isinstance(record, Account):
        return str(record.status)
    return "active" if record.is_active else "inactive"
