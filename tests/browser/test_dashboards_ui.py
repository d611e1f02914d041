"""Each role's dashboard in a real browser: the charts are drawn (Chart.js, vendored) with
the expected series and figures, the table view reads the same figures, Thai labels and
THB amounts, no sideways scrolling at phone size, no content-security-policy violation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import screenshots, sign_in
from tests.conftest import Org
from tests.test_forecast import World, build_world, set_quotas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PERIOD = "?period=FY2026-Q1"


@pytest.fixture
def world(org: Org, settings: Any) -> World:
    settings.ACCORD_FISCAL_YEAR_START_MONTH = 1
    world = build_world(org)
    set_quotas(world)
    return world


def _chart(page: Any, chart_id: str) -> dict[str, Any]:
    """What Chart.js holds for a canvas: labels and each data set's label and values."""
    page.wait_for_selector(f"#{chart_id}[data-rendered='true']")
    result: dict[str, Any] = page.evaluate(
        """(id) => {
            const chart = Chart.getChart(document.getElementById(id));
            return {
                labels: chart.data.labels,
                sets: chart.data.datasets.map(d => ({label: d.label, data: d.data,
                                                     type: d.type || chart.config.type})),
            };
        }""",
        chart_id,
    )
    return result


def _values(chart: dict[str, Any]) -> dict[str, list[Any]]:
    return {s["label"]: s["data"] for s in chart["sets"]}


def test_a_reps_dashboard_draws_their_quota_and_pipeline(world: World, new_page: Any) -> None:
    page = new_page()
    sign_in(page, "rep")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboards").click()
    page.wait_for_url("**/dashboards/mine/")
    page.goto(f"/dashboards/mine/{PERIOD}")
    quota = _chart(page, "chart-quota")
    assert quota["labels"] == ["Closed won", "Commit", "Best case", "Pipeline", "Quota"]
    assert _values(quota) == {"Amount": [37000, 137000, 187000, 207000, 100000]}
    pipeline = _chart(page, "chart-pipeline")
    assert pipeline["labels"] == ["Prospecting", "Proposal", "Negotiation"]
    assert _values(pipeline)["Amount"] == [20000, 50000, 100000]
    tile = page.locator("[data-panel='quota'] [data-tile='attainment'] dd")
    assert tile.inner_text() == "37.0%"
    screenshots(page, "dashboard-rep")


def test_a_sales_managers_team_dashboard(world: World, new_page: Any) -> None:
    page = new_page()
    sign_in(page, "manager")
    page.goto(f"/dashboards/{PERIOD}")
    page.wait_for_url("**/dashboards/team/**")
    rollup = _chart(page, "chart-rollup")
    assert [s["label"] for s in rollup["sets"]] == ["Closed won", "Commit", "Pipeline", "Quota"]
    assert rollup["sets"][3]["type"] == "line"  # the quota is drawn over the bars
    by_person = dict(zip(rollup["labels"], _values(rollup)["Commit"], strict=True))
    assert sorted(by_person.values()) == [0, 50000, 137000]
    assert len(rollup["labels"]) == 3
    screenshots(page, "dashboard-manager")


def test_a_regional_managers_dashboard_compares_districts(world: World, new_page: Any) -> None:
    page = new_page()
    sign_in(page, "regional")
    page.goto(f"/dashboards/{PERIOD}")
    page.wait_for_url("**/dashboards/region/**")
    units = _chart(page, "chart-rollup")
    assert units["labels"] == ["Business Solution Development", "Business Solution Outsourcing"]
    assert _values(units)["Commit"] == [187000, 15000]
    districts = _chart(page, "chart-districts")
    assert districts["labels"] == ["Bangkok North", "Bangkok South"]
    assert _values(districts)["Pipeline"] == [257000, 100000]
    screenshots(page, "dashboard-regional")


def test_the_executive_dashboard_and_its_table_view_on_a_phone(world: World, new_page: Any) -> None:
    page = new_page(phone=True)
    sign_in(page, "exec")
    page.goto(f"/dashboards/{PERIOD}")
    page.wait_for_url("**/dashboards/company/**")
    regions = _chart(page, "chart-rollup")
    assert regions["labels"] == ["Bangkok", "Chiang Mai"]
    assert _values(regions)["Commit"] == [202000, 1000000]
    units = _chart(page, "chart-units")
    assert _values(units)["Amount"] == [235000, 1075000]
    screenshots(page, "dashboard-executive")
    page.get_by_role("link", name="Show as tables").click()
    page.wait_for_url("**view=table**")
    assert page.locator("canvas").count() == 0
    table = page.locator("[data-panel='rollup'] table")
    assert "฿1,000,000.00" in table.inner_text()
    screenshots(page, "dashboard-executive-tables")


def test_thai_labels_and_baht(world: World, new_page: Any, live_server: Any) -> None:
    page = new_page()
    sign_in(page, "rep")
    page.context.add_cookies([{"name": "django_language", "value": "th", "url": live_server.url}])
    page.goto(f"/dashboards/mine/{PERIOD}")
    assert page.get_by_role("heading", level=1).inner_text().startswith("แดชบอร์ดของฉัน")
    quota = _chart(page, "chart-quota")
    assert quota["labels"][0] == "ปิดการขายได้" and quota["labels"][-1] == "โควตา"
    tick = page.evaluate(
        "() => Chart.getChart(document.getElementById('chart-quota'))"
        ".scales.x.ticks.map(t => t.label)"
    )
    assert any("฿" in str(label) for label in tick), tick
    screenshots(page, "dashboard-rep-thai")
