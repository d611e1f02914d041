"""Forecast periods: calendar months and fiscal quarters, as pure functions.

The fiscal year starts in ``settings.ACCORD_FISCAL_YEAR_START_MONTH`` (1 = January). A
fiscal year is named after the calendar year in which it *ends* (with an October start,
FY2027 runs from 1 October 2026 to 30 September 2027, as the Thai government's does); with
a January start the fiscal year is the calendar year.

Keys are stable text used in URLs and the API: ``2026-03`` for a month, ``FY2026-Q1`` for
a quarter. Bounds are dates, ``start`` inclusive and ``end`` exclusive.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings

BUDDHIST_ERA_OFFSET = 543
EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TH_MONTHS = (
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
_MONTH_KEY = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER_KEY = re.compile(r"^FY(\d{4})-Q([1-4])$")


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"


@dataclass(frozen=True, order=True)
class Period:
    kind: PeriodKind
    start: dt.date
    end: dt.date  # exclusive
    fiscal_start_month: int = 1

    @property
    def key(self) -> str:
        if self.kind == PeriodKind.MONTH:
            return f"{self.start:%Y-%m}"
        year, quarter = fiscal_quarter_of(self.start, self.fiscal_start_month)
        return f"FY{year}-Q{quarter}"

    @property
    def label(self) -> str:
        """``Mar 2026`` / ``Q1 FY2026``."""
        if self.kind == PeriodKind.MONTH:
            return f"{EN_MONTHS[self.start.month - 1]} {self.start.year}"
        year, quarter = fiscal_quarter_of(self.start, self.fiscal_start_month)
        return f"Q{quarter} FY{year}"

    @property
    def label_th(self) -> str:
        """Buddhist-era labels: ``มี.ค. 2569`` / ``ไตรมาส 1 ปีงบประมาณ 2569``."""
        if self.kind == PeriodKind.MONTH:
            return f"{TH_MONTHS[self.start.month - 1]} {self.start.year + BUDDHIST_ERA_OFFSET}"
        year, quarter = fiscal_quarter_of(self.start, self.fiscal_start_month)
        return f"ไตรมาส {quarter} ปีงบประมาณ {year + BUDDHIST_ERA_OFFSET}"

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def months(self) -> list[Period]:
        """The calendar months this period covers (itself for a month)."""
        out = []
        day = self.start
        while day < self.end:
            out.append(month_of(day, self.fiscal_start_month))
            day = _add_months(day, 1)
        return out

    def next(self) -> Period:
        return period_containing(self.end, self.kind, fiscal_start_month=self.fiscal_start_month)

    def previous(self) -> Period:
        return period_containing(
            self.start - dt.timedelta(days=1), self.kind, fiscal_start_month=self.fiscal_start_month
        )


def configured_fiscal_start_month() -> int:
    month = int(getattr(settings, "ACCORD_FISCAL_YEAR_START_MONTH", 1))
    if not 1 <= month <= 12:
        raise ValueError("ACCORD_FISCAL_YEAR_START_MONTH must be between 1 and 12.")
    return month


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def fiscal_quarter_of(day: dt.date, start_month: int) -> tuple[int, int]:
    """(fiscal year, quarter 1-4) of ``day``; the fiscal year is named by its last year."""
    offset = (day.month - start_month) % 12
    quarter = offset // 3 + 1
    # The fiscal year that contains ``day`` started in start_month of this or last year.
    begins = day.year if day.month >= start_month else day.year - 1
    year = begins if start_month == 1 else begins + 1
    return year, quarter


def month_of(day: dt.date, fiscal_start_month: int = 1) -> Period:
    start = dt.date(day.year, day.month, 1)
    return Period(PeriodKind.MONTH, start, _add_months(start, 1), fiscal_start_month)


def quarter_of(day: dt.date, fiscal_start_month: int = 1) -> Period:
    offset = (day.month - fiscal_start_month) % 12
    start = _add_months(dt.date(day.year, day.month, 1), -(offset % 3))
    return Period(PeriodKind.QUARTER, start, _add_months(start, 3), fiscal_start_month)


def period_containing(
    day: dt.date, kind: PeriodKind | str, *, fiscal_start_month: int | None = None
) -> Period:
    start_month = (
        fiscal_start_month if fiscal_start_month is not None else configured_fiscal_start_month()
    )
    if PeriodKind(kind) == PeriodKind.MONTH:
        return month_of(day, start_month)
    return quarter_of(day, start_month)


def period_parse(key: str, *, fiscal_start_month: int | None = None) -> Period:
    """``2026-03`` or ``FY2026-Q1`` → the period; ``ValueError`` for anything else."""
    start_month = (
        fiscal_start_month if fiscal_start_month is not None else configured_fiscal_start_month()
    )
    key = key.strip().upper()
    if match := _MONTH_KEY.match(key):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12 or not 1900 <= year <= 2999:
            raise ValueError(f"Not a month: {key!r}.")
        return month_of(dt.date(year, month, 1), start_month)
    if match := _QUARTER_KEY.match(key):
        year, quarter = int(match[1]), int(match[2])
        if not 1900 <= year <= 2999:
            raise ValueError(f"Not a quarter: {key!r}.")
        begins = year if start_month == 1 else year - 1
        start = _add_months(dt.date(begins, start_month, 1), 3 * (quarter - 1))
        return quarter_of(start, start_month)
    raise ValueError(f"Not a period: {key!r}; use 2026-03 for a month or FY2026-Q1 for a quarter.")


def period_from_start(kind: PeriodKind | str, start: dt.date) -> Period:
    """The period of ``kind`` that begins on ``start`` (as stored in the database)."""
    period = period_containing(start, kind)
    if period.start != start:
        raise ValueError(f"{start} does not begin a {kind}.")
    return period


def iso_week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week (the key of weekly snapshots)."""
    return day - dt.timedelta(days=day.weekday())


TH_WEEKDAYS = ("จ.", "อ.", "พ.", "พฤ.", "ศ.", "ส.", "อา.")
EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def day_label(day: dt.date, *, thai: bool = False, weekday: bool = False) -> str:
    """A short date for a chart axis: ``23 Nov 2026`` / ``23 พ.ย. 2569``, with the weekday
    in front when asked (``Mon 23 Nov``, ``จ. 23 พ.ย.``: a week's days need no year)."""
    if thai:
        month, year, names = TH_MONTHS[day.month - 1], day.year + BUDDHIST_ERA_OFFSET, TH_WEEKDAYS
    else:
        month, year, names = EN_MONTHS[day.month - 1], day.year, EN_WEEKDAYS
    if weekday:
        return f"{names[day.weekday()]} {day.day} {month}"
    return f"{day.day} {month} {year}"
