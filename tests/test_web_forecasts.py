"""The forecast page: each level's roll-up, drill-down, adjustments, visibility, Thai."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accord.audit.models import AuditEvent
from accord.insights.models import ForecastAdjustment
from accord.org.models import User
from tests.conftest import Org, make_account
from tests.test_forecast import World, _opp, build_world, set_quotas

Q1 = {"period": "FY2026-Q1"}


@pytest.fixture
def world(org: Org) -> World:
    return build_world(org)


@pytest.fixture
def quotas(world: World) -> None:
    set_quotas(world)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _figures(response: Any) -> tuple[Decimal, ...]:
    s = response.context["forecast"].subject
    return (s.computed.closed_won, s.computed.commit, s.computed.best_case, s.computed.pipeline)


def test_a_manager_sees_their_team_with_quota_attainment_and_gap(
    world: World, quotas: None
) -> None:
    org = world.org
    response = signed_in(org.manager).get("/forecasts/", Q1)
    assert response.status_code == 200
    assert _figures(response) == (Decimal(47000), Decimal(187000), Decimal(262000), Decimal(282000))
    html = response.content.decode()
    assert 'href="/forecasts/"' in html  # the navigation entry
    assert "Q1 FY2026" in html
    assert '<dd data-figure="pipeline">฿282,000.00' in html
    assert '<dd data-figure="quota">฿160,000.00</dd>' in html
    assert '<dd data-figure="attainment">29%</dd>' in html  # 47k of 160k
    assert '<dd data-figure="gap">฿113,000.00</dd>' in html
    rows = [(r.label, r.url is not None, r.row.level) for r in response.context["rows"]]
    assert rows == [
        (str(org.manager), False, "own"),
        (str(org.rep), True, "user"),
        (str(org.other_rep), True, "user"),
    ]
    assert response.context["may_adjust"] is True
    rep_url = response.context["rows"][1].url
    assert rep_url == f"/forecasts/?user={org.rep.pk}&period=FY2026-Q1"
    rep = signed_in(org.manager).get(rep_url)
    assert _figures(rep) == (Decimal(37000), Decimal(137000), Decimal(187000), Decimal(207000))
    assert [c.label for c in rep.context["crumbs"]] == [str(org.manager)]


def test_the_page_takes_a_fixed_number_of_queries(world: World, quotas: None) -> None:
    client = signed_in(world.org.manager)
    client.get("/forecasts/", Q1)
    with CaptureQueriesContext(connection) as first:
        client.get("/forecasts/", Q1)
    account = make_account(world.org, legal_name="Extra Co., Ltd.")
    for i in range(10):
        _opp(
            world.org,
            owner=world.org.other_rep,
            account=account,
            stage="Proposal",
            amount=str(i + 1),
        )
    with CaptureQueriesContext(connection) as second:
        client.get("/forecasts/", Q1)
    # session and user (2), visibility scope (5), the subject, the reporting tree (2),
    # figures, quotas, adjustments, the breadcrumb (2), may-adjust, the trend,
    # notifications, session save (3): nothing grows with the opportunities.
    assert len(second.captured_queries) == len(first.captured_queries) == 21


def test_a_rep_sees_only_their_own(world: World) -> None:
    org = world.org
    client = signed_in(org.rep)
    response = client.get("/forecasts/", Q1)
    assert response.status_code == 200
    assert response.context["subject_user"] == org.rep
    assert response.context["rows"] == []
    assert response.context["may_adjust"] is False
    assert 'action="/forecasts/' not in response.content.decode()
    assert 'href="/forecasts/"' not in client.get("/").content.decode()  # no nav entry
    for params in (
        {"user": str(org.other_rep.pk)},
        {"user": str(org.manager.pk)},
        {"region": str(world.bkk.pk)},
        {"user": "not-a-uuid"},
    ):
        assert client.get("/forecasts/", params).status_code == 404, params


def test_an_executive_drills_down_from_the_company(world: World) -> None:
    org = world.org
    client = signed_in(org.executive)
    company = client.get("/forecasts/", Q1)
    assert company.context["forecast"].subject.level == "company"
    assert company.context["crumbs"] == []
    assert [r.label for r in company.context["rows"]] == ["Bangkok", "Chiang Mai"]
    region = client.get(company.context["rows"][0].url)
    assert [c.label for c in region.context["crumbs"]] == ["Company"]
    assert [r.label for r in region.context["rows"]] == [
        "Business Solution Development",
        "Business Solution Outsourcing",
    ]
    unit = client.get(region.context["rows"][0].url)
    assert [c.label for c in unit.context["crumbs"]] == ["Company", "Bangkok"]
    assert [r.label for r in unit.context["rows"]] == ["Bangkok North", "Bangkok South"]
    district = client.get(unit.context["rows"][0].url)
    assert [c.label for c in district.context["crumbs"]] == [
        "Company",
        "Bangkok",
        "Business Solution Development",
    ]
    people = {r.label: r.url for r in district.context["rows"]}
    assert set(people) == {str(org.rep), str(org.other_rep)}
    rep = client.get(people[str(org.rep)])
    assert _figures(rep) == (Decimal(37000), Decimal(137000), Decimal(187000), Decimal(207000))
    assert rep.context["may_adjust"] is False  # executives read


def test_a_regional_manager_starts_at_their_region(world: World) -> None:
    client = signed_in(world.regional)
    response = client.get("/forecasts/", Q1)
    assert response.context["forecast"].subject.label == "Bangkok"
    assert response.context["crumbs"] == []
    assert client.get("/forecasts/", {"region": str(world.cnx.pk)}).status_code == 404


def test_a_manager_adjusts_a_reps_commit_with_a_note(world: World) -> None:
    org = world.org
    client = signed_in(org.manager)
    response = client.post(
        f"/forecasts/{org.rep.pk}/adjust/",
        {"period": "FY2026-Q1", "category": "commit", "amount": "150000", "note": "Siam deal"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/forecasts/?user={org.rep.pk}&period=FY2026-Q1"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Forecast adjusted." in html
    assert (
        '<dd data-figure="commit">฿137,000.00<br><strong data-adjusted>฿150,000.00</strong>' in html
    )
    assert "Siam deal" in html and "฿137,000.00" in html
    team = client.get("/forecasts/", Q1)
    assert team.context["forecast"].subject.adjusted.commit == Decimal(200000)
    event = AuditEvent.objects.get(record_type="insights.forecastadjustment")
    assert event.actor_id == org.manager.pk
    assert event.source == "web"


def test_bad_adjustments_are_refused_next_to_the_field(world: World) -> None:
    org = world.org
    client = signed_in(org.manager)
    response = client.post(
        f"/forecasts/{org.rep.pk}/adjust/",
        {"period": "FY2026-Q1", "category": "commit", "amount": "-1", "note": ""},
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert set(form.errors) == {"amount", "note"}
    own = signed_in(org.rep).post(
        f"/forecasts/{org.rep.pk}/adjust/",
        {"period": "FY2026-Q1", "category": "commit", "amount": "1", "note": "me"},
    )
    assert own.status_code == 422
    assert "Only this person" in own.content.decode()
    peer = signed_in(org.other_rep).post(
        f"/forecasts/{org.rep.pk}/adjust/",
        {"period": "FY2026-Q1", "category": "commit", "amount": "1", "note": "x"},
    )
    assert peer.status_code == 404
    assert ForecastAdjustment.objects.count() == 0


def test_periods_move_and_switch_kind_with_htmx(world: World) -> None:
    client = signed_in(world.org.manager)
    response = client.get("/forecasts/", Q1, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html
    manager = world.org.manager.pk
    assert response.context["previous_url"] == f"/forecasts/?user={manager}&period=FY2025-Q4"
    assert response.context["other_kind_url"].endswith("period=2026-01")
    feb = client.get("/forecasts/", {"period": "2026-02"})
    assert _figures(feb) == (Decimal(30000), Decimal(130000), Decimal(155000), Decimal(155000))
    bad = client.get("/forecasts/", {"period": "someday"})
    assert bad.status_code == 200
    assert "That period was not understood" in bad.content.decode()


def test_thai_labels_and_baht(world: World) -> None:
    client = signed_in(world.org.manager)
    client.post("/i18n/setlang/", {"language": "th", "next": "/"})
    html = client.get("/forecasts/", Q1).content.decode()
    assert "ไตรมาส 1 ปีงบประมาณ 2569" in html
    assert "฿282,000.00" in html


def test_the_weekly_trend_is_listed(world: World) -> None:
    from accord.insights.services import forecast_snapshot_take

    forecast_snapshot_take(today=dt.date(2026, 2, 18))
    forecast_snapshot_take(today=dt.date(2026, 2, 25))
    response = signed_in(world.org.manager).get("/forecasts/", Q1)
    assert [(w.week_start, w.commit) for w in response.context["trend"]] == [
        (dt.date(2026, 2, 16), Decimal(187000)),
        (dt.date(2026, 2, 23), Decimal(187000)),
    ]
    html = response.content.decode()
    assert "Week of 16 Feb 2026" in html and "Week of 23 Feb 2026" in html
