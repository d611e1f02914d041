from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from accord.core.context import Source, acting_as
from accord.customers.models import Account
from accord.customers.services import account_create
from accord.org.models import BusinessUnit, District, Role, User
from accord.org.services import api_token_create
from accord.sales.models import Pipeline
from tests.factories import (
    BusinessUnitFactory,
    DistrictFactory,
    ProductFactory,
    RegionFactory,
    UserFactory,
    make_pipeline,
)


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # Hashing is not under test here; the fast hasher keeps the suite quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Org:
    unit: BusinessUnit
    other_unit: BusinessUnit
    north: District
    south: District
    pipeline: Pipeline
    admin: User
    steward: User
    executive: User
    manager: User
    rep: User
    other_rep: User
    south_rep: User


@pytest.fixture
def org(db: Any) -> Org:
    region = RegionFactory(code="bkk", name="Bangkok")
    north = DistrictFactory(code="bkk-north", name="Bangkok North", region=region)
    south = DistrictFactory(code="bkk-south", name="Bangkok South", region=region)
    unit = BusinessUnitFactory(code="bsd", name="Business Solution Development")
    other_unit = BusinessUnitFactory(code="bso", name="Business Solution Outsourcing")
    pipeline = make_pipeline(unit)
    make_pipeline(other_unit)
    admin = UserFactory(username="admin", role=Role.ADMINISTRATOR, is_staff=True)
    steward = UserFactory(username="steward", role=Role.CRM_OFFICER, is_staff=True)
    executive = UserFactory(username="exec", role=Role.EXECUTIVE)
    manager = UserFactory(username="manager", role=Role.SALES_MANAGER, business_unit=unit)
    rep = UserFactory(
        username="rep", role=Role.SALES_REP, business_unit=unit, manager=manager, districts=[north]
    )
    other_rep = UserFactory(
        username="other",
        role=Role.SALES_REP,
        business_unit=unit,
        manager=manager,
        districts=[north],
    )
    south_rep = UserFactory(
        username="southrep", role=Role.SALES_REP, business_unit=other_unit, districts=[south]
    )
    ProductFactory.create_batch(2)
    return Org(
        unit,
        other_unit,
        north,
        south,
        pipeline,
        admin,
        steward,
        executive,
        manager,
        rep,
        other_rep,
        south_rep,
    )


@pytest.fixture(autouse=True)
def _seeded_configuration(request: pytest.FixtureRequest) -> None:
    """Data that migrations seed (the default duplicate rules) is back after a flush.

    Tests with ``transaction=True`` (live server, threads, browser) end by truncating every
    table, seeds included; the next test in that process would then run without them.
    """
    marker = request.node.get_closest_marker("django_db")
    uses_db = marker is not None or {"db", "transactional_db", "org"} & set(request.fixturenames)
    if not uses_db:
        return
    request.getfixturevalue(
        "transactional_db" if marker and marker.kwargs.get("transaction") else "db"
    )
    from accord.dataquality.models import MatchRule

    if not MatchRule.objects.exists():
        from django.apps import apps

        seed_module = importlib.import_module("accord.dataquality.migrations.0004_seed_match_rules")
        seed_module.seed(apps, None)


@pytest.fixture(autouse=True)
def _system_context() -> Iterator[None]:
    with acting_as(None, Source.SYSTEM):
        yield


def make_account(
    org: Org, *, district: District | None = None, owner: User | None = None, **data: Any
) -> Account:
    """An account the CRM team creates; ``owner`` (if given) owns it in their unit."""
    data.setdefault("legal_name", "Siam Trading Co., Ltd.")
    data.setdefault("district", (district or org.north).pk)
    account = account_create(actor=org.steward, data=data)
    if owner is not None:
        give_ownership(account, owner)
    return account


def give_ownership(account: Account, owner: User) -> None:
    """``owner`` owns ``account`` in their business unit (replacing that unit's owner)."""
    from accord.territories.models import AccountOwner, OwnershipSource

    AccountOwner.objects.update_or_create(
        account=account,
        business_unit=owner.business_unit,
        product_line=None,
        defaults={"owner": owner, "source": OwnershipSource.STEWARD},
    )


class ApiClient:
    """Django's test client with a Bearer token, JSON bodies and the API prefix."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.client = Client()
        self.token = api_token_create(user=user).secret
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def _url(self, path: str) -> str:
        return "/api/v1" + path

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(self._url(path), params, headers=self.headers)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(
            self._url(path), body, content_type="application/json", headers=self.headers
        )

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(
            self._url(path), body, content_type="application/json", headers=self.headers
        )

    def delete(self, path: str) -> Any:
        return self.client.delete(self._url(path), headers=self.headers)


@pytest.fixture
def api_as(org: Org) -> Any:
    def make(user: User) -> ApiClient:
        return ApiClient(user)

    return make
