"""The opportunity cells stay equal to a recomputation under every kind of write.

Random sequences (seeded, reproducible) of what people do through the services — create,
change amount, stage, close date, currency, unit or account; win, lose, reopen; delete;
move an account to another district; merge two accounts and undo it; change a stage's
outcome; add, change and remove line items, move a product to another line — and after
each step the opportunity and line-item cells must match a recomputation exactly (counts,
amounts, and for closed deals the extremes and the sales cycle). The
organisation figures (company, region, unit) read the cells, so they are checked against
the opportunities too.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from accord.customers.models import Account
from accord.customers.services import account_update
from accord.dataquality.merge import account_merge, account_unmerge
from accord.insights import selectors
from accord.insights.cells import cells_check, cells_computed, cells_rebuild
from accord.insights.line_cells import line_cells_check, line_cells_rebuild
from accord.insights.models import LineItemCell, OpportunityCell
from accord.insights.periods import period_parse
from accord.org.models import District, ProductLine, User
from accord.sales.models import (
    Opportunity,
    OpportunityLineItem,
    Pipeline,
    Product,
    Stage,
    StageOutcome,
)
from accord.sales.services import opportunity_create, opportunity_delete, opportunity_update
from tests.conftest import Org, make_account
from tests.factories import DistrictFactory, ProductFactory

Q1 = period_parse("FY2026-Q1", fiscal_start_month=1)


def _stages(org: Org, unit_id: Any) -> list[Stage]:
    return list(Pipeline.objects.get(business_unit_id=unit_id).stages.order_by("position"))


def _deal(org: Org, account: Account, stage: Stage, amount: int) -> Opportunity:
    """A deal of the rep's on ``account`` at ``stage``, through the sales services."""
    return opportunity_create(
        actor=org.admin,
        data={
            "name": "Deal",
            "account": account.pk,
            "owner": org.rep.pk,
            "stage": stage.pk,
            "amount": Decimal(amount),
            "expected_close_date": dt.date(2026, 2, 1),
        },
    )


def _owner_for(org: Org, unit_id: Any) -> Any:
    return org.rep if unit_id == org.unit.pk else org.south_rep


class Walk:
    """One random walk over the services, checking the cells after every step."""

    def __init__(self, org: Org, seed: int) -> None:
        self.org = org
        self.rng = random.Random(seed)
        extra = DistrictFactory(code=f"x{seed}", name=f"Extra {seed}", region=org.north.region)
        self.districts: list[District | None] = [org.north, org.south, extra, None]
        self.accounts = [
            make_account(org, legal_name=f"Walk {seed} {i} Co., Ltd.", district=d)
            for i, d in enumerate(self.districts[:3])
        ]
        self.lines = [
            ProductLine.objects.create(code=f"walk{seed}-{i}", name=f"Walk line {i}")
            for i in range(2)
        ]
        self.products = [ProductFactory(product_line=self.lines[i % 2]) for i in range(3)]
        self.steps: list[str] = []

    def _items(self) -> list[dict[str, Any]]:
        return [
            {
                "product": self.rng.choice(self.products).pk,
                "quantity": self.rng.randrange(1, 4),
                "unit_price": self.rng.randrange(1, 90) * 1000,
            }
            for _i in range(self.rng.randrange(1, 4))
        ]

    def _date(self) -> dt.date:
        return dt.date(2026, 1, 1) + dt.timedelta(days=self.rng.randrange(0, 200))

    def _opps(self) -> list[Opportunity]:
        return list(Opportunity.objects.filter(account__in=self.accounts).order_by("pk"))

    def create(self) -> None:
        org = self.org
        unit = self.rng.choice([org.unit.pk, org.other_unit.pk])
        stage = self.rng.choice([s for s in _stages(org, unit) if s.outcome == StageOutcome.OPEN])
        opportunity_create(
            actor=org.admin,
            data={
                "name": f"Deal {len(self.steps)}",
                "account": self.rng.choice(self.accounts).pk,
                "owner": _owner_for(org, unit).pk,
                "stage": stage.pk,
                "amount": Decimal(self.rng.randrange(1, 500)) * 1000,
                "expected_close_date": self._date(),
                **({"line_items": self._items()} if self.rng.random() < 0.6 else {}),
            },
        )

    def change(self) -> None:
        opps = self._opps()
        if not opps:
            return self.create()
        opp = self.rng.choice(opps)
        stages = _stages(self.org, opp.business_unit_id)
        what = self.rng.choice(
            ["amount", "stage", "close", "account", "currency", "win_lose", "items"]
        )
        data: dict[str, Any]
        if what == "amount":
            data = {"amount": Decimal(self.rng.randrange(1, 900)) * 100}
        elif what == "stage":
            open_stages = [s for s in stages if s.outcome == StageOutcome.OPEN]
            data = {"stage": self.rng.choice(open_stages).pk}
        elif what == "close":
            data = {"expected_close_date": self._date()}
        elif what == "account":
            data = {"account": self.rng.choice(self.accounts).pk}
        elif what == "currency":
            data = {"currency": self.rng.choice(["THB", "USD"])}
        elif what == "items":
            data = {"line_items": self._items()}
        else:
            closed = [s for s in stages if s.outcome != StageOutcome.OPEN]
            data = {"stage": self.rng.choice(closed).pk}
            if any(s.outcome == StageOutcome.LOST and s.pk == data["stage"] for s in closed):
                data["lost_reason"] = self.rng.choice(["Price", "Timing", "No budget"])
        try:
            opportunity_update(actor=self.org.admin, opportunity=opp, data=data)
        except Exception as exc:  # a refused change (compulsory fields) changes nothing
            self.steps.append(f"refused {what}: {type(exc).__name__}")

    def backdate_close(self) -> None:
        closed = [o for o in self._opps() if o.closed_at is not None]
        if closed:
            opp = self.rng.choice(closed)
            opp.closed_at = dt.datetime(2026, 3, 31, 17, 30, tzinfo=dt.UTC)  # 1 April in Bangkok
            opp.save(update_fields=["closed_at"])

    def settle(self) -> None:
        """Deals certain to be there whatever the random steps did: an open one per unit
        expected in the first quarter, and won and lost ones closed in it."""
        org = self.org
        for unit in (org.unit.pk, org.other_unit.pk):
            stages = _stages(org, unit)
            won = next(s for s in stages if s.outcome == StageOutcome.WON)
            lost = next(s for s in stages if s.outcome == StageOutcome.LOST)
            for i, (stage, extra) in enumerate(
                [
                    (stages[0], {}),
                    (won, {}),
                    (won, {}),
                    (lost, {"lost_reason": "Price"}),
                    (lost, {"lost_reason": "Timing"}),
                ]
            ):
                opp = opportunity_create(
                    actor=org.admin,
                    data={
                        "name": f"Settled {i}",
                        "account": self.accounts[i % 2].pk,
                        "owner": _owner_for(org, unit).pk,
                        "stage": stage.pk,
                        "amount": Decimal(self.rng.randrange(1, 500)) * 1000,
                        "expected_close_date": dt.date(2026, 2, 1 + i),
                        "line_items": self._items(),
                        **extra,
                    },
                )
                if stage.outcome != StageOutcome.OPEN:
                    opp.closed_at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
                        days=self.rng.randrange(0, 85), seconds=self.rng.randrange(0, 86400)
                    )
                    opp.save(update_fields=["closed_at"])

    def item_by_hand(self) -> None:
        """Line items written one by one (not through the services): saved, edited, and
        several deleted in one query."""
        opps = self._opps()
        if not opps:
            return
        opp = self.rng.choice(opps)
        how = self.rng.choice(["add", "edit", "delete_all"])
        items = list(opp.line_items.all())
        if how == "add" or not items:
            total = Decimal(self.rng.randrange(1, 50)) * 100
            OpportunityLineItem.objects.create(
                opportunity=opp,
                product=self.rng.choice(self.products),
                quantity=1,
                unit_price=total,
                total=total,
            )
        elif how == "edit":
            item = self.rng.choice(items)
            item.product = self.rng.choice(self.products)
            item.total = Decimal(self.rng.randrange(1, 50)) * 100
            item.save()
        else:
            opp.line_items.all().delete()

    def move_product(self) -> None:
        product = self.rng.choice(self.products)
        product.product_line = (
            self.lines[0] if product.product_line == self.lines[1] else self.lines[1]
        )
        product.save()

    def delete(self) -> None:
        opps = self._opps()
        if opps:
            opportunity_delete(actor=self.org.admin, opportunity=self.rng.choice(opps))

    def move_account(self) -> None:
        account = self.rng.choice(self.accounts)
        district = self.rng.choice(self.districts)
        account_update(
            actor=self.org.steward,
            account=account,
            data={"district": district.pk if district else None},
        )

    def merge_and_undo(self) -> None:
        survivor, loser = self.rng.sample(self.accounts, 2)
        merge = account_merge(
            actor=self.org.steward, survivor=survivor, losers=[loser], field_choices={}
        )
        assert cells_check() == [], "after a merge"
        assert line_cells_check() == [], "after a merge"
        account_unmerge(actor=self.org.steward, merge=merge)

    def run(self, steps: int) -> None:
        actions = (
            [self.create] * 3
            + [self.change] * 5
            + [
                self.delete,
                self.move_account,
                self.backdate_close,
                self.item_by_hand,
                self.move_product,
            ]
        )
        for i in range(steps):
            action = self.rng.choice(actions)
            self.steps.append(action.__name__)
            action()
            assert cells_check() == [], f"step {i}: {self.steps[-5:]}"
            assert line_cells_check() == [], f"step {i}: {self.steps[-5:]}"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cells_follow_every_write(org: Org, seed: int) -> None:
    walk = Walk(org, seed)
    walk.settle()
    walk.run(40)
    walk.merge_and_undo()
    assert cells_check() == []
    assert line_cells_check() == []
    assert OpportunityCell.objects.exists()
    assert LineItemCell.objects.exists()
    closed = OpportunityCell.objects.filter(n__gt=0, stage__outcome__in=["won", "lost"])
    assert closed.exists() and not closed.filter(amount_min__isnull=True).exists()


def test_the_company_figures_read_the_cells_and_match_the_opportunities(org: Org) -> None:
    walk = Walk(org, 7)
    walk.run(30)
    company = selectors.org_forecast(viewer=org.admin, node=selectors.OrgNode(), period=Q1)
    direct = selectors.Figures.from_sums(
        selectors.opportunities_in_period(Q1).aggregate(**selectors.SUMS)
    )
    assert company.subject.computed == direct


def test_a_stage_whose_outcome_changes_moves_its_cells(org: Org) -> None:
    account = make_account(org, legal_name="Stage Co., Ltd.")
    stage = _stages(org, org.unit.pk)[1]
    opp = _deal(org, account, stage, 1000)
    Opportunity.objects.filter(pk=opp.pk).update(closed_at=dt.datetime(2026, 5, 5, tzinfo=dt.UTC))
    cells_rebuild()
    stage.outcome = StageOutcome.WON  # an administrator makes it a won stage
    stage.save()
    assert cells_check() == []
    assert OpportunityCell.objects.get(stage=stage).month == dt.date(2026, 5, 1)


def test_rebuild_and_check_command(org: Org, capsys: Any) -> None:
    walk = Walk(org, 11)
    for _i in range(5):
        walk.create()
    assert OpportunityCell.objects.exists()
    OpportunityCell.objects.all().delete()  # as after a bulk load that bypassed the ORM
    assert cells_check() != []
    with pytest.raises(Exception, match="differ"):
        call_command("cells_rebuild", "--check")
    call_command("cells_rebuild")
    assert "Rebuilt" in capsys.readouterr().out
    assert cells_check() == []
    assert {c.key for c in OpportunityCell.objects.all()} == set(cells_computed())


def test_an_account_with_no_district_has_its_own_cells(org: Org) -> None:
    account = make_account(org, legal_name="Nowhere Co., Ltd.")
    Account.objects.filter(pk=account.pk).update(district=None)
    account.refresh_from_db()
    stage = _stages(org, org.unit.pk)[0]
    _deal(org, account, stage, 500)
    cell = OpportunityCell.objects.get()
    assert (cell.district_id, cell.n, cell.amount) == (None, 1, Decimal("500.00"))
    assert cells_check() == []


@pytest.mark.parametrize("all_time", [False, True])
@pytest.mark.parametrize("viewer", ["admin", "manager", "rep"])
@pytest.mark.parametrize("name", ["pipeline-by-stage", "pipeline-by-unit", "pipeline-by-district"])
def test_pipeline_reports_from_the_cells_match_the_opportunities(
    org: Org, name: str, viewer: str, all_time: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pipeline reports read the cells of the owners whose opportunities the viewer sees;
    a report over the plain opportunities the viewer may see gives the same rows."""
    from accord.insights import reports

    user = getattr(org, viewer)
    walk = Walk(org, 5)
    walk.run(30)
    walk.settle()
    undated = walk._opps()[0]  # an open deal with no expected close date counts all time
    opportunity_update(
        actor=org.admin,
        opportunity=undated,
        data={"expected_close_date": None, "stage": _stages(org, undated.business_unit_id)[0].pk},
    )
    assert cells_check() == []
    filters = reports.ReportFilters(period=None if all_time else Q1)
    from_cells = reports.report_build(viewer=user, name=name, filters=filters)
    plain = reports._OpenSource(
        reports._open_in_period(user, filters),
        "account__district",
        "pipeline",
        reports.PIPELINE_SUMS,
    )
    monkeypatch.setattr(reports, "_open_source", lambda viewer, filters: plain)
    from_opportunities = reports.report_build(viewer=user, name=name, filters=filters)
    assert from_cells.rows == from_opportunities.rows
    assert from_cells.totals == from_opportunities.totals
    assert from_cells.rows, "the walk left open deals in the quarter"


def test_an_account_team_share_sends_reports_back_to_the_opportunities(org: Org) -> None:
    """Cells are per owner; a rep who sees another owner's deals through an account team
    place cannot be answered from them."""
    from accord.territories import visibility
    from accord.territories.ownership import account_team_add

    assert visibility.opportunity_owners_visible_to(org.rep) == frozenset({org.rep.pk})
    account = make_account(org, legal_name="Shared Co., Ltd.")
    account_team_add(
        actor=org.admin,
        account=account,
        user=org.rep,
        data={"role": "pre_sales", "opportunity_access": "read"},
    )
    fresh = User.objects.get(pk=org.rep.pk)  # the scope is computed once per request (user)
    assert visibility.opportunity_owners_visible_to(fresh) is None
    assert visibility.opportunity_owners_visible_to(org.admin) == "all"


@pytest.mark.parametrize("all_time", [False, True])
@pytest.mark.parametrize("viewer", ["admin", "manager", "rep"])
@pytest.mark.parametrize(
    "name", ["win-rate", "deal-size", "sales-cycle", "lost-reasons", "pipeline-by-product-line"]
)
def test_closed_business_and_product_line_reports_from_the_cells_match_the_deals(
    org: Org, name: str, viewer: str, all_time: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Win rate, deal size, sales cycle and lost reasons read the won and lost cells
    (counts, amounts, extremes, cycle sums), the product-line pipeline the line-item cells;
    the same reports over the opportunities and line items the viewer may see agree."""
    from accord.insights import reports

    user = getattr(org, viewer)
    walk = Walk(org, 9)
    walk.run(45)
    walk.settle()
    assert cells_check() == [] and line_cells_check() == []
    filters = reports.ReportFilters(period=None if all_time else Q1)
    from_cells = reports.report_build(viewer=user, name=name, filters=filters)
    monkeypatch.setattr(reports, "_cells_of", lambda *args: None)
    from_opportunities = reports.report_build(viewer=user, name=name, filters=filters)
    assert from_cells.rows == from_opportunities.rows
    assert from_cells.totals == from_opportunities.totals
    assert from_cells.rows, "the walk left deals for the report"


def test_a_closed_cell_recomputes_its_extremes_when_they_leave(org: Org) -> None:
    account = make_account(org, legal_name="Extremes Co., Ltd.")
    won = next(s for s in _stages(org, org.unit.pk) if s.outcome == StageOutcome.WON)
    deals = [
        opportunity_create(
            actor=org.admin,
            data={
                "name": f"Deal {amount}",
                "account": account.pk,
                "owner": org.rep.pk,
                "stage": won.pk,
                "amount": Decimal(amount),
                "expected_close_date": dt.date(2026, 2, 1),
            },
        )
        for amount in (100, 500, 900)
    ]
    cell = OpportunityCell.objects.get(stage=won)
    assert (cell.n, cell.amount_min, cell.amount_max) == (3, Decimal(100), Decimal(900))
    opportunity_delete(actor=org.admin, opportunity=deals[2])  # the largest leaves
    opportunity_update(actor=org.admin, opportunity=deals[0], data={"amount": Decimal(300)})
    cell.refresh_from_db()
    assert (cell.n, cell.amount, cell.amount_min, cell.amount_max) == (
        2,
        Decimal(800),
        Decimal(300),
        Decimal(500),
    )
    assert cells_check() == []


def test_line_cells_count_an_opportunity_once_per_line(org: Org) -> None:
    account = make_account(org, legal_name="Lines Co., Ltd.")
    line = ProductLine.objects.create(code="one-line", name="One line")
    first, second = ProductFactory(product_line=line), ProductFactory(product_line=line)
    stage = _stages(org, org.unit.pk)[0]
    opportunity_create(
        actor=org.admin,
        data={
            "name": "Two items, one line",
            "account": account.pk,
            "owner": org.rep.pk,
            "stage": stage.pk,
            "expected_close_date": dt.date(2026, 2, 1),
            "line_items": [
                {"product": first.pk, "quantity": 1, "unit_price": 1000},
                {"product": second.pk, "quantity": 2, "unit_price": 500},
            ],
        },
    )
    cell = LineItemCell.objects.get(product_line=line)
    assert (cell.n, cell.amount) == (1, Decimal("2000.00"))
    assert line_cells_check() == []
    LineItemCell.objects.all().delete()  # as after a bulk load
    assert line_cells_check() != []
    line_cells_rebuild()
    assert line_cells_check() == []
    assert Product.objects.filter(product_line=line).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_closed_deal_saved_outside_a_transaction_updates_its_cell(org: Org) -> None:
    """A closed cell is read under a row lock: a save in autocommit (a script, a task)
    must still work on PostgreSQL, where a lock outside a transaction is an error."""
    account = make_account(org, legal_name="Autocommit Co., Ltd.")
    won = next(s for s in _stages(org, org.unit.pk) if s.outcome == StageOutcome.WON)
    opp = _deal(org, account, won, 700)
    opp = Opportunity.objects.get(pk=opp.pk)
    opp.amount = Decimal(900)
    opp.save()  # no transaction around it
    cell = OpportunityCell.objects.get(stage=won)
    assert (cell.n, cell.amount_min, cell.amount_max) == (1, Decimal(900), Decimal(900))
    assert cells_check() == []


def test_a_reading_left_by_a_failed_item_write_is_not_reused(org: Org) -> None:
    """An item write that fails after its pre_save leaves its opportunity's reading behind
    (its post_save never comes); the next write reads again instead of moving a
    contribution that is no longer there."""
    from accord.insights import line_cells

    walk = Walk(org, 13)
    walk.settle()
    opp = next(o for o in walk._opps() if o.line_items.exists() and o.closed_at is None)
    line_cells._item_writing([opp.pk])  # as a save that failed after its pre_save
    opportunity_update(
        actor=org.admin, opportunity=opp, data={"expected_close_date": dt.date(2026, 6, 1)}
    )
    OpportunityLineItem.objects.create(
        opportunity=opp,
        product=walk.products[0],
        quantity=1,
        unit_price=Decimal(100),
        total=Decimal(100),
    )
    assert line_cells_check() == []
