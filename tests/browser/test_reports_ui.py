"""The reports in a real browser: every report at desktop and phone size (no sideways
scrolling, no content-security-policy violation), a filter applied in place, a download."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from accord.insights.reports import REPORTS
from tests.browser.conftest import no_horizontal_scroll, screenshots, sign_in
from tests.conftest import Org
from tests.test_reports import build_world, make_requests, make_stale

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(org: Org, settings: Any) -> Any:
    settings.ACCORD_FISCAL_YEAR_START_MONTH = 1
    world = build_world(org)
    make_requests(org)
    make_stale(world)
    return world


def test_every_report_at_desktop_and_phone_size(world: Any, new_page: Any) -> None:
    page = new_page()
    sign_in(page, "admin")
    page.get_by_role("navigation").get_by_role("link", name="Reports").click()
    page.wait_for_url("**/reports/")
    screenshots(page, "reports-index")
    for spec in REPORTS.values():
        page.goto(f"/reports/{spec.name}/?period=all")
        assert page.get_by_role("heading", level=1).inner_text() == str(spec.title)
        assert page.locator("#report-table tbody tr").count() > 0, spec.name
        screenshots(page, f"report-{spec.name}")


def test_filter_in_place_and_download_on_a_phone(world: Any, new_page: Any) -> None:
    org = world.org
    page = new_page(phone=True)
    sign_in(page, "admin")
    page.goto("/reports/pipeline-by-unit/?period=FY2026-Q1")
    table = page.locator("#report-table")
    assert table.get_by_text("Business Solution Development").is_visible()
    # when: a unit is chosen, the table changes in place and the address follows
    page.get_by_label("Business unit").select_option(label="Business Solution Outsourcing")
    table.get_by_text("Business Solution Development").wait_for(state="detached")
    assert f"unit={org.other_unit.pk}" in page.url
    assert page.locator("#report-table tfoot").inner_text().split("\t")[-2:] == [
        "฿40,000.00",
        "฿8,000.00",
    ]
    assert no_horizontal_scroll(page)
    screenshots(page, "report-pipeline-by-unit-filtered")
    # when: the CSV is downloaded, it holds the filtered figures
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").tap()
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1:] == [
        ["Business Solution Outsourcing", "1", "40000.00", "8000.00"],
        ["Total", "1", "40000.00", "8000.00"],
    ]


def test_a_rep_reads_their_own_win_rate_on_a_phone(world: Any, new_page: Any) -> None:
    org = world.org
    page = new_page(phone=True)
    sign_in(page, "rep")
    page.goto("/reports/win-rate/?period=FY2026-Q1")
    body = page.locator("#report-table tbody")
    assert body.locator("tr").count() == 1
    assert body.get_by_text(str(org.rep)).is_visible()
    assert "66.7%" in body.inner_text()
    screenshots(page, "report-win-rate-rep")
