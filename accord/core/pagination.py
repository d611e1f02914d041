"""Keyset (cursor) pagination: the cost of a page does not grow with its depth.

A page is ordered by one field plus the primary key as a tie-breaker. The cursor is an
opaque token holding the last row's values; the next page is
``WHERE field >= v AND (field > v OR (field = v AND id > last_id))`` — the row comparison
written out so that both SQLite and PostgreSQL turn its first clause into a range on the
``(field, id)`` index instead of walking the index from its start.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, Q, QuerySet

from accord.core.errors import ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass
class Page[T]:
    items: list[T]
    next_cursor: str | None


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def encode_cursor(ordering: str, values: list[Any]) -> str:
    raw = json.dumps({"o": ordering, "v": [_encode_value(v) for v in values]})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, ordering: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(data, dict) or data.get("o") != ordering:
            raise ValueError("cursor belongs to another ordering")
        values = data["v"]
        if not isinstance(values, list) or len(values) != 2:
            raise ValueError("malformed cursor")
        if not all(isinstance(v, str | int | float | bool) for v in values):
            raise ValueError("malformed cursor")
        UUID(str(values[1]))
        return values
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            "The cursor is not valid for this list and ordering; start again without it.",
            code="invalid_cursor",
            errors={"cursor": ["Invalid or expired cursor."]},
        ) from exc


def keyset_after[M: Model](
    qs: QuerySet[M], field: str, value: Any, pk: Any, *, op: str
) -> QuerySet[M]:
    """Rows after (``op="gt"``) or before (``"lt"``) the cursor's (value, pk). The first
    clause is implied by the second; it is there so that the database uses it as an index
    range instead of walking the index from its start."""
    return qs.filter(
        Q(**{f"{field}__{op}e": value}),
        Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"pk__{op}": pk}),
    )


def keyset_page[T: Model](
    queryset: QuerySet[T],
    *,
    ordering: str,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    keys_first: bool = False,
) -> Page[T]:
    """One page of ``queryset`` ordered by ``ordering`` (a field name, ``-`` for descending).

    With ``keys_first`` the page's keys are found first (a query a covering index can answer
    without visiting the table, e.g. a filtered walk of the name index) and the rows are
    fetched by primary key after (from the model's default manager: ``queryset``'s
    filters are not applied again, nor its ``select_related``): one more query, far fewer
    rows read when a filter such as a search rejects most of the rows walked.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    descending = ordering.startswith("-")
    field = ordering.lstrip("-")
    qs = queryset.order_by(f"-{field}", "-pk") if descending else queryset.order_by(field, "pk")
    if cursor:
        value, pk = decode_cursor(cursor, ordering)
        op = "lt" if descending else "gt"
        try:
            qs = keyset_after(qs, field, value, pk, op=op)
            rows = _fetch(queryset, qs, field, limit + 1, keys_first)
        except (ValueError, TypeError, DjangoValidationError) as exc:
            raise ValidationFailed(
                "The cursor is not valid for this list.",
                code="invalid_cursor",
                errors={"cursor": ["Invalid cursor."]},
            ) from exc
    else:
        rows = _fetch(queryset, qs, field, limit + 1, keys_first)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(ordering, [getattr(last, field), last.pk])
    return Page(items=rows, next_cursor=next_cursor)


def _fetch[T: Model](
    base: QuerySet[T], ordered: QuerySet[T], field: str, count: int, keys_first: bool
) -> list[T]:
    if not keys_first:
        return list(ordered[:count])
    keys = list(ordered.values_list("pk", flat=True)[:count])
    # By key alone: the first query applied the filters, and repeating them here made the
    # planner intersect the key list with a trigram index scan of every match.
    by_pk = base.model._default_manager.in_bulk(keys)
    return [by_pk[pk] for pk in keys if pk in by_pk]
