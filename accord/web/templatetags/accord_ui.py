"""Formatting for people: money (THB by default), Bangkok times, Thai Buddhist-era dates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext

from accord.core.money import money_text

register = template.Library()

THAI_MONTHS = (
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
)
EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
BUDDHIST_ERA_OFFSET = 543


@register.filter
def money(amount: Decimal | int | None, currency: str | None = None) -> str:
    """``1234567.5`` → ``฿1,234,567.50`` (THB) or ``1,234,567.50 USD``."""
    return money_text(amount, currency)


def _date_text(day: dt.date) -> str:
    if (get_language() or "en").startswith("th"):
        return f"{day.day} {THAI_MONTHS[day.month - 1]} {day.year + BUDDHIST_ERA_OFFSET}"
    return f"{day.day} {EN_MONTHS[day.month - 1]} {day.year}"


@register.filter
def day(value: dt.date | dt.datetime | None) -> str:
    """A date (a datetime is first put in the local zone): ``23 Nov 2026`` / ``23 พ.ย. 2569``."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return _date_text(value)


@register.filter
def when(value: dt.datetime | None) -> str:
    """A moment in the local zone (Asia/Bangkok by default): ``23 Nov 2026 17:05``."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{_date_text(local.date())} {local:%H:%M}"


@register.filter
def iso(value: dt.datetime | None) -> str:
    return timezone.localtime(value).isoformat() if value else ""


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with ``changes`` applied (``None`` removes a key)."""
    request = context["request"]
    params = request.GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def field_errors(errors: Any, name: str) -> list[str]:
    return list(errors.get(name, [])) if errors else []


@register.filter
def changed_fields(changes: Any, limit: int = 6) -> str:
    """The names of the fields an audit event changed: ``phone, email, +2``."""
    names = list(changes or {})
    shown = ", ".join(names[:limit])
    return f"{shown}, +{len(names) - limit}" if len(names) > limit else shown


@register.simple_tag(takes_context=True)
def stage_options(context: Any, columns: Any, selected: Any) -> str:
    """The ``<option>`` list of a board's stages with ``selected`` chosen. Built once per
    render and reused by every card (a board has hundreds of "Move to" lists)."""
    cache = context.render_context.setdefault("accord_stage_options", {})
    key = id(columns)
    if key not in cache:
        cache[key] = [
            (
                str(c.stage.pk),
                format_html('<option value="{}">{}</option>', c.stage.pk, c.stage.name),
            )
            for c in columns
        ]
    chosen = str(selected)
    return mark_safe(  # noqa: S308 - every piece was escaped by format_html
        "".join(
            html.replace("<option ", "<option selected ", 1) if pk == chosen else html
            for pk, html in cache[key]
        )
    )


@register.simple_tag(takes_context=True)
def board_move_form(context: Any, columns: Any, card: Any) -> str:
    """A card's keyboard "Move to" form (a board renders up to 20 per stage, so its fixed
    parts — CSRF field, labels, stage options — are built once per render)."""
    cache = context.render_context.setdefault("accord_move_form", {})
    if "csrf" not in cache:
        cache["csrf"] = format_html(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">',
            context.get("csrf_token", ""),
        )
        cache["move"] = gettext("Move")
    label = gettext("Move “%(name)s” to") % {"name": card.name}
    return format_html(
        '<form method="post" action="{url}" class="move" hx-post="{url}" hx-target="#board">'
        '{csrf}<label for="move-{pk}" class="visually-hidden">{label}</label>'
        '<select id="move-{pk}" name="stage">{options}</select>'
        '<button type="submit" class="small">{move}</button></form>',
        url=card.move_url,
        csrf=cache["csrf"],
        pk=card.pk,
        label=label,
        options=stage_options(context, columns, card.stage_id),
        move=cache["move"],
    )


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``mapping[str(key)]`` or nothing: for per-record data keyed by id."""
    if not isinstance(mapping, dict):
        return None
    return mapping.get(str(key))


@register.filter
def figure(value: Decimal | int | None, kind: str = "count") -> str:
    """A dashboard figure by its kind: money (``฿1,234.00``), a rate (``87.5%``) or a
    count (``1,234``); an empty cell for none."""
    if value is None:
        return "—"
    if kind == "money":
        return money(value)
    if kind == "rate":
        return f"{number_format(Decimal(value) * 100, decimal_pos=1, force_grouping=True)}%"
    return str(number_format(value, decimal_pos=0, force_grouping=True))
