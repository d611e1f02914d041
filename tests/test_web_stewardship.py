"""Steward pages through Django's test client: the duplicate queue, the side-by-side
comparison and merge, dismiss, and the merge history with unmerge."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accord.customers.models import Account, AccountStatus
from accord.customers.services import contact_create
from accord.dataquality.batch import ClusterFound
from accord.dataquality.merge import account_merge
from accord.dataquality.models import ClusterStatus, DuplicateCluster, MergeRecord, MergeStatus
from accord.dataquality.review import duplicate_clusters_enqueue
from accord.org.models import User
from tests.conftest import Org, make_account

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _company(org: Org, name: str, **data: Any) -> Account:
    return make_account(org, legal_name=name, duplicate_justification="test data", **data)


def _queue(*accounts: Account) -> DuplicateCluster:
    ids = tuple(str(a.pk) for a in accounts)
    duplicate_clusters_enqueue(
        record_type="account",
        clusters=[
            ClusterFound(ids, tuple((ids[0], other, 0.91, ("similar name",)) for other in ids[1:]))
        ],
    )
    return DuplicateCluster.objects.order_by("-created_at").first()  # type: ignore[return-value]


def test_the_nav_shows_duplicates_to_stewards_only(org: Org) -> None:
    assert "/stewardship/duplicates/" in signed_in(org.steward).get("/").content.decode()
    assert "/stewardship/duplicates/" in signed_in(org.admin).get("/").content.decode()
    assert "/stewardship/duplicates/" not in signed_in(org.rep).get("/").content.decode()
    assert "/stewardship/duplicates/" not in signed_in(org.manager).get("/").content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/stewardship/duplicates/",
        "/stewardship/merges/",
    ],
)
def test_reps_may_not_open_steward_pages(org: Org, url: str) -> None:
    assert signed_in(org.rep).get(url).status_code == 403
    assert Client().get(url).status_code == 302  # to the sign-in page


def test_queue_lists_clusters_oldest_first_with_age_and_filters(org: Org) -> None:
    # given
    north = _queue(_company(org, "North Paper Co"), _company(org, "North Papers"))
    south = _queue(
        _company(org, "South Ink Co", district=org.south),
        _company(org, "South Inks", district=org.south),
    )
    client = signed_in(org.steward)
    # when
    page = client.get("/stewardship/duplicates/").content.decode()
    # then
    assert page.index(f"/stewardship/duplicates/{north.pk}/") < page.index(
        f"/stewardship/duplicates/{south.pk}/"
    )
    assert "North Paper Co (C" in page and "North Papers (C" in page
    assert "waiting" in page
    by_district = client.get(
        "/stewardship/duplicates/", {"district": str(org.south.pk)}, headers={"HX-Request": "true"}
    ).content.decode()
    assert str(south.pk) in by_district and str(north.pk) not in by_district
    assert "<html" not in by_district  # the htmx partial
    by_unit = client.get("/stewardship/duplicates/", {"unit": str(org.unit.pk)}).content.decode()
    assert str(north.pk) in by_unit and str(south.pk) not in by_unit


def test_queue_page_queries_do_not_grow_with_clusters(org: Org) -> None:
    client = signed_in(org.steward)
    _queue(_company(org, "Q0 Co"), _company(org, "Q0 Company"))

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/stewardship/duplicates/").status_code == 200
        return len(ctx.captured_queries)

    one = count()
    for i in range(1, 6):
        _queue(_company(org, f"Q{i} Co"), _company(org, f"Q{i} Company"))
    assert count() == one


def test_cluster_page_compares_side_by_side_with_a_radio_per_differing_field(org: Org) -> None:
    a = _company(org, "Siam Copy Co", phone="021110000")
    b = _company(org, "Siam Copy Company", phone="", email="info@siamcopy.co.th")
    cluster = _queue(a, b)
    page = signed_in(org.steward).get(f"/stewardship/duplicates/{cluster.pk}/").content.decode()
    # the survivor choice, the members to merge, and the pair's reason
    assert re.search(rf'name="survivor" value="{a.pk}" checked', page)
    assert re.search(rf'name="include" value="{b.pk}" checked', page)
    assert "similar name" in page
    # a differing field offers each record's value; the default keeps a non-empty one
    assert re.search(rf'name="choice_phone" value="{a.pk}" checked> 021110000', page)
    assert re.search(rf'name="choice_email" value="{b.pk}" checked> info@siamcopy.co.th', page)
    # a field that is the same everywhere has no choice
    assert 'name="choice_country"' not in page
    # preferring the other record flips the defaults
    flipped = signed_in(org.steward).get(
        f"/stewardship/duplicates/{cluster.pk}/", {"survivor": str(b.pk)}
    )
    assert re.search(rf'name="choice_legal_name" value="{b.pk}" checked', flipped.content.decode())


def test_merge_from_the_form_with_chosen_values(org: Org) -> None:
    # given
    a = _company(org, "Lanna Print Co", phone="053111111")
    b = _company(org, "Lanna Printing", phone="053222222", province="Chiang Mai")
    c = _company(org, "Lanna Prints")
    contact_create(actor=org.steward, data={"account": b.pk, "first_name": "Noi"})
    cluster = _queue(a, b, c)
    client = signed_in(org.steward)
    # when: a survives, takes b's phone, c is left out of this merge
    response = client.post(
        f"/stewardship/duplicates/{cluster.pk}/merge/",
        {
            "survivor": str(a.pk),
            "include": [str(a.pk), str(b.pk)],
            "choice_phone": str(b.pk),
            "choice_legal_name": str(a.pk),
        },
    )
    # then
    assert response.status_code == 302
    assert response["Location"] == "/stewardship/merges/"
    a.refresh_from_db()
    b.refresh_from_db()
    c.refresh_from_db()
    assert (a.legal_name, a.phone, a.province) == ("Lanna Print Co", "053222222", "Chiang Mai")
    assert (b.status, b.merged_into_id) == (AccountStatus.MERGED, a.pk)
    assert c.status == AccountStatus.ACTIVE
    assert a.contacts.count() == 1
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.MERGED
    history = client.get("/stewardship/merges/").content.decode()
    assert "Lanna Print Co" in history and "Lanna Printing" in history
    assert "Merged 1 record into the survivor." in history
    assert "1 related record moved" in history
    assert "Unmerge" in history


def test_merge_form_errors_are_shown_and_change_nothing(org: Org) -> None:
    a = _company(org, "Isan Tools Co")
    b = _company(org, "Isan Tool")
    cluster = _queue(a, b)
    client = signed_in(org.steward)
    nobody = client.post(
        f"/stewardship/duplicates/{cluster.pk}/merge/",
        {"survivor": str(a.pk), "include": [str(a.pk)]},
    )
    assert nobody.status_code == 422
    assert "Tick at least one other record" in nobody.content.decode()
    no_survivor = client.post(
        f"/stewardship/duplicates/{cluster.pk}/merge/", {"include": [str(a.pk), str(b.pk)]}
    )
    assert no_survivor.status_code == 422
    assert "Choose the record that survives" in no_survivor.content.decode()
    # a record merged elsewhere meanwhile: a conflict, explained
    other = _company(org, "Isan Tools Ltd")
    account_merge(actor=org.steward, survivor=other, losers=[b], field_choices={})
    stale = client.post(
        f"/stewardship/duplicates/{cluster.pk}/merge/",
        {"survivor": str(a.pk), "include": [str(a.pk), str(b.pk)]},
    )
    assert stale.status_code == 409
    assert "Already merged" in stale.content.decode()
    assert MergeRecord.objects.count() == 1
    assert (
        signed_in(org.rep).post(f"/stewardship/duplicates/{cluster.pk}/merge/").status_code == 403
    )


def test_dismiss_from_the_page(org: Org) -> None:
    cluster = _queue(_company(org, "Chao Phraya Co"), _company(org, "Chao Phraya Ltd"))
    client = signed_in(org.steward)
    response = client.post(
        f"/stewardship/duplicates/{cluster.pk}/dismiss/", {"reason": "two companies"}
    )
    assert response.status_code == 302
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.DISMISSED
    queue = client.get("/stewardship/duplicates/").content.decode()
    assert str(cluster.pk) not in queue
    again = client.post(f"/stewardship/duplicates/{cluster.pk}/dismiss/")
    assert again.status_code == 409


def test_unmerge_from_the_history(org: Org) -> None:
    # given: two merges, the second depending on the first
    a = _company(org, "Korat Steel Co")
    b = _company(org, "Korat Steels")
    c = _company(org, "Korat Steel Ltd")
    first = account_merge(actor=org.steward, survivor=a, losers=[b], field_choices={})
    second = account_merge(actor=org.steward, survivor=c, losers=[a], field_choices={})
    client = signed_in(org.steward)
    history = client.get("/stewardship/merges/").content.decode()
    assert f"/stewardship/merges/{second.pk}/unmerge/" in history
    assert f"/stewardship/merges/{first.pk}/unmerge/" not in history
    assert "A later merge of these records must be undone first." in history
    # when: the first is forced anyway, then done in order
    refused = client.post(f"/stewardship/merges/{first.pk}/unmerge/", follow=True)
    assert "A later merge involves these records" in refused.content.decode()
    client.post(f"/stewardship/merges/{second.pk}/unmerge/")
    done = client.post(f"/stewardship/merges/{first.pk}/unmerge/", follow=True)
    # then
    assert "Merge undone" in done.content.decode()
    assert set(MergeRecord.objects.values_list("status", flat=True)) == {MergeStatus.UNDONE}
    assert not Account.objects.filter(status=AccountStatus.MERGED).exists()
    assert signed_in(org.rep).post(f"/stewardship/merges/{first.pk}/unmerge/").status_code == 403


def test_contact_clusters_are_compared_and_merged_too(org: Org) -> None:
    # given
    account = _company(org, "Udon Seeds Co")
    people = [
        contact_create(
            actor=org.steward,
            data={
                "account": account.pk,
                "first_name": "Ploy",
                "mobile": mobile,
                "duplicate_justification": "test",
            },
        )
        for mobile in ("0811111111", "")
    ]
    ids = tuple(str(p.pk) for p in people)
    duplicate_clusters_enqueue(
        record_type="contact", clusters=[ClusterFound(ids, ((ids[0], ids[1], 0.97, ("name",)),))]
    )
    cluster = DuplicateCluster.objects.get()
    client = signed_in(org.steward)
    queue = client.get("/stewardship/duplicates/", {"record_type": "contact"}).content.decode()
    assert f"/stewardship/duplicates/{cluster.pk}/" in queue
    page = client.get(f"/stewardship/duplicates/{cluster.pk}/").content.decode()
    assert re.search(rf'name="choice_mobile" value="{people[0].pk}" checked> 0811111111', page)
    assert account.customer_code in page
    # when
    response = client.post(
        f"/stewardship/duplicates/{cluster.pk}/merge/",
        {"survivor": str(people[1].pk), "include": list(ids), "choice_mobile": ids[0]},
    )
    # then
    assert response.status_code == 302
    people[0].refresh_from_db()
    people[1].refresh_from_db()
    assert (people[1].mobile, people[0].is_active) == ("0811111111", False)
