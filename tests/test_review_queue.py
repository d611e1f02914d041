"""The duplicate review queue: enqueueing, dismissing, and its REST API."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.audit.models import AuditEvent
from accord.core.errors import PermissionDenied
from accord.customers.models import Account, AccountStatus
from accord.customers.services import contact_create
from accord.dataquality.batch import ClusterFound
from accord.dataquality.models import (
    ClusterStatus,
    DismissedPair,
    DuplicateCluster,
    MergeRecord,
    MergeStatus,
)
from accord.dataquality.review import (
    duplicate_cluster_dismiss,
    duplicate_clusters_enqueue,
    duplicate_clusters_queue,
)
from tests.conftest import Org, make_account
from tests.factories import BusinessUnitFactory


def _company(org: Org, name: str, **data: Any) -> Account:
    return make_account(org, legal_name=name, duplicate_justification="test data", **data)


def _found(*accounts: Account, score: float = 0.92) -> ClusterFound:
    ids = tuple(str(a.pk) for a in accounts)
    pairs = tuple((ids[0], other, score, ("name",)) for other in ids[1:])
    return ClusterFound(member_ids=ids, pairs=pairs)


def _members(cluster: DuplicateCluster) -> set[Any]:
    return set(cluster.members.values_list("account_id", flat=True))


# --- enqueue --------------------------------------------------------------------------------


def test_enqueue_opens_one_cluster_per_group_with_its_pairs(org: Org) -> None:
    # given
    a, b, c = (_company(org, n) for n in ("Alpha Co", "Alpha Company", "Alpha Corp"))
    d, e = (_company(org, n) for n in ("Beta Co", "Beta Company"))
    # when
    queued = duplicate_clusters_enqueue(
        record_type="account", clusters=[_found(a, b, c, score=0.95), _found(d, e)]
    )
    # then
    assert queued == 2
    first, second = DuplicateCluster.objects.order_by("created_at", "id")
    assert _members(first) == {a.pk, b.pk, c.pk}
    assert _members(second) == {d.pk, e.pk}
    assert first.best_score == 0.95
    assert first.source == "batch"
    assert sorted(first.pairs.values_list("score", flat=True)) == [0.95, 0.95]
    assert list(first.pairs.values_list("reasons", flat=True)) == [["name"], ["name"]]
    assert AuditEvent.objects.filter(action="enqueue").count() == 1


def test_enqueueing_the_same_clusters_again_changes_nothing(org: Org) -> None:
    a, b = _company(org, "Gamma Co"), _company(org, "Gamma Company")
    assert duplicate_clusters_enqueue(record_type="account", clusters=[_found(a, b)]) == 1
    assert duplicate_clusters_enqueue(record_type="account", clusters=[_found(a, b)]) == 0
    assert DuplicateCluster.objects.count() == 1
    assert AuditEvent.objects.filter(action="enqueue").count() == 1


def test_an_overlapping_cluster_grows_the_open_one(org: Org) -> None:
    a, b, c = (_company(org, n) for n in ("Delta Co", "Delta Company", "Delta Corp"))
    duplicate_clusters_enqueue(record_type="account", clusters=[_found(a, b)])
    queued = duplicate_clusters_enqueue(
        record_type="account", clusters=[_found(b, c)], source="realtime"
    )
    assert queued == 1
    cluster = DuplicateCluster.objects.get()
    assert _members(cluster) == {a.pk, b.pk, c.pk}
    assert cluster.pairs.count() == 2


def test_dismissed_pairs_are_not_queued_again(org: Org) -> None:
    # given: a steward said a and b are not duplicates
    a, b, c = (_company(org, n) for n in ("Eps Co", "Eps Company", "Eps Corp"))
    duplicate_clusters_enqueue(record_type="account", clusters=[_found(a, b)])
    cluster = DuplicateCluster.objects.get()
    duplicate_cluster_dismiss(actor=org.steward, cluster=cluster, reason="different branches")
    assert DismissedPair.objects.count() == 1
    # when: the batch finds a-b again, plus a-c
    queued = duplicate_clusters_enqueue(record_type="account", clusters=[_found(a, b, c)])
    # then: only a-c is queued
    assert queued == 1
    new = DuplicateCluster.objects.get(status=ClusterStatus.OPEN)
    assert _members(new) == {a.pk, c.pk}
    assert duplicate_clusters_enqueue(record_type="account", clusters=[_found(b, a)]) == 0


def test_merged_away_and_unknown_records_are_dropped(org: Org) -> None:
    from accord.dataquality.merge import account_merge

    a, b, c = (_company(org, n) for n in ("Zeta Co", "Zeta Company", "Zeta Corp"))
    account_merge(actor=org.steward, survivor=a, losers=[b], field_choices={})
    ghost = "01900000-0000-7000-8000-000000000000"
    found = ClusterFound(
        member_ids=(str(b.pk), str(c.pk), ghost),
        pairs=((str(b.pk), str(c.pk), 0.9, ("name",)), (str(c.pk), ghost, 0.9, ("name",))),
    )
    assert duplicate_clusters_enqueue(record_type="account", clusters=[found]) == 0
    assert not DuplicateCluster.objects.exists()


def test_contact_clusters(org: Org) -> None:
    account = _company(org, "Eta Co")
    people = [
        contact_create(
            actor=org.steward,
            data={"account": account.pk, "first_name": "Somchai", "duplicate_justification": "x"},
        )
        for _ in range(2)
    ]
    found = ClusterFound(
        member_ids=tuple(str(p.pk) for p in people),
        pairs=((str(people[0].pk), str(people[1].pk), 0.99, ("name", "account")),),
    )
    assert duplicate_clusters_enqueue(record_type="contact", clusters=[found]) == 1
    cluster = DuplicateCluster.objects.get()
    assert set(cluster.members.values_list("contact_id", flat=True)) == {p.pk for p in people}


def test_the_queue_is_oldest_first_and_filters_by_district_and_unit(org: Org) -> None:
    # given
    north = [_company(org, n) for n in ("North A", "North AA")]
    south = [_company(org, n, district=org.south) for n in ("South B", "South BB")]
    duplicate_clusters_enqueue(record_type="account", clusters=[_found(*north)])
    duplicate_clusters_enqueue(record_type="account", clusters=[_found(*south)])
    first, second = DuplicateCluster.objects.order_by("created_at", "id")
    # when / then
    page = duplicate_clusters_queue(user=org.steward)
    assert page.items == [first, second]
    assert duplicate_clusters_queue(user=org.steward, district=org.south.pk).items == [second]
    # the rep's unit covers the north district, the south rep's unit the south
    assert duplicate_clusters_queue(user=org.steward, unit=org.unit.pk).items == [first]
    assert duplicate_clusters_queue(user=org.steward, unit=org.other_unit.pk).items == [second]
    empty_unit = BusinessUnitFactory()
    assert duplicate_clusters_queue(user=org.steward, unit=empty_unit.pk).items == []
    with pytest.raises(PermissionDenied):
        duplicate_clusters_queue(user=org.rep)


# --- API --------------------------------------------------------------------------------------


def test_api_queue_detail_dismiss(org: Org, api_as: Any) -> None:
    a, b = _company(org, "Theta Co"), _company(org, "Theta Company", phone="021234567")
    duplicate_clusters_enqueue(record_type="account", clusters=[_found(a, b)])
    cluster = DuplicateCluster.objects.get()
    api = api_as(org.steward)
    # the queue
    listed = api.get("/duplicates/clusters")
    assert listed.status_code == 200
    body = listed.json()
    assert [c["id"] for c in body["items"]] == [str(cluster.pk)]
    item = body["items"][0]
    assert item["age_days"] == 0
    assert {m["code"] for m in item["members"]} == {a.customer_code, b.customer_code}
    # the detail: side-by-side values and the pairs
    detail = api.get(f"/duplicates/clusters/{cluster.pk}").json()
    assert detail["pairs"] == [
        {
            "left": str(min(a.pk, b.pk, key=str)),
            "right": str(max(a.pk, b.pk, key=str)),
            "score": 0.92,
            "reasons": ["name"],
        }
    ]
    values = {m["id"]: m["fields"] for m in detail["members"]}
    assert values[str(b.pk)]["phone"] == "021234567"
    assert "legal_name" in detail["merge_fields"]
    # dismiss
    dismissed = api.post(f"/duplicates/clusters/{cluster.pk}/dismiss", {"reason": "two shops"})
    assert dismissed.status_code == 200
    assert dismissed.json()["status"] == "dismissed"
    again = api.post(f"/duplicates/clusters/{cluster.pk}/dismiss", {})
    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"
    assert again.json()["code"] == "cluster_not_open"
    assert api.get("/duplicates/clusters").json()["items"] == []
    assert len(api.get("/duplicates/clusters", status="dismissed").json()["items"]) == 1


def test_api_merge_a_cluster_then_unmerge(org: Org, api_as: Any) -> None:
    # given
    a, b, c = (_company(org, n) for n in ("Iota Co", "Iota Company", "Iota Corp"))
    duplicate_clusters_enqueue(record_type="account", clusters=[_found(a, b, c)])
    cluster = DuplicateCluster.objects.get()
    api = api_as(org.steward)
    # when
    response = api.post(
        f"/duplicates/clusters/{cluster.pk}/merge",
        {"survivor": str(b.pk), "field_choices": {"legal_name": str(c.pk)}},
    )
    # then
    assert response.status_code == 201, response.json()
    merged = response.json()
    assert set(merged["losers"]) == {str(a.pk), str(c.pk)}
    assert merged["changes"]["legal_name"] == ["Iota Company", "Iota Corp"]
    assert merged["undoable"] is True
    b.refresh_from_db()
    assert b.legal_name == "Iota Corp"
    assert set(Account.objects.filter(merged_into=b).values_list("pk", flat=True)) == {a.pk, c.pk}
    history = api.get("/duplicates/merges", record=str(a.pk)).json()["items"]
    assert [m["id"] for m in history] == [merged["id"]]
    detail = api.get(f"/duplicates/merges/{merged['id']}").json()
    assert set(detail["before"]["losers"]) == {str(a.pk), str(c.pk)}
    # and undo
    undone = api.post(f"/duplicates/merges/{merged['id']}/unmerge", {})
    assert undone.status_code == 200, undone.json()
    assert undone.json()["merge"]["status"] == "undone"
    assert not Account.objects.filter(status=AccountStatus.MERGED).exists()
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.OPEN
    assert api.post(f"/duplicates/merges/{merged['id']}/unmerge", {}).status_code == 409


def test_api_merge_without_cluster_and_bad_input(org: Org, api_as: Any) -> None:
    a, b = _company(org, "Kappa Co"), _company(org, "Kappa Company")
    api = api_as(org.steward)
    unknown = api.post(
        "/duplicates/merges",
        {"record_type": "account", "survivor": str(a.pk), "losers": [str(b.pk)], "x": 1},
    )
    assert unknown.status_code == 422
    wrong_choice = api.post(
        "/duplicates/merges",
        {
            "record_type": "account",
            "survivor": str(a.pk),
            "losers": [str(b.pk)],
            "field_choices": {"phone": "01900000-0000-7000-8000-000000000000"},
        },
    )
    assert wrong_choice.status_code == 422
    assert wrong_choice.json()["errors"] == {"phone": ["Choose one of the merged records."]}
    missing = api.post(
        "/duplicates/merges",
        {
            "record_type": "account",
            "survivor": str(a.pk),
            "losers": ["01900000-0000-7000-8000-000000000000"],
        },
    )
    assert missing.status_code == 404
    ok = api.post(
        "/duplicates/merges",
        {"record_type": "account", "survivor": str(a.pk), "losers": [str(b.pk)]},
    )
    assert ok.status_code == 201
    assert MergeRecord.objects.get().status == MergeStatus.DONE


def test_api_is_for_stewards_only(org: Org, api_as: Any) -> None:
    a, b = _company(org, "Lambda Co"), _company(org, "Lambda Company")
    duplicate_clusters_enqueue(record_type="account", clusters=[_found(a, b)])
    cluster = DuplicateCluster.objects.get()
    for user in (org.rep, org.manager, org.executive):
        api = api_as(user)
        assert api.get("/duplicates/clusters").status_code == 403
        assert api.get(f"/duplicates/clusters/{cluster.pk}").status_code == 403
        refused = api.post(f"/duplicates/clusters/{cluster.pk}/merge", {"survivor": str(a.pk)})
        assert refused.status_code == 403
        assert refused.json()["code"] == "steward_only"
    assert api_as(org.admin).get("/duplicates/clusters").status_code == 200


def test_api_enqueue(org: Org, api_as: Any) -> None:
    a, b = _company(org, "Mu Co"), _company(org, "Mu Company")
    body = {
        "record_type": "account",
        "source": "realtime",
        "clusters": [
            {
                "member_ids": [str(a.pk), str(b.pk)],
                "pairs": [{"left": str(a.pk), "right": str(b.pk), "score": 0.9}],
            }
        ],
    }
    assert api_as(org.rep).post("/duplicates/clusters", body).status_code == 403
    response = api_as(org.steward).post("/duplicates/clusters", body)
    assert response.status_code == 200
    assert response.json() == {"queued": 1}
    assert DuplicateCluster.objects.get().source == "realtime"
    body["clusters"][0]["pairs"][0]["score"] = 1.5
    assert api_as(org.steward).post("/duplicates/clusters", body).status_code == 422


def test_queue_page_costs_the_same_number_of_queries_for_more_clusters(
    org: Org, api_as: Any
) -> None:
    api = api_as(org.steward)

    api.get("/duplicates/clusters")  # the token's first use is recorded once

    def queue_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/duplicates/clusters").status_code == 200
        return len(ctx.captured_queries)

    accounts = [
        _company(org, f"Nu {i} Co", district=org.south if i % 2 else org.north) for i in range(12)
    ]
    duplicate_clusters_enqueue(record_type="account", clusters=[_found(*accounts[0:2])])
    one = queue_queries()
    duplicate_clusters_enqueue(
        record_type="account",
        clusters=[_found(*accounts[i : i + 2]) for i in range(2, 12, 2)],
    )
    six = queue_queries()
    # the token, the clusters, their members with their records
    assert (one, six) == (3, 3)


def test_overlapping_clusters_in_one_batch_become_one(org: Org) -> None:
    a, b, c = (_company(org, n) for n in ("Omega Co", "Omega Company", "Omega Corp"))
    queued = duplicate_clusters_enqueue(
        record_type="account", clusters=[_found(a, b, score=0.8), _found(b, c, score=0.97)]
    )
    assert queued == 1
    cluster = DuplicateCluster.objects.get()
    assert _members(cluster) == {a.pk, b.pk, c.pk}
    assert (cluster.pairs.count(), cluster.best_score) == (2, 0.97)


def test_enqueue_costs_the_same_number_of_queries_for_more_clusters(org: Org) -> None:
    accounts = [_company(org, f"Psi {i} Co") for i in range(16)]

    def enqueue(chunk: list[Account]) -> int:
        found = [_found(*chunk[i : i + 2]) for i in range(0, len(chunk), 2)]
        with CaptureQueriesContext(connection) as ctx:
            duplicate_clusters_enqueue(record_type="account", clusters=found)
        return len(ctx.captured_queries)

    # new clusters, then the same again (nothing new)
    assert enqueue(accounts[:2]) == enqueue(accounts[2:16])
    assert enqueue(accounts[:2]) == enqueue(accounts[2:16])
