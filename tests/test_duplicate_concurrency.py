"""Two simultaneous creates of the same company cannot both succeed (PostgreSQL, threads)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import close_old_connections, connection

from accord.core.context import Source, acting_as
from accord.core.errors import DomainError
from accord.customers.models import Account
from accord.customers.services import account_create, account_update

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_creates_of_one_company_leave_one_account(org: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections to one database: run with PostgreSQL")
    # given: two stewards submit the same new customer at the same moment
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def create(name: str) -> None:
        try:
            barrier.wait(timeout=10)
            with acting_as(org.steward, Source.API):
                account_create(
                    actor=org.steward,
                    data={"legal_name": name, "district": org.north.pk},
                )
            outcomes.append("created")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            close_old_connections()
            connection.close()

    # when: one types the legal form in full, the other abbreviates it
    threads = [
        threading.Thread(target=create, args=(name,))
        for name in ("Siam Panich Company Limited", "Siam Panich Co., Ltd.")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then
    assert sorted(outcomes) == ["created", "duplicate_suspected"]
    assert Account.objects.count() == 1


def test_simultaneous_renames_to_one_name_leave_one_account_with_it(org: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections to one database: run with PostgreSQL")
    # given: two different customers
    with acting_as(org.steward, Source.SYSTEM):
        first = account_create(
            actor=org.steward,
            data={"legal_name": "Alpha Trading Co., Ltd.", "district": org.north.pk},
        )
        second = account_create(
            actor=org.steward,
            data={"legal_name": "Bangna Foods Co., Ltd.", "district": org.north.pk},
        )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def rename(account: Account) -> None:
        try:
            barrier.wait(timeout=10)
            with acting_as(org.steward, Source.API):
                account_update(
                    actor=org.steward,
                    account=account,
                    data={"legal_name": "Chonburi Steel Co., Ltd."},
                )
            outcomes.append("renamed")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    # when: both are renamed to the same new name at the same moment
    threads = [threading.Thread(target=rename, args=(a,)) for a in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then
    assert sorted(outcomes) == ["duplicate_suspected", "renamed"]
    names = sorted(Account.objects.values_list("legal_name", flat=True))
    assert names.count("Chonburi Steel Co., Ltd.") == 1
