"""Enforcing data-entry templates. Every service that writes a record calls this."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from accord.core.errors import MissingRequiredFields
from accord.dataquality.models import RecordType, RequiredFieldRule


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return value == 0
    return False


def required_fields_for(record_type: RecordType, *, stage: Any = None) -> list[str]:
    """The fields ``record_type`` must have (in ``stage``, for an opportunity)."""
    stage_q = Q(stage__isnull=True)
    if stage is not None:
        stage_q |= Q(stage=stage)
        if stage.outcome != "lost":
            stage_q |= Q(
                applies_to_later_stages=True,
                stage__pipeline_id=stage.pipeline_id,
                stage__position__lt=stage.position,
            )
    rules = RequiredFieldRule.objects.filter(stage_q, record_type=record_type, is_active=True)
    return sorted(set(rules.values_list("field", flat=True)))


def required_fields_check(
    record_type: RecordType,
    *,
    get: Callable[[str], Any],
    stage: Any = None,
    stage_name: str | None = None,
) -> None:
    """Raise :class:`MissingRequiredFields` naming every required field ``get`` finds empty."""
    missing = [f for f in required_fields_for(record_type, stage=stage) if _is_missing(get(f))]
    if missing:
        where = (
            _("to enter stage “%(stage)s”") % {"stage": stage_name or str(stage)}
            if stage is not None
            else ""
        )
        raise MissingRequiredFields(
            (
                _("Required fields are missing %(where)s: %(fields)s")
                % {
                    "where": where,
                    "fields": ", ".join(missing),
                }
            ).replace("  ", " "),
            errors={f: [_("This field is required.")] for f in missing},
        )
