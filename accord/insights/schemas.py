from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field, field_validator

from accord.core.api_support import InputSchema, QuerySchema, read_only
from accord.insights.models import AdjustableCategory, PeriodKind, Quota
from accord.insights.periods import period_from_start, period_parse

PeriodKey = Field(
    default=None,
    max_length=12,
    description="A month (`2026-03`) or a fiscal quarter (`FY2026-Q1`); default: this quarter.",
)
Amount = Field(ge=0, max_digits=16, decimal_places=2)


def _check_period(value: str | None) -> str | None:
    if value is not None:
        period_parse(value)  # ValueError → a field error
    return value


class PeriodOut(Schema):
    key: str
    kind: PeriodKind
    start: dt.date
    end: dt.date = Field(description="Exclusive.")
    label: str
    label_th: str


class FiguresOut(Schema):
    closed_won: Decimal
    commit: Decimal = Field(description="Closed won + open commit.")
    best_case: Decimal = Field(description="Commit + open best case.")
    pipeline: Decimal = Field(description="Best case + open pipeline.")


class AdjustmentOut(Schema):
    id: uuid.UUID = read_only()
    category: AdjustableCategory
    amount: Decimal
    computed_amount: Decimal = Field(description="The computed figure when it was adjusted.")
    note: str
    adjusted_by: uuid.UUID
    adjusted_by_name: str
    created_at: dt.datetime


class ForecastRowOut(Schema):
    level: Literal["company", "region", "unit", "district", "user", "own"]
    id: uuid.UUID | None
    label: str
    label_th: str
    node: str = Field(description="The node's key (for the trend).")
    computed: FiguresOut
    adjusted: FiguresOut = Field(description="With managers' adjustments (people only).")
    is_adjusted: bool
    quota: Decimal | None
    attainment: Decimal | None = Field(description="Closed won / quota.")
    gap: Decimal | None = Field(description="Quota minus closed won.")
    region_id: uuid.UUID | None
    unit_id: uuid.UUID | None
    district_id: uuid.UUID | None
    adjustments: list[AdjustmentOut] = Field(description="Oldest first; the last one counts.")


class ForecastOut(Schema):
    period: PeriodOut
    subject: ForecastRowOut
    children: list[ForecastRowOut]
    child_level: str | None
    may_adjust: bool = False


class ForecastFilters(QuerySchema):
    period: str | None = PeriodKey
    region: uuid.UUID | None = None
    unit: uuid.UUID | None = None
    district: uuid.UUID | None = None

    _period = field_validator("period")(_check_period)


class PeriodFilter(QuerySchema):
    period: str | None = PeriodKey

    _period = field_validator("period")(_check_period)


class AdjustmentIn(InputSchema):
    period: str = Field(max_length=12, description="`2026-03` or `FY2026-Q1`.")
    category: AdjustableCategory
    amount: Decimal = Amount
    note: str = Field(min_length=1, max_length=500)

    _period = field_validator("period")(_check_period)


class SnapshotOut(Schema):
    week_start: dt.date
    closed_won: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    adjusted_commit: Decimal | None
    adjusted_best_case: Decimal | None
    adjusted_pipeline: Decimal | None
    quota: Decimal | None


class TrendOut(Schema):
    node: str
    period: PeriodOut
    weeks: list[SnapshotOut]


class QuotaOut(Schema):
    id: uuid.UUID = read_only()
    user: uuid.UUID
    period: str
    period_kind: PeriodKind = read_only()
    period_start: dt.date = read_only()
    amount: Decimal
    currency: str = read_only()
    business_unit: uuid.UUID | None = read_only()
    district: uuid.UUID | None
    note: str
    created_at: dt.datetime = read_only()
    updated_at: dt.datetime = read_only()

    @staticmethod
    def resolve_user(obj: Quota) -> uuid.UUID:
        return obj.user_id

    @staticmethod
    def resolve_period(obj: Quota) -> str:
        return period_from_start(obj.period_kind, obj.period_start).key

    @staticmethod
    def resolve_business_unit(obj: Quota) -> uuid.UUID | None:
        return obj.business_unit_id

    @staticmethod
    def resolve_district(obj: Quota) -> uuid.UUID | None:
        return obj.district_id


class QuotaIn(InputSchema):
    user: uuid.UUID
    period: str = Field(max_length=12, description="`2026-03` or `FY2026-Q1`.")
    amount: Decimal = Amount
    district: uuid.UUID | None = Field(
        default=None, description="Where it rolls up; default: the person's only district."
    )
    note: str = Field(default="", max_length=255)

    _period = field_validator("period")(_check_period)


class QuotaPatch(InputSchema):
    amount: Decimal | None = Field(default=None, ge=0, max_digits=16, decimal_places=2)
    district: uuid.UUID | None = None
    note: str | None = Field(default=None, max_length=255)


class QuotaFilters(QuerySchema):
    period: str | None = Field(default=None, max_length=12, description="Only this period.")
    user: uuid.UUID | None = None
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)

    _period = field_validator("period")(_check_period)


class QuotaPage(Schema):
    items: list[QuotaOut]
    next_cursor: str | None
