"""Management reports: every figure below is worked out by hand from ``world``.

The period is Q1 2026 (January to March, calendar fiscal year) unless a test says otherwise.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from accord.activities.models import Activity
from accord.audit.models import SecurityEvent, SecurityEventKind
from accord.customers.models import Account, AccountRequest
from accord.insights.periods import period_parse
from accord.insights.reports import (
    REPORTS,
    Report,
    ReportFilters,
    ReportName,
    report_build,
    report_csv,
    report_xlsx,
)
from accord.org.models import ProductLine, User
from accord.sales.models import Opportunity, OpportunityLineItem
from tests.conftest import Org, make_account
from tests.factories import ProductFactory
from tests.test_forecast import _opp

BKK = ZoneInfo("Asia/Bangkok")
D = Decimal
Q1 = period_parse("FY2026-Q1", fiscal_start_month=1)
Q1_PARAMS = {"period": "FY2026-Q1"}


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BKK)


@dataclass
class World:
    org: Org
    north: Account
    south: Account
    opps: dict[str, Opportunity]


def _set(opp: Opportunity, **fields: Any) -> None:
    """Backdate or adjust fields through the ORM's save, so the opportunity cells follow."""
    for name, value in fields.items():
        setattr(opp, name, value)
    opp.save(update_fields=list(fields))


def _activity(user: User, kind: str, when: dt.datetime, **links: Any) -> Activity:
    return Activity.objects.create(
        kind=kind, subject=f"{kind} {when:%Y-%m-%d}", performed_by=user, occurred_at=when, **links
    )


def build_world(org: Org, *, again: bool = False) -> World:
    """``again``: a second copy of the same deals (for the query-count tests)."""
    rep, other, south_rep = org.rep, org.other_rep, org.south_rep
    names = ("Krungthep Steel", "Lanna Logistics") if again else ("North Co.", "South Co.")
    north = make_account(org, legal_name=f"{names[0]}, Ltd.")
    south = make_account(org, legal_name=f"{names[1]}, Ltd.", district=org.south)
    o: dict[str, Opportunity] = {}

    def opp(key: str, owner: User, account: Account, stage: str, amount: str, **kw: Any) -> None:
        o[key] = _opp(org, owner=owner, account=account, stage=stage, amount=amount, **kw)

    # open, expected to close in Q1
    opp("o1", rep, north, "Prospecting", "10000", close=dt.date(2026, 2, 10))
    opp("o2", rep, north, "Proposal", "20000", close=dt.date(2026, 3, 5))
    opp("o3", other, north, "Negotiation", "50000", close=dt.date(2026, 1, 20))
    opp("o4", south_rep, south, "Qualification", "40000", close=dt.date(2026, 2, 1))
    # open, not in Q1 / not in baht
    opp("o5", rep, north, "Proposal", "99000", close=dt.date(2026, 4, 15))
    opp("usd", rep, north, "Prospecting", "7000", close=dt.date(2026, 2, 2))
    _set(o["usd"], currency="USD")
    # closed in Q1 (Bangkok time)
    opp("w1", rep, north, "Closed won", "30000", closed_at=at(2026, 1, 31, 10))
    _set(o["w1"], created_at=at(2025, 12, 1, 10))  # 61 days
    opp("w2", rep, north, "Closed won", "10000", closed_at=at(2026, 2, 11, 12))
    _set(o["w2"], created_at=at(2026, 2, 1))  # 10.5 days
    opp("w3", other, north, "Closed won", "60000", closed_at=at(2026, 3, 1))
    _set(o["w3"], created_at=at(2026, 1, 1))  # 59 days
    opp("l1", rep, north, "Closed lost", "5000", closed_at=at(2026, 2, 20))
    _set(o["l1"], lost_reason="Price")
    opp("l2", other, north, "Closed lost", "15000", closed_at=at(2026, 3, 10))
    _set(o["l2"], lost_reason="Price")
    opp("l3", south_rep, south, "Closed lost", "10000", closed_at=at(2026, 1, 15))
    # won half an hour into Q2 (Bangkok time; still 31 March in UTC): not counted
    opp("w4", rep, north, "Closed won", "1000000", closed_at=at(2026, 4, 1, 0, 30))

    # products: "Managed print" on o1, o2 (and o5, out of the period); "Cloud" on o2, o3
    tag = "-2" if again else ""
    printing = ProductLine.objects.create(code=f"print{tag}", name="Managed print")
    cloud = ProductLine.objects.create(code=f"cloud{tag}", name="Cloud", name_th="คลาวด์")
    p_print = ProductFactory(product_line=printing)
    p_cloud = ProductFactory(product_line=cloud)
    for key, product, total in (
        ("o1", p_print, "10000"),
        ("o2", p_print, "12000"),
        ("o2", p_cloud, "8000"),
        ("o3", p_cloud, "50000"),
        ("o5", p_print, "99000"),
    ):
        OpportunityLineItem.objects.create(
            opportunity=o[key], product=product, quantity=1, unit_price=D(total), total=D(total)
        )

    # activities in Q1: rep's week of 5 Jan (a Sunday-night meeting still counts there),
    # rep's week of 12 Jan (00:30 on Monday in Bangkok is Sunday in UTC), others
    _activity(rep, "visit", at(2026, 1, 5, 9), account=north)
    _activity(rep, "call", at(2026, 1, 7, 14), account=north)
    _activity(rep, "meeting", at(2026, 1, 11, 23, 30), account=north)
    _activity(rep, "call", at(2026, 1, 12, 0, 30), account=north)
    _activity(rep, "note", at(2026, 1, 8, 10), account=north)  # not a visit/call/meeting
    _activity(rep, "visit", at(2025, 12, 31, 23), account=north)  # before Q1
    _activity(other, "visit", at(2026, 2, 3, 10), account=north)
    _activity(south_rep, "call", at(2026, 3, 2, 10), account=south)
    return World(org, north, south, o)


def make_stale(world: World) -> dt.datetime:
    """o3 idle 70 days (no activity), o4 65 days (only a planned one), o1 40 days, o5 31
    days; o2 had an activity 5 days ago."""
    now = timezone.now()
    o = world.opps
    for key, created in (("o1", 60), ("o2", 60), ("o3", 70), ("o4", 65), ("o5", 60)):
        _set(o[key], created_at=now - dt.timedelta(days=created))
    rep = world.org.rep
    _activity(rep, "task", now - dt.timedelta(days=40), opportunity=o["o1"])
    _activity(rep, "call", now - dt.timedelta(days=5), opportunity=o["o2"])
    _activity(world.org.south_rep, "visit", now + dt.timedelta(days=3), opportunity=o["o4"])
    _activity(rep, "note", now - dt.timedelta(days=31), opportunity=o["o5"])
    return now


def make_requests(org: Org) -> None:
    rows = [
        (org.rep, org.unit, "pending", at(2026, 1, 10)),
        (org.rep, org.unit, "resolved", at(2026, 2, 10)),
        (org.other_rep, org.unit, "approved", at(2026, 2, 11)),
        (org.other_rep, org.unit, "resolved", at(2026, 3, 31, 23)),
        (org.south_rep, org.other_unit, "rejected", at(2026, 1, 2)),
        (org.rep, None, "withdrawn", at(2026, 3, 1)),
        (org.rep, org.unit, "pending", at(2026, 4, 1, 1)),  # Q2
    ]
    for requester, unit, status, created in rows:
        request = AccountRequest.objects.create(
            requester=requester, business_unit=unit, legal_name=f"{status} Co.", status=status
        )
        AccountRequest.objects.filter(pk=request.pk).update(created_at=created)
    from accord.territories.models import OwnershipDispute

    disputed = Account.objects.filter(district=org.north).order_by("created_at").first()
    if disputed is not None:
        dispute = OwnershipDispute.objects.create(
            account=disputed,
            business_unit=org.unit,
            claimant=org.rep,
            reason="Visited monthly.",
            deadline=at(2026, 2, 20),
        )
        OwnershipDispute.objects.filter(pk=dispute.pk).update(created_at=at(2026, 2, 10))


@pytest.fixture
def world(org: Org, settings: Any) -> World:
    settings.ACCORD_FISCAL_YEAR_START_MONTH = 1
    return build_world(org)


def run(viewer: User, name: ReportName, **filters: Any) -> Report:
    filters.setdefault("period", Q1)
    return report_build(viewer=viewer, name=name, filters=ReportFilters(**filters))


def table(report: Report, *keys: str) -> list[tuple[Any, ...]]:
    return [tuple(row[k] for k in keys) for row in report.rows]


def by_owner(report: Report, *keys: str) -> dict[Any, tuple[Any, ...]]:
    return {row["id"]: tuple(row[k] for k in keys) for row in report.rows}


# --- pipeline -----------------------------------------------------------------------------


def test_pipeline_by_stage(world: World) -> None:
    report = run(world.org.admin, ReportName.PIPELINE_BY_STAGE)
    assert table(report, "label", "unit", "probability", "opportunities", "amount", "weighted") == [
        ("Prospecting", "Business Solution Development", 10, 1, D("10000.00"), D("1000.00")),
        ("Proposal", "Business Solution Development", 60, 1, D("20000.00"), D("12000.00")),
        ("Negotiation", "Business Solution Development", 80, 1, D("50000.00"), D("40000.00")),
        ("Qualification", "Business Solution Outsourcing", 20, 1, D("40000.00"), D("8000.00")),
    ]
    assert report.totals == {
        "opportunities": 4,
        "amount": D("120000.00"),
        "weighted": D("61000.00"),
    }


def test_pipeline_by_unit_and_district(world: World) -> None:
    org = world.org
    report = run(org.admin, ReportName.PIPELINE_BY_UNIT)
    assert table(report, "id", "opportunities", "amount", "weighted") == [
        (org.unit.pk, 3, D("80000.00"), D("53000.00")),
        (org.other_unit.pk, 1, D("40000.00"), D("8000.00")),
    ]
    report = run(org.admin, ReportName.PIPELINE_BY_DISTRICT)
    assert table(report, "label", "opportunities", "amount", "weighted") == [
        ("Bangkok North", 3, D("80000.00"), D("53000.00")),
        ("Bangkok South", 1, D("40000.00"), D("8000.00")),
    ]
    assert report.totals == {
        "opportunities": 4,
        "amount": D("120000.00"),
        "weighted": D("61000.00"),
    }


def test_pipeline_by_product_line(world: World) -> None:
    report = run(world.org.admin, ReportName.PIPELINE_BY_PRODUCT_LINE)
    # Cloud: o2 8k at 60% + o3 50k at 80%; Managed print: o1 10k at 10% + o2 12k at 60%
    assert table(report, "label", "label_th", "opportunities", "amount", "weighted") == [
        ("Cloud", "คลาวด์", 2, D("58000.00"), D("44800.00")),
        ("Managed print", "Managed print", 2, D("22000.00"), D("8200.00")),
    ]
    assert report.totals == {
        "opportunities": None,
        "amount": D("80000.00"),
        "weighted": D("53000.00"),
    }


def test_all_time_pipeline_includes_other_periods_but_never_other_currencies(world: World) -> None:
    report = run(world.org.admin, ReportName.PIPELINE_BY_UNIT, period=None)
    assert report.totals == {
        "opportunities": 5,
        "amount": D("219000.00"),
        "weighted": D("120400.00"),
    }


# --- closed business ----------------------------------------------------------------------


def test_win_rate(world: World) -> None:
    org = world.org
    report = run(org.admin, ReportName.WIN_RATE)
    keys = ("won", "lost", "win_rate", "won_amount", "lost_amount", "value_win_rate")
    assert by_owner(report, *keys) == {
        org.rep.pk: (2, 1, D("0.6667"), D("40000.00"), D("5000.00"), D("0.8889")),
        org.other_rep.pk: (1, 1, D("0.5000"), D("60000.00"), D("15000.00"), D("0.8000")),
        org.south_rep.pk: (0, 1, D("0.0000"), D("0.00"), D("10000.00"), D("0.0000")),
    }
    assert report.totals == {
        "won": 3,
        "lost": 3,
        "win_rate": D("0.5000"),
        "won_amount": D("100000.00"),
        "lost_amount": D("30000.00"),
        "value_win_rate": D("0.7692"),
    }


def test_average_deal_size(world: World) -> None:
    org = world.org
    report = run(org.admin, ReportName.DEAL_SIZE)
    assert by_owner(report, "won", "amount", "average", "smallest", "largest") == {
        org.rep.pk: (2, D("40000.00"), D("20000.00"), D("10000.00"), D("30000.00")),
        org.other_rep.pk: (1, D("60000.00"), D("60000.00"), D("60000.00"), D("60000.00")),
    }
    assert report.totals == {
        "won": 3,
        "amount": D("100000.00"),
        "average": D("33333.33"),
        "smallest": D("10000.00"),
        "largest": D("60000.00"),
    }


def test_sales_cycle_length(world: World) -> None:
    org = world.org
    report = run(org.admin, ReportName.SALES_CYCLE)
    # rep: 61 and 10.5 days; other: 59 days
    assert by_owner(report, "won", "average_days", "shortest_days", "longest_days") == {
        org.rep.pk: (2, D("35.8"), D("10.5"), D("61.0")),
        org.other_rep.pk: (1, D("59.0"), D("59.0"), D("59.0")),
    }
    assert report.totals == {
        "won": 3,
        "average_days": D("43.5"),
        "shortest_days": D("10.5"),
        "longest_days": D("61.0"),
    }


def test_lost_reasons(world: World) -> None:
    report = run(world.org.admin, ReportName.LOST_REASONS)
    assert table(report, "label", "opportunities", "share", "amount") == [
        ("Price", 2, D("0.6667"), D("20000.00")),
        ("(no reason given)", 1, D("0.3333"), D("10000.00")),
    ]
    assert report.totals == {"opportunities": 3, "amount": D("30000.00"), "share": D("1.0000")}


# --- activities, stale opportunities, account requests ------------------------------------


def test_activities_per_rep_per_week(world: World) -> None:
    org = world.org
    report = run(org.admin, ReportName.ACTIVITIES)
    rows = {
        (r["id"], r["week"]): (r["visit"], r["call"], r["meeting"], r["total"]) for r in report.rows
    }
    assert rows == {
        (org.rep.pk, dt.date(2026, 1, 5)): (1, 1, 1, 3),
        (org.rep.pk, dt.date(2026, 1, 12)): (0, 1, 0, 1),
        (org.other_rep.pk, dt.date(2026, 2, 2)): (1, 0, 0, 1),
        (org.south_rep.pk, dt.date(2026, 3, 2)): (0, 1, 0, 1),
    }
    assert report.totals == {"visit": 2, "call": 3, "meeting": 1, "total": 6}
    # rows of one person are in week order
    assert [r["week"] for r in report.rows if r["id"] == org.rep.pk] == [
        dt.date(2026, 1, 5),
        dt.date(2026, 1, 12),
    ]


def test_stale_opportunities(world: World) -> None:
    make_stale(world)
    o = world.opps
    report = run(world.org.admin, ReportName.STALE, period=None)
    assert table(report, "id", "idle_days", "amount") == [
        (o["o3"].pk, 70, D("50000.00")),
        (o["o4"].pk, 65, D("40000.00")),
        (o["o1"].pk, 40, D("10000.00")),
        (o["o5"].pk, 31, D("99000.00")),
    ]
    assert report.rows[0]["last_activity"] is None
    assert report.totals == {"opportunities": 4, "amount": D("199000.00")}
    assert not report.truncated
    # within Q1 only (o5 is expected in April); and with a longer threshold
    assert run(world.org.admin, ReportName.STALE).totals == {
        "opportunities": 3,
        "amount": D("100000.00"),
    }
    longer = run(world.org.admin, ReportName.STALE, period=None, days=35)
    assert [r["id"] for r in longer.rows] == [o["o3"].pk, o["o4"].pk, o["o1"].pk]


def test_account_requests_by_unit_and_status(world: World) -> None:
    org = world.org
    make_requests(org)
    report = run(org.admin, ReportName.ACCOUNT_REQUESTS)
    keys = ("id", "requests", "pending", "approved", "rejected", "resolved", "withdrawn")
    assert table(report, *keys, "duplicate_share") == [
        (org.unit.pk, 4, 1, 1, 0, 2, 0, D("0.5000")),
        (org.other_unit.pk, 1, 0, 0, 1, 0, 0, D("0.0000")),
        (None, 1, 0, 0, 0, 0, 1, D("0.0000")),
    ]
    assert report.rows[2]["label"] == "No business unit"
    assert report.totals == {
        "requests": 6,
        "pending": 1,
        "approved": 1,
        "rejected": 1,
        "resolved": 2,
        "withdrawn": 1,
        "duplicate_share": D("0.3333"),
    }


# --- filters ------------------------------------------------------------------------------


def test_unit_district_and_owner_filters(world: World) -> None:
    org = world.org
    report = run(org.admin, ReportName.PIPELINE_BY_STAGE, unit_id=org.other_unit.pk)
    assert table(report, "label", "opportunities") == [("Qualification", 1)]
    report = run(org.admin, ReportName.PIPELINE_BY_UNIT, district_id=org.north.pk)
    assert table(report, "id", "opportunities", "amount") == [(org.unit.pk, 3, D("80000.00"))]
    report = run(org.admin, ReportName.WIN_RATE, owner_id=org.other_rep.pk)
    assert by_owner(report, "won", "lost") == {org.other_rep.pk: (1, 1)}
    report = run(org.admin, ReportName.ACTIVITIES, district_id=org.south.pk)
    assert report.totals == {"visit": 0, "call": 1, "meeting": 0, "total": 1}
    report = run(org.admin, ReportName.ACTIVITIES, unit_id=org.unit.pk)
    assert report.totals == {"visit": 2, "call": 2, "meeting": 1, "total": 5}
    make_requests(org)
    report = run(org.admin, ReportName.ACCOUNT_REQUESTS, owner_id=org.other_rep.pk)
    assert table(report, "id", "requests", "approved", "resolved") == [(org.unit.pk, 2, 1, 1)]


def test_a_month_narrows_the_period(world: World) -> None:
    report = run(world.org.admin, ReportName.WIN_RATE, period=period_parse("2026-02"))
    # February: w2 won (rep), l1 lost (rep)
    assert by_owner(report, "won", "lost") == {world.org.rep.pk: (1, 1)}


# --- visibility ---------------------------------------------------------------------------


def test_a_rep_sees_only_their_own_figures(world: World) -> None:
    org = world.org
    make_requests(org)
    make_stale(world)
    rep = org.rep
    for spec in REPORTS.values():
        report = run(rep, spec.name, period=None)
        owners = {r["id"] for r in report.rows} if spec.name in OWNER_REPORTS else None
        assert owners in (None, set(), {rep.pk}), spec.name
    assert run(rep, ReportName.PIPELINE_BY_STAGE).totals == {
        "opportunities": 2,
        "amount": D("30000.00"),
        "weighted": D("13000.00"),
    }
    assert run(rep, ReportName.LOST_REASONS).totals == {
        "opportunities": 1,
        "amount": D("5000.00"),
        "share": D("1.0000"),
    }
    assert run(rep, ReportName.STALE, period=None).totals == {
        "opportunities": 2,
        "amount": D("109000.00"),
    }
    assert run(rep, ReportName.ACCOUNT_REQUESTS).totals["requests"] == 3  # type: ignore[index]
    assert run(rep, ReportName.ACTIVITIES).totals == {
        "visit": 1,
        "call": 2,
        "meeting": 1,
        "total": 4,
    }
    # asking for a colleague's figures gives nothing, not their figures
    assert run(rep, ReportName.WIN_RATE, owner_id=org.other_rep.pk).rows == []


OWNER_REPORTS = {
    ReportName.WIN_RATE,
    ReportName.DEAL_SIZE,
    ReportName.SALES_CYCLE,
    ReportName.ACTIVITIES,
}


def test_a_manager_sees_their_team_but_not_other_teams(world: World) -> None:
    org = world.org
    report = run(org.manager, ReportName.WIN_RATE)
    assert set(by_owner(report, "won")) == {org.rep.pk, org.other_rep.pk}
    assert run(org.manager, ReportName.PIPELINE_BY_UNIT).totals == {
        "opportunities": 3,
        "amount": D("80000.00"),
        "weighted": D("53000.00"),
    }


# --- query counts -------------------------------------------------------------------------

# One aggregate query per report (the stale list: its totals and its rows).
QUERIES = {name: 1 for name in ReportName} | {ReportName.STALE: 2}


def _count(viewer: User, name: ReportName) -> int:
    viewer = User.objects.get(pk=viewer.pk)  # no cached scope
    with CaptureQueriesContext(connection) as ctx:
        run(viewer, name, period=None)
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name", list(ReportName))
def test_each_report_is_one_aggregate_query_whatever_the_data(
    world: World, name: ReportName
) -> None:
    org = world.org
    make_requests(org)
    make_stale(world)
    # an administrator sees all: no scope queries; a rep: four (people, districts, the
    # sharing model, account-team places)
    assert _count(org.admin, name) == QUERIES[name]
    assert _count(org.rep, name) == QUERIES[name] + 4
    # more data, same queries
    build_world(org, again=True)
    make_requests(org)
    assert _count(org.admin, name) == QUERIES[name]
    assert _count(org.rep, name) == QUERIES[name] + 4


# --- exports ------------------------------------------------------------------------------


def test_csv_export_reads_back(world: World) -> None:
    report = run(world.org.admin, ReportName.WIN_RATE)
    text = report_csv(report).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == [
        "Owner",
        "Won",
        "Lost",
        "Win rate",
        "Won amount",
        "Lost amount",
        "Win rate by value",
    ]
    assert rows[-1] == ["Total", "3", "3", "0.5000", "100000.00", "30000.00", "0.7692"]
    assert [str(world.org.rep), "2", "1", "0.6667", "40000.00", "5000.00", "0.8889"] in rows
    assert len(rows) == 1 + 3 + 1


def test_xlsx_export_opens_with_numbers(world: World) -> None:
    report = run(world.org.admin, ReportName.PIPELINE_BY_STAGE)
    book = load_workbook(io.BytesIO(report_xlsx(report)))
    sheet = book.worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0] == [
        "Stage",
        "Business unit",
        "Probability (%)",
        "Opportunities",
        "Amount",
        "Weighted amount",
    ]
    assert values[1] == ["Prospecting", "Business Solution Development", 10, 1, 10000, 1000]
    assert values[-1] == ["Total", None, None, 4, 120000, 61000]
    assert sheet.cell(row=2, column=5).number_format == "#,##0.00"
    filters = dict(book.worksheets[1].iter_rows(values_only=True, max_col=2))
    assert filters["Period"] == "Q1 FY2026"


# --- the API ------------------------------------------------------------------------------


def test_api_lists_and_runs_reports(world: World, api_as: Any) -> None:
    org = world.org
    client = api_as(org.admin)
    response = client.get("/reports")
    assert response.status_code == 200
    assert [r["name"] for r in response.json()] == [str(n) for n in REPORTS]
    response = client.get("/reports/win-rate", **Q1_PARAMS)
    assert response.status_code == 200
    body = response.json()
    assert body["period"]["key"] == "FY2026-Q1"
    assert [c["key"] for c in body["columns"]] == [
        "label",
        "won",
        "lost",
        "win_rate",
        "won_amount",
        "lost_amount",
        "value_win_rate",
    ]
    assert body["totals"]["won_amount"] == "100000.00"
    assert body["totals"]["value_win_rate"] == "0.7692"
    rows = {r["id"]: (r["won"], r["lost"], r["win_rate"]) for r in body["rows"]}
    assert rows[str(org.rep.pk)] == (2, 1, "0.6667")


def test_api_report_respects_visibility_and_filters(world: World, api_as: Any) -> None:
    org = world.org
    body = api_as(org.rep).get("/reports/pipeline-by-unit", **Q1_PARAMS).json()
    assert body["totals"] == {"opportunities": 2, "amount": "30000.00", "weighted": "13000.00"}
    body = (
        api_as(org.admin)
        .get("/reports/pipeline-by-unit", period="all", unit=str(org.other_unit.pk))
        .json()
    )
    assert body["period"] is None
    assert body["filters"] == {"period": "all", "unit": str(org.other_unit.pk)}
    assert [(r["id"], r["opportunities"]) for r in body["rows"]] == [(str(org.other_unit.pk), 1)]


def test_api_stale_defaults_to_all_periods(world: World, api_as: Any) -> None:
    make_stale(world)
    body = api_as(world.org.admin).get("/reports/stale-opportunities").json()
    assert body["period"] is None
    assert body["totals"] == {"opportunities": 4, "amount": "199000.00"}
    body = api_as(world.org.admin).get("/reports/stale-opportunities", days=35).json()
    assert body["filters"]["days"] == "35"
    assert body["totals"]["opportunities"] == 3


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/reports/win-rate", {"period": "2026-13"}, "period"),
        ("/reports/win-rate", {"format": "pdf"}, "format"),
        ("/reports/stale-opportunities", {"days": "0"}, "days"),
        ("/reports/no-such-report", {}, "name"),
        ("/reports/win-rate", {"owner": "not-a-uuid"}, "owner"),
    ],
)
def test_api_refuses_bad_input(
    world: World, api_as: Any, path: str, params: dict[str, str], field: str
) -> None:
    response = api_as(world.org.admin).get(path, **params)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]


def test_api_csv_and_xlsx_exports_are_logged(world: World, api_as: Any) -> None:
    org = world.org
    client = api_as(org.manager)
    response = client.get("/reports/lost-reasons", format="csv", **Q1_PARAMS)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="lost-reasons-FY2026-Q1-' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    # the manager's team lost l1 (5k) and l2 (15k), both for price
    assert rows == [
        ["Reason", "Opportunities", "Share", "Amount"],
        ["Price", "2", "1.0000", "20000.00"],
        ["Total", "2", "1.0000", "20000.00"],
    ]
    response = client.get("/reports/deal-size", format="xlsx", **Q1_PARAMS)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert list(list(sheet.iter_rows(values_only=True))[-1]) == [
        "Total",
        3,
        100000,
        33333.33,
        10000,
        60000,
    ]
    events = SecurityEvent.objects.filter(kind=SecurityEventKind.EXPORT).order_by("occurred_at")
    assert [(e.actor_id, e.detail["what"], e.detail["format"]) for e in events] == [
        (org.manager.pk, "report:lost-reasons", "csv"),
        (org.manager.pk, "report:deal-size", "xlsx"),
    ]
    assert events[0].detail["filters"] == {"period": "FY2026-Q1"}


def test_activities_per_week_counts_whole_people_not_glimpses(world: World) -> None:
    """A colleague's visit to the rep's own account shows in the rep's lists, but the
    activities report counts only people whose activities the viewer sees in full: the
    rep themselves; for their manager, the rep and the colleague."""
    org = world.org
    _activity(
        org.other_rep,
        "visit",
        dt.datetime(2026, 2, 3, 10, 0, tzinfo=BKK),
        account=world.north,
    )
    mine = run(org.rep, ReportName.ACTIVITIES)
    assert {r["id"] for r in mine.rows} == {org.rep.pk}
    team = run(org.manager, ReportName.ACTIVITIES)
    assert {r["id"] for r in team.rows} >= {org.rep.pk, org.other_rep.pk}
    other = {(r["id"], r["week"]): r["visit"] for r in team.rows}
    assert other[(org.other_rep.pk, dt.date(2026, 2, 2))] == 2
