"""Money is a Decimal amount with an ISO 4217 currency; never a float."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.formats import number_format

MONEY_DIGITS = 16
MONEY_PLACES = 2
CURRENCY_SYMBOLS = {"THB": "฿"}


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


def money_text(amount: Decimal | int | None, currency: str | None = None) -> str:
    """``1234567.5`` → ``฿1,234,567.50`` (THB) or ``1,234,567.50 USD``, grouped as the active
    language groups numbers; empty for none. The UI's ``money`` filter and e-mails use it."""
    if amount is None:
        return ""
    currency = currency or default_currency()
    text = number_format(Decimal(amount), decimal_pos=2, force_grouping=True)
    symbol = CURRENCY_SYMBOLS.get(currency)
    if symbol:
        return f"-{symbol}{text[1:]}" if text.startswith("-") else f"{symbol}{text}"
    return f"{text} {currency}"
