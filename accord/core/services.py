"""Helpers every app's services share: applying input, validating, resolving references."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models
from django.db.models.deletion import ProtectedError, RestrictedError

from accord.core.errors import Conflict, ValidationFailed


def resolve[M: models.Model](
    queryset: models.QuerySet[M], value: Any, *, field: str, label: str
) -> M | None:
    """Turn an id from input into a record the actor may use, or a field error."""
    if value is None or value == "":
        return None
    if isinstance(value, models.Model):
        value = value.pk
    try:
        return queryset.get(pk=uuid.UUID(str(value)))
    except (ValueError, ObjectDoesNotExist) as exc:
        raise ValidationFailed(errors={field: [f"Unknown {label}."]}) from exc


def apply_fields(instance: models.Model, data: Mapping[str, Any], fields: Iterable[str]) -> None:
    for name in fields:
        if name in data:
            value = data[name]
            if value is None and _is_text_field(instance, name):
                value = ""
            setattr(instance, name, value)


def _is_text_field(instance: models.Model, name: str) -> bool:
    try:
        field = instance._meta.get_field(name)
    except Exception:
        return False
    return isinstance(field, models.CharField | models.TextField) and not field.null


def validate(instance: models.Model, *, exclude: Iterable[str] | None = None) -> None:
    """Run model validation (field validators, choices, constraints) as a domain error.

    Foreign keys the service already resolved to a loaded record are not looked up again.
    """
    skip = set(exclude or [])
    for field in instance._meta.concrete_fields:
        if (
            field.is_relation
            and field.is_cached(instance)  # type: ignore[attr-defined]
            and field.get_cached_value(instance) is not None  # type: ignore[attr-defined]
        ):
            skip.add(field.name)
    try:
        instance.full_clean(exclude=sorted(skip))
    except DjangoValidationError as exc:
        raise ValidationFailed.from_django(exc) from exc


def save_or_conflict(instance: models.Model, **kwargs: Any) -> None:
    """Save; a database constraint hit by a concurrent write becomes a 409."""
    try:
        instance.save(**kwargs)
    except IntegrityError as exc:
        raise Conflict(
            "The record conflicts with another one that was saved at the same time.",
            code="integrity_conflict",
        ) from exc


def delete_or_conflict(instance: models.Model, *, what: str) -> None:
    try:
        instance.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise Conflict(
            f"This {what} still has related records; archive it or move them first.",
            code="in_use",
        ) from exc
