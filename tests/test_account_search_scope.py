"""Account search reads the visible accounts part by part (one part per covered district,
the owned accounts, the team shares, implicit access) and merges them by the list's order,
when the parts cost less than one walk (``visibility.account_search_parts``).

Every test here compares the search with the plain queryset —
``accounts_visible_to(user)`` filtered by the same search and filters, ordered by the same
keys — page after page through the cursors, on a data set where accounts are visible for
every reason the sharing model knows, and under several sharing models."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from accord.core.errors import ValidationFailed
from accord.core.selectors import search_fragment
from accord.customers.models import Account, AccountStatus
from accord.customers.selectors import account_list
from accord.org.models import District, Role, User
from accord.sales.services import opportunity_create
from accord.territories import visibility
from accord.territories.models import Access, AccountTeamMember, SharedRecordType, SharingDefault
from tests.conftest import Org, give_ownership, make_account
from tests.factories import DistrictFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

FRAGMENTS = ["siam", "co", "trading", "ลานนา", "c", "nothing like it"]
FIRST = ["Siam", "Lanna", "Andaman", "Isan", "Chao Phraya"]
SECOND = ["Trading", "Logistics", "Foods", "Steel"]


@dataclass
class World:
    org: Org
    districts: list[District]
    regional: User  # every district of the Bangkok region
    east_rep: User  # covers an eastern district, owns accounts elsewhere
    roamer: User  # covers no district: owned, team and opportunity accounts only
    director: User  # the manager's manager: the hierarchy two levels up


def _world(org: Org) -> World:
    """Forty accounts over four districts of two regions, owned in both units, shared
    through account teams and opportunities, with repeated names and creation times."""
    east = RegionFactory(code="east", name="East")
    east_a = DistrictFactory(code="east-a", name="East A", region=east)
    east_b = DistrictFactory(code="east-b", name="East B", region=east)
    districts = [org.north, org.south, east_a, east_b]
    # Six districts in all, so that covering two (the regional manager) is read in parts.
    DistrictFactory.create_batch(2, region=east)
    director = UserFactory(username="director", role=Role.SALES_MANAGER, business_unit=org.unit)
    org.manager.manager = director
    org.manager.save(update_fields=["manager"])
    regional = UserFactory(username="regional", role=Role.REGIONAL_MANAGER, region=org.north.region)
    east_rep = UserFactory(
        username="eastrep", role=Role.SALES_REP, business_unit=org.unit, districts=[east_a]
    )
    roamer = UserFactory(
        username="roamer", role=Role.SALES_REP, business_unit=org.other_unit, manager=org.manager
    )
    owners = [org.rep, org.other_rep, org.south_rep, east_rep, roamer, None]
    accounts = []
    for i in range(40):
        name = f"{FIRST[i % 5]} {SECOND[i % 4]} {i:02d} Co., Ltd."
        data: dict[str, Any] = {"legal_name": name}
        if i % 3 == 0:
            data["name_th"] = f"บริษัท ลานนา {i:02d} จำกัด" if i % 2 else f"บริษัท สยาม {i:02d} จำกัด"
        account = make_account(org, district=districts[i % 4], **data)
        owner = owners[(i * 7) % 6]
        if owner is not None:
            give_ownership(account, owner)
        accounts.append(account)
    # Repeated names and creation times: the key decides between them.
    same = [a.pk for a in accounts[::7]]
    Account.objects.filter(pk__in=same).update(legal_name="Siam Same Name Co., Ltd.")
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    Account.objects.filter(pk__in=[a.pk for a in accounts[1::9]]).update(created_at=moment)
    Account.objects.filter(pk=accounts[5].pk).update(status=AccountStatus.DORMANT)
    # Account teams, with and without the opportunities.
    for account, user, opportunities in [
        (accounts[2], roamer, Access.READ),
        (accounts[3], org.rep, Access.NONE),
        (accounts[10], east_rep, Access.READ_WRITE),
        (accounts[13], org.south_rep, Access.READ),
    ]:
        AccountTeamMember.objects.create(
            account=account, user=user, role="other", opportunity_access=opportunities
        )
    # Implicit access: opportunities on accounts their owners neither own nor cover.
    for account, owner in [
        (accounts[6], roamer),
        (accounts[7], org.rep),
        (accounts[11], east_rep),
        (accounts[14], org.south_rep),
    ]:
        opportunity_create(
            actor=org.admin, data={"name": "Deal", "account": account.pk, "owner": owner.pk}
        )
    return World(org, districts, regional, east_rep, roamer, director)


def _people(world: World) -> list[User]:
    org = world.org
    inactive = UserFactory(
        username="gone", role=Role.SALES_REP, districts=[org.north], is_active=False
    )
    return [
        org.rep,
        org.other_rep,
        org.south_rep,
        org.manager,
        world.director,
        world.regional,
        world.east_rep,
        world.roamer,
        org.executive,
        inactive,
    ]


def _fresh(user: User) -> User:
    """The user as the next request loads it (no scope cached from before a change)."""
    return User.objects.get(pk=user.pk)


def _expected(user: User, fragment: str, ordering: str, **filters: Any) -> list[Account]:
    """The plain queryset the merged search replaces."""
    scope = filters.pop("scope", None)
    qs = visibility.accounts_visible_to(user).filter(
        search_text__contains=search_fragment(fragment), **filters
    )
    qs = visibility.narrow_accounts_to_scope(qs, user=user, scope=scope, account_field="pk")
    field = ordering.lstrip("-")
    keys = (f"-{field}", "-pk") if ordering.startswith("-") else (field, "pk")
    return list(qs.order_by(*keys))


def _walk(user: User, fragment: str, ordering: str, limit: int, **filters: Any) -> list[Account]:
    """Every page of the search, following the cursors."""
    found: list[Account] = []
    cursor = None
    for _ in range(100):
        page = account_list(
            user=user,
            search=fragment,
            ordering=ordering,  # type: ignore[arg-type]
            cursor=cursor,
            limit=limit,
            **filters,
        )
        assert len(page.items) <= limit
        found += page.items
        cursor = page.next_cursor
        if cursor is None:
            return found
        assert len(page.items) == limit  # only a full page has a next one
    raise AssertionError("the cursors never end")


def _compare(people: list[User], *, orderings: list[str], limits: list[int]) -> int:
    """Compare for everyone, fragment, ordering and page size; return how many rows the
    plain querysets held (so that a data set selecting nothing fails the test)."""
    rows = 0
    for person in people:
        user = _fresh(person)
        for fragment in FRAGMENTS:
            for ordering in orderings:
                expected = _expected(user, fragment, ordering)
                rows += len(expected)
                for limit in limits:
                    found = _walk(user, fragment, ordering, limit)
                    assert [a.pk for a in found] == [a.pk for a in expected], (
                        user.username,
                        fragment,
                        ordering,
                        limit,
                    )
    return rows


def test_the_merged_search_returns_the_plain_querysets_rows_in_order(org):
    # given
    world = _world(org)
    people = _people(world)
    split = [p.username for p in people if visibility.account_search_parts(_fresh(p)) is not None]
    assert split == [p.username for p in people[:8]]  # all but the executive and the inactive
    # then
    rows = _compare(people, orderings=["legal_name", "-legal_name", "created_at"], limits=[3, 50])
    assert rows > 300


def test_the_single_walk_returns_the_same_rows(org, monkeypatch):
    # given: nobody's search is read in parts
    world = _world(org)
    people = _people(world)
    monkeypatch.setattr(visibility, "SEARCH_PARTS_OWNED_MAX", -1)
    assert all(visibility.account_search_parts(_fresh(p)) is None for p in people)
    # then
    assert _compare(people, orderings=["legal_name", "-created_at"], limits=[3]) > 100


def test_one_row_pages_continue_across_repeated_names(org):
    # given: accounts sharing one name (the key orders them) and one creation time
    world = _world(org)
    user = _fresh(world.regional)
    expected = _expected(user, "co", "legal_name")
    names = [a.legal_name for a in expected]
    assert names.count("Siam Same Name Co., Ltd.") == 3
    # then
    assert _walk(user, "co", "legal_name", 1) == expected
    assert _walk(user, "co", "-legal_name", 1) == expected[::-1]
    assert _walk(user, "co", "created_at", 1) == _expected(user, "co", "created_at")


@pytest.mark.parametrize(
    "sharing",
    [
        pytest.param({"territory_access": Access.NONE}, id="no-territory-access"),
        pytest.param({"grant_via_hierarchy": False}, id="no-hierarchy"),
        pytest.param({"default_access": Access.READ}, id="org-wide-read"),
    ],
)
def test_the_merged_search_follows_the_sharing_model(org, sharing):
    # given
    world = _world(org)
    people = _people(world)
    SharingDefault.objects.create(
        record_type=SharedRecordType.ACCOUNT,
        **{"default_access": Access.NONE, "territory_access": Access.READ, **sharing},
    )
    # then
    assert _compare(people, orderings=["legal_name"], limits=[4]) > 30


def test_territory_access_to_opportunities_opens_their_accounts(org):
    # given: the people covering a district see its opportunities, and so their accounts
    world = _world(org)
    people = _people(world)
    SharingDefault.objects.create(
        record_type=SharedRecordType.ACCOUNT, territory_access=Access.NONE
    )
    SharingDefault.objects.create(
        record_type=SharedRecordType.OPPORTUNITY, territory_access=Access.READ
    )
    # then
    assert _compare(people, orderings=["legal_name"], limits=[4]) > 10


def test_many_team_places_are_probed_instead_of_written_in(org, monkeypatch):
    # given: more places than are written into the query as literal ids
    world = _world(org)
    people = _people(world)
    monkeypatch.setattr(visibility, "TEAM_PLACES_INLINED", 0)
    assert visibility.scope_of(_fresh(world.roamer)).team is None
    # then
    assert _compare(people, orderings=["legal_name", "-created_at"], limits=[3]) > 100


@pytest.mark.parametrize(
    "filters",
    [
        pytest.param({"status": AccountStatus.DORMANT}, id="status"),
        pytest.param({"scope": "mine"}, id="mine"),
        pytest.param({"scope": "team"}, id="team"),
    ],
)
def test_filters_apply_to_every_part(org, filters):
    # given
    world = _world(org)
    # then
    for person in _people(world):
        user = _fresh(person)
        for fragment in ["co", "siam"]:
            expected = _expected(user, fragment, "legal_name", **filters)
            assert _walk(user, fragment, "legal_name", 2, **filters) == expected


def test_district_and_owner_filters_apply_to_every_part(org):
    # given
    world = _world(org)
    user = _fresh(world.regional)
    south = world.org.south
    # then: the district filter
    expected = _expected(user, "co", "legal_name", district_id=south.pk)
    assert expected
    assert _walk(user, "co", "legal_name", 2, district=south.pk) == expected
    # and the owner filter
    owned = _expected(user, "co", "legal_name", owners__owner=world.org.south_rep)
    assert owned
    assert _walk(user, "co", "legal_name", 2, owner=world.org.south_rep.pk) == owned


def test_a_code_search_finds_a_visible_account_only(org):
    # given
    _world(org)
    rep = _fresh(org.rep)
    visible = visibility.accounts_visible_to(rep)
    seen = visible.order_by("legal_name").first()
    unseen = Account.objects.exclude(pk__in=visible.values("pk")).order_by("legal_name").first()
    assert seen is not None and unseen is not None
    # then
    assert account_list(user=rep, search=seen.customer_code).items == [seen]
    assert account_list(user=rep, search=unseen.customer_code.lower()).items == []
    assert account_list(user=_fresh(org.admin), search=unseen.customer_code).items == [unseen]


def test_a_foreign_cursor_is_refused(org):
    # given
    world = _world(org)
    user = _fresh(world.regional)
    by_date = account_list(user=user, search="co", ordering="created_at", limit=2)
    assert by_date.next_cursor is not None
    # then
    with pytest.raises(ValidationFailed) as refused:
        account_list(user=user, search="co", ordering="legal_name", cursor=by_date.next_cursor)
    assert refused.value.code == "invalid_cursor"
    with pytest.raises(ValidationFailed):
        account_list(user=user, search="co", cursor="not-a-cursor")


def test_the_api_pages_a_search_through_the_cursors(org, api_as):
    # given
    world = _world(org)
    api = api_as(world.regional)
    expected = [str(a.pk) for a in _expected(_fresh(world.regional), "co", "legal_name")]
    # when
    found: list[str] = []
    cursor = None
    while True:
        params = {"search": "Co", "limit": 7} | ({"cursor": cursor} if cursor else {})
        body = api.get("/accounts", **params).json()
        found += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    # then
    assert found == expected
    assert len(found) == 20
