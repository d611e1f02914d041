"""Security baseline: sign-in throttle, the security log, deploy settings, CSP."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from django.test import Client, override_settings

from accord.audit.models import SecurityEvent, SecurityEventKind
from accord.org.models import User
from accord.org.services import api_token_create
from tests.conftest import make_account

pytestmark = pytest.mark.django_db

PASSWORD = "a-Good-passw0rd"


def _with_password(user: User) -> User:
    user.set_password(PASSWORD)
    user.save()
    return user


def _sign_in(username: str, password: str, *, ip: str = "10.0.0.1", **headers: str) -> int:
    """POST the sign-in form; 302 = signed in, 200 = the form again with an error."""
    client = Client(REMOTE_ADDR=ip)
    response = client.post("/login/", {"username": username, "password": password}, headers=headers)
    return response.status_code


def _kinds() -> list[str]:
    return list(SecurityEvent.objects.order_by("id").values_list("kind", flat=True))


def test_sign_ins_and_failures_are_logged_with_who_and_where(org):
    _with_password(org.rep)
    assert _sign_in("rep", "wrong", **{"User-Agent": "Phone/1.0"}) == 200
    assert _sign_in("rep", PASSWORD) == 302
    failed, signed_in = SecurityEvent.objects.order_by("id")
    assert (failed.kind, failed.username, failed.ip, failed.user_agent, failed.actor_id) == (
        SecurityEventKind.LOGIN_FAILED,
        "rep",
        "10.0.0.1",
        "Phone/1.0",
        None,
    )
    assert (signed_in.kind, signed_in.actor_id) == (SecurityEventKind.LOGIN, org.rep.pk)


@override_settings(ACCORD_LOGIN_THROTTLE_PER_USERNAME=3, ACCORD_LOGIN_THROTTLE_PER_CLIENT=100)
def test_a_name_with_too_many_failures_is_refused_even_with_the_right_password(org):
    _with_password(org.rep)
    for n in range(3):
        assert _sign_in("rep", "wrong", ip=f"10.0.1.{n}") == 200
    client = Client(REMOTE_ADDR="10.0.2.1")
    response = client.post("/login/", {"username": "rep", "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed sign-ins" in response.content.decode()
    assert _kinds()[-1] == SecurityEventKind.LOGIN_THROTTLED
    # Other people are not locked out.
    _with_password(org.other_rep)
    assert _sign_in("other", PASSWORD, ip="10.0.2.1") == 302


@override_settings(ACCORD_LOGIN_THROTTLE_PER_USERNAME=100, ACCORD_LOGIN_THROTTLE_PER_CLIENT=4)
def test_one_client_guessing_many_names_is_refused_and_a_spoofed_header_does_not_help(org):
    _with_password(org.rep)
    for n in range(4):
        assert _sign_in(f"guess{n}", "wrong", ip="10.9.9.9") == 200
    spoofed = {"X-Forwarded-For": "203.0.113.7"}
    assert _sign_in("rep", PASSWORD, ip="10.9.9.9", **spoofed) == 200
    assert SecurityEvent.objects.filter(kind="login_throttled", ip="10.9.9.9").exists()
    assert _sign_in("rep", PASSWORD, ip="10.9.9.10") == 302


@override_settings(
    ACCORD_TRUSTED_PROXIES=1,
    ACCORD_LOGIN_THROTTLE_PER_USERNAME=100,
    ACCORD_LOGIN_THROTTLE_PER_CLIENT=2,
)
def test_behind_a_proxy_the_client_address_is_the_one_the_proxy_saw(org):
    _with_password(org.rep)
    proxy = "192.168.0.2"
    for n in range(2):
        # The client writes its own header entries; the proxy appends the real address.
        headers = {"X-Forwarded-For": f"198.51.100.{n}, 203.0.113.7"}
        assert _sign_in(f"guess{n}", "wrong", ip=proxy, **headers) == 200
    assert set(SecurityEvent.objects.values_list("ip", flat=True)) == {"203.0.113.7"}
    assert _sign_in("rep", PASSWORD, ip=proxy, **{"X-Forwarded-For": "1.2.3.4, 203.0.113.7"}) == 200
    assert _sign_in("rep", PASSWORD, ip=proxy, **{"X-Forwarded-For": "203.0.113.8"}) == 302


def test_the_admin_sign_in_is_throttled_and_logged_too(org):
    _with_password(org.admin)
    response = Client().post("/admin/login/", {"username": "admin", "password": "wrong"})
    assert response.status_code == 200
    assert _kinds() == [SecurityEventKind.LOGIN_FAILED]


def test_sign_out_is_logged(org):
    client = Client()
    client.force_login(org.rep)
    client.post("/logout/")
    assert _kinds() == [SecurityEventKind.LOGOUT]


def test_api_refusals_and_exports_are_logged(org, api_as):
    account = make_account(org, owner=org.rep)
    response = api_as(org.rep).patch(f"/accounts/{account.pk}", {"legal_name": "Renamed"})
    assert response.status_code == 403
    denied = SecurityEvent.objects.get(kind=SecurityEventKind.ACCESS_DENIED)
    assert denied.actor_id == org.rep.pk
    assert denied.detail["code"] == "field_requires_steward"
    assert denied.detail["path"] == f"/api/v1/accounts/{account.pk}"

    client = Client()
    client.force_login(org.rep)
    export = client.get("/accounts/export.csv", {"q": "siam"})
    assert export.status_code == 200
    b"".join(export.streaming_content)
    logged = SecurityEvent.objects.get(kind=SecurityEventKind.EXPORT)
    assert logged.actor_id == org.rep.pk
    assert logged.detail["what"] == "accounts"


def test_admin_permission_changes_are_logged_and_deactivation_ends_access(org):
    rep = org.rep
    token = api_token_create(user=rep).secret
    session = Client()
    session.force_login(rep)
    admin = Client()
    admin.force_login(org.admin)
    org.admin.is_superuser = True
    org.admin.save()
    page = admin.get(f"/admin/org/user/{rep.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        username=rep.username,
        role="sales_manager",
        districts=[str(d.pk) for d in rep.districts.all()],
        business_unit=str(rep.business_unit_id),
        manager=str(rep.manager_id),
        is_active="",
        language=rep.language,
        date_joined_0=rep.date_joined.strftime("%Y-%m-%d"),
        date_joined_1=rep.date_joined.strftime("%H:%M:%S"),
    )
    for key in ("team", "region", "last_login", "groups", "user_permissions", "is_staff"):
        data.pop(key, None)
    data.pop("is_active")
    response = admin.post(f"/admin/org/user/{rep.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    change = SecurityEvent.objects.get(kind=SecurityEventKind.PERMISSION_CHANGE)
    assert change.actor_id == org.admin.pk
    assert change.detail["changes"]["role"] == {"from": "sales_rep", "to": "sales_manager"}
    assert change.detail["changes"]["is_active"] == {"from": True, "to": False}
    # Deactivated in the admin: the session and the token stop working at once.
    assert session.get("/").status_code == 302
    assert (
        Client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def test_pages_carry_a_content_security_policy(org):
    client = Client()
    client.force_login(org.rep)
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


def test_deploy_check_with_production_settings_reports_nothing():
    env = {
        **os.environ,
        "ACCORD_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "crm.example.com",
        "DEBUG": "0",
    }
    for name in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"):  # the test run's, not a deploy's
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env={**env, "DJANGO_SETTINGS_MODULE": "accord.settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout + done.stderr
