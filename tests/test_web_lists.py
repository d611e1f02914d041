"""Contact, opportunity and activity lists: visibility, filters, pages, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accord.activities.services import activity_create
from accord.customers.services import contact_create
from accord.sales.models import Stage
from accord.sales.services import lead_create, opportunity_create
from tests.conftest import make_account

pytestmark = pytest.mark.django_db

NAMES = ["Chiang Mai Copiers", "Hat Yai Paper", "Khon Kaen Print", "Phuket Toner", "Rayong Ink"]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _records(org, names: list[str], owner) -> None:
    for name in names:
        account = make_account(org, legal_name=f"{name} Co., Ltd.")
        contact_create(actor=owner, data={"account": account.pk, "first_name": f"Khun {name}"})
        opportunity_create(actor=owner, data={"account": account.pk, "name": f"{name} deal"})
        activity_create(
            actor=owner, data={"account": account.pk, "kind": "visit", "subject": f"{name} visit"}
        )
        lead_create(actor=owner, data={"company_name": f"{name} lead", "owner": owner.pk})


def test_lists_show_what_the_user_may_see_and_filter(org):
    # given: one rep's records and a colleague's, in the same district
    _records(org, NAMES[:1], org.rep)
    _records(org, NAMES[1:2], org.other_rep)
    client = signed_in(org.rep)
    # contacts follow the account's district: both are visible
    html = client.get("/contacts/").content.decode()
    assert "Khun Chiang Mai Copiers" in html and "Khun Hat Yai Paper" in html
    # opportunities and activities follow their owner: only the rep's
    html = client.get("/opportunities/").content.decode()
    assert "Chiang Mai Copiers deal" in html and "Hat Yai Paper deal" not in html
    html = client.get("/activities/").content.decode()
    assert "Chiang Mai Copiers visit" in html and "Hat Yai Paper visit" not in html
    # the manager sees both, and narrows to their own (none) or by search
    manager = signed_in(org.manager)
    html = manager.get("/opportunities/").content.decode()
    assert "Chiang Mai Copiers deal" in html and "Hat Yai Paper deal" in html
    assert "Hat Yai Paper deal" not in manager.get("/opportunities/?scope=mine").content.decode()
    html = manager.get("/activities/", {"q": "hat yai"}).content.decode()
    assert "Hat Yai Paper visit" in html and "Chiang Mai Copiers visit" not in html
    assert "Hat Yai" not in manager.get("/activities/?kind=call").content.decode()
    assert "Khun" not in manager.get("/contacts/?active=no").content.decode()


def test_opportunity_list_filters_by_outcome(org):
    account = make_account(org)
    won = Stage.objects.get(pipeline=org.pipeline, name="Closed won")
    opportunity_create(actor=org.rep, data={"account": account.pk, "name": "Open one"})
    opportunity_create(
        actor=org.rep, data={"account": account.pk, "name": "Won one", "stage": won.pk}
    )
    html = signed_in(org.rep).get("/opportunities/?outcome=won").content.decode()
    assert "Won one" in html and "Open one" not in html


def test_lists_page_with_next_links(org, monkeypatch):
    monkeypatch.setattr("accord.web.lists.LIST_PAGE_SIZE", 2)
    _records(org, NAMES[:3], org.rep)
    client = signed_in(org.rep)
    first = client.get("/contacts/")
    assert len(first.context["page"].items) == 2
    second = client.get("/contacts/", {"cursor": first.context["page"].next_cursor})
    assert len(second.context["page"].items) == 1
    assert second.context["page"].next_cursor is None


@pytest.mark.parametrize("url", ["/contacts/", "/leads/", "/opportunities/", "/activities/"])
def test_list_query_counts_do_not_grow_with_rows(org, url):
    _records(org, NAMES[:1], org.rep)
    client = signed_in(org.rep)
    client.get(url)
    few = queries(client, url)
    _records(org, NAMES[1:], org.rep)
    assert queries(client, url) == few


def test_lead_list_filters_by_status_and_owner(org):
    _records(org, NAMES[:1], org.rep)
    _records(org, NAMES[1:2], org.other_rep)
    rep = signed_in(org.rep)
    html = rep.get("/leads/").content.decode()
    assert "Chiang Mai Copiers lead" in html and "Hat Yai Paper lead" not in html
    assert "Chiang Mai Copiers lead" not in rep.get("/leads/?status=working").content.decode()
    manager = signed_in(org.manager)
    html = manager.get("/leads/").content.decode()
    assert "Chiang Mai Copiers lead" in html and "Hat Yai Paper lead" in html
