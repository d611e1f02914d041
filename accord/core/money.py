"""Money is a Decimal amount with an ISO 4217 currency; never a float."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

MONEY_DIGITS = 16
MONEY_PLACES = 2


def default_currency() -> str:
    return str(settings.ACCORD_DEFAULT_CURRENCY)


def AmountField(**kwargs: object) -> models.DecimalField:
    kwargs.setdefault("max_digits", MONEY_DIGITS)
    kwargs.setdefault("decimal_places", MONEY_PLACES)
    kwargs.setdefault("default", Decimal("0"))
    return models.DecimalField(**kwargs)  # type: ignore[arg-type]


def CurrencyField(**kwargs: object) -> models.CharField:
    kwargs.setdefault("max_length", 3)
    kwargs.setdefault("default", default_currency)
    return models.CharField(**kwargs)  # type: ignore[arg-type]
