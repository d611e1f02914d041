"""The pipeline board: moves go through the stage's compulsory-field rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accord.dataquality.models import RequiredFieldRule
from accord.sales.models import Opportunity, Stage
from accord.sales.services import opportunity_create
from tests.conftest import make_account

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _opp(org, name: str, owner=None, district=None) -> Opportunity:
    account = make_account(org, legal_name=f"{name} Account Co., Ltd.", district=district)
    return opportunity_create(actor=owner or org.rep, data={"account": account.pk, "name": name})


def test_board_shows_the_units_pipeline_with_visible_cards(org):
    _opp(org, "Mine")
    _opp(org, "Colleague's", owner=org.other_rep)
    response = signed_in(org.rep).get("/pipeline/")
    assert response.context["pipeline"] == org.pipeline
    columns = {c.stage.name: [o.name for o in c.cards] for c in response.context["columns"]}
    assert columns["Prospecting"] == ["Mine"]
    assert list(columns) == [
        "Prospecting", "Qualification", "Proposal", "Negotiation", "Closed won", "Closed lost"
    ]  # fmt: skip


def test_moving_into_a_stage_with_missing_fields_is_refused_on_the_card(org):
    # given
    proposal = Stage.objects.get(pipeline=org.pipeline, name="Proposal")
    RequiredFieldRule.objects.create(
        record_type="opportunity", field="expected_close_date", stage=proposal
    )
    opp = _opp(org, "Copiers")
    client = signed_in(org.rep)
    # when (htmx)
    response = client.post(
        f"/opportunities/{opp.pk}/move/", {"stage": proposal.pk}, headers={"HX-Request": "true"}
    )
    # then
    assert response.status_code == 200
    assert response.context["problem"]["fields"] == ["expected_close_date"]
    html = response.content.decode()
    assert "expected_close_date" in html and 'role="alert"' in html
    opp.refresh_from_db()
    assert opp.stage.name == "Prospecting"
    # without htmx, the full page with status 422
    response = client.post(f"/opportunities/{opp.pk}/move/", {"stage": proposal.pk})
    assert response.status_code == 422
    # once filled in, the move succeeds
    opp.expected_close_date = dt.date(2026, 12, 31)  # saved through the ORM: cells follow
    opp.save(update_fields=["expected_close_date"])
    response = client.post(f"/opportunities/{opp.pk}/move/", {"stage": proposal.pk})
    assert response.status_code == 302
    opp.refresh_from_db()
    assert opp.stage == proposal


def test_others_cards_cannot_be_moved(org):
    opp = _opp(org, "South", owner=org.south_rep, district=org.south)
    stage = Stage.objects.get(pipeline=org.pipeline, name="Qualification")
    assert (
        signed_in(org.rep).post(f"/opportunities/{opp.pk}/move/", {"stage": stage.pk}).status_code
        == 404
    )


def test_board_query_count_does_not_grow_with_cards(org):
    _opp(org, "One")
    client = signed_in(org.rep)
    client.get("/pipeline/")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/pipeline/").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for name in ["Two", "Three", "Four", "Five"]:
        _opp(org, f"{name} deal")
    assert count() == few


def test_a_full_stage_shows_its_total_and_the_newest_cards_in_constant_queries(org):
    from accord.sales.selectors import BOARD_CARDS_PER_STAGE

    account = make_account(org, legal_name="Busy Buyer Co., Ltd.")

    def add(n: int) -> None:
        for i in range(n):
            opportunity_create(
                actor=org.rep,
                data={"account": account.pk, "name": f"Deal {i}", "amount": Decimal("100.00")},
            )

    add(3)
    client = signed_in(org.rep)
    with CaptureQueriesContext(connection) as few:
        client.get("/pipeline/")
    add(BOARD_CARDS_PER_STAGE)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/pipeline/")
    assert len(many.captured_queries) == len(few.captured_queries)
    first = response.context["columns"][0]
    assert first.count == BOARD_CARDS_PER_STAGE + 3
    assert first.amount == Decimal("100.00") * (BOARD_CARDS_PER_STAGE + 3)
    assert len(first.cards) == BOARD_CARDS_PER_STAGE
    html = response.content.decode()
    assert f"All {BOARD_CARDS_PER_STAGE + 3} in this stage" in html
    assert f"?stage={first.stage.pk}" in html


# --- what the columns count ---------------------------------------------------------------


def _deal(
    org, name: str, *, owner=None, stage: str | None = "Prospecting", district=None, **fields
) -> Opportunity:
    """An opportunity through the service (so the opportunity cells follow it)."""
    account = make_account(
        org,
        legal_name=f"{name} Buyer Co., Ltd.",
        district=district,
        duplicate_justification="Different buyers with similar names",
    )
    return opportunity_create(
        actor=owner or org.rep,
        data={
            "account": account.pk,
            "name": name,
            **({"stage": Stage.objects.get(pipeline=org.pipeline, name=stage).pk} if stage else {}),
            **fields,
        },
    )


def _columns(user) -> dict[str, tuple[int, Decimal, list[str]]]:
    response = signed_in(user).get(f"/pipeline/?pipeline={org_pipeline_pk(user)}")
    assert response.status_code == 200
    return {
        c.stage.name: (c.count, c.amount, [o.name for o in c.cards])
        for c in response.context["columns"]
    }


def org_pipeline_pk(user) -> str:
    from accord.sales.models import Pipeline

    return str(Pipeline.objects.get(business_unit__code="bsd").pk)


def _exact(user, stage_name: str) -> tuple[int, Decimal]:
    """The column's figures recomputed from the opportunities themselves."""
    from django.db.models import Count, Q, Sum

    from accord.territories.visibility import opportunities_visible_to

    fresh = type(user).objects.get(pk=user.pk)  # the scope as it is now, not as cached
    row = (
        opportunities_visible_to(fresh)
        .filter(stage__pipeline__business_unit__code="bsd", stage__name=stage_name)
        .aggregate(n=Count("*"), amount=Sum("amount", filter=Q(currency="THB")))
    )
    return row["n"], row["amount"] or Decimal(0)


def test_open_columns_count_every_visible_deal_with_or_without_a_close_date(org, settings):
    # given: the manager's reps' deals, some without an expected close date, one in
    # another currency (counted, but not in the total), and another unit's rep's deal
    settings.ACCORD_DEFAULT_CURRENCY = "THB"
    _deal(org, "Dated", amount=Decimal("100.00"), expected_close_date="2026-12-15")
    _deal(org, "Undated", amount=Decimal("40.00"))
    _deal(
        org,
        "Colleague's",
        owner=org.other_rep,
        amount=Decimal("7.00"),
        expected_close_date="2027-02-01",
    )
    _deal(
        org,
        "In dollars",
        owner=org.other_rep,
        amount=Decimal("5.00"),
        currency="USD",
        expected_close_date="2026-12-01",
    )
    _deal(
        org, "Proposed", stage="Proposal", amount=Decimal("30.00"), expected_close_date="2027-01-10"
    )
    _deal(
        org,
        "Elsewhere",
        owner=org.south_rep,
        district=org.south,
        stage=None,
        amount=Decimal("999.00"),
    )
    # when
    as_manager = _columns(org.manager)
    as_rep = _columns(org.rep)
    as_admin = _columns(org.admin)
    # then
    assert as_manager["Prospecting"][:2] == (4, Decimal("147.00"))
    assert as_manager["Proposal"][:2] == (1, Decimal("30.00"))
    assert as_rep["Prospecting"][:2] == (2, Decimal("140.00"))
    assert sorted(as_manager["Prospecting"][2]) == ["Colleague's", "Dated", "In dollars", "Undated"]
    for user, columns in [(org.manager, as_manager), (org.rep, as_rep), (org.admin, as_admin)]:
        for stage in ["Prospecting", "Qualification", "Proposal", "Negotiation"]:
            assert columns[stage][:2] == _exact(user, stage), (user.username, stage)


def test_open_columns_follow_moves_and_territory_sharing(org):
    # given: a deal moved on, and a sharing model that opens a district's deals (so the
    # figures can no longer be summed per owner)
    from accord.sales.services import opportunity_move_stage
    from accord.territories.models import Access, SharedRecordType, SharingDefault

    moved = _deal(org, "Moving", amount=Decimal("10.00"), expected_close_date="2026-12-15")
    _deal(org, "Staying", amount=Decimal("20.00"))
    opportunity_move_stage(
        actor=org.rep,
        opportunity=moved,
        stage=Stage.objects.get(pipeline=org.pipeline, name="Negotiation"),
    )
    _deal(org, "Northern", owner=org.other_rep, amount=Decimal("3.00"))
    # when / then: by owner
    assert _columns(org.rep)["Prospecting"][:2] == (1, Decimal("20.00"))
    assert _columns(org.rep)["Negotiation"][:2] == (1, Decimal("10.00"))
    # when / then: with territory access, the district's deals of others count too
    SharingDefault.objects.create(
        record_type=SharedRecordType.OPPORTUNITY, territory_access=Access.READ
    )
    columns = _columns(org.rep)
    assert columns["Prospecting"][:2] == _exact(org.rep, "Prospecting")
    assert columns["Negotiation"][:2] == (1, Decimal("10.00"))


def test_closed_columns_hold_the_deals_closed_in_the_last_90_days(org):
    # given: a deal won today, one won 100 days ago, one lost 30 days ago

    from django.utils import timezone

    from accord.sales.selectors import BOARD_CLOSED_DAYS

    assert BOARD_CLOSED_DAYS == 90
    _deal(org, "Won today", stage="Closed won", amount=Decimal("50.00"))
    old = _deal(org, "Won long ago", stage="Closed won", amount=Decimal("70.00"))
    old.closed_at = timezone.now() - dt.timedelta(days=100)
    old.save(update_fields=["closed_at"])
    lost = _deal(org, "Lost last month", stage="Closed lost", amount=Decimal("9.00"))
    lost.closed_at = timezone.now() - dt.timedelta(days=30)
    lost.save(update_fields=["closed_at"])
    # when
    response = signed_in(org.manager).get("/pipeline/")
    # then
    columns = {c.stage.name: c for c in response.context["columns"]}
    won, lost_column = columns["Closed won"], columns["Closed lost"]
    assert (won.count, won.amount, [o.name for o in won.cards]) == (
        1,
        Decimal("50.00"),
        ["Won today"],
    )
    assert (lost_column.count, [o.name for o in lost_column.cards]) == (1, ["Lost last month"])
    assert columns["Prospecting"].closed_since is None
    html = response.content.decode()
    assert html.count("Closed in the last 90 days") == 2
    assert html.count("All closed deals in this stage") == 2
    assert f"?stage={won.stage.pk}" in html


def test_closed_cards_are_the_most_recently_closed(org):

    from django.utils import timezone

    from accord.sales.selectors import pipeline_board

    first = _deal(org, "Created first, closed last", stage="Closed won")
    second = _deal(org, "Created last, closed first", stage="Closed won")
    second.closed_at = timezone.now() - dt.timedelta(days=5)
    second.save(update_fields=["closed_at"])
    columns = {
        c.stage.name: c for c in pipeline_board(user=org.rep, pipeline=org.pipeline, per_stage=1)
    }
    assert [o.name for o in columns["Closed won"].cards] == [first.name]
    assert columns["Closed won"].count == 2


def test_the_managers_board_queries_do_not_grow_with_open_and_closed_deals(org):
    # given
    _deal(org, "First", amount=Decimal("1.00"))
    client = signed_in(org.manager)
    client.get("/pipeline/")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/pipeline/").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    # when
    for i in range(4):
        _deal(org, f"Open {i}", owner=org.other_rep, expected_close_date="2027-01-01")
        _deal(org, f"Won {i}", stage="Closed won", amount=Decimal("2.00"))
        _deal(org, f"Lost {i}", owner=org.other_rep, stage="Closed lost")
    # then
    assert count() == few
