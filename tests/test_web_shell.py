"""The UI shell through Django's test client: sign-in, sessions, navigation by role,
global search and the language switch."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from accord.sales.services import lead_create
from tests.conftest import make_account

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_need_a_sign_in(org):
    client = Client()
    for url in ["/", "/accounts/", "/search/?q=siam", "/accounts/export.csv", "/password/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next="), url


def test_sign_in_and_out(org):
    # given
    client = Client()
    # when
    response = client.post(
        "/login/", {"username": "rep", "password": PASSWORD, "next": "/accounts/"}
    )
    # then
    assert response.status_code == 302
    assert response["Location"] == "/accounts/"
    assert client.get("/").status_code == 200
    # when signing out (a POST, as Django requires)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_with_a_message(org):
    response = Client().post("/login/", {"username": "rep", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_password_change(org):
    client = signed_in(org.rep)
    response = client.post(
        "/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-longer-passphrase-7",
            "new_password2": "a-much-longer-passphrase-7",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/password/done/"
    org.rep.refresh_from_db()
    assert org.rep.check_password("a-much-longer-passphrase-7")
    # the session that changed it stays signed in
    assert client.get("/").status_code == 200


def test_password_change_shows_field_errors(org):
    response = signed_in(org.rep).post(
        "/password/", {"old_password": "wrong", "new_password1": "x", "new_password2": "y"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Your old password was entered incorrectly" in html
    assert "The two password fields didn" in html


def test_sessions_expire_after_idle_time(org):
    # the settings that make the expiry an *idle* expiry
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    client = signed_in(org.rep)
    session = Session.objects.get()
    # every request pushes the expiry forward
    Session.objects.filter(pk=session.pk).update(
        expire_date=timezone.now() + dt.timedelta(minutes=5)
    )
    assert client.get("/").status_code == 200
    renewed = Session.objects.get(pk=session.pk).expire_date
    assert renewed > timezone.now() + dt.timedelta(hours=7, minutes=59)
    # an idle session past its expiry is gone
    Session.objects.filter(pk=session.pk).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.get("/accounts/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/accounts/"


def test_a_deactivated_user_is_signed_out(org):
    client = signed_in(org.rep)
    assert client.get("/").status_code == 200
    org.rep.is_active = False
    org.rep.save(update_fields=["is_active"])
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"
    # and cannot sign in again
    response = Client().post("/login/", {"username": "rep", "password": PASSWORD})
    assert response.status_code == 200


def test_navigation_by_role(org):
    rep_page = signed_in(org.rep).get("/").content.decode()
    assert 'href="/accounts/"' in rep_page
    assert 'href="/admin/"' not in rep_page
    for user in (org.admin, org.steward):
        page = signed_in(user).get("/").content.decode()
        assert 'href="/admin/"' in page, user.username


def test_a_rep_cannot_open_admin_screens(org):
    client = signed_in(org.rep)
    for url in ["/admin/", "/admin/customers/account/", "/admin/org/user/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url


def test_global_search_finds_each_kind_within_visibility(org):
    # given
    north = make_account(
        org, legal_name="Siam Cement North", name_th="ปูนซิเมนต์ไทย", phone="021234567"
    )
    make_account(org, legal_name="Siam South Co., Ltd.", district=org.south)
    lead_create(actor=org.rep, data={"company_name": "Siam Prospects", "email": "x@siam.example"})
    client = signed_in(org.rep)
    # when
    html = client.get("/search/", {"q": "SIAM"}).content.decode()
    # then: the rep's own district and lead, not the south account
    assert "Siam Cement North" in html
    assert "Siam South" not in html
    assert "Siam Prospects" in html
    # by Thai name fragment, customer code and phone
    assert "Siam Cement North" in client.get("/search/", {"q": "ซิเมนต์"}).content.decode()
    assert (
        "Siam Cement North"
        in client.get("/search/", {"q": north.customer_code.lower()}).content.decode()
    )
    assert "Siam Cement North" in client.get("/search/", {"q": "021234567"}).content.decode()


def test_search_query_count_does_not_grow_with_results(org, django_assert_num_queries):
    client = signed_in(org.rep)
    make_account(org, legal_name="Siam 0")
    client.get("/search/", {"q": "siam"})  # warm the session

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/search/", {"q": "siam"}).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for n in range(1, 8):
        make_account(org, legal_name=f"Siam {n}")
    assert count() == few


def test_language_switch_to_thai(org):
    client = signed_in(org.rep)
    response = client.post("/i18n/setlang/", {"language": "th", "next": "/accounts/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/"
    html = client.get("/accounts/").content.decode()
    assert '<html lang="th">' in html
    assert "บัญชีลูกค้า" in html  # "Accounts"
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "<h1>Accounts</h1>" in client.get("/accounts/").content.decode()


def test_sign_in_uses_the_users_language_until_the_browser_chooses_one(org):
    # given
    org.rep.language = "th"
    org.rep.save(update_fields=["language"])
    client = Client()
    # when
    client.post("/login/", {"username": "rep", "password": PASSWORD})
    # then
    assert '<html lang="th">' in client.get("/").content.decode()
    # a choice made in the browser wins at the next sign-in
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    client.post("/logout/")
    client.post("/login/", {"username": "rep", "password": PASSWORD})
    assert '<html lang="en">' in client.get("/").content.decode()
