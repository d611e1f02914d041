"""Data stewardship in the UI: the duplicate review queue, the side-by-side comparison of a
cluster with the merge form, and the merge history with unmerge.

Views parse input, call one selector or service of :mod:`accord.dataquality.review` or
:mod:`accord.dataquality.merge` and render; the rules are in the services.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accord.core.errors import DomainError, NotFound, ValidationFailed
from accord.core.pagination import Page, keyset_page
from accord.customers.models import Account, Contact
from accord.dataquality import merge as merging
from accord.dataquality import review
from accord.dataquality.models import ClusterStatus, DuplicateCluster, MergeRecord, RecordType
from accord.org.models import User
from accord.org.selectors import business_units, districts
from accord.territories import visibility
from accord.web.accounts import _uuid_or_none
from accord.web.views import _user

LIST_PAGE_SIZE = 50


def _steward(request: HttpRequest) -> User:
    user = _user(request)
    if not visibility.may_steward(user):
        raise DjangoPermissionDenied
    return user


def _cluster(user: User, pk: uuid.UUID) -> DuplicateCluster:
    try:
        return review.duplicate_cluster_get(user=user, cluster_id=pk)
    except NotFound as exc:
        raise Http404 from exc


# --- the queue ----------------------------------------------------------------------------


@login_required
def duplicate_queue(request: HttpRequest) -> HttpResponse:
    """Clusters of possible duplicates, oldest first, with their age; by unit and district."""
    user = _steward(request)
    record_type = request.GET.get("record_type") or RecordType.ACCOUNT
    if record_type not in review.MERGEABLE:
        record_type = RecordType.ACCOUNT
    status = request.GET.get("status") or ClusterStatus.OPEN
    if status not in ClusterStatus.values:
        status = ClusterStatus.OPEN
    unit = _uuid_or_none(request.GET.get("unit"))
    district = _uuid_or_none(request.GET.get("district"))
    filters = {"record_type": record_type, "status": status, "unit": unit, "district": district}

    def queue(cursor: str | None) -> Page[DuplicateCluster]:
        return review.duplicate_clusters_queue(
            user=user,
            record_type=record_type,
            status=status,
            unit=unit,
            district=district,
            cursor=cursor,
            limit=LIST_PAGE_SIZE,
        )

    try:
        page = queue(request.GET.get("cursor") or None)
    except ValidationFailed:  # a stale or edited cursor: start again
        page = queue(None)
    rows = [{"cluster": c, "records": review.cluster_records(c)} for c in page.items]
    context = {
        "nav": "duplicates",
        "page": page,
        "rows": rows,
        "filters": filters,
        "units": business_units(),
        "districts": districts(),
        "statuses": ClusterStatus.choices,
        "record_types": [(t.value, t.label) for t in review.MERGEABLE],
    }
    partial = request.headers.get("HX-Request") == "true"
    template = (
        "web/stewardship/partials/queue_rows.html" if partial else "web/stewardship/queue.html"
    )
    return render(request, template, context)


# --- one cluster: compare and merge -----------------------------------------------------------


@dataclass
class Cell:
    record_id: str
    shown: str
    checked: bool


@dataclass
class FieldRow:
    name: str
    label: str
    cells: list[Cell]
    differs: bool


def _field_label(model: type[Account] | type[Contact], name: str) -> str:
    field = model._meta.get_field(name)
    return capfirst(str(getattr(field, "verbose_name", name)))


def _shown(record: Account | Contact, name: str) -> str:
    value = getattr(record, name)
    if value is None or value == "":
        return "—"
    field = record._meta.get_field(name)
    choices = getattr(field, "choices", None)
    if choices:
        return str(dict(choices).get(value, value))
    return str(value)


def _comparison(
    cluster: DuplicateCluster,
    records: list[Account] | list[Contact],
    survivor_id: str,
    chosen: dict[str, str],
) -> list[FieldRow]:
    model: type[Account] | type[Contact] = (
        Account if cluster.record_type == RecordType.ACCOUNT else Contact
    )
    survivor = next((r for r in records if str(r.pk) == survivor_id), records[0])
    others = [r for r in records if r.pk != survivor.pk]
    defaults = merging.merge_default_sources(cluster.record_type, survivor, others)
    rows: list[FieldRow] = []
    for name in review.merge_fields(cluster.record_type):
        winner = chosen.get(name, defaults[name])
        cells = [
            Cell(record_id=str(r.pk), shown=_shown(r, name), checked=str(r.pk) == winner)
            for r in records
        ]
        rows.append(
            FieldRow(
                name=name,
                label=_field_label(model, name),
                cells=cells,
                differs=len({c.shown for c in cells}) > 1,
            )
        )
    return rows


def _render_cluster(
    request: HttpRequest,
    cluster: DuplicateCluster,
    *,
    survivor_id: str | None = None,
    losers: set[str] | None = None,
    chosen: dict[str, str] | None = None,
    error: DomainError | None = None,
) -> HttpResponse:
    records = review.cluster_records(cluster)
    survivor_id = survivor_id or (str(records[0].pk) if records else "")
    labels = {str(r.pk): str(r) for r in records}
    context = {
        "nav": "duplicates",
        "cluster": cluster,
        "records": records,
        "survivor_id": survivor_id,
        "losers": losers if losers is not None else {str(r.pk) for r in records},
        "rows": _comparison(cluster, records, survivor_id, chosen or {}) if records else [],
        "pairs": [
            {
                "left": labels.get(str(p.left_id), str(p.left_id)),
                "right": labels.get(str(p.right_id), str(p.right_id)),
                "score": p.score,
                "reasons": p.reasons,
            }
            for p in cluster.pairs.all()
        ],
        "error": error,
        "merges": list(cluster.merges.order_by("-created_at")),
    }
    status = error.status if error is not None else 200
    return render(request, "web/stewardship/cluster.html", context, status=status)


@login_required
def duplicate_cluster(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _steward(request)
    cluster = _cluster(user, pk)
    survivor = request.GET.get("survivor") or None
    return _render_cluster(request, cluster, survivor_id=survivor)


@login_required
@require_POST
def duplicate_cluster_merge(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _steward(request)
    cluster = _cluster(user, pk)
    members = {str(r.pk) for r in review.cluster_records(cluster)}
    survivor = request.POST.get("survivor", "")
    included = set(request.POST.getlist("include")) & members
    chosen = {
        name: request.POST[f"choice_{name}"]
        for name in review.merge_fields(cluster.record_type)
        if request.POST.get(f"choice_{name}") in members
    }
    losers = sorted(included - {survivor})
    try:
        if survivor not in members:
            raise ValidationFailed(_("Choose the record that survives."))
        if not losers:
            raise ValidationFailed(_("Tick at least one other record to merge into it."))
        # A value can only come from a record that takes part in the merge.
        chosen = {k: v for k, v in chosen.items() if v == survivor or v in losers}
        merge = merging.record_merge(
            actor=user,
            record_type=cluster.record_type,
            survivor_id=uuid.UUID(survivor),
            loser_ids=[uuid.UUID(i) for i in losers],
            field_choices=chosen,
            cluster=cluster,
        )
    except DomainError as exc:
        return _render_cluster(
            request,
            _cluster(user, pk),
            survivor_id=survivor if survivor in members else None,
            losers=included,
            chosen=chosen,
            error=exc,
        )
    messages.success(
        request,
        ngettext(
            "Merged %(n)d record into the survivor.",
            "Merged %(n)d records into the survivor.",
            len(merge.loser_ids),
        )
        % {"n": len(merge.loser_ids)},
    )
    return redirect("web:merge_history")


@login_required
@require_POST
def duplicate_cluster_dismiss(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _steward(request)
    cluster = _cluster(user, pk)
    try:
        review.duplicate_cluster_dismiss(
            actor=user, cluster=cluster, reason=request.POST.get("reason", "")[:1000]
        )
    except DomainError as exc:
        return _render_cluster(request, cluster, error=exc)
    messages.success(
        request, _("Marked as not duplicates; they will not be queued together again.")
    )
    return redirect("web:duplicate_queue")


# --- merge history ------------------------------------------------------------------------


@login_required
def merge_history(request: HttpRequest) -> HttpResponse:
    """Merges, newest first; the ones nothing later depends on can be undone."""
    user = _steward(request)
    record_type = request.GET.get("record_type") or None
    if record_type not in (None, *review.MERGEABLE):
        record_type = None
    qs = merging.merges_list(actor=user, record_type=record_type)
    try:
        page = keyset_page(
            qs, ordering="-created_at", cursor=request.GET.get("cursor") or None, limit=50
        )
    except ValidationFailed:
        page = keyset_page(qs, ordering="-created_at", cursor=None, limit=50)
    rows = _history_rows(page.items)
    context = {
        "nav": "duplicates",
        "page": page,
        "rows": rows,
        "record_type": record_type or "",
        "record_types": [(t.value, t.label) for t in review.MERGEABLE],
    }
    return render(request, "web/stewardship/merges.html", context)


def _history_rows(merges: list[MergeRecord]) -> list[dict[str, Any]]:
    ids: dict[str, set[uuid.UUID]] = {RecordType.ACCOUNT: set(), RecordType.CONTACT: set()}
    for m in merges:
        ids[m.record_type].add(m.survivor_id)
        ids[m.record_type].update(uuid.UUID(i) for i in m.loser_ids)
    labels: dict[str, str] = {
        str(a.pk): str(a) for a in Account.objects.filter(pk__in=ids[RecordType.ACCOUNT])
    }
    labels.update(
        (str(c.pk), str(c)) for c in Contact.objects.filter(pk__in=ids[RecordType.CONTACT])
    )
    return [
        {
            "merge": m,
            "survivor": labels.get(str(m.survivor_id), str(m.survivor_id)),
            "losers": [labels.get(i, i) for i in m.loser_ids],
            "changed": sorted(m.changes),
            "undoable": merging.merge_is_undoable(m),
        }
        for m in merges
    ]


@login_required
@require_POST
def merge_unmerge(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _steward(request)
    try:
        merge = merging.merge_get(actor=user, merge_id=pk)
    except NotFound as exc:
        raise Http404 from exc
    try:
        result = merging.record_unmerge(actor=user, merge=merge)
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect("web:merge_history")
    if result.kept:
        messages.warning(
            request,
            _("Merge undone. Kept the values changed since the merge: %(fields)s.")
            % {"fields": ", ".join(result.kept)},
        )
    else:
        messages.success(request, _("Merge undone; the records are back as they were."))
    return redirect("web:merge_history")
