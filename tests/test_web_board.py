"""The pipeline board: moves go through the stage's compulsory-field rule."""

from __future__ import annotations

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
    Opportunity.objects.filter(pk=opp.pk).update(expected_close_date="2026-12-31")
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
    from decimal import Decimal

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
