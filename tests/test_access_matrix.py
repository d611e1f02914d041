"""The generated access matrix: every API operation and every web route that takes an id,
for each actor, compared against the declarative table in :mod:`tests.access_matrix`.

Operations are enumerated at run time (the ninja API's OpenAPI schema, the web URL
resolver), so a new endpoint fails here until it has a row. Each cell is a real request
(Bearer token for the API, a session for the web) inside a savepoint that is rolled back
afterwards, so an allowed write or delete does not change the next cell's world; a refused
write is checked to have changed none of the world's rows.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver
from django.utils import timezone

from accord.activities.models import Activity
from accord.activities.services import activity_create
from accord.customers.models import Account, AccountRequest, Contact
from accord.customers.requests import account_request_submit
from accord.customers.services import contact_create
from accord.dataquality.batch import ClusterFound
from accord.dataquality.merge import record_merge
from accord.dataquality.models import DuplicateCluster, MergeRecord
from accord.dataquality.review import duplicate_clusters_enqueue
from accord.insights.models import Quota
from accord.insights.periods import PeriodKind, period_containing
from accord.insights.services import quota_create
from accord.integration.delivery import deliver_key
from accord.integration.models import Connector, ConnectorKind, Delivery
from accord.org.models import Notification, Role, User
from accord.org.services import api_token_create
from accord.sales.models import Lead, Opportunity, Stage
from accord.sales.services import lead_create, opportunity_create
from accord.territories.disputes import dispute_open
from accord.territories.models import (
    AccountOwner,
    AccountTeamMember,
    AssignmentRule,
    OwnershipDispute,
    SellingException,
)
from accord.territories.ownership import account_team_add, assignment_rule_create
from accord.territories.selling import selling_exception_request
from tests import access_matrix as table
from tests.conftest import Org, make_account
from tests.factories import TeamFactory, UserFactory
from tests.integration_support import approval_of

pytestmark = pytest.mark.django_db

API_PREFIX = "/api/v1"
LOGIN_URL = "/login/"


# --- the world ----------------------------------------------------------------------------


@dataclass
class World:
    people: dict[str, User]
    tokens: dict[str, str]
    account: Account
    contact: Contact
    opportunity: Opportunity
    lead: Lead
    activity: Activity
    request: AccountRequest
    token_id: uuid.UUID  # the owner's own API token
    notification: Notification  # the owner's
    cluster: DuplicateCluster
    merge: MergeRecord
    quota: Quota
    connector: Connector
    delivery: Delivery
    period: str
    other_account: Account  # what stewards merge and requests resolve to
    member: AccountTeamMember  # a pre-sales engineer on the account's team (no actor)
    newcomer: User  # an active unit A rep no actor manages: added to teams, given accounts
    rule: AssignmentRule
    dispute: OwnershipDispute  # the teammate claims the account from the owner
    exception: SellingException  # the teammate asks to sell to the owner's account
    org: Org
    extra: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> dict[str, Any]:
        """A snapshot of the target rows (everything a refused write might have touched)."""
        models: dict[str, tuple[type[Any], Any]] = {
            "account": (Account, self.account.pk),
            "contact": (Contact, self.contact.pk),
            "opportunity": (Opportunity, self.opportunity.pk),
            "lead": (Lead, self.lead.pk),
            "activity": (Activity, self.activity.pk),
            "request": (AccountRequest, self.request.pk),
            "cluster": (DuplicateCluster, self.cluster.pk),
            "merge": (MergeRecord, self.merge.pk),
            "quota": (Quota, self.quota.pk),
            "connector": (Connector, self.connector.pk),
            "delivery": (Delivery, self.delivery.pk),
            "member": (AccountTeamMember, self.member.pk),
            "rule": (AssignmentRule, self.rule.pk),
            "dispute": (OwnershipDispute, self.dispute.pk),
            "exception": (SellingException, self.exception.pk),
            "owner": (User, self.people["owner"].pk),
        }
        return {
            name: list(model.objects.filter(pk=pk).values()) for name, (model, pk) in models.items()
        } | {
            "owners": sorted(
                AccountOwner.objects.filter(account=self.account).values_list("owner_id", flat=True)
            ),
            "owner_token_revoked": list(
                self.people["owner"].api_tokens.values_list("revoked_at", flat=True)
            ),
        }


def _person(**fields: Any) -> User:
    user = UserFactory(**fields)
    assert isinstance(user, User)
    return user


def build_world(org: Org) -> World:
    region = org.north.region
    team = TeamFactory(business_unit=org.unit, manager=org.manager)
    owner, teammate, manager = org.rep, org.other_rep, org.manager
    User.objects.filter(pk__in=[owner.pk, teammate.pk]).update(team=team)
    other_unit_manager = _person(
        username="bsomanager", role=Role.SALES_MANAGER, business_unit=org.other_unit
    )
    people: dict[str, User] = {
        "owner": owner,
        "teammate": teammate,
        "other_district": _person(
            username="southbsd",
            role=Role.SALES_REP,
            business_unit=org.unit,
            manager=manager,
            districts=[org.south],
        ),
        "other_unit": _person(
            username="northbso",
            role=Role.SALES_REP,
            business_unit=org.other_unit,
            manager=other_unit_manager,
            districts=[org.north],
        ),
        "manager": manager,
        "other_unit_manager": other_unit_manager,
        "regional": _person(username="regional", role=Role.REGIONAL_MANAGER, region=region),
        "steward": org.steward,
        "executive": org.executive,
        "admin": org.admin,
        "deactivated": _person(
            username="leaver",
            role=Role.SALES_REP,
            business_unit=org.unit,
            manager=manager,
            districts=[org.north],
        ),
    }
    assert set(people) == set(table.ACTORS)
    tokens = {name: api_token_create(user=user).secret for name, user in people.items()}
    owner_token_id = owner.api_tokens.get().pk
    User.objects.filter(pk=people["deactivated"].pk).update(is_active=False)
    people["deactivated"].refresh_from_db()

    # A ledger connector (port 9 discards: every delivery fails), before the first account.
    connector = Connector.objects.create(
        name="hook",
        kind=ConnectorKind.WEBHOOK,
        event_types=["account.approved"],
        settings={"url": "http://127.0.0.1:9/", "secret": "s" * 32, "max_attempts": 1},
    )
    account = make_account(org, legal_name="Chiang Mai Textiles Co., Ltd.")
    # Ownership is configuration here (the ownership services are another issue's).
    AccountOwner.objects.create(account=account, business_unit=org.unit, owner=owner)
    contact = contact_create(
        actor=org.steward, data={"account": account.pk, "first_name": "Somchai", "last_name": "K"}
    )
    opportunity = opportunity_create(
        actor=owner, data={"name": "Copiers for the head office", "account": account.pk}
    )
    lead = lead_create(actor=owner, data={"company_name": "Lampang Pottery", "first_name": "Malee"})
    activity = activity_create(
        actor=owner, data={"kind": "visit", "subject": "First visit", "account": account.pk}
    )
    request = account_request_submit(
        actor=owner,
        data={"legal_name": "Udon Solar Energy Co., Ltd.", "district": org.north.pk},
    )
    notification = Notification.objects.create(recipient=owner, kind="test", title="Hello")
    # Two accounts the steward finds to be one: a cluster in the queue, and a merge done.
    twin_a = make_account(org, legal_name="Nakhon Pathom Foods Co., Ltd.")
    twin_b = make_account(
        org, legal_name="Nakhon Pathom Food Co Ltd", duplicate_justification="A test twin."
    )
    duplicate_clusters_enqueue(
        record_type="account",
        clusters=[
            ClusterFound(
                member_ids=(str(twin_a.pk), str(twin_b.pk)),
                pairs=((str(twin_a.pk), str(twin_b.pk), 0.95, ("name",)),),
            )
        ],
    )
    cluster = DuplicateCluster.objects.get()
    merged_a = make_account(org, legal_name="Songkhla Seafood Co., Ltd.")
    merged_b = make_account(
        org, legal_name="Songkhla Sea Food Co., Ltd.", duplicate_justification="A test twin."
    )
    merge = record_merge(
        actor=org.steward,
        record_type="account",
        survivor_id=merged_a.pk,
        loser_ids=[merged_b.pk],
        field_choices={},
    )
    period = period_containing(timezone.localdate(), PeriodKind.QUARTER)
    quota = quota_create(actor=manager, user=owner, period=period, amount=1_000_000)
    approval_of(account)
    deliver_key(str(connector.pk), str(account.pk))
    delivery = Delivery.objects.get(connector=connector, ordering_key=str(account.pk))
    presales = _person(username="presales", role=Role.SALES_REP, business_unit=org.unit)
    member = account_team_add(
        actor=org.steward, account=account, user=presales, data={"role": "pre_sales"}
    )
    newcomer = _person(username="newcomer", role=Role.SALES_REP, business_unit=org.unit)
    rule = assignment_rule_create(
        actor=org.admin,
        data={"name": "North", "business_unit": org.unit.pk, "owner": owner.pk},
    )
    dispute = dispute_open(
        actor=teammate, account=account, reason="I have visited them every week since 2024."
    )
    exception = selling_exception_request(
        actor=teammate, account=account, reason="They asked me for a quote."
    )
    return World(
        people=people,
        tokens=tokens,
        account=account,
        contact=contact,
        opportunity=opportunity,
        lead=lead,
        activity=activity,
        request=request,
        token_id=owner_token_id,
        notification=notification,
        cluster=cluster,
        merge=merge,
        quota=quota,
        connector=connector,
        delivery=delivery,
        period=period.key,
        other_account=merged_a,
        member=member,
        newcomer=newcomer,
        rule=rule,
        dispute=dispute,
        exception=exception,
        org=org,
    )


# --- what each path parameter names --------------------------------------------------------

REPORT_NAME = "pipeline-by-stage"

# Path parameter → the world's record (for ``record_id``, by the path's collection).
PARAM_TARGETS: dict[str, Callable[[World, str], Any]] = {
    "account_id": lambda w, _p: w.account.pk,
    "contact_id": lambda w, _p: w.contact.pk,
    "lead_id": lambda w, _p: w.lead.pk,
    "opportunity_id": lambda w, _p: w.opportunity.pk,
    "activity_id": lambda w, _p: w.activity.pk,
    "request_id": lambda w, _p: w.request.pk,
    "token_id": lambda w, _p: w.token_id,
    "cluster_id": lambda w, _p: w.cluster.pk,
    "merge_id": lambda w, _p: w.merge.pk,
    "user_id": lambda w, _p: w.people["owner"].pk,
    "quota_id": lambda w, _p: w.quota.pk,
    "connector_id": lambda w, _p: w.connector.pk,
    "delivery_id": lambda w, _p: w.delivery.pk,
    "member_id": lambda w, _p: w.member.pk,
    "rule_id": lambda w, _p: w.rule.pk,
    "dispute_id": lambda w, _p: w.dispute.pk,
    "exception_id": lambda w, _p: w.exception.pk,
    "name": lambda _w, _p: REPORT_NAME,
    "kind": lambda _w, _p: "mine",
    "fmt": lambda _w, _p: "csv",
    "record_id": lambda w, p: _by_collection(w, p),
    "pk": lambda w, p: _by_collection(w, p),
}

COLLECTIONS: dict[str, Callable[[World], Any]] = {
    "accounts": lambda w: w.account.pk,
    "contacts": lambda w: w.contact.pk,
    "leads": lambda w: w.lead.pk,
    "opportunities": lambda w: w.opportunity.pk,
    "activities": lambda w: w.activity.pk,
    "requests": lambda w: w.request.pk,
    "notifications": lambda w: w.notification.pk,
    "duplicates": lambda w: w.cluster.pk,
    "merges": lambda w: w.merge.pk,
    "team": lambda w: w.people["owner"].pk,
    "forecasts": lambda w: w.people["owner"].pk,
    "deliveries": lambda w: w.delivery.pk,
    "connectors": lambda w: w.connector.pk,
    "assignment-rules": lambda w: w.rule.pk,
    "disputes": lambda w: w.dispute.pk,
    "exceptions": lambda w: w.exception.pk,
}


def _by_collection(world: World, path: str) -> Any:
    before = path.split("{")[0].split("<")[0].strip("/").split("/")
    collection = before[-1]
    if collection not in COLLECTIONS:
        raise KeyError(f"No target for an id in {path!r}: add it to COLLECTIONS.")
    return COLLECTIONS[collection](world)


_PARAM = re.compile(r"\{(\w+)\}|<(?:\w+:)?(\w+)>")


def fill(path: str, world: World) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in PARAM_TARGETS:
            raise KeyError(f"No target for {{{name}}} in {path!r}: add it to PARAM_TARGETS.")
        return str(PARAM_TARGETS[name](world, path))

    return _PARAM.sub(one, path)


# --- request bodies ------------------------------------------------------------------------


def _unique() -> str:
    return uuid.uuid4().hex[:8]


API_BODIES: dict[str, Callable[[World, str], dict[str, Any]]] = {
    "POST /api/v1/me/tokens": lambda w, a: {"name": "matrix"},
    "POST /api/v1/org/users/{user_id}/handover/preview": lambda w, a: {
        "rule": "to",
        "to": str(w.people["teammate"].pk),
    },
    "POST /api/v1/org/users/{user_id}/handover": lambda w, a: {
        "rule": "to",
        "to": str(w.people["teammate"].pk),
    },
    "POST /api/v1/accounts": lambda w, a: {
        "legal_name": f"Matrix Holdings {_unique()} Co., Ltd.",
        "district": str(w.org.north.pk),
    },
    "POST /api/v1/accounts/matches": lambda w, a: {"legal_name": "Chiang Mai Textiles"},
    "PATCH /api/v1/accounts/{account_id}": lambda w, a: {"phone": "021234567"},
    "POST /api/v1/contacts": lambda w, a: {"account": str(w.account.pk), "first_name": _unique()},
    "POST /api/v1/contacts/matches": lambda w, a: {"first_name": "Somchai"},
    "PATCH /api/v1/contacts/{contact_id}": lambda w, a: {"job_title": "Buyer"},
    "POST /api/v1/account-requests": lambda w, a: {
        "legal_name": f"Requested {_unique()} Co., Ltd.",
        "district": str(w.org.north.pk),
    },
    "PATCH /api/v1/account-requests/{request_id}": lambda w, a: {"phone": "021234567"},
    "POST /api/v1/account-requests/{request_id}/approve": lambda w, a: {},
    "POST /api/v1/account-requests/{request_id}/reject": lambda w, a: {"reason": "Not a company."},
    "POST /api/v1/account-requests/{request_id}/resolve": lambda w, a: {
        "customer_code": w.other_account.customer_code
    },
    "POST /api/v1/duplicates/clusters": lambda w, a: {
        "record_type": "account",
        "clusters": [
            {
                "member_ids": [str(w.account.pk), str(w.other_account.pk)],
                "pairs": [
                    {"left": str(w.account.pk), "right": str(w.other_account.pk), "score": 0.9}
                ],
            }
        ],
    },
    "POST /api/v1/duplicates/clusters/{cluster_id}/dismiss": lambda w, a: {"reason": "Two firms."},
    "POST /api/v1/duplicates/clusters/{cluster_id}/merge": lambda w, a: {
        "survivor": str(w.cluster.members.order_by("pk").values_list("account_id", flat=True)[0])
    },
    "POST /api/v1/duplicates/merges": lambda w, a: {
        "record_type": "account",
        "survivor": str(w.other_account.pk),
        "losers": [str(w.account.pk)],
    },
    "POST /api/v1/me/notifications/read": lambda w, a: {},
    "POST /api/v1/leads": lambda w, a: {"company_name": f"Lead {_unique()}"},
    "PATCH /api/v1/leads/{lead_id}": lambda w, a: {"job_title": "Owner"},
    "POST /api/v1/leads/{lead_id}/convert": lambda w, a: {
        "account": str(w.account.pk),
        "create_contact": False,
    },
    "POST /api/v1/opportunities": lambda w, a: {
        "name": f"Deal {_unique()}",
        "account": str(w.account.pk),
        "owner": str(w.people["owner"].pk),
    },
    "PATCH /api/v1/opportunities/{opportunity_id}": lambda w, a: {"next_step": "Call back"},
    "POST /api/v1/activities": lambda w, a: {
        "kind": "call",
        "subject": "Matrix call",
        "account": str(w.account.pk),
    },
    "PATCH /api/v1/activities/{activity_id}": lambda w, a: {"outcome": "Good"},
    "POST /api/v1/integration/invoices": lambda w, a: {
        "connector": "hook",
        "invoices": [
            {
                "invoice_number": "INV-1",
                "customer_code": w.account.customer_code,
                "amount": "100.00",
                "status": "open",
            }
        ],
    },
    "POST /api/v1/forecasts/users/{user_id}/adjustments": lambda w, a: {
        "period": w.period,
        "category": "commit",
        "amount": "5000.00",
        "note": "Big deal coming",
    },
    "POST /api/v1/quotas": lambda w, a: {
        "user": str(w.people["teammate"].pk),
        "period": w.period,
        "amount": "500000.00",
    },
    "PATCH /api/v1/quotas/{quota_id}": lambda w, a: {"note": "Raised"},
    "PUT /api/v1/accounts/{account_id}/owners": lambda w, a: {
        "business_unit": str(w.org.unit.pk),
        "owner": str(w.newcomer.pk),
    },
    "POST /api/v1/accounts/{account_id}/team": lambda w, a: {
        "user": str(w.newcomer.pk),
        "role": "service",
    },
    "PATCH /api/v1/accounts/{account_id}/team/{member_id}": lambda w, a: {"role": "service"},
    "POST /api/v1/territories/assignment-rules": lambda w, a: {
        "name": "South",
        "business_unit": str(w.org.unit.pk),
        "owner": str(w.newcomer.pk),
    },
    "PATCH /api/v1/territories/assignment-rules/{rule_id}": lambda w, a: {"is_active": False},
    "POST /api/v1/territories/assignment-rules/{rule_id}/move": lambda w, a: {"position": 1},
    "POST /api/v1/disputes": lambda w, a: {
        "account": str(w.account.pk),
        "reason": "They are my customer since 2020.",
    },
    "POST /api/v1/disputes/{dispute_id}/answer": lambda w, a: {"answer": "They are mine."},
    "POST /api/v1/disputes/{dispute_id}/decide": lambda w, a: {
        "outcome": "keep",
        "note": "The owner visits them.",
    },
    "POST /api/v1/selling/exceptions": lambda w, a: {
        "account": str(w.account.pk),
        "reason": "They asked me for a quote.",
    },
    "POST /api/v1/selling/exceptions/{exception_id}/decide": lambda w, a: {
        "approve": True,
        "note": "Fine.",
    },
}

# Query strings of GET operations that need one.
API_QUERIES: dict[str, Callable[[World, str], dict[str, Any]]] = {
    "GET /api/v1/selling/check": lambda w, a: {
        "account": str(w.account.pk),
        "business_unit": str(w.org.unit.pk),
    },
}


def _stage(world: World, name: str) -> Stage:
    return Stage.objects.get(pipeline=world.org.pipeline, name=name)


WEB_FORMS: dict[tuple[str, str], Callable[[World, str], dict[str, Any]]] = {
    ("POST", "team/<uuid:pk>/handover/"): lambda w, a: {
        "rule": "to",
        "to": str(w.people["teammate"].pk),
        "apply": "1",
    },
    ("POST", "leads/<uuid:pk>/convert/"): lambda w, a: {"account": str(w.account.pk)},
    ("POST", "accounts/<uuid:pk>/edit/"): lambda w, a: {
        "legal_name": w.account.legal_name,
        "district": str(w.account.district_id),
        "status": "active",
        "phone": "021234567",
    },
    ("POST", "accounts/<uuid:pk>/log/"): lambda w, a: {"kind": "call", "subject": "Quick call"},
    ("POST", "accounts/<uuid:pk>/contacts/new/"): lambda w, a: {"first_name": _unique()},
    ("POST", "accounts/<uuid:pk>/opportunities/new/"): lambda w, a: {
        "name": f"Deal {_unique()}",
        "stage": str(_stage(w, "Prospecting").pk),
    },
    ("POST", "leads/<uuid:pk>/edit/"): lambda w, a: {
        "company_name": w.lead.company_name,
        "owner": str(w.lead.owner_id),
        "job_title": "Owner",
    },
    ("POST", "leads/<uuid:pk>/activities/new/"): lambda w, a: {"kind": "call", "subject": "Call"},
    ("POST", "accounts/<uuid:pk>/activities/new/"): lambda w, a: {
        "kind": "call",
        "subject": "Call",
    },
    ("POST", "activities/<uuid:pk>/edit/"): lambda w, a: {
        "kind": "visit",
        "subject": "First visit",
        "outcome": "Good",
    },
    ("POST", "forecasts/<uuid:pk>/adjust/"): lambda w, a: {
        "period": w.period,
        "category": "commit",
        "amount": "5000",
        "note": "Big deal coming",
    },
    ("POST", "opportunities/<uuid:pk>/move/"): lambda w, a: {
        "stage": str(_stage(w, "Qualification").pk)
    },
    ("POST", "contacts/<uuid:pk>/edit/"): lambda w, a: {
        "first_name": "Somchai",
        "last_name": "K",
        "job_title": "Buyer",
    },
    ("POST", "opportunities/<uuid:pk>/edit/"): lambda w, a: {
        "name": w.opportunity.name,
        "stage": str(w.opportunity.stage_id),
        "next_step": "Call back",
    },
    ("POST", "requests/<uuid:pk>/edit/"): lambda w, a: {
        "legal_name": w.request.legal_name,
        "district": str(w.org.north.pk),
        "phone": "021234567",
    },
    ("POST", "requests/<uuid:pk>/approve/"): lambda w, a: {
        "legal_name": w.request.legal_name,
        "district": str(w.org.north.pk),
    },
    ("POST", "requests/<uuid:pk>/reject/"): lambda w, a: {"reason": "Not a company."},
    ("POST", "requests/<uuid:pk>/resolve/"): lambda w, a: {
        "customer_code": w.other_account.customer_code
    },
    ("POST", "stewardship/duplicates/<uuid:pk>/merge/"): lambda w, a: {
        "survivor": str(w.cluster.members.order_by("pk").values_list("account_id", flat=True)[0]),
        "include": [str(m) for m in w.cluster.members.values_list("account_id", flat=True)],
    },
    ("POST", "stewardship/duplicates/<uuid:pk>/dismiss/"): lambda w, a: {"reason": "Two firms."},
    ("POST", "integration/connectors/<uuid:pk>/pause/"): lambda w, a: {"paused": "1"},
    ("POST", "accounts/<uuid:pk>/owners/"): lambda w, a: {
        "action": "add_member",
        "user": str(w.newcomer.pk),
        "role": "service",
        "account_access": "read",
        "opportunity_access": "read",
    },
    ("POST", "territories/assignment-rules/<uuid:pk>/edit/"): lambda w, a: {
        "name": "North (renamed)",
        "business_unit": str(w.org.unit.pk),
        "owner": str(w.people["owner"].pk),
        "is_active": "on",
    },
    ("POST", "territories/assignment-rules/<uuid:pk>/move/"): lambda w, a: {"direction": "up"},
    ("POST", "accounts/<uuid:pk>/selling-exception/"): lambda w, a: {
        "business_unit": str(w.people[a].business_unit_id or ""),
        "reason": "They asked me for a quote.",
    },
    ("POST", "selling/exceptions/<uuid:pk>/decide/"): lambda w, a: {
        "decision": "approve",
        "note": "Fine.",
    },
    ("POST", "accounts/<uuid:pk>/claim/"): lambda w, a: {
        "reason": "They are my customer since 2020."
    },
    ("POST", "disputes/<uuid:pk>/answer/"): lambda w, a: {"answer": "They are mine."},
    ("POST", "disputes/<uuid:pk>/decide/"): lambda w, a: {
        "outcome": "keep",
        "note": "The owner visits them.",
    },
}


# --- enumerating the operations ------------------------------------------------------------


def api_operations() -> list[str]:
    """``METHOD /api/v1/path`` of every operation in the OpenAPI schema."""
    from accord.api import api

    schema = api.get_openapi_schema(path_prefix=API_PREFIX)
    return [
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    ]


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, bool]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            converters = getattr(entry.pattern, "converters", {})
            yield route, bool(converters) or "<" in route or "(?P<" in route


def web_routes_with_ids() -> list[str]:
    from accord.web.urls import urlpatterns

    return [route for route, has_params in _walk(urlpatterns) if has_params]


# --- making one request and classifying the answer -----------------------------------------


def classify_api(response: HttpResponse) -> str:
    status = response.status_code
    if 200 <= status < 400 or status == 409:
        return table.OK
    if status == 401:
        return table.ANONYMOUS
    if status == 403:
        return table.DENIED
    if status == 404:
        return table.HIDDEN
    if status == 422:
        body = json.loads(response.content)
        return table.UNKNOWN_REF if _unknown_ref(body) else table.INVALID
    return f"HTTP {status}"


def _unknown_ref(body: dict[str, Any]) -> bool:
    messages = [m for ms in body.get("errors", {}).values() for m in ms]
    return bool(messages) and all(m.startswith("Unknown ") for m in messages)


def classify_web(response: HttpResponse) -> str:
    status = response.status_code
    if status in (301, 302, 303):
        location = response.get("Location", "")
        return table.ANONYMOUS if location.startswith(LOGIN_URL) else table.OK
    if 200 <= status < 300:
        return table.OK
    if status in (403, 422):
        return table.DENIED
    if status == 404:
        return table.HIDDEN
    return f"HTTP {status}"


@dataclass(frozen=True)
class Cell:
    surface: str  # "api" or "web"
    method: str
    path: str  # the API path or the web route, as in the table
    rule: str
    actor: str

    @property
    def expected(self) -> str:
        return table.RULES[self.rule][self.actor]

    def __str__(self) -> str:
        return f"{self.method} {self.path} as {self.actor} ({self.rule})"


def cells_for(actor: str, surface: str) -> list[Cell]:
    if surface == "api":
        return [
            Cell("api", op.split(" ", 1)[0], op.split(" ", 1)[1], rule, actor)
            for op, rule in table.API.items()
        ]
    return [
        Cell("web", method, route, rule, actor)
        for route, methods in table.WEB.items()
        for method, rule in methods.items()
    ]


def _empty(_world: World, _actor: str) -> dict[str, Any]:
    return {}


def _send(cell: Cell, world: World, client: Client) -> HttpResponse:
    url = fill(cell.path, world)
    if cell.surface == "api":
        op = f"{cell.method} {cell.path}"
        body = API_BODIES.get(op, _empty)(world, cell.actor)
        headers = {"Authorization": f"Bearer {world.tokens[cell.actor]}"}
        if cell.method == "GET":
            query = API_QUERIES.get(op, _empty)(world, cell.actor)
            return client.get(url, query, headers=headers)  # type: ignore[return-value]
        return client.generic(  # type: ignore[return-value]
            cell.method, url, json.dumps(body), content_type="application/json", headers=headers
        )
    url = "/" + url
    if cell.method == "GET":
        return client.get(url)  # type: ignore[return-value]
    data = WEB_FORMS.get((cell.method, cell.path), _empty)(world, cell.actor)
    return client.post(url, data)  # type: ignore[return-value]


def run_cell(cell: Cell, world: World, client: Client) -> str | None:
    """The cell's outcome if it is not the expected one, else ``None``. Nothing it does
    survives it: the request runs in a savepoint that is rolled back."""
    with transaction.atomic():
        # Only a write that should be refused is snapshotted (it keeps the matrix fast).
        refused = cell.method != "GET" and cell.expected != table.OK
        before = world.rows() if refused else None
        try:
            response = _send(cell, world, client)
        except Exception as exc:  # a crash is the cell's outcome
            outcome = f"raised {type(exc).__name__}: {exc}"
        else:
            outcome = (classify_api if cell.surface == "api" else classify_web)(response)
        changed = before is not None and world.rows() != before
        transaction.set_rollback(True)
    if outcome != cell.expected:
        return f"{cell}: expected {cell.expected}, got {outcome}"
    if changed:
        return f"{cell}: refused ({outcome}) but changed the world's rows"
    return None


def _client_for(world: World, actor: str, surface: str) -> Client:
    client = Client(raise_request_exception=True)
    if surface == "web":
        client.force_login(world.people[actor])
    return client


# --- the tests -----------------------------------------------------------------------------


def test_every_api_operation_has_a_row_in_the_access_table() -> None:
    # given: the operations the API serves now
    operations = api_operations()
    # then: each has a row (and the table names no operation that is gone)
    missing = sorted(set(operations) - set(table.API))
    assert not missing, (
        "These API operations are not in the access table; add a row naming their access "
        "rule to API in tests/access_matrix.py: " + ", ".join(missing)
    )
    stale = sorted(set(table.API) - set(operations))
    assert not stale, "Rows for API operations that no longer exist: " + ", ".join(stale)


def test_every_web_route_taking_an_id_has_a_row_in_the_access_table() -> None:
    routes = web_routes_with_ids()
    missing = sorted(set(routes) - set(table.WEB))
    assert not missing, (
        "These web routes take an id but are not in the access table; add a row (method → "
        "access rule) to WEB in tests/access_matrix.py: " + ", ".join(missing)
    )
    stale = sorted(set(table.WEB) - set(routes))
    assert not stale, "Rows for web routes that no longer exist: " + ", ".join(stale)


def test_every_rule_names_every_actor_and_every_row_a_rule() -> None:
    for name, expected in table.RULES.items():
        assert set(expected) == set(table.ACTORS), name
        assert set(expected.values()) <= {
            table.OK,
            table.DENIED,
            table.HIDDEN,
            table.UNKNOWN_REF,
            table.INVALID,
            table.ANONYMOUS,
        }, name
    rows = list(table.API.values()) + [r for m in table.WEB.values() for r in m.values()]
    assert set(rows) <= set(table.RULES), set(rows) - set(table.RULES)


def matrix_size() -> int:
    return len(table.ACTORS) * (
        len(table.API) + sum(len(methods) for methods in table.WEB.values())
    )


@pytest.mark.parametrize("surface", ["api", "web"])
@pytest.mark.parametrize("actor", table.ACTORS)
def test_access_matrix(org: Org, actor: str, surface: str) -> None:
    # given: the world, and the actor signed in (a token for the API, a session for the web)
    world = build_world(org)
    client = _client_for(world, actor, surface)
    # when: every operation of the surface is tried as the actor
    cells = cells_for(actor, surface)
    unexpected = [problem for cell in cells if (problem := run_cell(cell, world, client))]
    # then: each answers as the table says
    assert not unexpected, f"{len(unexpected)} of {len(cells)} cells unexpected:\n" + "\n".join(
        unexpected
    )
