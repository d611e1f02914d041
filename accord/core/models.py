"""Base model every Accord record shares: a time-ordered UUID key and timestamps."""

from __future__ import annotations

import uuid

import uuid_utils.compat
from django.db import models


def new_id() -> uuid.UUID:
    """A UUIDv7: unique like uuid4, but ordered by creation time (index-friendly)."""
    return uuid_utils.compat.uuid7()


class BaseModel(models.Model):
    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True, editable=False)

    class Meta:
        abstract = True
