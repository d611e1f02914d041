"""Reads on accounts and contacts, always through the visibility module."""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from typing import Any, Literal

from django.core.exceptions import EmptyResultSet
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections
from django.db.models import Q, QuerySet

from accord.core.errors import ValidationFailed
from accord.core.pagination import (
    MAX_LIMIT,
    Page,
    decode_cursor,
    encode_cursor,
    keyset_after,
    keyset_page,
)
from accord.core.selectors import search_fragment
from accord.core.thai import normalise_tax_id
from accord.customers.models import Account, Contact
from accord.org.models import User
from accord.territories import visibility
from accord.territories.models import AccountReach

logger = logging.getLogger(__name__)

AccountOrdering = Literal[
    "legal_name",
    "-legal_name",
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
]
ContactOrdering = Literal["last_name", "-last_name", "created_at", "-created_at"]


def account_list(
    *,
    user: User,
    search: str | None = None,
    district: uuid.UUID | None = None,
    status: str | None = None,
    industry: str | None = None,
    tax_id: str | None = None,
    customer_code: str | None = None,
    updated_since: dt.datetime | None = None,
    owner: uuid.UUID | None = None,
    business_unit: uuid.UUID | None = None,
    scope: visibility.ListScope | None = None,
    ordering: AccountOrdering = "legal_name",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Account]:
    """Accounts ``user`` may see; ``owner``: those the person owns (in any unit);
    ``business_unit``: those owned in that unit (with ``owner``: owned by them there)."""
    from accord.customers.services import customer_code_is_valid
    from accord.territories.models import AccountOwner

    # A search may read the visible accounts part by part (see _merged_page); a list keeps
    # the one ORed condition, which a name-ordered walk answers within a page. A plain
    # fragment search in name order may read a rep's accounts outside their districts from
    # AccountReach, which holds the name and search column but not the other filters.
    fragment = search_fragment(search) if search and not looks_like_customer_code(search) else ""
    plain = bool(fragment) and ordering in ("legal_name", "-legal_name")
    plain = plain and not any(
        (district, status, industry, tax_id, customer_code, updated_since, owner, business_unit)
    )
    plain = plain and scope is None
    parts = visibility.account_search_parts(user, reach=plain) if search else None
    qs = Account.objects.all() if parts is not None else visibility.accounts_visible_to(user)
    # "mine" / "my team": the accounts those people own or work on.
    qs = visibility.narrow_accounts_to_scope(qs, user=user, scope=scope, account_field="pk")
    if search:
        if looks_like_customer_code(search):
            # A whole code (or one a character short or long) is a code, never a fragment:
            # a mistyped one must not find the customer whose code happens to contain it.
            code = account_search_code(search)
            found = Q(customer_code=code) | _merged_code_survivor(code)
        else:
            found = Q(search_text__contains=fragment)
        qs = qs.filter(found)
    if district:
        qs = qs.filter(district_id=district)
    if status:
        qs = qs.filter(status=status)
    if industry:
        qs = qs.filter(industry=industry)
    if tax_id:
        qs = qs.filter(tax_id=normalise_tax_id(tax_id))
    if customer_code:
        if not customer_code_is_valid(customer_code):
            raise ValidationFailed(
                "This is not a valid customer code (its check digit does not match).",
                code="invalid_customer_code",
                errors={"customer_code": ["Not a valid customer code."]},
            )
        qs = qs.filter(
            Q(customer_code=customer_code.strip().upper()) | _merged_code_survivor(customer_code)
        )
    if updated_since:
        qs = qs.filter(updated_at__gte=updated_since)
    if owner or business_unit:
        owned = AccountOwner.objects.all()
        if owner:
            owned = owned.filter(owner_id=owner)
        if business_unit:
            owned = owned.filter(business_unit_id=business_unit)
        qs = qs.filter(pk__in=owned.values("account_id"))
    if parts is not None:
        page = _merged_page(
            qs, parts, ordering=ordering, cursor=cursor, limit=limit, fragment=fragment
        )
        reached = any(isinstance(p, visibility.ReachPart) for p in parts)
        if not reached or visibility.reached_accounts_visible(user, page.items):
            return page
        # AccountReach gave an account the user may not see: it is derived data and must
        # never widen what anyone sees, so the page is read again as one walk.
        logger.error(
            "AccountReach out of step with the sharing model for user %s: run "
            "`accord reach-rebuild`",
            user.pk,
        )
        qs = visibility.accounts_visible_to(user).filter(search_text__contains=fragment)
    return keyset_page(qs, ordering=ordering, cursor=cursor, limit=limit, keys_first=bool(search))


def _merged_page(
    qs: QuerySet[Account],
    parts: list[visibility.SearchPart],
    *,
    ordering: str,
    cursor: str | None,
    limit: int,
    fragment: str,
) -> Page[Account]:
    """The page :func:`keyset_page` returns for ``qs`` narrowed to the union of
    ``parts``, read as one query: each part's first ``limit + 1`` keys in the page's
    order (after the cursor), merged without repeats, then the first ``limit + 1`` of those.

    The true page's rows are each among the first ``limit + 1`` of their own part, so the
    merge misses none. A part alone is a short index walk (one district's name range) or
    a look-up of a few ids, where the ORed conditions walk the whole name index past every
    account of the other districts (``visibility.account_search_parts`` says when)."""
    limit = max(1, min(limit, MAX_LIMIT))
    descending = ordering.startswith("-")
    field = ordering.lstrip("-")
    after: tuple[Any, Any] | None = None
    try:
        if cursor:
            value, last_pk = decode_cursor(cursor, ordering)
            op = "lt" if descending else "gt"
            qs = keyset_after(qs, field, value, last_pk, op=op)
            after = (value, last_pk)
        keys = _merged_keys(
            qs,
            parts,
            field=field,
            descending=descending,
            count=limit + 1,
            fragment=fragment,
            after=after,
        )
    except (ValueError, TypeError, DjangoValidationError) as exc:
        raise ValidationFailed(
            "The cursor is not valid for this list.",
            code="invalid_cursor",
            errors={"cursor": ["Invalid cursor."]},
        ) from exc
    by_pk = Account.objects.in_bulk(keys)
    rows = [by_pk[pk] for pk in keys if pk in by_pk]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(ordering, [getattr(last, field), last.pk])
    return Page(items=rows, next_cursor=next_cursor)


def _merged_keys(
    qs: QuerySet[Account],
    parts: list[visibility.SearchPart],
    *,
    field: str,
    descending: bool,
    count: int,
    fragment: str = "",
    after: tuple[Any, Any] | None = None,
) -> list[uuid.UUID]:
    """The first ``count`` keys of ``qs`` narrowed to the union of ``parts``, in the
    order of ``field`` then key: ``SELECT … FROM (part₁ LIMIT n UNION part₂ LIMIT n …)
    ORDER BY … LIMIT n``, written out because neither SQLite nor Django's ``union()`` takes
    a limit per part of a compound query."""
    direction = "DESC" if descending else "ASC"
    order = ("-" if descending else "") + field, ("-" if descending else "") + "pk"
    selects: list[str] = []
    params: list[Any] = []
    for part in parts:
        first: QuerySet[Any, Any]
        if isinstance(part, visibility.ReachPart):
            first = _reach_keys(part, fragment, descending=descending, after=after)[:count]
        else:
            first = qs.filter(part).order_by(*order).values_list("pk", field)[:count]
        try:
            sql, first_params = first.query.get_compiler(using=first.db).as_sql(
                with_col_aliases=True
            )
        except EmptyResultSet:
            continue  # the part and the filters exclude each other
        selects.append(f"SELECT * FROM ({sql}) AS part{len(selects)}")  # noqa: S608
        params += first_params
    if not selects:
        return []
    union = " UNION ".join(selects)
    query = (
        f"SELECT * FROM ({union}) AS visible "  # noqa: S608 (compiled, with parameters)
        f"ORDER BY 2 {direction}, 1 {direction} LIMIT %s"  # (the field, then the key)
    )
    with connections[qs.db].cursor() as cursor:
        cursor.execute(query, [*params, count])
        found = [row[0] for row in cursor.fetchall()]
    to_key = Account._meta.pk.to_python  # SQLite returns the key as text
    return [to_key(value) for value in found]


def _reach_keys(
    part: visibility.ReachPart, fragment: str, *, descending: bool, after: tuple[Any, Any] | None
) -> QuerySet[AccountReach, tuple[Any, Any]]:
    """The part's accounts matching ``fragment`` after the cursor, as (key, name) in name
    order: a walk of the ``account_reach_walk`` index, which holds the search column."""
    rows = AccountReach.objects.filter(user_id=part.user_id, search_text__contains=fragment)
    if after is not None:
        value, last_pk = after
        op = "lt" if descending else "gt"
        rows = rows.filter(
            Q(**{f"legal_name__{op}e": value}),
            Q(**{f"legal_name__{op}": value})
            | Q(legal_name=value, **{f"account_id__{op}": last_pk}),
        )
    order = ("-legal_name", "-account_id") if descending else ("legal_name", "account_id")
    return rows.order_by(*order).values_list("account_id", "legal_name")


# "C" and 8 digits plus a check digit; one digit fewer or more is a mistyped code.
_CODE_SHAPED = re.compile(r"^[Cc]\d{8,10}$")


def looks_like_customer_code(term: str) -> bool:
    return bool(_CODE_SHAPED.match(term.strip()))


def account_search_code(term: str) -> str:
    """The customer code a search term stands for; a code-shaped term whose check digit
    does not match is refused as invalid (``invalid_customer_code``)."""
    from accord.customers.services import customer_code_is_valid

    code = term.strip().upper()
    if not customer_code_is_valid(code):
        raise ValidationFailed(
            f"{code} is not a valid customer code: a character is wrong, missing or extra.",
            code="invalid_customer_code",
            errors={"search": ["Not a valid customer code."]},
        )
    return code


def _merged_code_survivor(code: str) -> Q:
    """The account a merged-away account's code now stands for (its code is an alias)."""
    merged = Account.objects.filter(customer_code=code.strip().upper(), merged_into__isnull=False)
    return Q(pk__in=merged.values("merged_into_id"))


def contact_list(
    *,
    user: User,
    search: str | None = None,
    account: uuid.UUID | None = None,
    email: str | None = None,
    is_active: bool | None = None,
    district: uuid.UUID | None = None,
    scope: visibility.ListScope | None = None,
    ordering: ContactOrdering = "last_name",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Contact]:
    qs = visibility.contacts_visible_to(user)
    qs = visibility.narrow_accounts_to_scope(qs, user=user, scope=scope, account_field="account_id")
    if district:
        qs = qs.filter(account__district_id=district)
    if search:
        qs = qs.filter(search_text__contains=search_fragment(search))
    if account:
        qs = qs.filter(account_id=account)
    if email:
        qs = qs.filter(Q(email__iexact=email) | Q(email_secondary__iexact=email))
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    return keyset_page(qs, ordering=ordering, cursor=cursor, limit=limit)
