"""Dashboards per role: the figures each panel shows, who may open which, query counts,
the page (charts' data, table view, Thai) and the API.

The opportunities are ``tests.test_forecast``'s world (figures worked out by hand there and
again below); activities are added here in the week of Monday 16 February 2026.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from accord.activities.services import activity_create
from accord.core.errors import NotFound
from accord.insights.dashboards import (
    Dashboard,
    DashboardKind,
    Panel,
    dashboard_build,
    dashboards_available,
    default_dashboard,
)
from accord.insights.services import forecast_snapshot_take
from accord.org.models import Role, User
from tests.conftest import Org, make_account
from tests.factories import UserFactory
from tests.test_forecast import Q1, World, _opp, build_world, set_quotas

BKK = ZoneInfo("Asia/Bangkok")
D = Decimal
WEDNESDAY = dt.date(2026, 2, 18)  # the week of Monday 16 February 2026


@pytest.fixture
def world(org: Org) -> World:
    world = build_world(org)
    set_quotas(world)
    return world


def _activity(actor: User, account: Any, kind: str, at: dt.datetime, **extra: Any) -> None:
    activity_create(
        actor=actor,
        data={
            "kind": kind,
            "subject": f"{kind} {at:%a %H:%M}",
            "account": account.pk,
            "start_at": at,
            **extra,
        },
    )


@pytest.fixture
def activities(world: World) -> None:
    """The rep: a visit on Monday, a call and a meeting on Tuesday, a task (not counted) and
    a visit late on the Sunday before (last week, in Bangkok time). The other rep: a visit on
    Friday. The south rep (other unit, south): a call on Wednesday."""
    org = world.org
    north = make_account(org, legal_name="Activity North Co., Ltd.")
    south = make_account(org, legal_name="Activity South Co., Ltd.", district=org.south)
    _activity(org.rep, north, "visit", dt.datetime(2026, 2, 16, 10, 0, tzinfo=BKK))
    _activity(org.rep, north, "call", dt.datetime(2026, 2, 17, 9, 0, tzinfo=BKK))
    _activity(org.rep, north, "meeting", dt.datetime(2026, 2, 17, 14, 0, tzinfo=BKK))
    _activity(org.rep, north, "task", dt.datetime(2026, 2, 18, 9, 0, tzinfo=BKK))
    _activity(org.rep, north, "visit", dt.datetime(2026, 2, 15, 23, 30, tzinfo=BKK))
    _activity(org.other_rep, north, "visit", dt.datetime(2026, 2, 20, 16, 0, tzinfo=BKK))
    _activity(org.south_rep, south, "call", dt.datetime(2026, 2, 18, 11, 0, tzinfo=BKK))


def _build(viewer: User, kind: str, **kwargs: Any) -> Dashboard:
    return dashboard_build(viewer=viewer, kind=kind, period=Q1, today=WEDNESDAY, **kwargs)


def _panel(dashboard: Dashboard, key: str) -> Panel:
    return next(p for p in dashboard.panels if p.key == key)


def _series(panel: Panel) -> dict[str, list[Any]]:
    return {s.key: s.values for s in panel.chart.series}


def _by_label(panel: Panel) -> dict[str, dict[str, Any]]:
    return {
        label: {s.key: s.values[i] for s in panel.chart.series}
        for i, label in enumerate(panel.chart.labels)
    }


def _tiles(panel: Panel) -> dict[str, Any]:
    return {t.key: t.value for t in panel.tiles}


# --- who gets which ----------------------------------------------------------------------


def test_each_role_lands_on_its_dashboard(world: World) -> None:
    org = world.org
    assert default_dashboard(org.rep) == DashboardKind.MINE
    assert dashboards_available(org.rep) == [DashboardKind.MINE]
    assert default_dashboard(org.manager) == DashboardKind.TEAM
    assert dashboards_available(org.manager) == [DashboardKind.MINE, DashboardKind.TEAM]
    assert default_dashboard(world.regional) == DashboardKind.REGION
    assert default_dashboard(org.executive) == DashboardKind.COMPANY
    assert default_dashboard(org.admin) == DashboardKind.COMPANY
    integration = UserFactory(username="ledger", role=Role.INTEGRATION)
    assert dashboards_available(integration) == []
    assert default_dashboard(integration) is None


def test_a_dashboard_out_of_reach_is_not_found(world: World) -> None:
    org = world.org
    for kind in ("team", "region", "company", "nonsense"):
        with pytest.raises(NotFound):
            _build(org.rep, kind)
    with pytest.raises(NotFound):  # a regional manager: only their own region
        _build(world.regional, "region", region_id=world.cnx.pk)
    with pytest.raises(NotFound):
        _build(world.regional, "company")


# --- the figures -------------------------------------------------------------------------


def test_a_reps_dashboard(world: World, activities: None) -> None:
    rep = world.org.rep
    dashboard = _build(rep, "mine")
    assert [p.key for p in dashboard.panels] == ["quota", "pipeline", "activities", "trend"]
    quota = _panel(dashboard, "quota")
    # won 30k + 7k; commit + 100k; best case + 50k; pipeline + 20k; quota 100k.
    assert _series(quota) == {"amount": [D(37000), D(137000), D(187000), D(207000), D(100000)]}
    assert _tiles(quota) == {
        "closed_won": D(37000),
        "commit": D(137000),
        "quota": D(100000),
        "attainment": D("0.3700"),
        "gap": D(63000),
    }
    pipeline = _panel(dashboard, "pipeline")
    amounts = {label: values["amount"] for label, values in _by_label(pipeline).items()}
    assert amounts == {"Prospecting": D(20000), "Proposal": D(50000), "Negotiation": D(100000)}
    assert _tiles(pipeline)["opportunities"] == 3
    week = _panel(dashboard, "activities")
    assert week.chart.labels[0] == "Mon 16 Feb" and len(week.chart.labels) == 7
    assert _series(week) == {
        "visit": [1, 0, 0, 0, 0, 0, 0],
        "call": [0, 1, 0, 0, 0, 0, 0],
        "meeting": [0, 1, 0, 0, 0, 0, 0],
    }
    assert _tiles(week) == {"visit": 1, "call": 1, "meeting": 1}
    assert _panel(dashboard, "trend").chart.empty  # no snapshots yet


def test_a_sales_managers_team_dashboard(world: World, activities: None) -> None:
    org = world.org
    dashboard = _build(org.manager, "team")
    rollup = _panel(dashboard, "rollup")
    assert _by_label(rollup) == {
        str(org.manager.get_full_name() or org.manager.username): {
            "closed_won": D(0),
            "commit": D(0),
            "pipeline": D(25000),
            "quota": None,
        },
        str(org.rep.get_full_name() or org.rep.username): {
            "closed_won": D(37000),
            "commit": D(137000),
            "pipeline": D(207000),
            "quota": D(100000),
        },
        str(org.other_rep.get_full_name() or org.other_rep.username): {
            "closed_won": D(10000),
            "commit": D(50000),
            "pipeline": D(50000),
            "quota": D(60000),
        },
    }
    # 47k won of 160k: 0.29375 → 0.2938.
    assert _tiles(rollup) == {
        "closed_won": D(47000),
        "commit": D(187000),
        "quota": D(160000),
        "attainment": D("0.2938"),
        "gap": D(113000),
    }
    # The team's open deals in the quarter: the rep's 20k / 50k / 100k, the other rep's 40k,
    # the manager's own 25k proposal.
    amounts = {k: v["amount"] for k, v in _by_label(_panel(dashboard, "pipeline")).items()}
    assert amounts == {"Prospecting": D(20000), "Proposal": D(75000), "Negotiation": D(140000)}
    week = _by_label(_panel(dashboard, "activities"))
    assert week[str(org.rep.get_full_name() or org.rep.username)] == {
        "visit": 1,
        "call": 1,
        "meeting": 1,
    }
    assert week[str(org.other_rep.get_full_name() or org.other_rep.username)] == {
        "visit": 1,
        "call": 0,
        "meeting": 0,
    }
    # The south rep is not in the team: no row, and their call is not counted.
    assert sum(_tiles(_panel(dashboard, "activities")).values()) == 4


def test_a_regional_managers_region_dashboard(world: World, activities: None) -> None:
    dashboard = _build(world.regional, "region")
    assert dashboard.region_id == world.bkk.pk
    assert dashboard.subject == "Bangkok"
    rollup = _by_label(_panel(dashboard, "rollup"))
    assert rollup == {
        "Business Solution Development": {
            "closed_won": D(47000),
            "commit": D(187000),
            "pipeline": D(282000),
            "quota": D(160000),
        },
        "Business Solution Outsourcing": {
            "closed_won": D(0),
            "commit": D(15000),
            "pipeline": D(75000),
            "quota": D(50000),
        },
    }
    # Districts across both units: the north holds the BSD reps' deals; the south the
    # manager's 25k proposal and the south rep's 60k prospect and 15k commit.
    districts = _by_label(_panel(dashboard, "districts"))
    assert {k: (v["closed_won"], v["commit"], v["pipeline"]) for k, v in districts.items()} == {
        "Bangkok North": (D(47000), D(187000), D(257000)),
        "Bangkok South": (D(0), D(15000), D(100000)),
    }
    # Activities are private to who performed them and the people above them: the south
    # rep (another unit, not under this regional manager) is not counted.
    week = _by_label(_panel(dashboard, "activities"))
    assert week == {
        "Bangkok North": {"visit": 2, "call": 1, "meeting": 1},
        "Bangkok South": {"visit": 0, "call": 0, "meeting": 0},
    }


def test_the_company_dashboard(world: World, activities: None) -> None:
    dashboard = _build(world.org.executive, "company")
    rollup = _panel(dashboard, "rollup")
    assert {
        k: (v["closed_won"], v["commit"], v["pipeline"]) for k, v in _by_label(rollup).items()
    } == {
        "Bangkok": (D(47000), D(202000), D(357000)),
        "Chiang Mai": (D(0), D(1000000), D(1000000)),
    }
    assert _tiles(rollup)["quota"] == D(210000)
    units = {k: v["amount"] for k, v in _by_label(_panel(dashboard, "units")).items()}
    assert units == {
        "Business Solution Development": D(235000),
        "Business Solution Outsourcing": D(1075000),
    }
    # By the unit of who performed them: the two BSD reps; the BSO south rep's call.
    assert _by_label(_panel(dashboard, "activities")) == {
        "Business Solution Development": {"visit": 2, "call": 1, "meeting": 1},
        "Business Solution Outsourcing": {"visit": 0, "call": 1, "meeting": 0},
    }


def test_the_trend_comes_from_the_weekly_snapshots(world: World) -> None:
    org = world.org
    forecast_snapshot_take(today=dt.date(2026, 2, 2))
    _opp(
        org,
        owner=org.rep,
        account=make_account(org, legal_name="Late Co., Ltd."),
        stage="Negotiation",
        amount="11000",
        close=dt.date(2026, 3, 20),
    )
    forecast_snapshot_take(today=dt.date(2026, 2, 9))
    trend = _panel(_build(org.rep, "mine"), "trend")
    assert trend.chart.labels == ["2 Feb 2026", "9 Feb 2026"]
    assert _series(trend) == {
        "commit": [D(137000), D(148000)],
        "closed_won": [D(37000), D(37000)],
        "quota": [D(100000), D(100000)],
    }


# --- cost --------------------------------------------------------------------------------


def _queries(viewer: User, kind: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        _build(viewer, kind)
    return len(ctx.captured_queries)


def test_query_counts_do_not_grow_with_the_data(world: World, activities: None) -> None:
    org = world.org
    viewers = [
        (org.rep, "mine"),
        (org.manager, "team"),
        (world.regional, "region"),
        (org.executive, "company"),
    ]
    for viewer, kind in viewers:  # warm the per-process caches (sharing model, types)
        _queries(viewer, kind)
    before = {kind: _queries(viewer, kind) for viewer, kind in viewers}
    account = make_account(org, legal_name="More Co., Ltd.")
    for i in range(5):
        _opp(
            org,
            owner=org.rep,
            account=account,
            stage="Proposal",
            amount=str(1000 + i),
            close=dt.date(2026, 2, 1 + i),
        )
        _activity(org.rep, account, "call", dt.datetime(2026, 2, 18, 8 + i, 0, tzinfo=BKK))
    after = {kind: _queries(viewer, kind) for viewer, kind in viewers}
    assert after == before
    assert max(before.values()) <= 16, before


# --- the page and the API ----------------------------------------------------------------


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _chart_data(html: str, chart_id: str) -> dict[str, Any]:
    marker = f'<script id="{chart_id}-data" type="application/json">'
    start = html.index(marker) + len(marker)
    return json.loads(html[start : html.index("</script>", start)])


def test_dashboards_home_redirects_by_role(world: World) -> None:
    org = world.org
    for user, kind in (
        (org.rep, "mine"),
        (org.manager, "team"),
        (world.regional, "region"),
        (org.executive, "company"),
    ):
        response = _client(user).get("/dashboards/?period=FY2026-Q1")
        assert response.status_code == 302
        assert response["Location"] == f"/dashboards/{kind}/?period=FY2026-Q1"


def test_the_page_embeds_each_charts_figures_and_a_table(world: World) -> None:
    response = _client(world.org.manager).get("/dashboards/team/?period=FY2026-Q1")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-chart="chart-rollup-data"' in html
    data = _chart_data(html, "chart-rollup")
    assert [s["key"] for s in data["series"]] == ["closed_won", "commit", "pipeline", "quota"]
    assert data["series"][3]["line"] is True
    assert sorted(data["series"][1]["values"]) == [0.0, 50000.0, 137000.0]
    assert "chart.umd.min.js" in html
    assert "<table" in html and "฿137,000.00" in html
    tabs = response.context["tabs"]
    assert [kind for kind, _label, _url in tabs] == ["mine", "team"]


def test_the_table_view_draws_no_charts(world: World) -> None:
    response = _client(world.org.rep).get("/dashboards/mine/?period=FY2026-Q1&view=table")
    html = response.content.decode()
    assert "<canvas" not in html and "chart.umd.min.js" not in html
    assert html.count('<details class="chart-table" open>') >= 2
    assert "฿207,000.00" in html


def test_the_page_in_thai(world: World) -> None:
    client = _client(world.org.rep)
    client.cookies["django_language"] = "th"
    response = client.get("/dashboards/mine/?period=FY2026-Q1")
    html = response.content.decode()
    assert response.status_code == 200
    assert "ไตรมาส 1 ปีงบประมาณ 2569" in html
    assert 'data-locale="th-TH"' in html
    labels = _chart_data(html, "chart-quota")["labels"]
    assert labels[0] == "ปิดการขายได้" and labels[-1] == "โควตา"


def test_thai_chart_labels(world: World, activities: None) -> None:
    with translation.override("th"):
        dashboard = _build(world.org.rep, "mine")
    week = _panel(dashboard, "activities")
    assert week.chart.labels[0] == "จ. 16 ก.พ." and week.chart.labels[6] == "อา. 22 ก.พ."
    assert _panel(dashboard, "quota").chart.labels[0] == "ปิดการขายได้"


def test_pages_out_of_reach_are_404(world: World) -> None:
    org = world.org
    rep = _client(org.rep)
    assert rep.get("/dashboards/team/").status_code == 404
    assert rep.get("/dashboards/company/").status_code == 404
    assert (
        _client(world.regional).get(f"/dashboards/region/?region={world.cnx.pk}").status_code == 404
    )
    assert _client(world.regional).get("/dashboards/region/?region=nope").status_code == 404
    integration = UserFactory(username="ledger", role=Role.INTEGRATION)
    assert _client(integration).get("/dashboards/").status_code == 404


def test_a_bad_period_falls_back_to_this_quarter_with_a_notice(world: World) -> None:
    response = _client(world.org.rep).get("/dashboards/mine/?period=2026-13")
    assert response.status_code == 200
    assert response.context["bad_period"] is True


def test_api_dashboards(world: World, api_as: Any) -> None:
    org = world.org
    listing = api_as(org.manager).get("/dashboards")
    assert listing.status_code == 200
    assert listing.json() == {"available": ["mine", "team"], "default": "team"}
    response = api_as(org.manager).get("/dashboards/team?period=FY2026-Q1")
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "team" and body["period"]["key"] == "FY2026-Q1"
    rollup = next(p for p in body["panels"] if p["key"] == "rollup")
    tiles = {t["key"]: t["value"] for t in rollup["tiles"]}
    assert Decimal(str(tiles["commit"])) == D(187000)
    assert rollup["chart"]["series"][0]["key"] == "closed_won"
    refused = api_as(org.rep).get("/dashboards/company")
    assert refused.status_code == 404
    assert refused["Content-Type"].startswith("application/problem+json")
    bad = api_as(org.rep).get("/dashboards/mine?period=2026-13")
    assert bad.status_code == 422
