"""``/api/v1/accounts`` and ``/api/v1/contacts``: thin handlers over services and selectors."""

from __future__ import annotations

import uuid

from django.http import HttpRequest
from ninja import Query, Router, Status

from accord.activities.history import add_history_routes
from accord.core.api_support import actor
from accord.core.selectors import get_visible
from accord.customers import selectors, services
from accord.customers.models import Account, Contact
from accord.customers.schemas import (
    AccountFilters,
    AccountIn,
    AccountMatchIn,
    AccountOut,
    AccountPage,
    AccountPatch,
    ContactFilters,
    ContactIn,
    ContactMatchIn,
    ContactOut,
    ContactPage,
    ContactPatch,
    MatchResultOut,
)
from accord.dataquality import matching
from accord.org.models import User
from accord.territories import visibility

accounts = Router(tags=["accounts"])
contacts = Router(tags=["contacts"])


def _account(user: User, account_id: uuid.UUID) -> Account:
    return get_visible(visibility.accounts_visible_to(user), account_id, what="account")


def _contact(user: User, contact_id: uuid.UUID) -> Contact:
    return get_visible(visibility.contacts_visible_to(user), contact_id, what="contact")


@accounts.get("", response=AccountPage, summary="List accounts")
def account_list(request: HttpRequest, filters: Query[AccountFilters]) -> AccountPage:
    page = selectors.account_list(user=actor(request), **filters.dict())
    return AccountPage(items=page.items, next_cursor=page.next_cursor)  # type: ignore[arg-type]


@accounts.post("", response={201: AccountOut}, summary="Create an account (CRM team)")
def account_create(request: HttpRequest, payload: AccountIn) -> Status[Account]:
    return Status(
        201,
        services.account_create(actor=actor(request), data=payload.model_dump(exclude_unset=True)),
    )


@accounts.post("/matches", response=MatchResultOut, summary="Find possible duplicate accounts")
def account_matches(request: HttpRequest, payload: AccountMatchIn) -> dict[str, object]:
    """Existing accounts the given fields may duplicate, best first, each with its reasons.

    ``block``: creating such an account is refused unless a ``duplicate_justification`` is
    given; ``warn``: shown, not enforced. Accounts you may not see are listed too (code and
    legal name only), so that you learn the company exists.
    """
    data = payload.model_dump(exclude_unset=True)
    candidates = matching.account_matches(user=actor(request), data=data)
    return {"candidates": [c.as_dict() for c in candidates]}


@accounts.get("/{account_id}", response=AccountOut, summary="Get an account")
def account_get(request: HttpRequest, account_id: uuid.UUID) -> Account:
    return _account(actor(request), account_id)


@accounts.patch("/{account_id}", response=AccountOut, summary="Change an account")
def account_update(request: HttpRequest, account_id: uuid.UUID, payload: AccountPatch) -> Account:
    account = _account(actor(request), account_id)
    return services.account_update(
        actor=actor(request), account=account, data=payload.model_dump(exclude_unset=True)
    )


@accounts.delete("/{account_id}", response={204: None}, summary="Delete an account with no history")
def account_delete(request: HttpRequest, account_id: uuid.UUID) -> Status[None]:
    services.account_delete(actor=actor(request), account=_account(actor(request), account_id))
    return Status(204, None)


add_history_routes(accounts, what="account", get_visible=_account)


@contacts.get("", response=ContactPage, summary="List contacts")
def contact_list(request: HttpRequest, filters: Query[ContactFilters]) -> ContactPage:
    page = selectors.contact_list(user=actor(request), **filters.dict())
    return ContactPage(items=page.items, next_cursor=page.next_cursor)  # type: ignore[arg-type]


@contacts.post("", response={201: ContactOut}, summary="Create a contact")
def contact_create(request: HttpRequest, payload: ContactIn) -> Status[Contact]:
    return Status(
        201,
        services.contact_create(actor=actor(request), data=payload.model_dump(exclude_unset=True)),
    )


@contacts.post("/matches", response=MatchResultOut, summary="Find possible duplicate contacts")
def contact_matches(request: HttpRequest, payload: ContactMatchIn) -> dict[str, object]:
    """Existing contacts the given fields may duplicate, best first, each with its reasons.

    Contacts you may not see are listed as "a contact at <customer code>".
    """
    data = payload.model_dump(exclude_unset=True)
    candidates = matching.contact_matches(user=actor(request), data=data)
    return {"candidates": [c.as_dict() for c in candidates]}


@contacts.get("/{contact_id}", response=ContactOut, summary="Get a contact")
def contact_get(request: HttpRequest, contact_id: uuid.UUID) -> Contact:
    return _contact(actor(request), contact_id)


@contacts.patch("/{contact_id}", response=ContactOut, summary="Change a contact")
def contact_update(request: HttpRequest, contact_id: uuid.UUID, payload: ContactPatch) -> Contact:
    contact = _contact(actor(request), contact_id)
    return services.contact_update(
        actor=actor(request), contact=contact, data=payload.model_dump(exclude_unset=True)
    )


@contacts.delete("/{contact_id}", response={204: None}, summary="Delete a contact")
def contact_delete(request: HttpRequest, contact_id: uuid.UUID) -> Status[None]:
    services.contact_delete(actor=actor(request), contact=_contact(actor(request), contact_id))
    return Status(204, None)


add_history_routes(contacts, what="contact", get_visible=_contact)
