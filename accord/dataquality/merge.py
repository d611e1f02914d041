"""Merging duplicate accounts (and contacts) into one survivor, and undoing it.

A merge is generic over relations: every foreign key (or one-to-one) of every installed
model that points at the merged model is found at run time (:func:`relations_to`), so a
relation added later is moved without a change here. Each moved row is recorded in the
:class:`~accord.dataquality.models.MergeRecord` with its old value, beside the full
before-state of the survivor and the losers, so :func:`account_unmerge` can put everything
back. The exceptions are explicit:

* match keys (the duplicate check's blocking keys) are derived data: recomputed for the
  survivor, removed for the losers, rebuilt on unmerge;
* duplicate-queue memberships are history and stay with the records they name;
* a move that would break a unique constraint (two rows that may exist once per record) is
  refused with a :class:`~accord.core.errors.Conflict` naming the table.

Losers stay as tombstones: an account gets ``status=merged`` and ``merged_into`` (its
customer code becomes an alias of the survivor's); a contact is deactivated, its survivor
found through the merge record. Earlier tombstones of a loser are repointed to the new
survivor (they are rows of ``Account.merged_into``), so chains stay one step long.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from accord.audit.services import audit_event, diff, snapshot
from accord.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from accord.core.signals import bulk_rows_update
from accord.customers.models import (
    Account,
    AccountMatchKey,
    AccountStatus,
    Contact,
    ContactMatchKey,
)
from accord.customers.services import ACCOUNT_FIELDS, CONTACT_FIELDS
from accord.dataquality import matching
from accord.dataquality.models import (
    ClusterStatus,
    DuplicateCluster,
    MergeParticipant,
    MergeRecord,
    MergeStatus,
    ParticipantRole,
    RecordType,
)
from accord.dataquality.normalize import company_name_key
from accord.dataquality.review import duplicate_cluster_resolve
from accord.integration.models import EventType
from accord.integration.outbox import account_event_emit, account_merge_event_emit, outbox_emit
from accord.org.models import User
from accord.territories import visibility

# The fields whose surviving value a steward picks, per record type.
ACCOUNT_MERGE_FIELDS: tuple[str, ...] = tuple(f for f in ACCOUNT_FIELDS if f != "status")
# A contact's account is not chosen: contacts merge within one account (merge the accounts
# first), so each moved activity and opportunity stays on the account of its contact.
CONTACT_MERGE_FIELDS: tuple[str, ...] = tuple(
    f for f in CONTACT_FIELDS if f not in ("account", "is_active")
)

# Relations a merge leaves alone (history), as "app_label.model.field".
KEPT_RELATIONS = frozenset(
    {
        "dataquality.duplicateclustermember.account",
        "dataquality.duplicateclustermember.contact",
    }
)
# Relations where the survivor's rows win: a loser's row that would repeat one the survivor
# (or an earlier loser) holds — an owner for the same business unit, the same person on the
# account team — stays on the tombstone instead of refusing the merge (unmerge finds it there).
SURVIVOR_WINS_RELATIONS = frozenset(
    {"territories.accountowner.account", "territories.accountteammember.account"}
)
# Relations holding derived data, rebuilt from the records instead of moved.
RECOMPUTED_RELATIONS = frozenset(
    {"customers.accountmatchkey.account", "customers.contactmatchkey.contact"}
)


# --- relations ----------------------------------------------------------------------------

_CHUNK = 500  # ids per statement when rows are moved back (bound parameter limits)


@dataclass(frozen=True)
class Relation:
    """A column of ``model`` that holds the id of a record of the merged model."""

    model: type[models.Model]
    field: str  # the field's name
    column: str  # its attname (``account_id``), or a generic relation's object-id field
    content_type_field: str | None = None  # set for a GenericForeignKey

    @property
    def label(self) -> str:
        return f"{self.model._meta.label_lower}.{self.field}"


def relations_to(target: type[models.Model]) -> list[Relation]:
    """Every foreign key, one-to-one, many-to-many link row and generic foreign key, in
    every installed app, that can point at a record of ``target`` (hidden ones too)."""
    found: list[Relation] = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.local_fields:
            remote = field.remote_field
            if remote is not None and remote.model is target and field.concrete:
                found.append(Relation(model, field.name, field.attname))
        for private in model._meta.private_fields:
            if isinstance(private, GenericForeignKey):
                found.append(Relation(model, private.name, private.fk_field, private.ct_field))
    return sorted(found, key=lambda r: r.label)


def _rows_of(
    relation: Relation, target: type[models.Model], ids: Sequence[Any]
) -> models.QuerySet[Any]:
    qs = relation.model._base_manager.filter(**{f"{relation.column}__in": list(ids)})
    if relation.content_type_field is not None:
        ct = ContentType.objects.get_for_model(target)
        qs = qs.filter(**{relation.content_type_field: ct})
    return qs


def _unique_sets(model: type[models.Model], column_field: str) -> list[tuple[list[str], Q | None]]:
    """The unique column sets of ``model`` that contain ``column_field``, with conditions."""
    sets: list[tuple[list[str], Q | None]] = []
    opts = model._meta
    field = next((f for f in opts.concrete_fields if f.name == column_field), None)
    if field is not None and (field.unique or field.one_to_one):
        sets.append(([column_field], None))
    for together in opts.unique_together:
        if column_field in together:
            sets.append((list(together), None))
    for constraint in opts.total_unique_constraints + [
        c
        for c in opts.constraints
        if isinstance(c, models.UniqueConstraint) and c.condition is not None and c.fields
    ]:
        if column_field in constraint.fields:
            sets.append((list(constraint.fields), constraint.condition))
    return sets


def _movable_rows(
    relation: Relation, target: type[models.Model], survivor_pk: Any, loser_ids: Sequence[Any]
) -> list[Any]:
    """The loser rows of a survivor-wins relation that repeat no row already on the survivor
    (nor one moved before them, oldest first) under any of its unique constraints."""
    sets = _unique_sets(relation.model, relation.field)
    taken: list[set[tuple[Any, ...]]] = [set() for _ in sets]
    base = relation.model._base_manager
    survivor_rows = base.filter(**{relation.column: survivor_pk})
    loser_rows = list(
        base.filter(**{f"{relation.column}__in": list(loser_ids)}).order_by("created_at", "pk")
    )
    keep: list[Any] = []

    def keys(row: models.Model) -> list[tuple[Any, ...] | None]:
        found: list[tuple[Any, ...] | None] = []
        for fields, condition in sets:
            applies = condition is None or base.filter(condition, pk=row.pk).exists()
            others = [relation.model._meta.get_field(f).attname for f in fields]  # type: ignore[union-attr]
            values = tuple(getattr(row, a) for a in others if a != relation.column)
            found.append(values if applies and None not in values else None)
        return found

    for row in survivor_rows:
        for index, key in enumerate(keys(row)):
            if key is not None:
                taken[index].add(key)
    for row in loser_rows:
        row_keys = keys(row)
        if any(key is not None and key in taken[i] for i, key in enumerate(row_keys)):
            continue
        for index, key in enumerate(row_keys):
            if key is not None:
                taken[index].add(key)
        keep.append(row.pk)
    return keep


def _refuse_unique_collisions(
    relation: Relation, target: type[models.Model], ids: Sequence[Any]
) -> None:
    """Moving every row of ``ids`` to one record would break a unique constraint: 409."""
    if relation.content_type_field is not None:
        return
    for fields, condition in _unique_sets(relation.model, relation.field):
        others = [f for f in fields if f != relation.field]
        qs = _rows_of(relation, target, ids)
        if condition is not None:
            qs = qs.filter(condition)
        attnames = [relation.model._meta.get_field(f).attname for f in others]  # type: ignore[union-attr]
        seen: set[tuple[Any, ...]] = set()
        for values in qs.values_list(*attnames) if attnames else qs.values_list("pk"):
            key = tuple(values) if attnames else ()
            if attnames and any(v is None for v in key):
                continue  # NULLs never collide
            if key in seen:
                raise Conflict(
                    f"These records each have a {relation.model._meta.verbose_name} that may "
                    f"exist only once per record ({', '.join(fields)}); resolve them before "
                    "merging.",
                    code="merge_unique_conflict",
                    extra={"relation": relation.label},
                )
            seen.add(key)


# --- the spec of a mergeable model ----------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    record_type: RecordType
    model: type[models.Model]
    fields: tuple[str, ...]
    merged_event: EventType
    unmerged_event: EventType
    visible: Callable[[User], models.QuerySet[Any]]
    after_values_set: Callable[[Any], None]  # search text, name key
    match_keys_rebuild: Callable[[Sequence[Any]], None]
    match_keys_drop: Callable[[Sequence[Any]], object]
    tombstone: Callable[[Any, Any], list[str]]  # (loser, survivor) -> changed fields
    is_tombstone: Callable[[Any], bool]


def _account_after(account: Account) -> None:
    from accord.customers.services import account_search_text

    if not account.legal_name:
        account.legal_name = account.name_en or account.name_th
    account.search_text = account_search_text(account)
    account.name_key = company_name_key(account.legal_name)[:255]


def _contact_after(contact: Contact) -> None:
    from accord.customers.services import contact_search_text

    contact.search_text = contact_search_text(contact)


def _account_keys_rebuild(accounts: Sequence[Account]) -> None:
    AccountMatchKey.objects.filter(account__in=[a.pk for a in accounts]).delete()
    AccountMatchKey.objects.bulk_create(
        AccountMatchKey(account=a, key=k)
        for a in accounts
        for k in matching.account_match_keys(matching.account_features(matching.object_getter(a)))
    )


def _contact_keys_rebuild(contacts: Sequence[Contact]) -> None:
    ContactMatchKey.objects.filter(contact__in=[c.pk for c in contacts]).delete()
    ContactMatchKey.objects.bulk_create(
        ContactMatchKey(contact=c, key=k)
        for c in contacts
        for k in matching.contact_match_keys(matching.contact_features(matching.object_getter(c)))
    )


def _account_tombstone(loser: Account, survivor: Account) -> list[str]:
    loser.status = AccountStatus.MERGED
    loser.merged_into = survivor
    return ["status", "merged_into"]


def _contact_tombstone(loser: Contact, survivor: Contact) -> list[str]:
    loser.is_active = False
    return ["is_active"]


def _moved_contact_keys_rebuild(moved: Sequence[Sequence[str]]) -> None:
    """A contact's blocking keys name its account: rebuild those of the contacts an account
    merge (or unmerge) moved, except merged-away contacts, which have none."""
    ids = sorted(
        {uuid.UUID(pk) for label, pk, _f, _o in moved if label == Contact._meta.label_lower},
        key=str,
    )
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        gone = MergeParticipant.objects.filter(
            record_id__in=chunk, role=ParticipantRole.LOSER, merge__status=MergeStatus.DONE
        ).values("record_id")
        _contact_keys_rebuild(list(Contact.objects.filter(pk__in=chunk).exclude(pk__in=gone)))


def _contact_is_tombstone(contact: Contact) -> bool:
    return MergeParticipant.objects.filter(
        record_id=contact.pk, role=ParticipantRole.LOSER, merge__status=MergeStatus.DONE
    ).exists()


ACCOUNT_SPEC = _Spec(
    record_type=RecordType.ACCOUNT,
    model=Account,
    fields=ACCOUNT_MERGE_FIELDS,
    merged_event=EventType.ACCOUNT_MERGED,
    unmerged_event=EventType.ACCOUNT_UNMERGED,
    visible=visibility.accounts_visible_to,
    after_values_set=_account_after,
    match_keys_rebuild=_account_keys_rebuild,
    match_keys_drop=lambda rows: AccountMatchKey.objects.filter(
        account__in=[r.pk for r in rows]
    ).delete(),
    tombstone=_account_tombstone,
    is_tombstone=lambda a: a.status == AccountStatus.MERGED,
)
CONTACT_SPEC = _Spec(
    record_type=RecordType.CONTACT,
    model=Contact,
    fields=CONTACT_MERGE_FIELDS,
    merged_event=EventType.CONTACT_MERGED,
    unmerged_event=EventType.CONTACT_UNMERGED,
    visible=visibility.contacts_visible_to,
    after_values_set=_contact_after,
    match_keys_rebuild=_contact_keys_rebuild,
    match_keys_drop=lambda rows: ContactMatchKey.objects.filter(
        contact__in=[r.pk for r in rows]
    ).delete(),
    tombstone=_contact_tombstone,
    is_tombstone=_contact_is_tombstone,
)
_SPECS = {RecordType.ACCOUNT: ACCOUNT_SPEC, RecordType.CONTACT: CONTACT_SPEC}


# --- helpers ------------------------------------------------------------------------------


def _require_steward(actor: User) -> None:
    if not visibility.may_steward(actor):
        raise PermissionDenied("Only the CRM team merges records.", code="steward_only")


def _set_field(instance: models.Model, name: str, value: Any) -> None:
    field = instance._meta.get_field(name)
    setattr(instance, field.attname, value)  # type: ignore[union-attr]


def _field_value(instance: models.Model, name: str) -> Any:
    return snapshot(instance, [name]).get(name)


def _empty(value: Any) -> bool:
    return value is None or value == ""


def _winning_values(
    spec: _Spec,
    survivor: models.Model,
    losers: Sequence[models.Model],
    field_choices: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Per field, the surviving value (JSON form) and the id of the record it comes from."""
    by_id: dict[str, models.Model] = {str(r.pk): r for r in [survivor, *losers]}
    errors: dict[str, list[str]] = {}
    for name, chosen in field_choices.items():
        if name not in spec.fields:
            errors.setdefault(name, []).append("This field is not chosen in a merge.")
        elif str(chosen) not in by_id:
            errors.setdefault(name, []).append("Choose one of the merged records.")
    if errors:
        raise ValidationFailed("Some field choices are invalid.", errors=errors)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in spec.fields:
        if name in field_choices:
            source = by_id[str(field_choices[name])]
        else:
            source = survivor
            if _empty(_field_value(survivor, name)):
                source = next((r for r in losers if not _empty(_field_value(r, name))), survivor)
        values[name] = _field_value(source, name)
        sources[name] = str(source.pk)
    return values, sources


def _lock(spec: _Spec, actor: User, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
    rows = {
        r.pk: r
        for r in spec.visible(actor).select_for_update().filter(pk__in=list(ids)).order_by("pk")
    }
    if len(rows) != len(set(ids)):
        raise NotFound(f"No such {spec.record_type}, or you may not see it.")
    return rows


def _later_merges(merge: MergeRecord) -> models.QuerySet[MergeRecord]:
    """Merges done after ``merge`` that touched one of its records (as survivor, loser or
    moved record, of either type): undoing ``merge`` first would contradict them."""
    ids = MergeParticipant.objects.filter(merge=merge).values("record_id")
    return (
        MergeRecord.objects.filter(status=MergeStatus.DONE, participants__record_id__in=ids)
        .filter(
            Q(created_at__gt=merge.created_at) | Q(created_at=merge.created_at, id__gt=merge.id)
        )
        .distinct()
    )


def _save(instance: models.Model, *, fields: Sequence[str] | None = None) -> None:
    try:
        with transaction.atomic():
            instance.save(update_fields=list(fields) if fields is not None else None)
    except IntegrityError as exc:
        raise Conflict(
            f"{instance} conflicts with another record; nothing was changed.",
            code="merge_integrity_conflict",
        ) from exc


def _validate(instance: models.Model, *, as_conflict: bool) -> None:
    from accord.core.services import validate

    try:
        validate(instance, exclude=["merged_into"] if isinstance(instance, Account) else None)
    except ValidationFailed as exc:
        if not as_conflict:
            raise
        raise Conflict(
            f"{instance} cannot be restored as it was: another record now holds its values.",
            code="unmerge_conflict",
            errors=exc.errors,
        ) from exc


# --- merge --------------------------------------------------------------------------------


@transaction.atomic
def _merge(
    spec: _Spec,
    *,
    actor: User,
    survivor: models.Model,
    losers: Sequence[models.Model],
    field_choices: Mapping[str, Any],
    cluster: DuplicateCluster | None,
) -> MergeRecord:
    _require_steward(actor)
    loser_ids = [r.pk for r in losers]
    if not loser_ids:
        raise ValidationFailed(errors={"losers": ["Choose at least one record to merge."]})
    if survivor.pk in loser_ids or len(set(loser_ids)) != len(loser_ids):
        raise ValidationFailed(
            errors={"losers": ["Each record is merged once, and not into itself."]}
        )
    rows = _lock(spec, actor, [survivor.pk, *loser_ids])
    survivor = rows[survivor.pk]
    losers = [rows[pk] for pk in loser_ids]
    gone = [str(r) for r in [survivor, *losers] if spec.is_tombstone(r)]
    if gone:
        raise Conflict(
            f"Already merged into another record: {', '.join(gone)}.", code="already_merged"
        )
    if cluster is not None:
        cluster = DuplicateCluster.objects.select_for_update().get(pk=cluster.pk)
        if cluster.status != ClusterStatus.OPEN or cluster.record_type != spec.record_type:
            raise Conflict("This cluster is no longer open.", code="cluster_not_open")

    before: dict[str, Any] = {
        "survivor": snapshot(survivor),
        "losers": {str(r.pk): snapshot(r) for r in losers},
    }
    values, sources = _winning_values(spec, survivor, losers, field_choices)
    if spec.record_type == RecordType.CONTACT and any(
        getattr(r, "account_id", None) != getattr(survivor, "account_id", None) for r in losers
    ):
        raise ValidationFailed(
            "These contacts work at different accounts: merge the accounts first.",
            code="contacts_at_different_accounts",
            errors={"losers": ["Choose contacts of the survivor's account."]},
        )

    # 1. Children: repoint every row of every relation from the losers to the survivor.
    moved: list[list[str]] = []
    counts: dict[str, int] = {}
    for relation in relations_to(spec.model):
        if relation.label in KEPT_RELATIONS or relation.label in RECOMPUTED_RELATIONS:
            continue
        qs = _rows_of(relation, spec.model, loser_ids)
        if relation.label in SURVIVOR_WINS_RELATIONS:
            qs = qs.filter(pk__in=_movable_rows(relation, spec.model, survivor.pk, loser_ids))
        else:
            _refuse_unique_collisions(relation, spec.model, [survivor.pk, *loser_ids])
        found = list(qs.values_list("pk", relation.column))
        if not found:
            continue
        moved.extend(
            [relation.model._meta.label_lower, str(pk), relation.field, str(old)]
            for pk, old in found
        )
        counts[relation.label] = len(found)
        try:
            with transaction.atomic(), bulk_rows_update(relation.model, [pk for pk, _ in found]):
                # The losers are locked, so no row can join them between read and update.
                qs.update(**{relation.column: survivor.pk})
        except IntegrityError as exc:
            raise Conflict(
                f"Moving the {relation.model._meta.verbose_name_plural} would break a "
                "uniqueness rule; resolve them before merging.",
                code="merge_unique_conflict",
                extra={"relation": relation.label},
            ) from exc

    # 2. Losers become tombstones (first, so the survivor may take a loser's tax ID).
    for loser in losers:
        changed = spec.tombstone(loser, survivor)
        _save(loser, fields=[*changed, "updated_at"])

    # 3. The survivor takes the winning values.
    for name, value in values.items():
        _set_field(survivor, name, value)
    spec.after_values_set(survivor)
    _validate(survivor, as_conflict=False)
    _save(survivor)
    after = snapshot(survivor)
    changes = diff(before["survivor"], after)
    spec.match_keys_rebuild([survivor])
    _moved_contact_keys_rebuild(moved)
    spec.match_keys_drop(losers)

    merge = MergeRecord.objects.create(
        record_type=spec.record_type,
        survivor_id=survivor.pk,
        loser_ids=[str(pk) for pk in loser_ids],
        actor=actor,
        cluster=cluster,
        field_choices=sources,
        before=before,
        changes=changes,
        moved=moved,
    )
    mergeable = {m._meta.label_lower for m in (Account, Contact)}
    moved_records = {uuid.UUID(pk) for label, pk, _f, _o in moved if label in mergeable}
    moved_records -= {survivor.pk, *loser_ids}
    MergeParticipant.objects.bulk_create(
        [MergeParticipant(merge=merge, record_id=survivor.pk, role=ParticipantRole.SURVIVOR)]
        + [
            MergeParticipant(merge=merge, record_id=pk, role=ParticipantRole.LOSER)
            for pk in loser_ids
        ]
        + [
            MergeParticipant(merge=merge, record_id=pk, role=ParticipantRole.MOVED)
            for pk in sorted(moved_records, key=str)
        ]
    )
    if cluster is not None:
        duplicate_cluster_resolve(actor=actor, cluster=cluster, status=ClusterStatus.MERGED)

    label = spec.model._meta.label_lower
    audit_event(
        action="merge",
        record_type=label,
        record_id=str(survivor.pk),
        label=str(survivor),
        data={
            "merge": str(merge.pk),
            "losers": [str(pk) for pk in loser_ids],
            "values_from": sources,
            "changes": changes,
            "before": before,
            "moved": counts,
            "cluster": str(cluster.pk) if cluster else None,
        },
    )
    for loser in losers:
        audit_event(
            action="merge",
            record_type=label,
            record_id=str(loser.pk),
            label=str(loser),
            data={
                "merge": str(merge.pk),
                "merged_into": str(survivor.pk),
                "changes": diff(before["losers"][str(loser.pk)], snapshot(loser)),
            },
        )
    if spec.record_type == RecordType.ACCOUNT:
        assert isinstance(survivor, Account)
        account_merge_event_emit(survivor=survivor, merged=losers)  # type: ignore[arg-type]
    else:
        outbox_emit(
            event_type=spec.merged_event,
            aggregate=survivor,
            payload=_contact_payload(survivor, losers),
        )
    return merge


def _contact_payload(survivor: models.Model, others: Sequence[models.Model]) -> dict[str, Any]:
    return {
        "contact": {"id": str(survivor.pk), "account_id": str(getattr(survivor, "account_id", ""))},
        "merged": [{"id": str(r.pk)} for r in sorted(others, key=lambda r: str(r.pk))],
    }


def account_merge(
    *,
    actor: User,
    survivor: Account,
    losers: Sequence[Account],
    field_choices: Mapping[str, uuid.UUID | str],
    cluster: DuplicateCluster | None = None,
) -> MergeRecord:
    """Merge ``losers`` into ``survivor``: one transaction, audited, emitted (id remap).

    ``field_choices`` names, per field, the record whose value survives; a field not named
    keeps the survivor's value, or takes the first loser's if the survivor's is empty.
    """
    return _merge(
        ACCOUNT_SPEC,
        actor=actor,
        survivor=survivor,
        losers=losers,
        field_choices=field_choices,
        cluster=cluster,
    )


def contact_merge(
    *,
    actor: User,
    survivor: Contact,
    losers: Sequence[Contact],
    field_choices: Mapping[str, uuid.UUID | str],
    cluster: DuplicateCluster | None = None,
) -> MergeRecord:
    """Merge duplicate contacts; the losers are deactivated (see :func:`account_merge`)."""
    return _merge(
        CONTACT_SPEC,
        actor=actor,
        survivor=survivor,
        losers=losers,
        field_choices=field_choices,
        cluster=cluster,
    )


# --- unmerge ------------------------------------------------------------------------------


@dataclass
class UnmergeResult:
    merge: MergeRecord
    # Survivor fields changed since the merge, which the unmerge therefore left alone.
    kept: list[str]
    # Moved rows that no longer pointed at the survivor (deleted or moved on since).
    not_restored: int


@transaction.atomic
def _unmerge(spec: _Spec, *, actor: User, merge: MergeRecord) -> UnmergeResult:
    _require_steward(actor)
    merge = MergeRecord.objects.select_for_update().get(pk=merge.pk)
    if merge.record_type != spec.record_type:
        raise NotFound(f"No such {spec.record_type} merge.")
    if merge.status != MergeStatus.DONE:
        raise Conflict("This merge was already undone.", code="merge_already_undone")
    ids = [str(merge.survivor_id), *merge.loser_ids]
    later = list(_later_merges(merge).order_by("created_at", "id")[:5])
    if later:
        raise Conflict(
            "A later merge involves these records; undo it first "
            f"({', '.join(str(m.pk) for m in later)}).",
            code="later_merge_depends",
            extra={"later_merges": [str(m.pk) for m in later]},
        )
    survivor_id = merge.survivor_id
    rows = {
        str(r.pk): r
        for r in spec.model._base_manager.select_for_update()
        .filter(pk__in=[uuid.UUID(i) for i in ids])
        .order_by("pk")
    }
    if len(rows) != len(ids):
        raise Conflict(
            "A record of this merge was deleted since; it cannot be undone.",
            code="merge_record_gone",
        )
    survivor = rows[str(survivor_id)]
    losers = [rows[i] for i in merge.loser_ids]

    # 1. The survivor's fields the merge changed go back, unless someone changed them since.
    survivor_before = snapshot(survivor)
    kept: list[str] = []
    for name, (old, new) in merge.changes.items():
        if survivor_before.get(name) == new:
            _set_field(survivor, name, old)
        else:
            kept.append(name)
    spec.after_values_set(survivor)
    # Restore the survivor first: a loser may take back the tax ID it had given it.
    _validate(survivor, as_conflict=True)
    _save(survivor)

    # 2. The losers' whole state comes back.
    losers_before = {str(r.pk): snapshot(r) for r in losers}
    for loser in losers:
        for name, value in merge.before["losers"][str(loser.pk)].items():
            if name != "id":
                _set_field(loser, name, value)
        spec.after_values_set(loser)
        _validate(loser, as_conflict=True)
        _save(loser)

    # 3. The children go back where they were, if they still point at the survivor.
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for label, pk, field, old in merge.moved:
        groups[(label, field, old)].append(pk)
    relations = {r.label: r for r in relations_to(spec.model)}
    not_restored = 0
    for (label, field, old), pks in groups.items():
        relation = relations.get(f"{label}.{field}")
        if relation is None:
            not_restored += len(pks)
            continue
        done = 0
        try:
            with transaction.atomic():
                for start in range(0, len(pks), _CHUNK):
                    chunk = pks[start : start + _CHUNK]
                    qs = _rows_of(relation, spec.model, [survivor.pk]).filter(pk__in=chunk)
                    with bulk_rows_update(relation.model, chunk):
                        done += qs.update(**{relation.column: old})
        except IntegrityError as exc:
            raise Conflict(
                f"The {relation.model._meta.verbose_name_plural} cannot be moved back: a "
                "uniqueness rule is in the way.",
                code="unmerge_conflict",
            ) from exc
        not_restored += len(pks) - done
    relinked = (
        _unlink_contacts_elsewhere([survivor.pk, *(loser.pk for loser in losers)])
        if spec.record_type == RecordType.ACCOUNT
        else 0
    )
    spec.match_keys_rebuild([survivor, *losers])
    _moved_contact_keys_rebuild(merge.moved)

    merge.status = MergeStatus.UNDONE
    merge.undone_by = actor
    merge.undone_at = timezone.now()
    merge.save(update_fields=["status", "undone_by", "undone_at", "updated_at"])
    if merge.cluster_id is not None:
        cluster = DuplicateCluster.objects.select_for_update().get(pk=merge.cluster_id)
        if cluster.status == ClusterStatus.MERGED:
            duplicate_cluster_resolve(actor=actor, cluster=cluster, status=ClusterStatus.OPEN)

    label = spec.model._meta.label_lower
    audit_event(
        action="unmerge",
        record_type=label,
        record_id=str(survivor.pk),
        label=str(survivor),
        data={
            "merge": str(merge.pk),
            "changes": diff(survivor_before, snapshot(survivor)),
            "kept_since_merge": kept,
            "restored_rows": len(merge.moved) - not_restored,
            "not_restored": not_restored,
            "relinked_since_merge": relinked,
        },
    )
    for loser in losers:
        audit_event(
            action="unmerge",
            record_type=label,
            record_id=str(loser.pk),
            label=str(loser),
            data={
                "merge": str(merge.pk),
                "changes": diff(losers_before[str(loser.pk)], snapshot(loser)),
            },
        )
    if spec.record_type == RecordType.ACCOUNT:
        assert isinstance(survivor, Account)
        account_event_emit(
            event_type=EventType.ACCOUNT_UNMERGED,
            account=survivor,
            extra={
                "restored": [
                    {"id": str(a.pk), "customer_code": getattr(a, "customer_code", "")}
                    for a in sorted(losers, key=lambda a: str(a.pk))
                ]
            },
        )
    else:
        payload = _contact_payload(survivor, losers)
        payload["restored"] = payload.pop("merged")
        outbox_emit(event_type=spec.unmerged_event, aggregate=survivor, payload=payload)
    return UnmergeResult(merge=merge, kept=kept, not_restored=not_restored)


def _unlink_contacts_elsewhere(account_ids: Sequence[Any]) -> int:
    """After an unmerge, activities and opportunities of these accounts whose contact now
    works at another account — a call logged on the survivor since the merge with a contact
    that has gone back to its own account, or one moved back with its account while its
    contact had been merged into one of the survivor's — keep their account (what was done
    since the merge stays on the survivor) and drop the contact link, so no record links a
    person to a company they do not work at. Returns how many records changed."""
    from accord.activities.models import Activity
    from accord.sales.models import Opportunity

    changed = 0
    for model in (Activity, Opportunity):
        pks = list(
            model.objects.filter(account_id__in=account_ids, contact__isnull=False)
            .exclude(contact__account_id=models.F("account_id"))
            .values_list("pk", flat=True)
        )
        if pks:
            with bulk_rows_update(model, pks):
                changed += model.objects.filter(pk__in=pks).update(contact=None)
    return changed


def account_unmerge(*, actor: User, merge: MergeRecord) -> UnmergeResult:
    """Undo an account merge: the survivor's merged values, the losers and every moved row
    go back as they were. Refused (409) while a later merge involves the same records."""
    return _unmerge(ACCOUNT_SPEC, actor=actor, merge=merge)


def contact_unmerge(*, actor: User, merge: MergeRecord) -> UnmergeResult:
    return _unmerge(CONTACT_SPEC, actor=actor, merge=merge)


def record_merge(
    *,
    actor: User,
    record_type: str,
    survivor_id: uuid.UUID,
    loser_ids: Sequence[uuid.UUID],
    field_choices: Mapping[str, uuid.UUID | str],
    cluster: DuplicateCluster | None = None,
) -> MergeRecord:
    """Merge by ids (the API and the web form): each id must be visible to ``actor``."""
    spec = _SPECS.get(RecordType(record_type)) if record_type in _SPECS else None
    if spec is None:
        raise ValidationFailed(errors={"record_type": ["Accounts and contacts are merged."]})
    _require_steward(actor)
    rows = {r.pk: r for r in spec.visible(actor).filter(pk__in=[survivor_id, *loser_ids])}
    missing = [str(i) for i in [survivor_id, *loser_ids] if i not in rows]
    if missing:
        raise NotFound(f"No such {spec.record_type}, or you may not see it.")
    return _merge(
        spec,
        actor=actor,
        survivor=rows[survivor_id],
        losers=[rows[i] for i in loser_ids],
        field_choices=field_choices,
        cluster=cluster,
    )


def record_unmerge(*, actor: User, merge: MergeRecord) -> UnmergeResult:
    return _unmerge(_SPECS[RecordType(merge.record_type)], actor=actor, merge=merge)


# --- reads --------------------------------------------------------------------------------


def merge_default_sources(
    record_type: str, survivor: models.Model, others: Sequence[models.Model]
) -> dict[str, str]:
    """Per field, the id of the record whose value a merge keeps when nobody chooses."""
    return _winning_values(_SPECS[RecordType(record_type)], survivor, others, {})[1]


def merges_list(
    *, actor: User, record_type: str | None = None, record_id: uuid.UUID | None = None
) -> models.QuerySet[MergeRecord]:
    """Merge history, newest first (stewards only)."""
    _require_steward(actor)
    qs = MergeRecord.objects.select_related("actor", "undone_by")
    if record_type:
        qs = qs.filter(record_type=record_type)
    if record_id:
        qs = qs.filter(participants__record_id=record_id)
    return qs.order_by("-created_at", "-id")


def merge_get(*, actor: User, merge_id: uuid.UUID | str) -> MergeRecord:
    _require_steward(actor)
    try:
        return MergeRecord.objects.select_related("actor", "undone_by").get(
            pk=uuid.UUID(str(merge_id))
        )
    except (ValueError, MergeRecord.DoesNotExist) as exc:
        raise NotFound("No such merge.") from exc


def merge_is_undoable(merge: MergeRecord) -> bool:
    if merge.status != MergeStatus.DONE:
        return False
    return not _later_merges(merge).exists()


def contact_merged_into(contact: Contact) -> Contact | None:
    """The contact a merged-away contact now lives on (following later merges), or None."""
    current: uuid.UUID = contact.pk
    seen = {current}
    found: Contact | None = None
    while True:
        merge = (
            MergeRecord.objects.filter(
                record_type=RecordType.CONTACT,
                status=MergeStatus.DONE,
                participants__record_id=current,
                participants__role=ParticipantRole.LOSER,
            )
            .order_by("-created_at", "-id")
            .first()
        )
        if merge is None or merge.survivor_id in seen:
            return found
        current = merge.survivor_id
        seen.add(current)
        found = Contact.objects.filter(pk=current).first()
