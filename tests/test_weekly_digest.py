"""The managers' weekly forecast e-mail: who gets it, what it says, once per ISO week.

The world is the forecast tests' (``tests.test_forecast.build_world``) with names, quotas,
an adjustment, an executive over the south rep, and a snapshot taken the week before.
Every expected figure is worked out by hand from it (see the comments).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from html.parser import HTMLParser
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.insights import services
from accord.insights.digest import DigestResult, weekly_digests_send
from accord.insights.models import WeeklyDigest
from accord.integration.management.commands.worker import _send_weekly_digests
from accord.org.models import Role, User
from tests.conftest import Org, make_account
from tests.factories import UserFactory
from tests.test_forecast import Q1, _opp, build_world, set_quotas

BKK = ZoneInfo("Asia/Bangkok")
MONDAY = dt.date(2026, 2, 16)  # this quarter: FY2026-Q1; this month: February 2026
LAST_MONDAY = dt.date(2026, 2, 9)


@dataclass
class Team:
    org: Org
    regional: User
    quiet_manager: User


def _rename(
    user: User, first: str, last: str, first_th: str = "", last_th: str = "", **extra: Any
) -> None:
    User.objects.filter(pk=user.pk).update(
        first_name=first, last_name=last, first_name_th=first_th, last_name_th=last_th, **extra
    )
    user.refresh_from_db()


@pytest.fixture
def team(org: Org) -> Team:
    """regional (Thai) → manager → rep, other rep; executive → south rep; a manager without
    an e-mail address (and their rep); the administrator's only report has left."""
    world = build_world(org)
    set_quotas(world)
    _rename(world.regional, "Wichai", "Krung", "วิชัย", "กรุง", language="th")
    _rename(org.manager, "Anan", "Boonmee", "อนันต์", "บุญมี")
    _rename(org.rep, "Somchai", "Jaidee")
    _rename(org.other_rep, "Malee", "Srisuk")
    _rename(org.south_rep, "Sunee", "Tai", manager=org.executive)
    _rename(org.executive, "Kanya", "Chairat")
    quiet = UserFactory(username="quiet", email="", role=Role.SALES_MANAGER)
    UserFactory(username="quietrep", manager=quiet)
    UserFactory(username="leaver", manager=org.admin, is_active=False)
    # Last week's snapshot: the manager's Q1 commit stood at 187,000 (nothing adjusted yet).
    services.forecast_snapshot_take(today=LAST_MONDAY)
    # Then the manager calls the rep's Q1 commit 150,000 (computed: 137,000).
    services.forecast_adjust(
        actor=org.manager,
        subject=org.rep,
        period=Q1,
        category="commit",
        amount="150000",
        note="Siam deal signed next week",
    )
    # This Monday's snapshot is taken before the mail; the change still reads from last week.
    services.forecast_snapshot_take(today=MONDAY)
    return Team(org, world.regional, quiet)


def _mail_to(user: User) -> EmailMultiAlternatives:
    found = [m for m in mail.outbox if m.to == [user.email]]
    assert len(found) == 1
    message = found[0]
    assert isinstance(message, EmailMultiAlternatives)
    return message


def _html(message: EmailMultiAlternatives) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return str(content)


class _Tables(HTMLParser):
    """The text of each cell of the tables marked ``data-summary`` / ``data-rows``."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "table" and ("data-summary" in named or "data-rows" in named):
            kind = "summary" if "data-summary" in named else "rows"
            self._table = self.tables.setdefault(
                f"{kind}:{named.get('data-summary') or named.get('data-rows')}", []
            )
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" / ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _tables(message: EmailMultiAlternatives) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(_html(message))
    return parser.tables


def _counts(result: DigestResult) -> tuple[int, int, int, int]:
    return (result.sent, result.already_sent, result.skipped, result.failed)


# --- who gets it --------------------------------------------------------------------------


def test_every_manager_with_an_address_gets_one_mail_and_reps_get_none(team: Team) -> None:
    org = team.org
    result = weekly_digests_send(today=MONDAY)
    # recipients: regional, manager, executive. Skipped: the other seven active people —
    # admin (only report left), steward, rep, other rep, south rep, quiet (no address),
    # quiet's rep.
    assert _counts(result) == (3, 0, 7, 0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [team.regional.email, org.manager.email, org.executive.email]
    )
    assert set(WeeklyDigest.objects.values_list("user__username", "week_start")) == {
        ("regional", MONDAY),
        ("manager", MONDAY),
        ("exec", MONDAY),
    }


# --- what it says -------------------------------------------------------------------------


def _section(body: str, heading: str) -> str:
    """The text part's lines from ``== heading ==`` to the next heading (or the end)."""
    start = body.index(f"== {heading} ==")
    end = body.find("\n== ", start + 1)
    return body[start : end if end != -1 else len(body)]


def test_a_managers_mail_holds_their_team_roll_up_with_adjusted_figures(
    team: Team, settings: Any
) -> None:
    settings.ACCORD_BASE_URL = "https://crm.example.com/"
    org = team.org
    weekly_digests_send(today=MONDAY)
    message = _mail_to(org.manager)
    assert message.subject == "Weekly forecast, week of 16 Feb 2026"
    # Q1: manager 0/0/25k/25k + rep 37k/137k/187k/207k + other 10k/50k/50k/50k; the rep's
    # commit adjusted to 150k makes the team's 200k. Quota 100k + 3 x 20k = 160k; won 47k:
    # 47/160 = 29.4 %, gap 113k. Last week's snapshot: commit 187k → +13k.
    q1 = _section(message.body, "Q1 FY2026")
    assert q1.splitlines()[1:9] == [
        "Closed won: ฿47,000.00",
        "Commit: ฿187,000.00 (adjusted: ฿200,000.00)",
        "Best case: ฿262,000.00",
        "Pipeline: ฿282,000.00",
        "Quota: ฿160,000.00",
        "Attainment: 29.4%",
        "Gap to quota: ฿113,000.00",
        "Change in commit since the week of 9 Feb 2026: +฿13,000.00",
    ]
    assert (
        "- Somchai Jaidee: Closed won ฿37,000.00 · Commit ฿137,000.00 (adjusted ฿150,000.00) · "
        "Best case ฿187,000.00 · Pipeline ฿207,000.00 · Quota ฿100,000.00 · Attainment 37.0% · "
        "Gap to quota ฿63,000.00"
    ) in q1
    # the other rep: 10k won of 60k (three monthly quotas): 16.7 %, gap 50k.
    assert (
        "- Malee Srisuk: Closed won ฿10,000.00 · Commit ฿50,000.00 · Best case ฿50,000.00 · "
        "Pipeline ฿50,000.00 · Quota ฿60,000.00 · Attainment 16.7% · Gap to quota ฿50,000.00"
    ) in q1
    # February: rep won 30k (15 Feb) + commit 100k (10 Feb); manager best case 25k (1 Feb);
    # only the other rep has a February quota (20k): 30/20 = 150 %, gap -10k. Commit then
    # and now 130k.
    february = _section(message.body, "Feb 2026")
    assert february.splitlines()[1:9] == [
        "Closed won: ฿30,000.00",
        "Commit: ฿130,000.00",
        "Best case: ฿155,000.00",
        "Pipeline: ฿155,000.00",
        "Quota: ฿20,000.00",
        "Attainment: 150.0%",
        "Gap to quota: -฿10,000.00",
        "Change in commit since the week of 9 Feb 2026: ฿0.00",
    ]
    assert "https://crm.example.com/forecasts/" in message.body
    tables = _tables(message)
    assert tables["summary:FY2026-Q1"] == [
        ["Closed won", "฿47,000.00"],
        ["Commit", "฿187,000.00 / ฿200,000.00 (adjusted)"],
        ["Best case", "฿262,000.00"],
        ["Pipeline", "฿282,000.00"],
        ["Quota", "฿160,000.00"],
        ["Attainment", "29.4%"],
        ["Gap to quota", "฿113,000.00"],
    ]
    header, own, other, rep = tables["rows:FY2026-Q1"]
    assert header == [
        "Name",
        "Closed won",
        "Commit",
        "Best case",
        "Pipeline",
        "Quota",
        "Attainment",
        "Gap to quota",
    ]
    assert own == [
        "Anan Boonmee / own deals",
        "฿0.00",
        "฿0.00",
        "฿25,000.00",
        "฿25,000.00",
        "not set",
        "—",
        "—",
    ]
    assert other == [
        "Malee Srisuk",
        "฿10,000.00",
        "฿50,000.00",
        "฿50,000.00",
        "฿50,000.00",
        "฿60,000.00",
        "16.7%",
        "฿50,000.00",
    ]
    assert rep == [
        "Somchai Jaidee",
        "฿37,000.00",
        "฿137,000.00 / ฿150,000.00 adjusted",
        "฿187,000.00",
        "฿207,000.00",
        "฿100,000.00",
        "37.0%",
        "฿63,000.00",
    ]
    assert tables["summary:2026-02"][6] == ["Gap to quota", "-฿10,000.00"]
    assert [row[0] for row in tables["rows:2026-02"]] == [
        "Name",
        "Anan Boonmee / own deals",
        "Malee Srisuk",
        "Somchai Jaidee",
    ]
    html = _html(message)
    assert 'href="https://crm.example.com/forecasts/"' in html
    assert "Change in commit since the week of 9 Feb 2026: +฿13,000.00" in html
    assert "<style" not in html and "class=" not in html  # inline styles only


def test_a_mail_holds_only_the_recipients_team(team: Team) -> None:
    org = team.org
    weekly_digests_send(today=MONDAY)
    manager, executive = _mail_to(org.manager), _mail_to(org.executive)
    for part in (manager.body, _html(manager)):
        assert "Somchai Jaidee" in part
        assert "Sunee" not in part and "Kanya" not in part and "Wichai" not in part
    for part in (executive.body, _html(executive)):
        assert "Sunee Tai" in part
        assert "Somchai" not in part and "Malee" not in part and "Anan" not in part
    # the executive's team: the south rep — commit 15k (15 Jan) + 1M (15 Mar), pipeline 60k
    # more; quota 50k, nothing won yet.
    assert _tables(executive)["rows:FY2026-Q1"][2] == [
        "Sunee Tai",
        "฿0.00",
        "฿1,015,000.00",
        "฿1,015,000.00",
        "฿1,075,000.00",
        "฿50,000.00",
        "0.0%",
        "฿50,000.00",
    ]


def test_a_thai_speaker_gets_the_mail_in_thai(team: Team) -> None:
    weekly_digests_send(today=MONDAY)
    message = _mail_to(team.regional)
    assert "16 ก.พ. 2569" in message.subject
    q1 = _section(message.body, "ไตรมาส 1 ปีงบประมาณ 2569")
    # the regional manager's roll-up is the manager's (the regional sells nothing).
    assert q1.splitlines()[1:8] == [
        "ปิดการขายได้: ฿47,000.00",
        "ยืนยัน: ฿187,000.00 (ปรับแล้ว: ฿200,000.00)",
        "กรณีดีที่สุด: ฿262,000.00",
        "ไปป์ไลน์: ฿282,000.00",
        "โควตา: ฿160,000.00",
        "ผลสำเร็จเทียบโควตา: 29.4%",
        "ส่วนต่างจากโควตา: ฿113,000.00",
    ]
    assert "9 ก.พ. 2569: +฿13,000.00" in q1
    assert "== ก.พ. 2569 ==" in message.body
    tables = _tables(message)
    assert [row[0] for row in tables["rows:FY2026-Q1"]] == [
        "ชื่อ",
        "วิชัย กรุง / ดีลของตนเอง",
        "อนันต์ บุญมี",
    ]
    assert tables["rows:FY2026-Q1"][2][2] == "฿187,000.00 / ฿200,000.00 ปรับแล้ว"
    assert '<html lang="th">' in _html(message)
    assert "ไตรมาส 1 ปีงบประมาณ 2569" in _html(message)
    assert "Q1 FY2026" not in message.body and "Feb 2026" not in message.body


def test_without_an_earlier_snapshot_the_change_is_not_shown(team: Team) -> None:
    weekly_digests_send(today=dt.date(2026, 2, 9))  # the first week snapshots were taken
    body = _mail_to(team.org.manager).body
    assert "No earlier weekly snapshot to compare the commit with." in body
    assert "Change in commit" not in body


def test_the_queries_do_not_grow_with_opportunities(team: Team) -> None:
    org = team.org
    with CaptureQueriesContext(connection) as first:
        weekly_digests_send(today=MONDAY, dry_run=True)
    account = make_account(org, legal_name="Another Co., Ltd.")
    for amount in ("1000", "2000", "3000", "4000", "5000"):
        _opp(
            org,
            owner=org.other_rep,
            account=account,
            stage="Proposal",
            amount=amount,
            close=dt.date(2026, 2, 20),
        )
    with CaptureQueriesContext(connection) as second:
        result = weekly_digests_send(today=MONDAY, dry_run=True)
    assert result.sent == 3
    # per recipient and period: one query per level of the hierarchy below them (until one
    # finds nobody), three for the figures (opportunities, quotas, adjustments), one for the
    # trend — regional 3+3+1, manager and executive 2+3+1 each, times two periods: 38; plus
    # the recipients, this week's records and the head count: 41.
    assert len(second.captured_queries) == len(first.captured_queries) == 41


# --- once a week --------------------------------------------------------------------------


def test_a_second_run_in_the_same_week_sends_nothing(team: Team) -> None:
    assert _counts(weekly_digests_send(today=MONDAY)) == (3, 0, 7, 0)
    assert _counts(weekly_digests_send(today=dt.date(2026, 2, 22))) == (0, 3, 7, 0)  # Sunday
    assert len(mail.outbox) == 3
    assert WeeklyDigest.objects.count() == 3
    # the next ISO week is a new week
    assert _counts(weekly_digests_send(today=dt.date(2026, 2, 23))) == (3, 0, 7, 0)
    assert len(mail.outbox) == 6


def test_a_dry_run_renders_but_sends_and_records_nothing(team: Team) -> None:
    result = weekly_digests_send(today=MONDAY, dry_run=True)
    assert (_counts(result), result.dry_run) == ((3, 0, 7, 0), True)
    assert (len(mail.outbox), WeeklyDigest.objects.count()) == (0, 0)


def test_one_failed_send_leaves_the_others_sent_and_itself_unsent(
    team: Team, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    org = team.org
    real_send = EmailMultiAlternatives.send

    def send(self: EmailMultiAlternatives, *args: Any, **kwargs: Any) -> int:
        if self.to == [org.manager.email]:
            raise ConnectionRefusedError("mail server refused the connection")
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "send", send)
    with caplog.at_level(logging.ERROR, logger="accord.insights.digest"):
        result = weekly_digests_send(today=MONDAY)
    assert _counts(result) == (2, 0, 7, 1)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [team.regional.email, org.executive.email]
    )
    assert set(WeeklyDigest.objects.values_list("user__username", flat=True)) == {
        "regional",
        "exec",
    }
    assert "Could not send the weekly forecast e-mail to manager@example.com" in caplog.text
    # the mail server is back: the next run sends only the one that failed
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    assert _counts(weekly_digests_send(today=MONDAY)) == (1, 2, 7, 0)
    assert [m.to for m in mail.outbox[2:]] == [[org.manager.email]]


# --- the command and the worker -----------------------------------------------------------


def test_the_command_prints_the_counts(team: Team) -> None:
    out = StringIO()
    call_command("weekly_digest", "--date", "2026-02-16", "--dry-run", stdout=out)
    assert out.getvalue() == (
        "3 weekly forecast e-mails would be sent, 0 already sent this week, 7 people skipped "
        "(no reports or no e-mail address), 0 failed.\n"
    )
    assert len(mail.outbox) == 0
    call_command("weekly_digest", "--date", "2026-02-16", stdout=out)
    call_command("weekly_digest", "--date", "2026-02-18", stdout=out)
    assert out.getvalue().splitlines()[1:] == [
        "3 weekly forecast e-mails sent, 0 already sent this week, 7 people skipped "
        "(no reports or no e-mail address), 0 failed.",
        "0 weekly forecast e-mails sent, 3 already sent this week, 7 people skipped "
        "(no reports or no e-mail address), 0 failed.",
    ]
    assert len(mail.outbox) == 3


def test_the_worker_sends_on_monday_from_the_configured_hour(team: Team, settings: Any) -> None:
    settings.ACCORD_WEEKLY_DIGEST_HOUR = 7
    tuesday = dt.datetime(2026, 2, 17, 9, 0, tzinfo=BKK)
    assert _send_weekly_digests(tuesday) is None
    before_seven = dt.datetime(2026, 2, 16, 6, 59, tzinfo=BKK)
    assert _send_weekly_digests(before_seven) is None
    assert len(mail.outbox) == 0
    # 00:30 UTC on Monday is 07:30 in Bangkok
    result = _send_weekly_digests(dt.datetime(2026, 2, 16, 0, 30, tzinfo=dt.UTC))
    assert result is not None and _counts(result) == (3, 0, 7, 0)
    assert len(mail.outbox) == 3
    # the next hourly check the same Monday sends nothing more
    later = _send_weekly_digests(dt.datetime(2026, 2, 16, 8, 30, tzinfo=BKK))
    assert later is not None and _counts(later) == (0, 3, 7, 0)
    assert len(mail.outbox) == 3
    assert _send_weekly_digests(dt.datetime(2026, 2, 17, 7, 30, tzinfo=BKK)) is None


def test_the_worker_hook_can_be_turned_off(team: Team, settings: Any) -> None:
    settings.ACCORD_WEEKLY_DIGEST_HOUR = -1
    assert _send_weekly_digests(dt.datetime(2026, 2, 16, 12, 0, tzinfo=BKK)) is None
    assert (len(mail.outbox), WeeklyDigest.objects.count()) == (0, 0)


def test_the_admin_lists_sent_mails_read_only(team: Team, client: Any) -> None:
    weekly_digests_send(today=MONDAY)
    client.force_login(team.org.admin)
    page = client.get("/admin/insights/weeklydigest/")
    assert page.status_code == 200
    listing = page.content.decode()
    assert listing.count('class="field-week_start') == 3
    assert "Anan Boonmee" in listing and "Somchai" not in listing
    assert client.get("/admin/insights/weeklydigest/add/").status_code == 403
    digest = WeeklyDigest.objects.get(user=team.org.manager)
    delete = client.post(f"/admin/insights/weeklydigest/{digest.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert WeeklyDigest.objects.count() == 3


def test_the_worker_takes_each_weeks_snapshot_once(team: Team) -> None:
    """The trend needs a snapshot a week; the worker takes it at its first hourly check of
    a week without one, and not again that week."""
    from accord.insights.models import ForecastSnapshot
    from accord.integration.management.commands.worker import _take_weekly_snapshot

    tuesday = dt.datetime(2026, 3, 3, 3, 0, tzinfo=BKK)  # the fixture has February's
    monday = dt.date(2026, 3, 2)
    assert not ForecastSnapshot.objects.filter(week_start=monday).exists()
    rows = _take_weekly_snapshot(tuesday)
    assert rows and ForecastSnapshot.objects.filter(week_start=monday).count() == rows
    assert _take_weekly_snapshot(tuesday + dt.timedelta(hours=5)) is None
    assert ForecastSnapshot.objects.filter(week_start=monday).count() == rows
    next_week = _take_weekly_snapshot(dt.datetime(2026, 3, 9, 0, 5, tzinfo=BKK))
    assert next_week and ForecastSnapshot.objects.filter(week_start=dt.date(2026, 3, 9)).exists()
