"""Thai identifiers: tax IDs (เลขประจำตัวผู้เสียภาษี) and branch numbers."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

HEAD_OFFICE_BRANCH = "00000"
_NON_DIGITS = re.compile(r"\D")


def normalise_tax_id(value: str) -> str:
    """Strip the dashes and spaces people type ("0-1055-12345-67-8")."""
    return _NON_DIGITS.sub("", value or "")


def tax_id_is_valid(value: str) -> bool:
    """13 digits whose last is the mod-11 check digit of the first twelve."""
    if len(value) != 13 or not value.isdigit():
        return False
    total = sum(int(d) * (13 - i) for i, d in enumerate(value[:12]))
    return (11 - total % 11) % 10 == int(value[12])


def tax_id_with_check_digit(first_twelve: str) -> str:
    total = sum(int(d) * (13 - i) for i, d in enumerate(first_twelve))
    return first_twelve + str((11 - total % 11) % 10)


def validate_tax_id(value: str) -> None:
    if not tax_id_is_valid(value):
        raise ValidationError(
            _("Enter a 13-digit Thai tax ID with a valid check digit."), code="invalid_tax_id"
        )


def validate_branch_code(value: str) -> None:
    if len(value) != 5 or not value.isdigit():
        raise ValidationError(
            _("Branch number is 5 digits; head office is 00000."), code="invalid_branch"
        )
