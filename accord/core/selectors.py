"""Reading helpers shared by every app's selectors."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet

from accord.core.errors import NotFound

_SPACES = re.compile(r"\s+")


def search_fragment(text: str) -> str:
    """Normalise a search box entry the way ``search_text`` columns are built."""
    return _SPACES.sub(" ", text).strip().casefold()


def get_visible[M: Model](queryset: QuerySet[M], pk: Any, *, what: str = "record") -> M:
    """The record with ``pk`` in ``queryset`` (already narrowed to what the user may see)."""
    try:
        return queryset.get(pk=uuid.UUID(str(pk)))
    except (ValueError, ObjectDoesNotExist) as exc:
        raise NotFound(f"No such {what}, or you may not see it.") from exc
