"""AccountReach — the accounts a person owns or sells to outside the districts they cover —
is derived data: on PostgreSQL triggers keep it in step with every write that can change it,
and a rep's plain search reads it as one part (``visibility.ReachPart``).

The table is compared after each kind of write with its definition computed here from the
ORM; the search with the reach part is compared with the plain queryset page by page; and a
row the sharing model does not back is never shown."""

from __future__ import annotations

import io
import logging
import threading
import uuid
from typing import Any

import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection, transaction

from accord.customers.models import Account
from accord.customers.selectors import account_list
from accord.customers.services import account_update
from accord.dataquality.merge import account_merge
from accord.org.models import District, User
from accord.sales.models import Opportunity
from accord.sales.services import opportunity_create, opportunity_update
from accord.territories import visibility
from accord.territories.models import AccountOwner, AccountReach
from tests.conftest import Org, make_account
from tests.factories import RegionFactory, UserFactory
from tests.test_account_search_scope import _compare, _fresh, _people, _world

pytestmark = pytest.mark.django_db

Row = tuple[uuid.UUID, uuid.UUID, str, str]


def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("AccountReach is kept by PostgreSQL triggers; elsewhere it stays empty")


def _defined() -> set[Row]:
    """What the table must hold: each (person, account) of an owner row or an opportunity,
    where the account has no district or one the person covers neither directly nor
    through their region."""
    sources = set(AccountOwner.objects.values_list("owner_id", "account_id"))
    sources |= set(Opportunity.objects.exclude(owner=None).values_list("owner_id", "account_id"))
    rows: set[Row] = set()
    for user_id, account_id in sources:
        user = User.objects.get(pk=user_id)
        covered = set(user.districts.values_list("pk", flat=True))
        if user.region_id is not None:
            covered |= set(
                District.objects.filter(region_id=user.region_id).values_list("pk", flat=True)
            )
        account = Account.objects.get(pk=account_id)
        if account.district_id not in covered:
            rows.add((user_id, account_id, account.legal_name, account.search_text))
    return rows


def _kept() -> set[Row]:
    return set(
        AccountReach.objects.values_list("user_id", "account_id", "legal_name", "search_text")
    )


def _reached(user: User) -> set[uuid.UUID]:
    return set(AccountReach.objects.filter(user_id=user.pk).values_list("account_id", flat=True))


def _in_step() -> None:
    assert _kept() == _defined()


def test_the_triggers_keep_the_reach_in_step_with_every_write(org: Org) -> None:
    _postgres_only()
    # given: the rep covers north; accounts of theirs in north, south and no district
    north = make_account(org, legal_name="North Owned Co., Ltd.", owner=org.rep)
    south = make_account(org, legal_name="South Owned Co., Ltd.", district=org.south, owner=org.rep)
    nowhere = make_account(org, legal_name="Nowhere Co., Ltd.", owner=org.rep)
    Account.objects.filter(pk=nowhere.pk).update(district=None)
    dealt = make_account(org, legal_name="Dealt Co., Ltd.", district=org.south)
    # then: only what lies outside north is the rep's reach
    assert _reached(org.rep) == {south.pk, nowhere.pk}
    _in_step()

    # when: an opportunity on an account the rep neither owns nor covers
    deal = opportunity_create(
        actor=org.admin, data={"name": "Deal", "account": dealt.pk, "owner": org.rep.pk}
    )
    assert dealt.pk in _reached(org.rep)
    _in_step()
    # when: the opportunity goes to another rep, then to another account in bulk
    opportunity_update(actor=org.admin, opportunity=deal, data={"owner": org.other_rep.pk})
    assert dealt.pk not in _reached(org.rep)
    assert dealt.pk in _reached(org.other_rep)
    Opportunity.objects.filter(pk=deal.pk).update(account=north)
    _in_step()

    # when: accounts are renamed and move district
    account_update(actor=org.steward, account=south, data={"legal_name": "South Renamed Co., Ltd."})
    assert "South Renamed Co., Ltd." in {r[2] for r in _kept()}
    account_update(actor=org.steward, account=south, data={"district": org.north.pk})
    assert south.pk not in _reached(org.rep)
    Account.objects.filter(pk=north.pk).update(district=org.south)  # bulk, as imports do
    assert north.pk in _reached(org.rep)
    _in_step()

    # when: the rep's districts change (one at a time, then all at once)
    org.rep.districts.add(org.south)
    assert _reached(org.rep) == {nowhere.pk}
    org.rep.districts.set([])
    _in_step()
    org.rep.districts.set([org.north])
    _in_step()

    # when: the rep is given a region (its every district), then loses it
    org.rep.region = org.north.region
    org.rep.save(update_fields=["region"])
    assert _reached(org.rep) == {nowhere.pk}
    org.rep.region = None
    org.rep.save(update_fields=["region"])
    _in_step()

    # when: a district moves to another region a regional manager covers
    east = RegionFactory(code="east", name="East")
    regional = UserFactory(username="eastboss", region=east, business_unit=org.other_unit)
    make_account(org, legal_name="Regional Co., Ltd.", district=org.south, owner=regional)
    assert len(_reached(regional)) == 1
    District.objects.filter(pk=org.south.pk).update(region=east)
    assert _reached(regional) == set()
    _in_step()

    # when: ownership is handed over in bulk, and an owner row is removed
    AccountOwner.objects.filter(owner=org.rep).update(owner=org.other_rep)
    assert _reached(org.rep) == set()
    AccountOwner.objects.filter(account=nowhere).delete()
    _in_step()


def test_a_merge_moves_the_reach_to_the_survivor(org: Org) -> None:
    _postgres_only()
    # given: the rep owns a shadow account outside north
    survivor = make_account(org, legal_name="Siam Keeper Co., Ltd.", district=org.south)
    loser = make_account(
        org,
        legal_name="Siam Keeper Co., Ltd. ",
        district=org.south,
        owner=org.rep,
        duplicate_justification="A test twin.",
    )
    assert _reached(org.rep) == {loser.pk}
    # when
    account_merge(actor=org.steward, survivor=survivor, losers=[loser], field_choices={})
    # then
    assert _reached(org.rep) == {survivor.pk}
    _in_step()


def test_a_full_rebuild_gives_what_the_triggers_kept(org: Org) -> None:
    _postgres_only()
    make_account(org, legal_name="Rebuilt Co., Ltd.", district=org.south, owner=org.rep)
    make_account(org, legal_name="Kept Co., Ltd.", owner=org.south_rep)
    kept = _kept()
    assert len(kept) == 2
    # when: the table has lost a row and holds one nothing backs
    AccountReach.objects.filter(user_id=org.rep.pk).delete()
    AccountReach.objects.create(
        user_id=org.other_rep.pk, account_id=uuid.uuid4(), legal_name="Gone", search_text="gone"
    )
    out = io.StringIO()
    call_command("reach_rebuild", stdout=out)
    # then
    assert _kept() == kept == _defined()
    assert "2 rows for 2 people" in out.getvalue()


def test_the_rebuild_command_says_when_the_database_keeps_no_reach(org: Org) -> None:
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL keeps the reach")
    out = io.StringIO()
    call_command("reach_rebuild", stdout=out)
    assert "nothing to rebuild" in out.getvalue()


def test_a_reps_plain_search_reads_the_reach_and_finds_the_same_rows(org: Org) -> None:
    _postgres_only()
    # given
    world = _world(org)
    people = _people(world)
    reach = [
        p.username
        for p in people
        if any(
            isinstance(part, visibility.ReachPart)
            for part in visibility.account_search_parts(_fresh(p), reach=True) or []
        )
    ]
    # then: those with nobody under them read their reach (the reps, and the regional
    # manager, whose region is two districts of six); the managers keep the single walk
    assert reach == [p.username for p in people[:3]] + ["regional", "eastrep", "roamer"]
    assert AccountReach.objects.filter(user_id=world.roamer.pk).exists()
    rows = _compare(people, orderings=["legal_name", "-legal_name"], limits=[2, 50])
    assert rows > 150


def test_a_reach_row_the_sharing_model_does_not_back_is_never_shown(
    org: Org, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _postgres_only()
    # given: a row for an account the rep may not see (written by hand, as no code does)
    hidden = make_account(org, legal_name="Siam Hidden Co., Ltd.", district=org.south)
    mine = make_account(org, legal_name="Siam Mine Co., Ltd.", owner=org.rep)
    AccountReach.objects.create(
        user_id=org.rep.pk,
        account_id=hidden.pk,
        legal_name=hidden.legal_name,
        search_text=hidden.search_text,
    )
    monkeypatch.setattr(visibility, "SEARCH_PARTS_OWNED_MAX", 0)
    # when
    with caplog.at_level(logging.ERROR):
        page = account_list(user=_fresh(org.rep), search="siam")
    # then: the page is read again as one walk
    assert [a.pk for a in page.items] == [mine.pk]
    assert "out of step" in caplog.text


def test_other_databases_never_read_the_reach(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL keeps the reach")
    make_account(org, legal_name="Far Co., Ltd.", district=org.south, owner=org.rep)
    monkeypatch.setattr(visibility, "SEARCH_PARTS_OWNED_MAX", 0)
    assert visibility.account_search_parts(_fresh(org.rep), reach=True) is None
    assert not AccountReach.objects.exists()


def test_a_filtered_or_otherwise_ordered_search_keeps_the_single_walk(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the rep owns more than is written in as ids
    far = make_account(org, legal_name="Siam Far Co., Ltd.", district=org.south, owner=org.rep)
    near = make_account(org, legal_name="Siam Near Co., Ltd.", owner=org.rep)
    monkeypatch.setattr(visibility, "SEARCH_PARTS_OWNED_MAX", 0)
    calls: list[bool] = []
    real = visibility.account_search_parts

    def spy(user: User, *, reach: bool = False) -> Any:
        calls.append(reach)
        return real(user, reach=reach)

    monkeypatch.setattr(visibility, "account_search_parts", spy)
    rep = _fresh(org.rep)
    # when
    plain = account_list(user=rep, search="siam")
    by_district = account_list(user=rep, search="siam", district=org.south.pk)
    by_date = account_list(user=rep, search="siam", ordering="created_at")
    code = account_list(user=rep, search=far.customer_code)
    # then
    assert calls == [True, False, False, False]
    assert [a.pk for a in plain.items] == [far.pk, near.pk]
    assert [a.pk for a in by_district.items] == [far.pk]
    assert {a.pk for a in by_date.items} == {far.pk, near.pk}
    assert [a.pk for a in code.items] == [far.pk]


@pytest.mark.django_db(transaction=True)
def test_two_writes_on_one_pair_at_once_leave_the_row_their_sources_call_for(org: Org) -> None:
    _postgres_only()
    # given: the rep owns an account outside north, so it is in their reach
    account = make_account(org, legal_name="Raced Co., Ltd.", district=org.south, owner=org.rep)
    assert _reached(org.rep) == {account.pk}
    opened, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def sell() -> None:
        # an opportunity of the rep's on it, committed only after the owner row is gone
        try:
            with transaction.atomic():
                opportunity_create(
                    actor=org.admin,
                    data={"name": "Deal", "account": account.pk, "owner": org.rep.pk},
                )
                opened.set()
                done.wait(timeout=10)
        except BaseException as exc:
            errors.append(exc)
            opened.set()
        finally:
            close_old_connections()
            connection.close()

    def take_away() -> None:
        # the owner row deleted while the opportunity is not yet committed
        try:
            opened.wait(timeout=10)
            threading.Timer(0.5, done.set).start()  # the opportunity commits meanwhile
            AccountOwner.objects.filter(account=account, owner=org.rep).delete()
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=sell), threading.Thread(target=take_away)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    # then: the opportunity keeps the account in the rep's reach
    assert not errors
    assert Opportunity.objects.filter(account=account, owner=org.rep).exists()
    assert not AccountOwner.objects.filter(account=account, owner=org.rep).exists()
    assert _reached(org.rep) == {account.pk}
    _in_step()
