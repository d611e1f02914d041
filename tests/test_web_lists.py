"""Contact, lead, opportunity and activity lists: visibility, filters, scopes, sort, pages,
CSV export and query counts."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accord.activities.services import activity_create
from accord.customers.services import contact_create
from accord.sales.models import Lead, Stage
from accord.sales.services import lead_create, opportunity_create
from tests.conftest import ApiClient, give_ownership, make_account
from tests.factories import TeamFactory

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
        account = make_account(org, legal_name=f"{name} Co., Ltd.", owner=owner)
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


# --- filters, scopes, sort, export (the API takes the same filters) -------------------------


def _team_org(org):
    """The rep and their manager form a team; other_rep reports to the manager but sits in
    no team; the administrator joins the team (and sees everything)."""
    team = TeamFactory(name="North team", business_unit=org.unit, manager=org.manager)
    for user in (org.manager, org.rep, org.admin):
        user.team = team
        user.save(update_fields=["team"])
    return team


def _lead(owner, name: str, **data) -> Lead:
    return lead_create(actor=owner, data={"company_name": name, "owner": owner.pk, **data})


def _names(response, attr: str = "company_name") -> list[str]:
    return [getattr(item, attr) for item in response.context["page"].items]


def test_scope_mine_team_and_all_narrow_what_the_user_may_see(org):
    # given
    _team_org(org)
    _lead(org.rep, "Rep lead")
    _lead(org.other_rep, "Other lead")
    _lead(org.south_rep, "South lead")
    admin = signed_in(org.admin)
    manager = signed_in(org.manager)
    # when / then: the administrator sees every lead; the team is the team's members
    assert sorted(_names(admin.get("/leads/"))) == ["Other lead", "Rep lead", "South lead"]
    assert sorted(_names(admin.get("/leads/?scope=all"))) == [
        "Other lead",
        "Rep lead",
        "South lead",
    ]
    assert _names(admin.get("/leads/?scope=team")) == ["Rep lead"]
    assert _names(admin.get("/leads/?scope=mine")) == []
    # a manager's team also holds everyone reporting to them, in a team or not
    assert sorted(_names(manager.get("/leads/?scope=team"))) == ["Other lead", "Rep lead"]
    # a scope never widens visibility: the rep's "team" holds only what the rep may see
    assert _names(signed_in(org.rep).get("/leads/?scope=team")) == ["Rep lead"]
    # the same on the API
    api = ApiClient(org.admin)
    assert [x["company_name"] for x in api.get("/leads", scope="team").json()["items"]] == [
        "Rep lead"
    ]


def test_account_and_contact_scopes_follow_ownership(org):
    # given: the rep owns the north account, the south rep the south one; a third account
    # in the north has no owner
    north = make_account(org, legal_name="North Co., Ltd.", owner=org.rep)
    south = make_account(org, legal_name="South Co., Ltd.", district=org.south, owner=org.south_rep)
    make_account(org, legal_name="Unowned North Co., Ltd.")
    contact_create(actor=org.steward, data={"account": north.pk, "first_name": "Khun North"})
    contact_create(actor=org.steward, data={"account": south.pk, "first_name": "Khun South"})
    _team_org(org)
    admin = signed_in(org.admin)
    # when / then
    assert [a.legal_name for a in admin.get("/accounts/?scope=team").context["page"].items] == [
        "North Co., Ltd."
    ]
    assert admin.get("/accounts/?scope=mine").context["page"].items == []
    south_rep = signed_in(org.south_rep)
    assert _names(south_rep.get("/accounts/?scope=mine"), "legal_name") == ["South Co., Ltd."]
    assert _names(admin.get("/contacts/?scope=team"), "first_name") == ["Khun North"]
    assert _names(admin.get(f"/contacts/?district={org.south.pk}"), "first_name") == ["Khun South"]
    api = ApiClient(org.south_rep)
    assert [a["legal_name"] for a in api.get("/accounts", scope="mine").json()["items"]] == [
        "South Co., Ltd."
    ]
    api = ApiClient(org.admin)
    body = api.get("/contacts", district=str(org.north.pk), scope="all").json()
    assert [c["first_name"] for c in body["items"]] == ["Khun North"]


def test_lead_filters_owner_unit_district_status_dates_and_sort(org):
    # given
    _lead(org.rep, "Bravo Paper", district=org.north.pk)
    _lead(org.rep, "Alpha Ink", status="working")
    _lead(org.other_rep, "Charlie Toner")
    _lead(org.south_rep, "Delta Copier", district=org.south.pk)
    admin = signed_in(org.admin)
    today = timezone.localdate()
    # when / then
    assert sorted(_names(admin.get(f"/leads/?owner={org.rep.pk}"))) == ["Alpha Ink", "Bravo Paper"]
    assert _names(admin.get(f"/leads/?unit={org.other_unit.pk}")) == ["Delta Copier"]
    assert _names(admin.get(f"/leads/?district={org.south.pk}")) == ["Delta Copier"]
    assert _names(admin.get("/leads/?status=working")) == ["Alpha Ink"]
    assert _names(admin.get("/leads/?sort=company_name")) == [
        "Alpha Ink", "Bravo Paper", "Charlie Toner", "Delta Copier"
    ]  # fmt: skip
    tomorrow, yesterday = today + dt.timedelta(days=1), today - dt.timedelta(days=1)
    assert _names(admin.get(f"/leads/?created_from={tomorrow}")) == []
    assert _names(admin.get(f"/leads/?created_to={yesterday}")) == []
    assert len(_names(admin.get(f"/leads/?created_from={today}&created_to={today}"))) == 4
    # nonsense is ignored, not an error
    response = admin.get("/leads/?owner=nobody&created_from=soon&sort=evil&scope=everyone")
    assert response.status_code == 200 and len(_names(response)) == 4
    # the API takes the same filters
    api = ApiClient(org.admin)
    body = api.get("/leads", created_from=str(tomorrow)).json()
    assert body["items"] == []
    body = api.get("/leads", created_from=str(today), ordering="company_name").json()
    assert [x["company_name"] for x in body["items"]][:2] == ["Alpha Ink", "Bravo Paper"]


def test_opportunity_filters_stage_unit_district_close_dates_and_sort(org):
    # given
    north = make_account(org, legal_name="North Co., Ltd.")
    south = make_account(org, legal_name="South Co., Ltd.", district=org.south)
    proposal = Stage.objects.get(pipeline=org.pipeline, name="Proposal")
    today = timezone.localdate()
    opportunity_create(
        actor=org.rep,
        data={"account": north.pk, "name": "Small", "amount": Decimal(1000),
              "expected_close_date": today},
    )  # fmt: skip
    opportunity_create(
        actor=org.rep,
        data={"account": north.pk, "name": "Big", "amount": Decimal(90000), "stage": proposal.pk,
              "expected_close_date": today + dt.timedelta(days=40)},
    )  # fmt: skip
    opportunity_create(actor=org.south_rep, data={"account": south.pk, "name": "Southern"})
    admin = signed_in(org.admin)
    # when / then
    url = "/opportunities/"
    assert _names(admin.get(f"{url}?stage={proposal.pk}"), "name") == ["Big"]
    assert _names(admin.get(f"{url}?unit={org.other_unit.pk}"), "name") == ["Southern"]
    assert _names(admin.get(f"{url}?district={org.south.pk}"), "name") == ["Southern"]
    assert _names(admin.get(f"{url}?close_from={today}&close_to={today}"), "name") == ["Small"]
    assert _names(admin.get(f"{url}?sort=-amount&owner={org.rep.pk}"), "name") == ["Big", "Small"]
    assert _names(admin.get(f"{url}?sort=amount&owner={org.rep.pk}"), "name") == ["Small", "Big"]
    api = ApiClient(org.admin)
    body = api.get("/opportunities", district=str(org.north.pk), ordering="-amount").json()
    assert [o["name"] for o in body["items"]] == ["Big", "Small"]


def test_activity_filters_owner_status_dates_and_sort(org):
    # given
    account = make_account(org)
    today = timezone.localdate()

    def task(user, subject: str, due: dt.date, done: bool = False) -> None:
        activity_create(
            actor=user,
            data={"account": account.pk, "kind": "task", "subject": subject, "due_date": due,
                  "is_done": done},
        )  # fmt: skip

    task(org.rep, "Due today", today)
    task(org.rep, "Due next week", today + dt.timedelta(days=7))
    task(org.rep, "Done yesterday", today - dt.timedelta(days=1), done=True)
    task(org.other_rep, "Colleague's", today)
    manager = signed_in(org.manager)
    url = "/activities/"
    # when / then
    assert _names(manager.get(f"{url}?owner={org.other_rep.pk}"), "subject") == ["Colleague's"]
    assert _names(manager.get(f"{url}?done=yes"), "subject") == ["Done yesterday"]
    assert sorted(_names(manager.get(f"{url}?date_from={today}&date_to={today}"), "subject")) == [
        "Colleague's", "Due today"
    ]  # fmt: skip
    assert _names(manager.get(f"{url}?scope=mine"), "subject") == []
    assert _names(signed_in(org.rep).get(f"{url}?sort=occurred_at"), "subject") == [
        "Done yesterday", "Due today", "Due next week"
    ]  # fmt: skip
    api = ApiClient(org.manager)
    body = api.get("/activities", date_from=str(today), date_to=str(today), scope="team").json()
    assert sorted(a["subject"] for a in body["items"]) == ["Colleague's", "Due today"]


def test_csv_export_honours_filters_scope_and_visibility(org):
    # given
    _team_org(org)
    _lead(org.rep, "Rep lead")
    _lead(org.rep, "Rep working lead", status="working")
    _lead(org.other_rep, "Other lead")
    _lead(org.south_rep, "South lead")

    def export(user, query: str) -> list[list[str]]:
        response = signed_in(user).get(f"/leads/export.csv{query}")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text)))

    # when
    rows = export(org.admin, "?scope=team&sort=company_name")
    # then
    assert rows[0][:3] == ["company_name", "first_name", "last_name"]
    assert [r[0] for r in rows[1:]] == ["Rep lead", "Rep working lead"]
    assert [r[0] for r in export(org.admin, "?scope=team&status=working")[1:]] == [
        "Rep working lead"
    ]
    # only rows the user may see, whatever the scope asked for
    assert {r[0] for r in export(org.rep, "?scope=all")[1:]} == {"Rep lead", "Rep working lead"}
    # the other lists export too
    _records(org, NAMES[:1], org.rep)
    for key, first_column in [
        ("contacts", "account_code"),
        ("opportunities", "name"),
        ("activities", "kind"),
    ]:
        response = signed_in(org.rep).get(f"/{key}/export.csv", {"q": "chiang"})
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0][0] == first_column and len(rows) == 2, key


@pytest.mark.parametrize(
    "url",
    [
        "/contacts/?scope=team&active=yes&sort=-created_at",
        "/leads/?scope=team&status=new&sort=company_name",
        "/opportunities/?scope=mine&outcome=open&sort=-amount",
        "/activities/?scope=team&done=no&sort=occurred_at",
        "/accounts/?scope=mine&status=active",
    ],
)
def test_filtered_list_query_counts_do_not_grow_with_rows(org, url):
    _team_org(org)
    _records(org, NAMES[:1], org.rep)
    client = signed_in(org.rep)
    client.get(url)
    few = queries(client, url)
    _records(org, NAMES[1:], org.rep)
    assert queries(client, url) == few


@pytest.mark.parametrize("key", ["contacts", "leads", "opportunities", "activities"])
def test_export_query_count_does_not_grow_with_rows(org, key):
    _records(org, NAMES[:1], org.rep)
    client = signed_in(org.rep)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/{key}/export.csv?scope=mine")
            body = b"".join(response.streaming_content)
        assert body.count(b"\n") >= 2
        return len(ctx.captured_queries)

    few = count()
    _records(org, NAMES[1:], org.rep)
    assert count() == few


def test_filter_bar_shows_the_choices_and_keeps_the_chosen_values(org):
    _lead(org.rep, "Rep lead")
    html = signed_in(org.manager).get(f"/leads/?scope=team&owner={org.rep.pk}").content.decode()
    assert '<option value="team" selected>' in html
    assert f'<option value="{org.rep.pk}" selected>' in html
    # owners offered: the people whose records the manager may see, not the other unit's rep
    assert f'value="{org.other_rep.pk}"' in html and f'value="{org.south_rep.pk}"' not in html
    assert 'href="/leads/export.csv"' not in html and 'formaction="/leads/export.csv"' in html


def test_date_ranges_at_the_ends_of_the_calendar_are_no_error(org):
    _lead(org.rep, "Rep lead")
    activity_create(
        actor=org.rep, data={"lead": Lead.objects.get().pk, "kind": "call", "subject": "Hello"}
    )
    client = signed_in(org.rep)
    api = ApiClient(org.rep)
    # the UI ignores days the API refuses; both take the widest days the API accepts
    for first, last in [("0001-01-01", "9999-12-31"), ("1900-01-01", "2999-12-31")]:
        assert _names(client.get(f"/leads/?created_from={first}&created_to={last}")) == ["Rep lead"]
        response = client.get(f"/activities/?date_from={first}&date_to={last}")
        assert _names(response, "subject") == ["Hello"]
    body = api.get("/leads", created_from="1900-01-01", created_to="2999-12-31").json()
    assert [x["company_name"] for x in body["items"]] == ["Rep lead"]
    body = api.get("/activities", date_from="1900-01-01", date_to="2999-12-31").json()
    assert [x["subject"] for x in body["items"]] == ["Hello"]
    assert api.get("/leads", created_to="9999-12-31").status_code == 422


def test_accounts_filter_by_owner_and_unit_and_show_their_owners(org):
    # given: the rep owns one account, the other unit's rep owns it too and another one
    both = make_account(org, legal_name="Both Units Co., Ltd.", owner=org.rep)
    give_ownership(both, org.south_rep)
    make_account(org, legal_name="South Only Co., Ltd.", owner=org.south_rep)
    make_account(org, legal_name="Nobody's Co., Ltd.")
    admin = signed_in(org.admin)
    # when / then: by owner, by unit, both
    by_rep = admin.get(f"/accounts/?owner={org.rep.pk}")
    assert _names(by_rep, "legal_name") == ["Both Units Co., Ltd."]
    assert sorted(_names(admin.get(f"/accounts/?unit={org.other_unit.pk}"), "legal_name")) == [
        "Both Units Co., Ltd.",
        "South Only Co., Ltd.",
    ]
    assert _names(admin.get(f"/accounts/?unit={org.unit.pk}&owner={org.south_rep.pk}")) == []
    # each row names its owners with their unit
    html = by_rep.content.decode()
    assert f"{org.rep} (BSD)" in html and f"{org.south_rep} (BSO)" in html
    # the export has them too, and the API filters the same way
    body = b"".join(admin.get(f"/accounts/export.csv?owner={org.rep.pk}").streaming_content)
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].endswith(",owners") and len(lines) == 2
    assert "bsd: rep; bso: southrep" in lines[1]
    api = ApiClient(org.admin)
    found = api.get("/accounts", business_unit=str(org.other_unit.pk)).json()["items"]
    assert sorted(a["legal_name"] for a in found) == [
        "Both Units Co., Ltd.",
        "South Only Co., Ltd.",
    ]


def test_the_account_list_owners_take_a_fixed_number_of_queries(org):
    make_account(org, legal_name="First Co., Ltd.", owner=org.rep)
    client = signed_in(org.rep)
    client.get("/accounts/")
    few = queries(client, "/accounts/")
    for i in range(5):
        account = make_account(org, legal_name=f"More {i} Co., Ltd.", owner=org.rep)
        give_ownership(account, org.south_rep)
    assert queries(client, "/accounts/") == few
