"""System checks for duplicate matching (``accord check --database default``, ``migrate``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning
from django.db import connections

THAI_SAMPLE = "สยามเทรดดิ้ง"


@register(Tags.database)
def trigram_handles_thai(
    app_configs: Sequence[Any] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    """pg_trgm must extract trigrams from Thai; it does not where ``LC_CTYPE`` is ``C``."""
    messages: list[CheckMessage] = []
    for alias in databases or ():
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            if cursor.fetchone() is None:
                messages.append(
                    CheckWarning(
                        "pg_trgm is not installed: fragment search scans instead of using "
                        "its trigram indexes.",
                        hint="Run CREATE EXTENSION pg_trgm as a superuser before migrating "
                        "a new database (the search migrations then create the indexes).",
                        id="accord.W002",
                    )
                )
                continue
            cursor.execute("SELECT show_trgm(%s), current_setting('lc_ctype')", [THAI_SAMPLE])
            trigrams, ctype = cursor.fetchone()
        if not trigrams:
            messages.append(
                CheckWarning(
                    f"pg_trgm extracts no trigrams from Thai text in database '{alias}' "
                    f"(LC_CTYPE is {ctype!r}): Thai fragment search finds nothing by trigram.",
                    hint="Create the database with a UTF-8 character type, e.g. "
                    "CREATE DATABASE accord LC_CTYPE 'C.UTF-8' TEMPLATE template0.",
                    id="accord.W001",
                )
            )
    return messages
