"""Forecasts and quotas: categories, periods, roll-ups, adjustments, snapshots, visibility.

Every expected figure below is worked out by hand from the opportunities in ``world``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.audit.models import AuditEvent
from accord.core.errors import Conflict, PermissionDenied, ValidationFailed
from accord.insights import selectors, services
from accord.insights.models import ForecastSnapshot, Quota
from accord.insights.periods import (
    PeriodKind,
    iso_week_start,
    period_containing,
    period_parse,
)
from accord.org.models import District, Region, Role, User
from accord.sales.models import Opportunity, Pipeline, Stage
from accord.sales.services import opportunity_create, opportunity_update
from accord.territories import visibility
from tests.conftest import Org, make_account
from tests.factories import DistrictFactory, RegionFactory, UserFactory

BKK = ZoneInfo("Asia/Bangkok")
Q1 = period_parse("FY2026-Q1", fiscal_start_month=1)
FEB = period_parse("2026-02", fiscal_start_month=1)
D = Decimal


# --- periods (pure functions) -------------------------------------------------------------


def test_calendar_quarters_and_months() -> None:
    q = period_containing(dt.date(2026, 11, 23), PeriodKind.QUARTER, fiscal_start_month=1)
    assert (q.key, q.start, q.end, q.label) == (
        "FY2026-Q4",
        dt.date(2026, 10, 1),
        dt.date(2027, 1, 1),
        "Q4 FY2026",
    )
    m = period_containing(dt.date(2026, 12, 31), PeriodKind.MONTH, fiscal_start_month=1)
    assert (m.key, m.start, m.end, m.label, m.label_th) == (
        "2026-12",
        dt.date(2026, 12, 1),
        dt.date(2027, 1, 1),
        "Dec 2026",
        "ธ.ค. 2569",
    )
    assert m.next().key == "2027-01"
    assert q.next().key == "FY2027-Q1"
    assert q.previous().key == "FY2026-Q3"
    assert [p.key for p in q.months()] == ["2026-10", "2026-11", "2026-12"]


def test_fiscal_year_starting_in_october_is_named_by_the_year_it_ends() -> None:
    q = period_containing(dt.date(2026, 11, 23), PeriodKind.QUARTER, fiscal_start_month=10)
    assert (q.key, q.start, q.end) == ("FY2027-Q1", dt.date(2026, 10, 1), dt.date(2027, 1, 1))
    assert q.label == "Q1 FY2027"
    assert q.label_th == "ไตรมาส 1 ปีงบประมาณ 2570"
    q4 = period_containing(dt.date(2026, 9, 30), PeriodKind.QUARTER, fiscal_start_month=10)
    assert (q4.key, q4.start, q4.end) == ("FY2026-Q4", dt.date(2026, 7, 1), dt.date(2026, 10, 1))
    assert period_parse("FY2027-Q1", fiscal_start_month=10) == q


def test_fiscal_year_starting_in_april() -> None:
    q = period_containing(dt.date(2026, 3, 15), PeriodKind.QUARTER, fiscal_start_month=4)
    assert (q.key, q.start, q.end) == ("FY2026-Q4", dt.date(2026, 1, 1), dt.date(2026, 4, 1))
    q = period_containing(dt.date(2026, 4, 1), PeriodKind.QUARTER, fiscal_start_month=4)
    assert (q.key, q.start) == ("FY2027-Q1", dt.date(2026, 4, 1))
    q = period_containing(dt.date(2026, 2, 28), PeriodKind.QUARTER, fiscal_start_month=2)
    assert (q.key, q.start, q.end) == ("FY2027-Q1", dt.date(2026, 2, 1), dt.date(2026, 5, 1))
    assert period_parse("FY2026-Q4", fiscal_start_month=2).start == dt.date(2025, 11, 1)


@pytest.mark.parametrize("key", ["2026-13", "2026-00", "FY2026-Q5", "Q1-2026", "", "26-01"])
def test_bad_period_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError):
        period_parse(key, fiscal_start_month=1)


def test_iso_week_start_is_the_monday() -> None:
    assert iso_week_start(dt.date(2026, 2, 18)) == dt.date(2026, 2, 16)
    assert iso_week_start(dt.date(2026, 2, 22)) == dt.date(2026, 2, 16)
    assert iso_week_start(dt.date(2026, 2, 16)) == dt.date(2026, 2, 16)


def test_the_configured_fiscal_year_is_used(settings: Any) -> None:
    settings.ACCORD_FISCAL_YEAR_START_MONTH = 10
    assert period_parse("FY2027-Q1").start == dt.date(2026, 10, 1)
    assert period_containing(dt.date(2026, 10, 5), "quarter").key == "FY2027-Q1"


# --- the world ----------------------------------------------------------------------------


@dataclass
class World:
    org: Org
    regional: User
    bkk: Region
    cnx: Region
    cnx_city: District


def _stage(pipeline: Pipeline, name: str) -> Stage:
    return pipeline.stages.get(name=name)


def _opp(
    org: Org,
    *,
    owner: User,
    account: Any,
    stage: str,
    amount: str,
    close: dt.date | None = None,
    closed_at: dt.datetime | None = None,
) -> Opportunity:
    pipeline = Pipeline.objects.get(business_unit_id=owner.business_unit_id)
    opp = opportunity_create(
        actor=org.admin,
        data={
            "name": f"{owner.username} {stage} {amount}",
            "account": account.pk,
            "owner": owner.pk,
            "stage": _stage(pipeline, stage).pk,
            "amount": D(amount),
            "expected_close_date": close,
        },
    )
    if closed_at is not None:  # closed in the past (the service stamps "now")
        opp.closed_at = closed_at  # saved through the ORM: the opportunity cells follow
        opp.save(update_fields=["closed_at"])
    return opp


@pytest.fixture
def world(org: Org) -> World:
    return build_world(org)


def build_world(org: Org) -> World:
    """Two regions, two units, a regional manager above the sales manager, and deals."""
    bkk = Region.objects.get(code="bkk")
    cnx = RegionFactory(code="cnx", name="Chiang Mai")
    cnx_city = DistrictFactory(code="cnx-city", name="Chiang Mai City", region=cnx)
    regional = UserFactory(
        username="regional", role=Role.REGIONAL_MANAGER, region=bkk, business_unit=org.unit
    )
    User.objects.filter(pk=org.manager.pk).update(manager=regional)
    org.manager.refresh_from_db()
    north = make_account(org, legal_name="North Co., Ltd.")
    south = make_account(org, legal_name="South Co., Ltd.", district=org.south)
    chiang_mai = make_account(org, legal_name="Lanna Co., Ltd.", district=cnx_city)
    rep, other, manager, south_rep = org.rep, org.other_rep, org.manager, org.south_rep
    # rep: commit 100k, best case 50k, pipeline 20k, won 30k + 7k (Q1); not counted:
    # next quarter, lost, won just before the quarter began (Bangkok time).
    _opp(
        org,
        owner=rep,
        account=north,
        stage="Negotiation",
        amount="100000",
        close=dt.date(2026, 2, 10),
    )
    _opp(
        org, owner=rep, account=north, stage="Proposal", amount="50000", close=dt.date(2026, 3, 31)
    )
    _opp(
        org,
        owner=rep,
        account=north,
        stage="Prospecting",
        amount="20000",
        close=dt.date(2026, 1, 1),
    )
    _opp(
        org,
        owner=rep,
        account=north,
        stage="Closed won",
        amount="30000",
        close=dt.date(2026, 4, 30),
        closed_at=dt.datetime(2026, 2, 15, 10, 0, tzinfo=BKK),
    )
    _opp(
        org,
        owner=rep,
        account=north,
        stage="Closed won",
        amount="7000",
        close=dt.date(2026, 3, 1),
        closed_at=dt.datetime(2026, 3, 31, 23, 30, tzinfo=BKK),
    )
    _opp(
        org,
        owner=rep,
        account=north,
        stage="Closed won",
        amount="4000",
        close=dt.date(2026, 1, 5),
        closed_at=dt.datetime(2025, 12, 31, 23, 59, tzinfo=BKK),
    )
    _opp(
        org, owner=rep, account=north, stage="Negotiation", amount="999", close=dt.date(2026, 4, 1)
    )
    _opp(
        org,
        owner=rep,
        account=north,
        stage="Closed lost",
        amount="5000",
        close=dt.date(2026, 2, 1),
        closed_at=dt.datetime(2026, 2, 1, 9, 0, tzinfo=BKK),
    )
    _opp(org, owner=rep, account=north, stage="Negotiation", amount="3000", close=None)
    # other rep: commit 40k, won 10k.
    _opp(
        org,
        owner=other,
        account=north,
        stage="Negotiation",
        amount="40000",
        close=dt.date(2026, 3, 1),
    )
    _opp(
        org,
        owner=other,
        account=north,
        stage="Closed won",
        amount="10000",
        close=dt.date(2026, 1, 20),
        closed_at=dt.datetime(2026, 1, 20, 12, 0, tzinfo=BKK),
    )
    # the manager sells too: best case 25k in the south.
    _opp(
        org,
        owner=manager,
        account=south,
        stage="Proposal",
        amount="25000",
        close=dt.date(2026, 2, 1),
    )
    # another unit: pipeline 60k + commit 15k in the south, commit 1M in Chiang Mai.
    _opp(
        org,
        owner=south_rep,
        account=south,
        stage="Prospecting",
        amount="60000",
        close=dt.date(2026, 2, 2),
    )
    _opp(
        org,
        owner=south_rep,
        account=south,
        stage="Negotiation",
        amount="15000",
        close=dt.date(2026, 1, 15),
    )
    _opp(
        org,
        owner=south_rep,
        account=chiang_mai,
        stage="Negotiation",
        amount="1000000",
        close=dt.date(2026, 3, 15),
    )
    return World(org, regional, bkk, cnx, cnx_city)


def figures(row: selectors.ForecastRow, which: str = "computed") -> tuple[Decimal, ...]:
    f = getattr(row, which)
    return (f.closed_won, f.commit, f.best_case, f.pipeline)


# --- categories and the people roll-up ----------------------------------------------------


def test_a_reps_categories_are_cumulative(world: World) -> None:
    org = world.org
    forecast = selectors.user_forecast(viewer=org.rep, subject=org.rep, period=Q1)
    # won 30k + 7k; commit = won + 100k; best case = commit + 50k; pipeline = + 20k.
    assert figures(forecast.subject) == (D(37000), D(137000), D(187000), D(207000))
    assert forecast.children == []
    assert forecast.child_level is None


def test_a_month_counts_only_its_own_dates(world: World) -> None:
    forecast = selectors.user_forecast(viewer=world.org.rep, subject=world.org.rep, period=FEB)
    # Feb: won 30k (15 Feb); commit 100k (10 Feb); nothing else falls in February.
    assert figures(forecast.subject) == (D(30000), D(130000), D(130000), D(130000))


def test_a_managers_roll_up_has_their_own_row_and_one_per_report(world: World) -> None:
    org = world.org
    forecast = selectors.user_forecast(viewer=org.manager, subject=org.manager, period=Q1)
    # manager 0/0/25k/25k + rep 37k/137k/187k/207k + other 10k/50k/50k/50k
    assert figures(forecast.subject) == (D(47000), D(187000), D(262000), D(282000))
    rows = {(r.level, r.label): figures(r) for r in forecast.children}
    assert rows == {
        ("own", str(org.manager)): (D(0), D(0), D(25000), D(25000)),
        ("user", str(org.rep)): (D(37000), D(137000), D(187000), D(207000)),
        ("user", str(org.other_rep)): (D(10000), D(50000), D(50000), D(50000)),
    }
    above = selectors.user_forecast(viewer=world.regional, subject=world.regional, period=Q1)
    assert figures(above.subject) == (D(47000), D(187000), D(262000), D(282000))
    assert [r.level for r in above.children] == ["own", "user"]


def test_fiscal_quarters_follow_the_setting(world: World, settings: Any) -> None:
    settings.ACCORD_FISCAL_YEAR_START_MONTH = 2
    # FY2027-Q1 is now Feb-Apr 2026: rep's won 30k (15 Feb) + 7k (31 Mar); commit 100k
    # (10 Feb) + 999 (1 Apr); best case 50k (31 Mar); the 1 Jan pipeline deal drops out.
    q = period_parse("FY2027-Q1")
    assert (q.start, q.end) == (dt.date(2026, 2, 1), dt.date(2026, 5, 1))
    forecast = selectors.user_forecast(viewer=world.org.rep, subject=world.org.rep, period=q)
    assert figures(forecast.subject) == (D(37000), D(137999), D(187999), D(187999))


# --- the organisation roll-up -------------------------------------------------------------


def test_company_region_unit_district_roll_up(world: World) -> None:
    org = world.org
    company = selectors.org_forecast(viewer=org.executive, node=selectors.OrgNode(), period=Q1)
    assert figures(company.subject) == (D(47000), D(1202000), D(1277000), D(1357000))
    assert [(r.label, figures(r)) for r in company.children] == [
        ("Bangkok", (D(47000), D(202000), D(277000), D(357000))),
        ("Chiang Mai", (D(0), D(1000000), D(1000000), D(1000000))),
    ]
    region = selectors.org_forecast(
        viewer=org.executive, node=selectors.OrgNode(region_id=world.bkk.pk), period=Q1
    )
    assert region.child_level == "unit"
    assert [(r.label, figures(r)) for r in region.children] == [
        ("Business Solution Development", (D(47000), D(187000), D(262000), D(282000))),
        ("Business Solution Outsourcing", (D(0), D(15000), D(15000), D(75000))),
    ]
    unit = selectors.org_forecast(
        viewer=org.executive,
        node=selectors.OrgNode(region_id=world.bkk.pk, unit_id=org.unit.pk),
        period=Q1,
    )
    assert [(r.label, figures(r)) for r in unit.children] == [
        ("Bangkok North", (D(47000), D(187000), D(237000), D(257000))),
        ("Bangkok South", (D(0), D(0), D(25000), D(25000))),
    ]
    north = unit.children[0]
    assert (north.region_id, north.unit_id, north.district_id) == (
        world.bkk.pk,
        org.unit.pk,
        org.north.pk,
    )
    district = selectors.org_forecast(
        viewer=org.executive,
        node=selectors.OrgNode(
            region_id=world.bkk.pk, unit_id=org.unit.pk, district_id=org.north.pk
        ),
        period=Q1,
    )
    assert district.child_level == "user"
    assert [(r.id, figures(r)) for r in district.children] == sorted(
        [
            (org.rep.pk, (D(37000), D(137000), D(187000), D(207000))),
            (org.other_rep.pk, (D(10000), D(50000), D(50000), D(50000))),
        ],
        key=lambda pair: str(User.objects.get(pk=pair[0])).casefold(),
    )


def test_a_unit_across_regions(world: World) -> None:
    org = world.org
    unit = selectors.org_forecast(
        viewer=org.admin, node=selectors.OrgNode(unit_id=org.other_unit.pk), period=Q1
    )
    assert figures(unit.subject) == (D(0), D(1015000), D(1015000), D(1075000))
    assert [r.label for r in unit.children] == ["Bangkok South", "Chiang Mai City"]


def test_a_district_outside_the_given_region_is_not_found(world: World) -> None:
    from accord.core.errors import NotFound

    with pytest.raises(NotFound):
        selectors.org_forecast(
            viewer=world.org.admin,
            node=selectors.OrgNode(region_id=world.cnx.pk, district_id=world.org.north.pk),
            period=Q1,
        )


# --- query counts -------------------------------------------------------------------------


def _count(fn: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_roll_ups_take_a_fixed_number_of_queries(world: World) -> None:
    org = world.org
    company = lambda: selectors.org_forecast(  # noqa: E731
        viewer=org.executive, node=selectors.OrgNode(), period=Q1
    )
    region = lambda: selectors.org_forecast(  # noqa: E731
        viewer=org.executive, node=selectors.OrgNode(region_id=world.bkk.pk), period=Q1
    )
    manager = lambda: selectors.user_forecast(  # noqa: E731
        viewer=org.manager, subject=org.manager, period=Q1
    )
    regional = lambda: selectors.user_forecast(  # noqa: E731
        viewer=world.regional, subject=world.regional, period=Q1
    )
    # company: figures, quotas, labels; region: + the region itself;
    # people: one query per level below (and the empty one), figures, quotas, adjustments.
    expected = {company: 3, region: 4, manager: 5, regional: 6}
    assert {fn: _count(fn) for fn in expected} == expected
    north = make_account(org, legal_name="More Co., Ltd.")
    for i in range(15):
        _opp(
            org,
            owner=org.rep,
            account=north,
            stage="Proposal",
            amount=str(i + 1),
            close=dt.date(2026, 2, 1),
        )
    assert {fn: _count(fn) for fn in expected} == expected
    assert figures(manager().subject)[2] == D(262000 + sum(range(1, 16)))


def test_snapshot_queries_do_not_grow_with_opportunities(world: World) -> None:
    per_period = _count(lambda: selectors.all_node_figures(Q1))
    # opportunities, quotas, people, adjustments
    assert per_period == 4


# --- quotas, attainment, gap --------------------------------------------------------------


@pytest.fixture
def quotas(world: World) -> None:
    set_quotas(world)


def set_quotas(world: World) -> None:
    """Q1: rep 100k (quarter), other rep 3 x 20k (months), south rep 50k (quarter)."""
    org = world.org
    services.quota_create(actor=org.manager, user=org.rep, period=Q1, amount="100000")
    for month in ("2026-01", "2026-02", "2026-03"):
        services.quota_create(
            actor=org.manager,
            user=org.other_rep,
            period=period_parse(month, fiscal_start_month=1),
            amount="20000",
        )
    services.quota_create(actor=org.admin, user=org.south_rep, period=Q1, amount="50000")


def test_quotas_roll_up_with_attainment_and_gap(world: World, quotas: None) -> None:
    org = world.org
    rep = selectors.user_forecast(viewer=org.rep, subject=org.rep, period=Q1).subject
    assert (rep.quota, rep.attainment, rep.gap) == (D(100000), D("0.3700"), D(63000))
    manager = selectors.user_forecast(viewer=org.manager, subject=org.manager, period=Q1)
    # 100k + 3 x 20k; won 47k: 47/160 = 0.29375 → 0.2938; gap 113k
    assert (manager.subject.quota, manager.subject.attainment, manager.subject.gap) == (
        D(160000),
        D("0.2938"),
        D(113000),
    )
    own = manager.children[0]
    assert (own.level, own.quota, own.attainment, own.gap) == ("own", None, None, None)
    feb = selectors.user_forecast(viewer=org.other_rep, subject=org.other_rep, period=FEB)
    assert (feb.subject.quota, feb.subject.attainment, feb.subject.gap) == (
        D(20000),
        D("0.0000"),
        D(20000),
    )
    company = selectors.org_forecast(viewer=org.admin, node=selectors.OrgNode(), period=Q1)
    assert company.subject.quota == D(210000)
    assert company.subject.gap == D(163000)
    assert [(r.label, r.quota) for r in company.children] == [
        ("Bangkok", D(210000)),
        ("Chiang Mai", None),
    ]
    region = selectors.org_forecast(
        viewer=org.admin, node=selectors.OrgNode(region_id=world.bkk.pk), period=Q1
    )
    assert [(r.label, r.quota, r.attainment) for r in region.children] == [
        ("Business Solution Development", D(160000), D("0.2938")),
        ("Business Solution Outsourcing", D(50000), D("0.0000")),
    ]


def test_quota_placement_defaults_to_the_reps_only_district(world: World, quotas: None) -> None:
    quota = Quota.objects.get(user=world.org.rep)
    assert (quota.district_id, quota.business_unit_id) == (world.org.north.pk, world.org.unit.pk)


def test_quota_rules(world: World, quotas: None) -> None:
    org = world.org
    with pytest.raises(Conflict) as exists:
        services.quota_create(actor=org.manager, user=org.rep, period=Q1, amount="1")
    assert exists.value.code == "quota_exists"
    with pytest.raises(Conflict) as overlap:
        services.quota_create(actor=org.manager, user=org.other_rep, period=Q1, amount="1")
    assert overlap.value.code == "quota_overlaps"
    with pytest.raises(Conflict):
        services.quota_create(actor=org.manager, user=org.rep, period=FEB, amount="1")
    with pytest.raises(PermissionDenied):
        services.quota_create(actor=org.rep, user=org.rep, period=FEB, amount="1")
    with pytest.raises(PermissionDenied):
        services.quota_create(actor=org.executive, user=org.rep, period=FEB, amount="1")
    with pytest.raises(PermissionDenied):
        services.quota_create(actor=org.manager, user=org.south_rep, period=FEB, amount="1")
    with pytest.raises(ValidationFailed) as negative:
        services.quota_create(actor=org.admin, user=org.south_rep, period=FEB, amount="-1")
    assert negative.value.errors == {"amount": ["The amount cannot be negative."]}
    assert Quota.objects.count() == 5


# --- adjustments --------------------------------------------------------------------------


def test_manager_adjustments_show_beside_the_computed_figure_and_roll_up(world: World) -> None:
    org = world.org
    adjustment = services.forecast_adjust(
        actor=org.manager,
        subject=org.rep,
        period=Q1,
        category="commit",
        amount="150000",
        note="  Siam deal   signed next week ",
    )
    assert (adjustment.computed_amount, adjustment.note) == (
        D(137000),
        "Siam deal signed next week",
    )
    rep = selectors.user_forecast(viewer=org.rep, subject=org.rep, period=Q1).subject
    assert figures(rep) == (D(37000), D(137000), D(187000), D(207000))
    assert figures(rep, "adjusted") == (D(37000), D(150000), D(187000), D(207000))
    assert rep.is_adjusted
    assert [(a.category, a.amount, a.adjusted_by) for a in rep.adjustments] == [
        ("commit", D(150000), org.manager.pk)
    ]
    manager = selectors.user_forecast(viewer=org.manager, subject=org.manager, period=Q1)
    # own 0 + rep 150k (adjusted) + other 50k
    assert figures(manager.subject, "adjusted") == (D(47000), D(200000), D(262000), D(282000))
    assert figures(manager.subject) == (D(47000), D(187000), D(262000), D(282000))
    # the regional manager overrides the manager's commit; the latest adjustment counts
    services.forecast_adjust(
        actor=world.regional,
        subject=org.manager,
        period=Q1,
        category="commit",
        amount="190000",
        note="Discounting the Siam deal",
    )
    services.forecast_adjust(
        actor=org.manager,
        subject=org.manager,
        period=Q1,
        category="best_case",
        amount="300000",
        note="Two proposals out",
    )
    manager = selectors.user_forecast(viewer=org.manager, subject=org.manager, period=Q1)
    assert figures(manager.subject, "adjusted") == (D(47000), D(190000), D(300000), D(282000))
    regional = selectors.user_forecast(viewer=world.regional, subject=world.regional, period=Q1)
    assert figures(regional.subject, "adjusted") == (D(47000), D(190000), D(300000), D(282000))
    assert not regional.children[0].is_adjusted  # the regional manager's own row
    events = AuditEvent.objects.filter(record_type="insights.forecastadjustment").order_by("seq")
    assert [(e.changes["amount"][1], e.changes["period"][1]) for e in events] == [
        ("150000.00", "FY2026-Q1"),
        ("190000.00", "FY2026-Q1"),
        ("300000.00", "FY2026-Q1"),
    ]


def test_only_managers_up_the_chain_adjust(world: World) -> None:
    org = world.org
    for actor, subject in [
        (org.rep, org.rep),  # a rep, not a manager
        (org.other_rep, org.rep),  # a peer
        (org.rep, org.manager),  # upwards
        (org.executive, org.rep),  # read-only
        (org.admin, org.rep),  # not in the chain
        (org.manager, org.south_rep),  # someone else's rep
    ]:
        assert not visibility.may_adjust_forecast(actor, subject)
        with pytest.raises(PermissionDenied):
            services.forecast_adjust(
                actor=actor, subject=subject, period=Q1, category="commit", amount="1", note="x"
            )
    assert visibility.may_adjust_forecast(world.regional, org.rep)
    assert visibility.may_adjust_forecast(org.manager, org.manager)


def test_adjustment_input_is_checked(world: World) -> None:
    org = world.org
    with pytest.raises(ValidationFailed) as bad:
        services.forecast_adjust(
            actor=org.manager,
            subject=org.rep,
            period=Q1,
            category="closed_won",
            amount="-5",
            note="   ",
        )
    assert set(bad.value.errors) == {"category", "amount", "note"}


# --- weekly snapshots ---------------------------------------------------------------------


def test_snapshots_are_idempotent_per_iso_week_and_make_a_trend(world: World) -> None:
    org = world.org
    wednesday = dt.date(2026, 2, 18)
    written = services.forecast_snapshot_take(today=wednesday)
    rows = ForecastSnapshot.objects.count()
    assert written == rows > 0
    # again in the same week (Sunday): same rows, no duplicates
    call_command("forecast_snapshot", "--date", "2026-02-22")
    assert ForecastSnapshot.objects.count() == rows
    manager = ForecastSnapshot.objects.get(
        node=f"user:{org.manager.pk}", period_kind="quarter", period_start=Q1.start
    )
    assert (manager.week_start, manager.closed_won, manager.commit, manager.pipeline) == (
        dt.date(2026, 2, 16),
        D(47000),
        D(187000),
        D(282000),
    )
    company = ForecastSnapshot.objects.get(
        node="company", period_kind="quarter", period_start=Q1.start
    )
    assert (company.commit, company.pipeline) == (D(1202000), D(1357000))
    north_key = selectors.node_key(
        region_id=world.bkk.pk, unit_id=org.unit.pk, district_id=org.north.pk
    )
    north = ForecastSnapshot.objects.get(
        node=north_key, period_kind="quarter", period_start=Q1.start
    )
    assert north.best_case == D(237000)
    # next week the rep's big deal slips to April and the manager adjusts
    deal = Opportunity.objects.get(amount=D(100000))
    opportunity_update(
        actor=org.admin, opportunity=deal, data={"expected_close_date": dt.date(2026, 4, 2)}
    )
    services.forecast_adjust(
        actor=org.manager,
        subject=org.rep,
        period=Q1,
        category="commit",
        amount="60000",
        note="Slipped",
    )
    services.forecast_snapshot_take(today=dt.date(2026, 2, 23))
    trend = list(selectors.forecast_trend(node=f"user:{org.rep.pk}", period=Q1))
    assert [(s.week_start, s.commit, s.adjusted_commit) for s in trend] == [
        (dt.date(2026, 2, 16), D(137000), None),
        (dt.date(2026, 2, 23), D(37000), D(60000)),
    ]
    # the other rep's only open deal is lost: their next week shows zeros, not a gap
    lost = Opportunity.objects.get(amount=D(40000))
    opportunity_update(
        actor=org.admin,
        opportunity=lost,
        data={"stage": _stage(org.pipeline, "Closed lost").pk},
    )
    Opportunity.objects.filter(amount=D(10000)).delete()
    services.forecast_snapshot_take(today=dt.date(2026, 3, 2))
    other = selectors.forecast_trend(node=f"user:{org.other_rep.pk}", period=Q1)
    assert [(s.week_start, s.pipeline) for s in other] == [
        (dt.date(2026, 2, 16), D(50000)),
        (dt.date(2026, 2, 23), D(50000)),
        (dt.date(2026, 3, 2), D(0)),
    ]
    months = ForecastSnapshot.objects.filter(
        node=f"user:{org.rep.pk}", week_start=dt.date(2026, 2, 23)
    ).values_list("period_kind", "period_start")
    assert sorted(months) == [
        ("month", dt.date(2026, 2, 1)),
        ("month", dt.date(2026, 3, 1)),
        ("quarter", dt.date(2026, 1, 1)),
        ("quarter", dt.date(2026, 4, 1)),
    ]


# --- visibility ---------------------------------------------------------------------------


def test_who_sees_whose_forecast(world: World) -> None:
    org = world.org
    seen = lambda user: set(visibility.forecast_users_visible_to(user))  # noqa: E731
    assert seen(org.rep) == {org.rep}
    assert seen(org.manager) == {org.manager, org.rep, org.other_rep}
    # the regional manager: their reports, and everyone covering a district of Bangkok
    assert seen(world.regional) == {
        world.regional,
        org.manager,
        org.rep,
        org.other_rep,
        org.south_rep,
    }
    assert org.executive in seen(org.executive) and org.south_rep in seen(org.executive)
    assert visibility.may_view_forecast_region(world.regional, world.bkk.pk)
    assert not visibility.may_view_forecast_region(world.regional, world.cnx.pk)
    assert not visibility.may_view_forecast_region(world.regional, None)
    assert not visibility.may_view_forecast_region(org.manager, world.bkk.pk)
    assert visibility.may_view_forecast_region(org.executive, None)


# --- API ----------------------------------------------------------------------------------


def test_api_forecast_for_a_person_and_the_company(world: World, quotas: None, api_as: Any) -> None:
    org = world.org
    manager = api_as(org.manager)
    response = manager.get(f"/forecasts/users/{org.manager.pk}", period="FY2026-Q1")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == {
        "key": "FY2026-Q1",
        "kind": "quarter",
        "start": "2026-01-01",
        "end": "2026-04-01",
        "label": "Q1 FY2026",
        "label_th": "ไตรมาส 1 ปีงบประมาณ 2569",
    }
    assert body["subject"]["computed"] == {
        "closed_won": "47000.00",
        "commit": "187000.00",
        "best_case": "262000.00",
        "pipeline": "282000.00",
    }
    assert (body["subject"]["quota"], body["subject"]["attainment"], body["subject"]["gap"]) == (
        "160000.00",
        "0.2938",
        "113000.00",
    )
    assert body["may_adjust"] is True
    assert [c["level"] for c in body["children"]] == ["own", "user", "user"]
    executive = api_as(org.executive)
    company = executive.get("/forecasts", period="FY2026-Q1").json()
    assert company["subject"]["computed"]["pipeline"] == "1357000.00"
    assert company["child_level"] == "region"
    region = executive.get("/forecasts", period="FY2026-Q1", region=str(world.bkk.pk)).json()
    assert [c["label"] for c in region["children"]] == [
        "Business Solution Development",
        "Business Solution Outsourcing",
    ]


def test_api_hides_forecasts_outside_the_viewers_reach(world: World, api_as: Any) -> None:
    org = world.org
    rep = api_as(org.rep)
    for path, params in [
        (f"/forecasts/users/{org.other_rep.pk}", {}),
        (f"/forecasts/users/{org.manager.pk}", {}),
        ("/forecasts", {}),
        ("/forecasts", {"region": str(world.bkk.pk)}),
        ("/forecasts/trend", {}),
        (f"/forecasts/users/{org.other_rep.pk}/trend", {}),
    ]:
        response = rep.get(path, **params)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/problem+json"
    regional = api_as(world.regional)
    assert regional.get("/forecasts", region=str(world.bkk.pk)).status_code == 200
    assert regional.get("/forecasts", region=str(world.cnx.pk)).status_code == 404
    assert regional.get("/forecasts").status_code == 404
    assert regional.get(f"/forecasts/users/{org.south_rep.pk}").status_code == 200
    assert rep.get(f"/forecasts/users/{org.rep.pk}").json()["may_adjust"] is False


def test_api_adjust_and_trend(world: World, api_as: Any) -> None:
    org = world.org
    manager = api_as(org.manager)
    path = f"/forecasts/users/{org.rep.pk}/adjustments"
    created = manager.post(
        path, {"period": "FY2026-Q1", "category": "commit", "amount": "150000", "note": "Siam"}
    )
    assert created.status_code == 201, created.content
    assert (created.json()["amount"], created.json()["computed_amount"]) == (
        "150000.00",
        "137000.00",
    )
    bad = manager.post(
        path, {"period": "FY2026-Q9", "category": "closed_won", "amount": "1", "note": "x"}
    )
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"period", "category"}
    unknown = manager.post(
        path, {"period": "2026-02", "category": "commit", "amount": "1", "note": "x", "by": "me"}
    )
    assert unknown.status_code == 422
    refused = api_as(org.rep).post(
        path, {"period": "FY2026-Q1", "category": "commit", "amount": "1", "note": "x"}
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "not_a_manager")
    hidden = api_as(org.other_rep).post(
        path, {"period": "FY2026-Q1", "category": "commit", "amount": "1", "note": "x"}
    )
    assert hidden.status_code == 404
    services.forecast_snapshot_take(today=dt.date(2026, 2, 18))
    trend = manager.get(f"/forecasts/users/{org.manager.pk}/trend", period="FY2026-Q1").json()
    assert trend["node"] == f"user:{org.manager.pk}"
    assert [(w["week_start"], w["commit"], w["adjusted_commit"]) for w in trend["weeks"]] == [
        ("2026-02-16", "187000.00", "200000.00")
    ]
    org_trend = api_as(org.executive).get("/forecasts/trend", period="FY2026-Q1").json()
    assert [(w["week_start"], w["pipeline"]) for w in org_trend["weeks"]] == [
        ("2026-02-16", "1357000.00")
    ]


def test_api_quotas_crud(world: World, api_as: Any) -> None:
    org = world.org
    manager = api_as(org.manager)
    created = manager.post(
        "/quotas", {"user": str(org.rep.pk), "period": "FY2026-Q1", "amount": "100000"}
    )
    assert created.status_code == 201, created.content
    quota = created.json()
    assert (quota["period"], quota["period_kind"], quota["period_start"], quota["district"]) == (
        "FY2026-Q1",
        "quarter",
        "2026-01-01",
        str(org.north.pk),
    )
    again = manager.post("/quotas", {"user": str(org.rep.pk), "period": "FY2026-Q1", "amount": "1"})
    assert (again.status_code, again.json()["code"]) == (409, "quota_exists")
    negative = manager.post(
        "/quotas", {"user": str(org.rep.pk), "period": "2026-05", "amount": "-1"}
    )
    assert negative.status_code == 422
    by_rep = api_as(org.rep).post(
        "/quotas", {"user": str(org.rep.pk), "period": "2026-05", "amount": "1"}
    )
    assert (by_rep.status_code, by_rep.json()["code"]) == (403, "not_a_manager")
    elsewhere = manager.post(
        "/quotas", {"user": str(org.south_rep.pk), "period": "2026-05", "amount": "1"}
    )
    assert elsewhere.status_code == 404
    changed = manager.patch(f"/quotas/{quota['id']}", {"amount": "120000", "note": "Raised"})
    assert (changed.status_code, changed.json()["amount"], changed.json()["note"]) == (
        200,
        "120000.00",
        "Raised",
    )
    listed = api_as(org.rep).get("/quotas", period="FY2026-Q1").json()
    assert [(q["user"], q["amount"]) for q in listed["items"]] == [(str(org.rep.pk), "120000.00")]
    assert api_as(org.south_rep).get(f"/quotas/{quota['id']}").status_code == 404
    assert api_as(org.rep).delete(f"/quotas/{quota['id']}").status_code == 403
    assert manager.delete(f"/quotas/{quota['id']}").status_code == 204
    actions = list(
        AuditEvent.objects.filter(record_type="insights.quota")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update", "delete"]


# --- Django admin -------------------------------------------------------------------------


def test_admin_sets_quotas_with_the_same_rules(world: World) -> None:
    from django.test import Client

    org = world.org
    client = Client()
    client.force_login(org.admin)
    base = {"user": org.rep.pk, "amount": "30000", "district": "", "note": ""}
    created = client.post(
        "/admin/insights/quota/add/",
        {**base, "period_kind": "month", "period_start": "2026-02-01"},
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    quota = Quota.objects.get(user=org.rep)
    assert (quota.amount, quota.business_unit_id) == (D(30000), org.unit.pk)
    assert AuditEvent.objects.filter(record_type="insights.quota", action="create").count() == 1
    overlap = client.post(
        "/admin/insights/quota/add/",
        {**base, "period_kind": "quarter", "period_start": "2026-01-01"},
    )
    assert overlap.status_code == 200
    assert "overlapping period" in overlap.content.decode()
    not_a_start = client.post(
        "/admin/insights/quota/add/",
        {**base, "period_kind": "quarter", "period_start": "2026-02-01"},
    )
    assert "does not begin a quarter" in not_a_start.content.decode()
    assert Quota.objects.count() == 1
