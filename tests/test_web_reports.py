"""The report pages: index, each report's table and filters, visibility, downloads, Thai."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from accord.audit.models import SecurityEvent, SecurityEventKind
from accord.insights.reports import REPORTS, ReportName
from accord.org.models import User
from tests.conftest import Org
from tests.test_reports import World, build_world, make_requests, make_stale

Q1 = {"period": "FY2026-Q1"}


@pytest.fixture
def world(org: Org, settings: Any) -> World:
    settings.ACCORD_FISCAL_YEAR_START_MONTH = 1
    return build_world(org)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def cells(response: Any) -> list[list[str]]:
    """The table's text, row by row (header, body, totals)."""
    rows: list[list[str]] = []
    for row in response.context["rows"]:
        rows.append([c.text for c in row])
    if response.context["totals"]:
        rows.append([c.text for c in response.context["totals"]])
    return rows


def test_everyone_gets_the_navigation_entry_and_the_index(world: World) -> None:
    for user in (world.org.rep, world.org.admin):
        page = signed_in(user).get("/reports/")
        assert page.status_code == 200
        html = page.content.decode()
        assert '<a href="/reports/" aria-current="page">Reports</a>' in html
        for name in REPORTS:
            assert f'href="/reports/{name}/"' in html


@pytest.mark.parametrize("name", list(ReportName))
def test_each_report_page_renders_its_table(world: World, name: ReportName) -> None:
    make_requests(world.org)
    make_stale(world)
    response = signed_in(world.org.admin).get(f"/reports/{name}/", {"period": "all"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<div class="table-scroll">' in html
    assert '<table class="data" id="report-table">' in html
    assert f'href="/reports/{name}/export.csv?period=all' in html
    assert f'href="/reports/{name}/export.xlsx?period=all' in html


def test_win_rate_page_shows_baht_and_percentages(world: World) -> None:
    org = world.org
    response = signed_in(org.manager).get("/reports/win-rate/", Q1)
    table = cells(response)
    assert [str(org.rep), "2", "1", "66.7%", "฿40,000.00", "฿5,000.00", "88.9%"] in table
    assert [str(org.other_rep), "1", "1", "50.0%", "฿60,000.00", "฿15,000.00", "80.0%"] in table
    assert table[-1] == ["Total", "3", "2", "60.0%", "฿100,000.00", "฿20,000.00", "83.3%"]
    html = response.content.decode()
    assert "Q1 FY2026" in html
    assert str(org.south_rep) not in html  # not in the manager's team


def test_a_rep_sees_only_their_own_figures_and_choices(world: World) -> None:
    org = world.org
    response = signed_in(org.rep).get("/reports/deal-size/", Q1)
    assert cells(response) == [
        [str(org.rep), "2", "฿40,000.00", "฿20,000.00", "฿10,000.00", "฿30,000.00"],
        ["Total", "2", "฿40,000.00", "฿20,000.00", "฿10,000.00", "฿30,000.00"],
    ]
    owners = [value for value, _label in response.context["form"].fields["owner"].choices]
    assert owners == ["", str(org.rep.pk)]


def test_filters_apply_and_htmx_gets_the_results_only(world: World) -> None:
    org = world.org
    response = signed_in(org.admin).get(
        "/reports/pipeline-by-unit/",
        {**Q1, "unit": str(org.other_unit.pk)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert cells(response) == [
        ["Business Solution Outsourcing", "1", "฿40,000.00", "฿8,000.00"],
        ["Total", "1", "฿40,000.00", "฿8,000.00"],
    ]
    assert f"export.csv?period=FY2026-Q1&amp;unit={org.other_unit.pk}" in html


def test_stale_report_has_a_days_filter_and_defaults_to_all_time(world: World) -> None:
    make_stale(world)
    client = signed_in(world.org.admin)
    response = client.get("/reports/stale-opportunities/")
    assert response.context["report"].period is None
    assert len(response.context["rows"]) == 4
    html = response.content.decode()
    assert 'name="days" value="30"' in html  # the default shows as the chosen value
    assert '<option value="all" selected>All time</option>' in html
    response = client.get("/reports/stale-opportunities/", {"days": "35"})
    assert len(response.context["rows"]) == 3
    assert 'id="report-days"' not in client.get("/reports/win-rate/").content.decode()


def test_bad_filter_values_are_shown_and_ignored(world: World) -> None:
    response = signed_in(world.org.admin).get(
        "/reports/win-rate/", {**Q1, "unit": "not-a-unit", "period": "2026-13"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"unit", "period"}
    report = response.context["report"]
    assert report.filters.unit_id is None
    assert report.period is not None  # this quarter, the default
    assert 'class="field has-error"' in response.content.decode()


def test_an_unknown_report_or_format_is_404(world: World) -> None:
    client = signed_in(world.org.admin)
    assert client.get("/reports/no-such-report/").status_code == 404
    assert client.get("/reports/win-rate/export.pdf").status_code == 404


def test_pages_need_a_sign_in(world: World) -> None:
    response = Client().get("/reports/win-rate/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_downloads_are_the_same_figures_and_are_logged(world: World) -> None:
    org = world.org
    client = signed_in(org.manager)
    response = client.get("/reports/lost-reasons/export.csv", Q1)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1:] == [["Price", "2", "1.0000", "20000.00"], ["Total", "2", "1.0000", "20000.00"]]
    response = client.get("/reports/pipeline-by-district/export.xlsx", Q1)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [
        ["District", "Opportunities", "Amount", "Weighted amount"],
        ["Bangkok North", 3, 80000, 53000],
        ["Total", 3, 80000, 53000],
    ]
    events = SecurityEvent.objects.filter(kind=SecurityEventKind.EXPORT).order_by("occurred_at")
    assert [(e.actor_id, e.detail["what"], e.detail["format"]) for e in events] == [
        (org.manager.pk, "report:lost-reasons", "csv"),
        (org.manager.pk, "report:pipeline-by-district", "xlsx"),
    ]


def test_thai_labels_and_buddhist_era_periods(world: World) -> None:
    client = signed_in(world.org.admin)
    client.post("/i18n/setlang/", {"language": "th", "next": "/"})
    response = client.get("/reports/pipeline-by-product-line/", Q1)
    assert cells(response)[0][0] == "คลาวด์"
    html = response.content.decode()
    assert "ไตรมาส 1 ปีงบประมาณ 2569" in html
    assert '<html lang="th">' in html


def test_page_queries_do_not_grow_with_the_data(world: World) -> None:
    org = world.org
    client = signed_in(org.manager)
    client.get("/reports/win-rate/", Q1)  # warm the session
    with CaptureQueriesContext(connection) as first:
        client.get("/reports/win-rate/", Q1)
    build_world(org, again=True)
    with CaptureQueriesContext(connection) as second:
        response = client.get("/reports/win-rate/", Q1)
    assert len(second.captured_queries) == len(first.captured_queries)
    assert cells(response)[-1][1] == "6"  # twice the wins
