"""Merging duplicate accounts and contacts, and undoing it."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import pytest
from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import connection, models, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accord.activities.models import Activity
from accord.activities.services import activity_create
from accord.audit.models import AuditEvent
from accord.audit.services import snapshot
from accord.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from accord.customers.models import (
    Account,
    AccountMatchKey,
    AccountStatus,
    Contact,
    ContactMatchKey,
)
from accord.customers.selectors import account_list
from accord.customers.services import (
    account_get_by_code,
    account_update,
    contact_create,
)
from accord.dataquality import merge as merging
from accord.dataquality.batch import ClusterFound
from accord.dataquality.merge import (
    KEPT_RELATIONS,
    RECOMPUTED_RELATIONS,
    account_merge,
    account_unmerge,
    contact_merge,
    contact_merged_into,
    contact_unmerge,
    relations_to,
)
from accord.dataquality.models import (
    ClusterStatus,
    DuplicateCluster,
    MergeParticipant,
    MergeRecord,
    MergeStatus,
    ParticipantRole,
)
from accord.dataquality.review import duplicate_clusters_enqueue
from accord.integration.models import OutboxEvent
from accord.sales.models import Opportunity
from accord.sales.services import opportunity_create
from tests.conftest import Org, make_account

# --- fixtures -----------------------------------------------------------------------------


def _company(org: Org, name: str, **data: Any) -> Account:
    return make_account(org, legal_name=name, duplicate_justification="test data", **data)


def _contact(org: Org, account: Account, first: str, **data: Any) -> Contact:
    return contact_create(
        actor=org.steward,
        data={"account": account.pk, "first_name": first, "duplicate_justification": "test"} | data,
    )


def _note(org: Org, account: Account, contact: Contact | None = None) -> Activity:
    data: dict[str, Any] = {"kind": "note", "subject": "Called", "account": account.pk}
    if contact is not None:
        data["contact"] = contact.pk
    return activity_create(actor=org.admin, data=data)


def _opportunity(org: Org, account: Account, contact: Contact | None = None) -> Opportunity:
    data: dict[str, Any] = {
        "name": "Copiers",
        "account": account.pk,
        "owner": org.rep.pk,
        "business_unit": org.unit.pk,
    }
    if contact is not None:
        data["contact"] = contact.pk
    return opportunity_create(actor=org.admin, data=data)


def _pointers_to(target: type[models.Model], ids: set[uuid.UUID]) -> dict[str, int]:
    """How many rows of each relation to ``target`` point at one of ``ids``."""
    found: dict[str, int] = {}
    for relation in relations_to(target):
        qs = relation.model._base_manager.filter(**{f"{relation.column}__in": list(ids)})
        count = qs.count()
        if count:
            found[relation.label] = count
    return found


# --- the relation walk --------------------------------------------------------------------


def _all_links_to(target: type[models.Model]) -> set[str]:
    """Independently of the merge code: every column of any installed model that can hold
    the id of a ``target`` record (FK, one-to-one, M2M link rows, generic FKs)."""
    links: set[str] = set()
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.get_fields(include_hidden=True):
            if field.concrete and field.is_relation and field.related_model is target:
                links.add(f"{model._meta.label_lower}.{field.name}")
            if isinstance(field, GenericForeignKey):
                links.add(f"{model._meta.label_lower}.{field.name}")
    for rel in target._meta.get_fields(include_hidden=True):
        if rel.auto_created and not rel.concrete and rel.is_relation:
            field = rel.field  # type: ignore[union-attr]
            if field.model._meta.proxy:
                continue
            links.add(f"{field.model._meta.label_lower}.{field.name}")
    return links


@pytest.mark.parametrize("target", [Account, Contact])
def test_merge_walks_every_relation_of_every_installed_app(target: type[models.Model]) -> None:
    # given: every link to the model, found here without the merge module
    expected = _all_links_to(target)
    # when
    handled = {r.label for r in relations_to(target)}
    # then: the merge sees each one (a new relation is moved unless listed as kept/derived)
    assert handled == expected
    assert expected >= {
        f"customers.{target._meta.model_name}matchkey.{target._meta.model_name}",
    }
    assert (_all_links_to(Account) | _all_links_to(Contact)) >= (
        KEPT_RELATIONS | RECOMPUTED_RELATIONS
    )


def test_merge_moves_a_row_of_every_relation_and_leaves_no_pointer_at_the_losers(org: Org) -> None:
    # given: two duplicates with a child in every relation that exists
    survivor = _company(org, "Siam Copier Co., Ltd.")
    loser = _company(org, "Siam Copiers Company")
    older = _company(org, "Siam Copier (old)")
    account_merge(actor=org.steward, survivor=loser, losers=[older], field_choices={})
    person = _contact(org, loser, "Somchai")
    _note(org, loser, person)
    _opportunity(org, loser, person)
    from accord.customers.models import AccountRequest

    AccountRequest.objects.create(requester=org.rep, legal_name="Siam Copier", account=loser)
    from accord.sales.services import lead_create

    lead = lead_create(actor=org.rep, data={"company_name": "Siam Copier"})
    type(lead)._base_manager.filter(pk=lead.pk).update(converted_account=loser)
    from accord.integration.models import Connector, LedgerInvoice

    ledger = Connector.objects.create(name="ledger", kind="sql_ledger")
    LedgerInvoice.objects.create(
        connector=ledger,
        invoice_number="INV-1",
        customer_code=loser.customer_code,
        account=loser,
        amount=100,
        status="open",
    )
    from django.utils import timezone

    from accord.territories.models import (
        AccountOwner,
        AccountTeamMember,
        OwnershipDispute,
        SellingException,
    )

    AccountOwner.objects.create(account=loser, business_unit=org.unit, owner=org.rep)
    AccountTeamMember.objects.create(account=loser, user=org.other_rep, role="pre_sales")
    SellingException.objects.create(
        account=loser, business_unit=org.unit, requester=org.other_rep, reason="Tender"
    )
    OwnershipDispute.objects.create(
        account=loser,
        business_unit=org.unit,
        claimant=org.other_rep,
        owner=org.rep,
        reason="Mine",
        deadline=timezone.now(),
    )
    relations = {
        r.label
        for r in relations_to(Account)
        if r.label not in KEPT_RELATIONS | RECOMPUTED_RELATIONS
    }
    before = _pointers_to(Account, {loser.pk})
    assert set(before) | {"customers.account.merged_into"} >= relations  # every kind is there

    # when
    merge = account_merge(actor=org.steward, survivor=survivor, losers=[loser], field_choices={})

    # then: nothing points at the loser except history; the rows point at the survivor
    after = _pointers_to(Account, {loser.pk})
    assert set(after) <= KEPT_RELATIONS
    assert "customers.accountmatchkey.account" not in after
    moved_labels = {f"{label}.{field}" for label, _, field, _ in merge.moved}
    assert moved_labels == relations
    older.refresh_from_db()
    assert older.merged_into_id == survivor.pk  # the chain stays one step long
    assert person.__class__.objects.get(pk=person.pk).account_id == survivor.pk


# --- merge ----------------------------------------------------------------------------------


def test_merge_of_three_records_with_chosen_values(org: Org) -> None:
    # given
    a = _company(org, "Bangkok Office Supply Co., Ltd.", phone="021110000")
    b = _company(org, "Bangkok Office Supplies", phone="", email="sales@bos.co.th")
    c = _company(
        org, "BKK Office Supply", tax_id="0105551234567", province="Bangkok", district=org.south
    )
    _contact(org, b, "Malee")
    _opportunity(org, c)
    # when
    merge = account_merge(
        actor=org.steward,
        survivor=a,
        losers=[b, c],
        field_choices={"legal_name": str(b.pk), "district": c.pk},
    )
    # then: chosen values, then survivor's, then the first non-empty
    a.refresh_from_db()
    assert a.legal_name == "Bangkok Office Supplies"
    assert a.district_id == org.south.pk
    assert a.phone == "021110000"
    assert a.email == "sales@bos.co.th"
    assert a.tax_id == "0105551234567"
    assert a.province == "Bangkok"
    assert a.contacts.count() == 1
    assert a.opportunities.count() == 1
    for loser in (b, c):
        loser.refresh_from_db()
        assert loser.status == AccountStatus.MERGED
        assert loser.merged_into_id == a.pk
        assert not AccountMatchKey.objects.filter(account=loser).exists()
    assert AccountMatchKey.objects.filter(account=a, key__startswith="t:").exists() or (
        AccountMatchKey.objects.filter(account=a).count() > 0
    )
    assert merge.field_choices["legal_name"] == str(b.pk)
    assert merge.field_choices["phone"] == str(a.pk)
    assert merge.field_choices["email"] == str(b.pk)
    assert merge.changes["legal_name"] == [
        "Bangkok Office Supply Co., Ltd.",
        "Bangkok Office Supplies",
    ]


def test_merge_is_audited_with_winning_and_old_values_and_emits_an_id_remap(org: Org) -> None:
    # given
    a = _company(org, "Thai Ink Co., Ltd.")
    b = _company(org, "Thai Ink Company", phone="027770000")
    # when
    merge = account_merge(actor=org.steward, survivor=a, losers=[b], field_choices={})
    # then
    event = AuditEvent.objects.filter(action="merge", record_id=str(a.pk)).get()
    assert event.changes["merge"] == str(merge.pk)
    assert event.changes["changes"] == {"phone": ["", "027770000"]}
    assert event.changes["values_from"]["phone"] == str(b.pk)
    assert event.changes["before"]["losers"][str(b.pk)]["legal_name"] == "Thai Ink Company"
    loser_event = AuditEvent.objects.filter(action="merge", record_id=str(b.pk)).get()
    assert loser_event.changes["changes"]["status"] == ["active", "merged"]
    outbox = OutboxEvent.objects.filter(event_type="account.merged").get()
    assert outbox.aggregate_id == str(a.pk)
    assert outbox.payload["merged"] == [{"id": str(b.pk), "customer_code": b.customer_code}]


def test_a_merged_code_is_an_alias_of_the_survivor(org: Org) -> None:
    # given
    a = _company(org, "Lotus Paper Co., Ltd.")
    b = _company(org, "Lotus Papers")
    account_merge(actor=org.steward, survivor=a, losers=[b], field_choices={})
    # when
    by_code = account_get_by_code(actor=org.rep, code=b.customer_code)
    listed = account_list(user=org.rep, customer_code=b.customer_code).items
    searched = account_list(user=org.rep, search=b.customer_code.lower()).items
    # then
    assert by_code == a
    assert a in listed
    assert a in searched


def test_merging_a_tombstone_or_into_itself_is_refused(org: Org) -> None:
    a = _company(org, "Alpha Print")
    b = _company(org, "Alpha Printing")
    c = _company(org, "Alpha Prints")
    account_merge(actor=org.steward, survivor=a, losers=[b], field_choices={})
    with pytest.raises(Conflict) as exc:
        account_merge(actor=org.steward, survivor=c, losers=[b], field_choices={})
    assert exc.value.code == "already_merged"
    with pytest.raises(ValidationFailed):
        account_merge(actor=org.steward, survivor=a, losers=[a], field_choices={})
    with pytest.raises(ValidationFailed):
        account_merge(actor=org.steward, survivor=a, losers=[], field_choices={})


def test_field_choices_must_name_a_merged_record_and_a_known_field(org: Org) -> None:
    a = _company(org, "Beta Paper")
    b = _company(org, "Beta Papers")
    outsider = _company(org, "Gamma Co")
    with pytest.raises(ValidationFailed) as exc:
        account_merge(
            actor=org.steward,
            survivor=a,
            losers=[b],
            field_choices={"phone": outsider.pk, "customer_code": b.pk},
        )
    assert set(exc.value.errors) == {"phone", "customer_code"}
    assert not MergeRecord.objects.exists()
    b.refresh_from_db()
    assert b.status == AccountStatus.ACTIVE


def test_only_stewards_merge(org: Org) -> None:
    a = _company(org, "Delta Tech")
    b = _company(org, "Delta Technology")
    with pytest.raises(PermissionDenied):
        account_merge(actor=org.rep, survivor=a, losers=[b], field_choices={})
    merge = account_merge(actor=org.admin, survivor=a, losers=[b], field_choices={})
    with pytest.raises(PermissionDenied):
        account_unmerge(actor=org.manager, merge=merge)


def test_a_tax_id_moves_from_loser_to_survivor(org: Org) -> None:
    # given: the loser holds the tax ID (unique per branch among live accounts)
    a = _company(org, "Epsilon Co")
    b = _company(org, "Epsilon Company", tax_id="0105551234567")
    # when
    merge = account_merge(actor=org.steward, survivor=a, losers=[b], field_choices={"tax_id": b.pk})
    # then
    a.refresh_from_db()
    assert a.tax_id == "0105551234567"
    # and back again
    account_unmerge(actor=org.steward, merge=merge)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.tax_id, b.tax_id, b.status) == ("", "0105551234567", "active")


@pytest.fixture
def one_per_account_table(transactional_db: Any) -> Any:
    """A table a later issue might add: one row per account and unit (registered only for
    the test that uses it)."""

    class OnePerAccount(models.Model):
        account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
        unit = models.CharField(max_length=10)

        class Meta:
            app_label = "dataquality"
            constraints = [
                models.UniqueConstraint(
                    fields=["account", "unit"], name="test_one_per_account_unit"
                )
            ]

        def __str__(self) -> str:
            return self.unit

    with connection.schema_editor() as editor:
        editor.create_model(OnePerAccount)
    yield OnePerAccount
    with connection.schema_editor() as editor:
        editor.delete_model(OnePerAccount)
    del apps.all_models["dataquality"]["oneperaccount"]
    apps.clear_cache()


def test_a_move_that_would_break_a_unique_constraint_is_a_conflict(
    org: Org, one_per_account_table: Any
) -> None:
    # given: both accounts have a row for the same unit
    a = _company(org, "Zeta Office")
    b = _company(org, "Zeta Offices")
    one_per_account_table.objects.create(account=a, unit="bsd")
    one_per_account_table.objects.create(account=b, unit="bsd")
    # when / then
    with pytest.raises(Conflict) as exc:
        account_merge(actor=org.steward, survivor=a, losers=[b], field_choices={})
    assert exc.value.code == "merge_unique_conflict"
    b.refresh_from_db()
    assert b.status == AccountStatus.ACTIVE
    # and a row for another unit moves
    one_per_account_table.objects.filter(account=b).update(unit="bso")
    merge = account_merge(actor=org.steward, survivor=a, losers=[b], field_choices={})
    assert one_per_account_table.objects.filter(account=a).count() == 2
    assert [m[0] for m in merge.moved] == ["dataquality.oneperaccount"]


def test_the_survivors_owners_win_and_a_losers_other_owners_move(org: Org) -> None:
    from accord.territories.models import AccountOwner, AccountTeamMember

    # given: both accounts have an owner in the same unit; the loser also one in another unit
    a = _company(org, "Kappa Office")
    b = _company(org, "Kappa Offices")
    AccountOwner.objects.create(account=a, business_unit=org.unit, owner=org.rep)
    kept_on_b = AccountOwner.objects.create(account=b, business_unit=org.unit, owner=org.other_rep)
    moved = AccountOwner.objects.create(
        account=b, business_unit=org.other_unit, owner=org.south_rep
    )
    AccountTeamMember.objects.create(account=a, user=org.manager, role="account_manager")
    AccountTeamMember.objects.create(account=b, user=org.manager, role="pre_sales")
    # when
    merge = account_merge(actor=org.steward, survivor=a, losers=[b], field_choices={})
    # then: the survivor keeps its owner; the other unit's owner moves; the repeat stays behind
    owners = dict(
        AccountOwner.objects.filter(account=a).values_list("business_unit_id", "owner_id")
    )
    assert owners == {org.unit.pk: org.rep.pk, org.other_unit.pk: org.south_rep.pk}
    kept_on_b.refresh_from_db()
    assert kept_on_b.account_id == b.pk
    assert AccountTeamMember.objects.get(account=a).role == "account_manager"
    # and unmerge puts the moved owner back
    account_unmerge(actor=org.steward, merge=merge)
    moved.refresh_from_db()
    assert moved.account_id == b.pk


# --- unmerge --------------------------------------------------------------------------------


def _state(ids: set[uuid.UUID], model: type[Account] | type[Contact] = Account) -> dict[str, Any]:
    """The audited state of the records ``ids``, their match keys and every row pointing
    at them."""
    name = model._meta.model_name
    keys = AccountMatchKey if model is Account else ContactMatchKey
    state: dict[str, Any] = {}
    for record in model._base_manager.filter(pk__in=ids):
        state[f"{name}:{record.pk}"] = snapshot(record)
        state[f"keys:{record.pk}"] = sorted(
            keys.objects.filter(**{name: record}).values_list("key", flat=True)  # type: ignore[attr-defined]
        )
    for relation in relations_to(model):
        if relation.label in RECOMPUTED_RELATIONS:
            continue
        qs = relation.model._base_manager.filter(**{f"{relation.column}__in": list(ids)})
        for pk, value in qs.values_list("pk", relation.column):
            state[f"{relation.label}:{pk}"] = str(value)
    return state


def test_unmerge_restores_exactly_the_state_before_the_merge(org: Org) -> None:
    # given
    a = _company(org, "Eta Systems", phone="021234567")
    b = _company(org, "Eta System Co", email="x@eta.co.th", tax_id="0105551234567")
    c = _company(org, "Eta Sys")
    old = _company(org, "Eta (old)")
    account_merge(actor=org.steward, survivor=c, losers=[old], field_choices={})
    for account in (a, b, c):
        person = _contact(org, account, f"P{account.legal_name[-3:]}")
        _note(org, account, person)
        _opportunity(org, account, person)
    ids = {a.pk, b.pk, c.pk, old.pk}
    before = _state(ids)
    # when
    merge = account_merge(
        actor=org.steward,
        survivor=a,
        losers=[b, c],
        field_choices={"legal_name": b.pk, "tax_id": b.pk},
    )
    assert _state(ids) != before
    result = account_unmerge(actor=org.steward, merge=merge)
    # then
    assert _state(ids) == before
    assert (result.kept, result.not_restored) == ([], 0)
    merge.refresh_from_db()
    assert merge.status == MergeStatus.UNDONE
    assert AuditEvent.objects.filter(action="unmerge").count() == 3
    assert OutboxEvent.objects.filter(event_type="account.unmerged").count() == 1
    with pytest.raises(Conflict) as exc:
        account_unmerge(actor=org.steward, merge=merge)
    assert exc.value.code == "merge_already_undone"


def test_unmerge_keeps_what_changed_since_and_children_added_to_the_survivor(org: Org) -> None:
    a = _company(org, "Theta Trading")
    b = _company(org, "Theta Traders", phone="025550000", province="Chiang Mai")
    merge = account_merge(actor=org.steward, survivor=a, losers=[b], field_choices={})
    account_update(actor=org.steward, account=a, data={"province": "Phuket"})
    later = _note(org, a)
    # when
    result = account_unmerge(actor=org.steward, merge=merge)
    # then
    a.refresh_from_db()
    assert (a.phone, a.province) == ("", "Phuket")
    assert result.kept == ["province"]
    later.refresh_from_db()
    assert later.account_id == a.pk


def test_only_the_latest_merge_of_the_records_can_be_undone(org: Org) -> None:
    a = _company(org, "Iota Paper")
    b = _company(org, "Iota Papers")
    c = _company(org, "Iota Paper Co")
    other1 = _company(org, "Kappa Ink")
    other2 = _company(org, "Kappa Inks")
    first = account_merge(actor=org.steward, survivor=a, losers=[b], field_choices={})
    second = account_merge(actor=org.steward, survivor=c, losers=[a], field_choices={})
    unrelated = account_merge(actor=org.steward, survivor=other1, losers=[other2], field_choices={})
    b.refresh_from_db()
    assert b.merged_into_id == c.pk
    # when / then
    with pytest.raises(Conflict) as exc:
        account_unmerge(actor=org.steward, merge=first)
    assert exc.value.code == "later_merge_depends"
    assert exc.value.extra["later_merges"] == [str(second.pk)]
    assert merging.merge_is_undoable(first) is False
    assert merging.merge_is_undoable(unrelated) is True
    account_unmerge(actor=org.steward, merge=second)
    b.refresh_from_db()
    assert b.merged_into_id == a.pk
    account_unmerge(actor=org.steward, merge=first)
    b.refresh_from_db()
    assert (b.status, b.merged_into_id) == ("active", None)


def test_unmerge_is_refused_when_a_restored_tax_id_was_taken_since(org: Org) -> None:
    a = _company(org, "Lambda Co", tax_id="0105567890124")
    b = _company(org, "Lambda Company", tax_id="0105551234567")
    merge = account_merge(actor=org.steward, survivor=a, losers=[b], field_choices={})
    # the survivor keeps its tax ID; someone then creates an account with the loser's
    _company(org, "Somebody Else", tax_id="0105551234567")
    with pytest.raises(Conflict) as exc:
        account_unmerge(actor=org.steward, merge=merge)
    assert exc.value.code == "unmerge_conflict"
    b.refresh_from_db()
    assert b.status == AccountStatus.MERGED


# --- the queue --------------------------------------------------------------------------------


def test_merging_a_cluster_closes_it_and_unmerging_reopens_it(org: Org) -> None:
    a = _company(org, "Mu Digital")
    b = _company(org, "Mu Digitals")
    duplicate_clusters_enqueue(
        record_type="account",
        clusters=[ClusterFound((str(a.pk), str(b.pk)), ((str(a.pk), str(b.pk), 0.93, ("name",)),))],
    )
    cluster = DuplicateCluster.objects.get()
    merge = account_merge(
        actor=org.steward, survivor=a, losers=[b], field_choices={}, cluster=cluster
    )
    cluster.refresh_from_db()
    assert (cluster.status, cluster.resolved_by) == (ClusterStatus.MERGED, org.steward)
    with pytest.raises(Conflict):
        account_merge(actor=org.steward, survivor=a, losers=[b], field_choices={}, cluster=cluster)
    account_unmerge(actor=org.steward, merge=merge)
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.OPEN


# --- contacts -------------------------------------------------------------------------------


def test_contact_merge_moves_activities_and_opportunities_and_unmerges(org: Org) -> None:
    # given
    account = _company(org, "Nu Logistics")
    keep = _contact(org, account, "Somsak", email="somsak@nu.co.th")
    dup = _contact(org, account, "Somsak", last_name="Jaidee", mobile="0812345678")
    note = _note(org, account, dup)
    opp = _opportunity(org, account, dup)
    before = {c.pk: snapshot(c) for c in (keep, dup)}
    # when
    merge = contact_merge(
        actor=org.steward, survivor=keep, losers=[dup], field_choices={"last_name": dup.pk}
    )
    # then
    keep.refresh_from_db()
    dup.refresh_from_db()
    note.refresh_from_db()
    opp.refresh_from_db()
    assert (keep.last_name, keep.mobile, keep.email) == ("Jaidee", "0812345678", "somsak@nu.co.th")
    assert dup.is_active is False
    assert (note.contact_id, opp.contact_id) == (keep.pk, keep.pk)
    assert contact_merged_into(dup) == keep
    assert not ContactMatchKey.objects.filter(contact=dup).exists()
    assert OutboxEvent.objects.filter(event_type="contact.merged").count() == 1
    with pytest.raises(Conflict):
        contact_merge(actor=org.steward, survivor=keep, losers=[dup], field_choices={})
    # and back
    contact_unmerge(actor=org.steward, merge=merge)
    keep.refresh_from_db()
    dup.refresh_from_db()
    note.refresh_from_db()
    assert {c.pk: snapshot(c) for c in (keep, dup)} == before
    assert note.contact_id == dup.pk
    assert contact_merged_into(dup) is None
    assert ContactMatchKey.objects.filter(contact=dup).exists()


def test_contacts_of_different_accounts_are_not_merged(org: Org) -> None:
    a = _contact(org, _company(org, "Omicron Co"), "Pim")
    b = _contact(org, _company(org, "Omicron Ltd"), "Pim")
    with pytest.raises(ValidationFailed) as exc:
        contact_merge(actor=org.steward, survivor=a, losers=[b], field_choices={})
    assert exc.value.code == "contacts_at_different_accounts"


def test_an_account_merge_and_a_later_contact_merge_undo_in_reverse_order(org: Org) -> None:
    # given: the accounts merge (the loser's contact moves), then the two contacts merge
    a = _company(org, "Pi Motors")
    b = _company(org, "Pi Motor")
    kept = _contact(org, a, "Wichai")
    moved = _contact(org, b, "Wichai")
    note = _note(org, b, moved)
    accounts = account_merge(actor=org.steward, survivor=a, losers=[b], field_choices={})
    contacts = contact_merge(actor=org.steward, survivor=kept, losers=[moved], field_choices={})
    # then: the account merge waits for the contact merge
    assert merging.merge_is_undoable(accounts) is False
    with pytest.raises(Conflict) as exc:
        account_unmerge(actor=org.steward, merge=accounts)
    assert exc.value.extra["later_merges"] == [str(contacts.pk)]
    contact_unmerge(actor=org.steward, merge=contacts)
    account_unmerge(actor=org.steward, merge=accounts)
    note.refresh_from_db()
    moved.refresh_from_db()
    assert (note.account_id, note.contact_id, moved.account_id) == (b.pk, moved.pk, b.pk)


def test_a_contact_merge_waits_for_a_later_account_merge_that_moved_its_contacts(
    org: Org,
) -> None:
    a = _company(org, "Rho Foods")
    b = _company(org, "Rho Food")
    s = _contact(org, b, "Dao")
    loser = _contact(org, b, "Dao", last_name="K")
    contacts = contact_merge(actor=org.steward, survivor=s, losers=[loser], field_choices={})
    accounts = account_merge(actor=org.steward, survivor=a, losers=[b], field_choices={})
    with pytest.raises(Conflict):
        contact_unmerge(actor=org.steward, merge=contacts)
    account_unmerge(actor=org.steward, merge=accounts)
    contact_unmerge(actor=org.steward, merge=contacts)
    loser.refresh_from_db()
    assert (loser.account_id, loser.is_active) == (b.pk, True)


def test_a_contact_merge_cannot_be_undone_as_an_account_merge(org: Org) -> None:
    account = _company(org, "Xi Foods")
    a = _contact(org, account, "Anan")
    b = _contact(org, account, "Anan", last_name="S")
    merge = contact_merge(actor=org.steward, survivor=a, losers=[b], field_choices={})
    with pytest.raises(NotFound):
        account_unmerge(actor=org.steward, merge=merge)


# --- random sequences: no difference after an unmerge, never an orphan ----------------------

EDITABLE = ("address_line1", "province", "shipping_address", "city")


class MergeMachine(RuleBasedStateMachine):
    """Random create / add-child / edit / merge / unmerge sequences.

    Invariants: no row of any relation points at a merged account (except history), every
    tombstone points at a live account, live accounts point nowhere, tombstones have no match
    keys. After an unmerge, the merge's accounts and every row that pointed at them are
    exactly as before the merge, except for the edits made since (an unmerge keeps them)
    and for children added since (they stay on the survivor).
    """

    org: Org

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.counter = itertools.count()
        self.merges_made = 0
        self.merges: list[tuple[int, MergeRecord, dict[str, Any], set[uuid.UUID]]] = []
        self.edits: list[tuple[int, uuid.UUID, str, str]] = []  # (merges made before, ...)

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _unique(self, word: str) -> str:
        return f"{word} {next(self.counter)} {uuid.uuid4().hex[:6]}"

    def _live(self) -> list[Account]:
        return list(
            Account.objects.exclude(status=AccountStatus.MERGED).order_by("created_at", "id")
        )

    @rule(data=st.data())
    def create_account(self, data: st.DataObject) -> None:
        account = _company(self.org, self._unique("Company"), phone=f"02{next(self.counter):07d}")
        self._person(data, account)

    def _person(self, data: st.DataObject, account: Account) -> None:
        """A contact with a history: a note and perhaps an opportunity."""
        person = _contact(
            self.org,
            account,
            self._unique("Person"),
            job_title=data.draw(st.sampled_from(["", "Buyer", "Owner"])),
            mobile=data.draw(st.sampled_from(["", "0811111111", "0822222222"])),
        )
        _note(self.org, account, person)
        if data.draw(st.booleans()):
            _opportunity(self.org, account, person)

    def _people(self, account: Account) -> list[Contact]:
        return [
            c
            for c in account.contacts.order_by("created_at", "id")
            if c.is_active and contact_merged_into(c) is None
        ]

    @precondition(lambda self: Account.objects.exists())
    @rule(
        data=st.data(),
        kind=st.sampled_from(["contact", "activity", "opportunity", "contact activity"]),
    )
    def add_child(self, data: st.DataObject, kind: str) -> None:
        account = data.draw(st.sampled_from(self._live()))
        people = self._people(account)
        if kind == "contact":
            self._person(data, account)
        elif kind == "activity":
            _note(self.org, account)
        elif kind == "opportunity":
            _opportunity(self.org, account, data.draw(st.sampled_from([None, *people])))
        elif people:
            _note(self.org, account, data.draw(st.sampled_from(people)))

    @precondition(lambda self: Account.objects.exists())
    @rule(data=st.data(), field=st.sampled_from(EDITABLE))
    def edit(self, data: st.DataObject, field: str) -> None:
        account = data.draw(st.sampled_from(self._live()))
        value = self._unique("edit")
        account_update(actor=self.org.steward, account=account, data={field: value})
        self.edits.append((self.merges_made, account.pk, field, value))

    @rule(data=st.data(), size=st.integers(min_value=2, max_value=4))
    def merge(self, data: st.DataObject, size: int) -> None:
        live = self._live()
        if len(live) < size:
            return
        chosen = list(data.draw(st.permutations(live)))[:size]
        survivor, losers = chosen[0], chosen[1:]
        fields = data.draw(st.lists(st.sampled_from((*EDITABLE, "phone")), unique=True))
        choices = {f: data.draw(st.sampled_from(chosen)).pk for f in fields}
        ids = {a.pk for a in chosen} | set(
            Account.objects.filter(merged_into__in=[a.pk for a in chosen]).values_list(
                "pk", flat=True
            )
        )
        before = _state(ids)
        merge = account_merge(
            actor=self.org.steward, survivor=survivor, losers=losers, field_choices=choices
        )
        self.merges.append((self.merges_made, merge, before, ids))
        self.merges_made += 1

    @rule(data=st.data())
    def merge_contacts(self, data: st.DataObject) -> None:
        groups = [p for p in (self._people(a) for a in self._live()) if len(p) >= 2]
        if not groups:
            return
        people = list(data.draw(st.permutations(data.draw(st.sampled_from(groups)))))
        chosen = people[: data.draw(st.integers(min_value=2, max_value=len(people)))]
        fields = data.draw(st.lists(st.sampled_from(("job_title", "mobile")), unique=True))
        choices = {f: data.draw(st.sampled_from(chosen)).pk for f in fields}
        ids = {c.pk for c in chosen}
        before = _state(ids, Contact)
        merge = contact_merge(
            actor=self.org.steward, survivor=chosen[0], losers=chosen[1:], field_choices=choices
        )
        self.merges.append((self.merges_made, merge, before, ids))
        self.merges_made += 1

    @precondition(lambda self: bool(self.merges))
    @rule(data=st.data())
    def unmerge(self, data: st.DataObject) -> None:
        undoable = [i for i, m in enumerate(self.merges) if merging.merge_is_undoable(m[1])]
        assert undoable  # at least the latest merge can always be undone
        serial, merge, before, ids = self.merges.pop(data.draw(st.sampled_from(undoable)))
        model = Account if merge.record_type == "account" else Contact
        merging.record_unmerge(actor=self.org.steward, merge=merge)
        expected = {k: (dict(v) if isinstance(v, dict) else v) for k, v in before.items()}
        for made_after, account_id, field, value in self.edits:
            if made_after > serial and f"account:{account_id}" in expected:
                expected[f"account:{account_id}"][field] = value
        now = _state(ids, model)
        for key in set(now) - set(expected):
            # only children created since the merge may be new, and they are on the survivor
            label, pk = key.rsplit(":", 1)
            model = apps.get_model(label.rsplit(".", 1)[0])
            row = model._base_manager.get(pk=pk)
            assert row.created_at > merge.created_at
            assert now.pop(key) == str(merge.survivor_id)
        assert now == expected

    @invariant()
    def no_orphans(self) -> None:
        merged = set(
            Account.objects.filter(status=AccountStatus.MERGED).values_list("pk", flat=True)
        )
        pointing = _pointers_to(Account, merged)
        assert set(pointing) <= KEPT_RELATIONS | {"customers.account.merged_into"}
        assert not Account.objects.filter(
            status=AccountStatus.MERGED, merged_into__status=AccountStatus.MERGED
        ).exists()
        assert not Account.objects.filter(
            status=AccountStatus.MERGED, merged_into__isnull=True
        ).exists()
        assert (
            not Account.objects.exclude(status=AccountStatus.MERGED)
            .filter(merged_into__isnull=False)
            .exists()
        )
        assert not AccountMatchKey.objects.filter(account__status=AccountStatus.MERGED).exists()
        # merged-away contacts: inactive, no keys, nothing points at them
        gone = set(
            MergeParticipant.objects.filter(
                role=ParticipantRole.LOSER, merge__status=MergeStatus.DONE
            ).values_list("record_id", flat=True)
        ) & set(Contact.objects.values_list("pk", flat=True))
        assert not Contact.objects.filter(pk__in=gone, is_active=True).exists()
        assert set(_pointers_to(Contact, gone)) <= KEPT_RELATIONS
        # every contact linked to an activity or opportunity works at its account
        assert (
            not Activity.objects.exclude(contact=None)
            .exclude(contact__account_id=models.F("account_id"))
            .exists()
        )
        assert (
            not Opportunity.objects.exclude(contact=None)
            .exclude(contact__account_id=models.F("account_id"))
            .exists()
        )


def test_random_merge_and_unmerge_sequences_leave_no_difference_and_no_orphans(org: Org) -> None:
    class Machine(MergeMachine):
        pass

    Machine.org = org
    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


def _merge_queries(org: Org, children: int) -> int:
    a = _company(org, f"Sigma {children} Co")
    b = _company(org, f"Sigma {children} Company")
    for i in range(children):
        person = _contact(org, b, f"Person{i}")
        _note(org, b, person)
    with CaptureQueriesContext(connection) as ctx:
        account_merge(actor=org.steward, survivor=a, losers=[b], field_choices={})
    return len(ctx.captured_queries)


def test_a_merge_costs_the_same_number_of_queries_however_many_children_move(org: Org) -> None:
    assert _merge_queries(org, 1) == _merge_queries(org, 15)


def test_the_blocking_keys_of_moved_contacts_follow_their_account(org: Org) -> None:
    # given: a contact's keys name its account
    a = _company(org, "Tau Paper")
    b = _company(org, "Tau Papers")
    person = _contact(org, b, "Kanya")

    def keys() -> set[str]:
        return set(ContactMatchKey.objects.filter(contact=person).values_list("key", flat=True))

    before = keys()
    assert any(str(b.pk) in k for k in before)
    # when / then
    merge = account_merge(actor=org.steward, survivor=a, losers=[b], field_choices={})
    assert any(str(a.pk) in k for k in keys()) and not any(str(b.pk) in k for k in keys())
    account_unmerge(actor=org.steward, merge=merge)
    assert keys() == before


def test_a_tombstone_cannot_be_edited(org: Org, api_as: Any) -> None:
    # given
    survivor = _company(org, "Siam Copier Co., Ltd.")
    loser = _company(org, "Siam Copiers Company")
    account_merge(actor=org.steward, survivor=survivor, losers=[loser], field_choices={})
    # when
    response = api_as(org.steward).patch(f"/accounts/{loser.pk}", {"phone": "02 000 0000"})
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "account_merged"
    assert survivor.customer_code in response.json()["detail"]
    loser.refresh_from_db()
    assert loser.phone == ""


def test_a_tombstones_page_points_at_its_survivor(org: Org) -> None:
    from django.test import Client

    survivor = _company(org, "Siam Copier Co., Ltd.")
    loser = _company(org, "Siam Copiers Company")
    account_merge(actor=org.steward, survivor=survivor, losers=[loser], field_choices={})
    client = Client()
    client.force_login(org.steward)
    html = client.get(f"/accounts/{loser.pk}/").content.decode()
    assert "This account was merged" in html
    assert f"/accounts/{survivor.pk}/" in html


def test_unmerge_unlinks_records_logged_since_from_a_moved_back_contact(org: Org) -> None:
    """After a merge, a rep logs a call with a contact that came from the loser, and a deal
    naming them, on the survivor. Unmerging gives the contact back to the loser: the call
    and the deal stay on the survivor (what was done since the merge stays there) and drop
    the contact link — no record links a person to a company they do not work at."""
    from accord.activities.services import activity_create
    from accord.insights.activity_cells import activity_cells_check
    from accord.insights.cells import cells_check

    survivor = _company(org, "Siam Copier Co., Ltd.", phone="021110001")
    loser = _company(org, "Siam Copier", phone="")
    person = _contact(org, loser, "Somsri")
    merge = account_merge(actor=org.steward, survivor=survivor, losers=[loser], field_choices={})
    call = activity_create(
        actor=org.admin,
        data={"kind": "call", "subject": "Called", "account": survivor.pk, "contact": person.pk},
    )
    deal = _opportunity(org, survivor, person)

    account_unmerge(actor=org.steward, merge=merge)

    person.refresh_from_db()
    call.refresh_from_db()
    deal.refresh_from_db()
    assert person.account_id == loser.pk
    assert (call.account_id, call.contact_id) == (survivor.pk, None)
    assert (deal.account_id, deal.contact_id) == (survivor.pk, None)
    assert cells_check() == [] and activity_cells_check() == []
