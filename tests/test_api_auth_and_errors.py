"""Authentication (tokens, sessions, CSRF), problem+json errors, and list query counts."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accord.core.context import Source, acting_as
from accord.org.models import ApiToken
from accord.org.services import api_token_create, api_token_revoke, user_deactivate
from tests.conftest import make_account

pytestmark = pytest.mark.django_db


def test_no_credentials_is_401_problem(org):
    response = Client().get("/api/v1/accounts")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_authenticated"


def test_token_is_stored_hashed_and_works(org):
    issued = api_token_create(user=org.rep)
    assert issued.secret.startswith("acc_")
    stored = ApiToken.objects.get()
    assert issued.secret not in (stored.key_hash, stored.prefix)
    response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {issued.secret}"})
    assert response.status_code == 200
    assert response.json()["username"] == "rep"


def test_revoked_token_and_deactivated_users_token_stop_working(org):
    first = api_token_create(user=org.rep)
    second = api_token_create(user=org.other_rep)
    api_token_revoke(token=first.token)
    user_deactivate(user=org.other_rep)
    for secret in (first.secret, second.secret, "acc_not-a-token", "garbage"):
        response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 401


def test_token_create_command_prints_a_working_token(org):
    out = io.StringIO()
    call_command("token_create", "rep", stdout=out)
    secret = out.getvalue().strip()
    response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.json()["username"] == "rep"


def test_session_auth_requires_csrf_on_unsafe_methods(org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.steward)
    assert client.get("/api/v1/accounts").status_code == 200
    refused = client.post(
        "/api/v1/accounts", {"legal_name": "Csrf Co."}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    token = "k" * 32  # what a page's {% csrf_token %} would have set
    client.cookies["csrftoken"] = token
    allowed = client.post(
        "/api/v1/accounts",
        {"legal_name": "Csrf Co."},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert allowed.status_code == 201


def test_deactivated_users_session_is_ended(org):
    client = Client()
    client.force_login(org.rep)
    assert client.get("/api/v1/me").status_code == 200
    user_deactivate(user=org.rep)
    assert client.get("/api/v1/me").status_code == 401


def test_malformed_json_and_wrong_types_are_422(org, api_as):
    api = api_as(org.steward)
    bad_json = api.client.post(
        "/api/v1/accounts", "{not json", content_type="application/json", headers=api.headers
    )
    assert bad_json.status_code in (400, 422)
    assert bad_json["Content-Type"] == "application/problem+json"
    wrong = api.post("/accounts", {"legal_name": 12, "district": "not-a-uuid"})
    assert wrong.status_code == 422
    assert set(wrong.json()["errors"]) == {"legal_name", "district"}
    unknown_district = api.post(
        "/accounts",
        {"legal_name": "A", "district": "00000000-0000-0000-0000-000000000000"},
    )
    assert unknown_district.status_code == 422
    assert unknown_district.json()["errors"] == {"district": ["Unknown district."]}


def test_unknown_id_is_404_problem(org, api_as):
    response = api_as(org.steward).get("/accounts/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_openapi_documents_problem_json_and_read_only_fields(org):
    schema = Client().get("/api/v1/openapi.json").json()
    account_out = schema["components"]["schemas"]["AccountOut"]["properties"]
    assert account_out["customer_code"]["readOnly"] is True
    assert account_out["id"]["readOnly"] is True
    assert "customer_code" not in schema["components"]["schemas"]["AccountIn"]["properties"]
    create = schema["paths"]["/api/v1/accounts"]["post"]["responses"]
    assert "application/problem+json" in create["422"]["content"]


@pytest.mark.parametrize("count", [10, 100])
def test_account_list_query_count_does_not_grow_with_rows(
    org, api_as, count, django_assert_num_queries
):
    with acting_as(org.steward, Source.SYSTEM):
        for i in range(count):
            make_account(org, legal_name=f"Counted {i:03d} Co., Ltd.")
    api = api_as(org.rep)
    api.get("/accounts", limit=1)  # warm the session/user caches
    with CaptureQueriesContext(connection) as ctx:
        response = api.get("/accounts", limit=count)
    assert len(response.json()["items"]) == count
    # token, then the scope (subordinates walk, districts, sharing model, account-team
    # places), the page
    assert len(ctx.captured_queries) == 6, [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("count", [10, 100])
def test_opportunity_list_query_count_does_not_grow_with_rows(org, api_as, count):
    api = api_as(org.rep)
    account = make_account(org)
    for i in range(count):
        api.post("/opportunities", {"name": f"Deal {i}", "account": str(account.pk)})
    with CaptureQueriesContext(connection) as ctx:
        response = api.get("/opportunities", limit=count)
    assert len(response.json()["items"]) == count
    # token, the scope (four), the page, its line items
    assert len(ctx.captured_queries) == 7, [q["sql"] for q in ctx.captured_queries]


def test_production_mode_refuses_an_insecure_secret_key():
    env = {**os.environ, "ACCORD_ENV": "production", "DEBUG": "0", "ALLOWED_HOSTS": "crm.example"}
    env.pop("SECRET_KEY", None)
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='accord.settings'; django.setup()"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    env["SECRET_KEY"] = "x" * 64
    ok = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr


def test_request_id_is_echoed_and_recorded(org, api_as):
    api = api_as(org.steward)
    response = api.client.post(
        "/api/v1/accounts",
        json.dumps({"legal_name": "Traced Co., Ltd."}),
        content_type="application/json",
        headers={**api.headers, "X-Request-ID": "trace-42"},
    )
    assert response["X-Request-ID"] == "trace-42"
    audit = api.get(f"/accounts/{response.json()['id']}/audit").json()["items"]
    assert [(e["action"], e["request_id"], e["source"]) for e in audit] == [
        ("create", "trace-42", "api")
    ]


def test_out_of_range_datetimes_are_422_not_500(org, api_as):
    # found by schemathesis on PostgreSQL: a +22:02 offset in year 584 was a server error
    api = api_as(org.steward)
    response = api.get("/activities", occurred_from="0584-06-24T03:47:18.540435+22:02")
    assert response.status_code == 422
    assert "occurred_from" in response.json()["errors"]
    assert api.get("/activities", occurred_from="2026-11-01T00:00:00+07:00").status_code == 200


def test_nul_characters_are_422_not_500(org, api_as):
    api = api_as(org.steward)
    assert api.get("/accounts", search="si\x00am").status_code == 422
    response = api.post("/accounts", {"legal_name": "Nul\x00 Co., Ltd."})
    assert response.status_code == 422
    assert "legal_name" in response.json()["errors"]


def test_naive_datetimes_are_read_in_the_configured_time_zone(org, api_as):
    api = api_as(org.rep)
    account = make_account(org)
    body = api.post(
        "/activities",
        {
            "kind": "call",
            "subject": "Naive",
            "account": str(account.pk),
            "start_at": "2026-11-20T10:00:00",
        },
    ).json()
    assert body["start_at"] == "2026-11-20T03:00:00Z"


def test_user_manages_their_own_tokens(org, api_as):
    api = api_as(org.rep)
    issued = api.post("/me/tokens", {"name": "Phone"})
    assert issued.status_code == 201
    body = issued.json()
    secret, token_id = body["secret"], body["token"]["id"]
    assert [t["name"] for t in api.get("/me/tokens").json()] == ["Phone", "API token"]
    assert (
        Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )
    assert api.delete(f"/me/tokens/{token_id}").json()["revoked_at"] is not None
    assert (
        Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )
    # someone else's token is not there
    other = api_token_create(user=org.other_rep).token
    assert api.delete(f"/me/tokens/{other.pk}").status_code == 404


def test_deactivation_is_audited_with_each_token_revocation(org):
    from accord.audit.models import AuditEvent

    api_token_create(user=org.rep)
    api_token_create(user=org.rep)
    user_deactivate(user=org.rep)
    actions = list(
        AuditEvent.objects.filter(record_type__in=["org.user", "org.apitoken"])
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["token_create", "token_create", "token_revoke", "token_revoke", "update"]
