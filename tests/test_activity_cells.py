"""The activity cells stay equal to a recomputation under every kind of write, and the
activities-per-week report they serve equals a count over the activities themselves."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from accord.activities.models import Activity
from accord.activities.services import activity_create, activity_delete, activity_update
from accord.customers.services import account_update
from accord.dataquality.merge import account_merge, account_unmerge
from accord.insights import reports
from accord.insights.activity_cells import activity_cells_check, activity_cells_rebuild
from accord.insights.models import ActivityWeekCell
from accord.insights.periods import iso_week_start, period_parse
from tests.conftest import Org, make_account
from tests.factories import DistrictFactory

BKK = ZoneInfo("Asia/Bangkok")
Q1 = period_parse("FY2026-Q1", fiscal_start_month=1)
KINDS = ["visit", "call", "meeting", "task", "email"]


class Walk:
    def __init__(self, org: Org, seed: int) -> None:
        self.org = org
        self.rng = random.Random(seed)
        extra = DistrictFactory(code=f"a{seed}", name=f"Act {seed}", region=org.north.region)
        self.districts = [org.north, org.south, extra, None]
        self.accounts = [
            make_account(org, legal_name=f"Act {seed} {i} Co., Ltd.", district=d)
            for i, d in enumerate(self.districts[:3])
        ]
        self.people = [org.rep, org.other_rep, org.manager]

    def _when(self) -> dt.datetime:
        # around month ends, late at night: the local week and month matter
        day = dt.date(2026, 1, 26) + dt.timedelta(days=self.rng.randrange(0, 70))
        return dt.datetime.combine(day, dt.time(self.rng.choice([0, 9, 23]), 30), tzinfo=BKK)

    def _acts(self) -> list[Activity]:
        return list(Activity.objects.filter(account__in=self.accounts).order_by("pk"))

    def create(self) -> None:
        activity_create(
            actor=self.org.admin,
            data={
                "kind": self.rng.choice(KINDS),
                "subject": "Walk",
                "account": self.rng.choice(self.accounts).pk,
                "performed_by": self.rng.choice(self.people).pk,
                "start_at": self._when(),
            },
        )

    def change(self) -> None:
        acts = self._acts()
        if not acts:
            return self.create()
        what = self.rng.choice(["kind", "start_at", "account", "performed_by"])
        value: Any = {
            "kind": lambda: self.rng.choice(KINDS),
            "start_at": self._when,
            "account": lambda: self.rng.choice(self.accounts).pk,
            "performed_by": lambda: self.rng.choice(self.people).pk,
        }[what]()
        activity_update(actor=self.org.admin, activity=self.rng.choice(acts), data={what: value})

    def delete(self) -> None:
        acts = self._acts()
        if acts:
            activity_delete(actor=self.org.admin, activity=self.rng.choice(acts))

    def move_account(self) -> None:
        district = self.rng.choice(self.districts)
        account_update(
            actor=self.org.steward,
            account=self.rng.choice(self.accounts),
            data={"district": district.pk if district else None},
        )

    def run(self, steps: int) -> None:
        actions = [self.create] * 4 + [self.change] * 4 + [self.delete, self.move_account]
        for i in range(steps):
            action = self.rng.choice(actions)
            action()
            assert activity_cells_check() == [], f"step {i}: {action.__name__}"


@pytest.mark.parametrize("seed", [1, 2])
def test_activity_cells_follow_every_write(org: Org, seed: int) -> None:
    walk = Walk(org, seed)
    walk.run(40)
    survivor, loser = walk.accounts[:2]
    merge = account_merge(actor=org.steward, survivor=survivor, losers=[loser], field_choices={})
    assert activity_cells_check() == []
    account_unmerge(actor=org.steward, merge=merge)
    assert activity_cells_check() == []
    assert ActivityWeekCell.objects.exists()


def _counted_directly(people: set[Any] | None) -> Counter[tuple[Any, dt.date, str]]:
    """The report's figures from the activities themselves: visits, calls and meetings by
    person, local ISO week and kind, within the quarter's days."""
    counts: Counter[tuple[Any, dt.date, str]] = Counter()
    for a in Activity.objects.filter(kind__in=["visit", "call", "meeting"]):
        day = a.occurred_at.astimezone(BKK).date()
        if Q1.start <= day < Q1.end and (people is None or a.performed_by_id in people):
            counts[(a.performed_by_id, iso_week_start(day), a.kind)] += 1
    return counts


@pytest.mark.parametrize("viewer", ["admin", "manager", "rep"])
def test_the_report_from_the_cells_counts_what_the_activities_say(org: Org, viewer: str) -> None:
    Walk(org, 9).run(40)
    user = getattr(org, viewer)
    report = reports.report_build(
        viewer=user,
        name=reports.ReportName.ACTIVITIES,
        filters=reports.ReportFilters(period=Q1),
    )
    from_report: Counter[tuple[Any, dt.date, str]] = Counter()
    for row in report.rows:
        for kind in ("visit", "call", "meeting"):
            if row[kind]:
                from_report[(row["id"], row["week"], kind)] = row[kind]
    people = {
        "admin": None,
        "manager": {org.manager.pk, org.rep.pk, org.other_rep.pk},
        "rep": {org.rep.pk},
    }[viewer]
    assert from_report == _counted_directly(people)
    assert from_report, "the walk left visits, calls or meetings in the quarter"


def test_rebuild_recovers_cells_lost_to_a_bulk_write(org: Org) -> None:
    Walk(org, 4).run(10)
    ActivityWeekCell.objects.all().delete()
    assert activity_cells_check() != [] or not Activity.objects.exists()
    activity_cells_rebuild()
    assert activity_cells_check() == []
