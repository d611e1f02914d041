"""The organisation the generator spreads its rows over (units, districts, reps, pipelines).

If the database has no organisation yet, the demo data command creates one; if that
command is not installed, :func:`create_minimal_org` builds a small one with the ORM
(one unit, one region, six districts, a pipeline with stages, a few users). Products are
added the same way when there are none. This is benchmark set-up, not a service: it writes
no audit events.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.management import call_command, get_commands
from django.db import transaction

from accord.org.models import BusinessUnit, District, ProductLine, Region, Role, User
from accord.sales.models import ForecastCategory, Pipeline, Product, Stage, StageOutcome

DEMO_COMMANDS = ("demo_data", "demo-data")
SELLING_ROLES = (Role.SALES_REP, Role.SALES_MANAGER)


@dataclass(frozen=True)
class StageInfo:
    id: uuid.UUID
    outcome: str
    probability: int


@dataclass(frozen=True)
class PipelineInfo:
    id: uuid.UUID
    business_unit_id: uuid.UUID
    open_stages: tuple[StageInfo, ...]
    won_stages: tuple[StageInfo, ...]
    lost_stages: tuple[StageInfo, ...]


@dataclass(frozen=True)
class ProductInfo:
    id: uuid.UUID
    name: str
    list_price: Decimal
    currency: str


@dataclass(frozen=True)
class Rep:
    id: uuid.UUID
    business_unit_id: uuid.UUID | None


@dataclass
class OrgSnapshot:
    """Ids the generator draws from; loaded once, a few hundred rows at most."""

    district_ids: list[uuid.UUID]
    reps: list[Rep]
    reps_by_district: dict[uuid.UUID, list[Rep]]
    pipelines_by_unit: dict[uuid.UUID, PipelineInfo]
    pipelines: list[PipelineInfo]
    products: list[ProductInfo]
    created: list[str] = field(default_factory=list)


def org_is_missing() -> bool:
    return not (
        District.objects.exists()
        and User.objects.filter(is_active=True).exists()
        and Stage.objects.exists()
    )


def ensure_org(*, verbose: bool = True) -> OrgSnapshot:
    """Make sure there is an organisation to generate into, and describe it."""
    notes: list[str] = []
    if org_is_missing():
        commands = get_commands()
        demo = next((name for name in DEMO_COMMANDS if name in commands), None)
        if demo is not None:
            if verbose:
                print(f"No organisation yet: running `{demo}`…", flush=True)
            call_command(demo)
            notes.append(f"ran {demo}")
        if org_is_missing():
            if verbose:
                print("No organisation yet: creating a minimal one for the benchmark…")
            create_minimal_org()
            notes.append("created the minimal bench organisation")
    if not Product.objects.filter(is_active=True).exists():
        create_products()
        notes.append("created a bench product catalogue")
    snap = load_org()
    snap.created = notes
    return snap


def load_org() -> OrgSnapshot:
    district_ids = list(District.objects.order_by("code").values_list("pk", flat=True))
    users = list(
        User.objects.filter(is_active=True, role__in=SELLING_ROLES)
        .order_by("username")
        .values_list("pk", "business_unit_id")
    )
    if not users:
        users = list(
            User.objects.filter(is_active=True)
            .order_by("username")
            .values_list("pk", "business_unit_id")
        )
    reps = [Rep(pk, unit) for pk, unit in users]
    by_id = {rep.id: rep for rep in reps}
    reps_by_district: dict[uuid.UUID, list[Rep]] = {d: [] for d in district_ids}
    for user_id, district_id in User.districts.through.objects.filter(
        user_id__in=list(by_id)
    ).values_list("user_id", "district_id"):
        reps_by_district[district_id].append(by_id[user_id])

    pipelines: list[PipelineInfo] = []
    pipelines_by_unit: dict[uuid.UUID, PipelineInfo] = {}
    for pipeline in Pipeline.objects.prefetch_related("stages").order_by("-is_default", "name"):
        stages = sorted(pipeline.stages.all(), key=lambda s: s.position)
        info = PipelineInfo(
            id=pipeline.pk,
            business_unit_id=pipeline.business_unit_id,
            open_stages=tuple(_stage(s) for s in stages if s.outcome == StageOutcome.OPEN),
            won_stages=tuple(_stage(s) for s in stages if s.outcome == StageOutcome.WON),
            lost_stages=tuple(_stage(s) for s in stages if s.outcome == StageOutcome.LOST),
        )
        if not info.open_stages:
            continue
        pipelines.append(info)
        pipelines_by_unit.setdefault(info.business_unit_id, info)
    products = [
        ProductInfo(pk, name, price, currency)
        for pk, name, price, currency in Product.objects.filter(is_active=True)
        .order_by("code")
        .values_list("pk", "name", "list_price", "currency")
    ]
    if not district_ids or not reps or not pipelines or not products:
        raise RuntimeError(
            "The organisation needs districts, active users, a pipeline with open stages "
            "and products before the generator can run."
        )
    return OrgSnapshot(
        district_ids=district_ids,
        reps=reps,
        reps_by_district=reps_by_district,
        pipelines_by_unit=pipelines_by_unit,
        pipelines=pipelines,
        products=products,
    )


def _stage(stage: Stage) -> StageInfo:
    return StageInfo(stage.pk, stage.outcome, stage.probability)


MINIMAL_DISTRICTS: tuple[tuple[str, str, str], ...] = (
    ("bench-bkk-north", "Bangkok North", "กรุงเทพฯ เหนือ"),
    ("bench-bkk-south", "Bangkok South", "กรุงเทพฯ ใต้"),
    ("bench-bkk-east", "Bangkok East", "กรุงเทพฯ ตะวันออก"),
    ("bench-bkk-west", "Bangkok West", "กรุงเทพฯ ตะวันตก"),
    ("bench-nonthaburi", "Nonthaburi", "นนทบุรี"),
    ("bench-samut-prakan", "Samut Prakan", "สมุทรปราการ"),
)

MINIMAL_STAGES: tuple[tuple[str, str, int, str, str], ...] = (
    ("Prospecting", "แสวงหาลูกค้า", 10, ForecastCategory.PIPELINE, StageOutcome.OPEN),
    ("Qualification", "คัดกรอง", 20, ForecastCategory.PIPELINE, StageOutcome.OPEN),
    ("Proposal", "เสนอราคา", 50, ForecastCategory.BEST_CASE, StageOutcome.OPEN),
    ("Negotiation", "เจรจาต่อรอง", 75, ForecastCategory.COMMIT, StageOutcome.OPEN),
    ("Closed won", "ปิดการขายได้", 100, ForecastCategory.CLOSED_WON, StageOutcome.WON),
    ("Closed lost", "ปิดการขายไม่ได้", 0, ForecastCategory.OMITTED, StageOutcome.LOST),
)


def _user(username: str, first: str, last: str, **extra: object) -> User:
    user = User(username=username, first_name=first, last_name=last, **extra)
    user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def create_minimal_org() -> None:
    """One unit, one region, six districts, a pipeline with stages and a few users."""
    line, _ = ProductLine.objects.get_or_create(
        code="bench-office", defaults={"name": "Office equipment", "name_th": "อุปกรณ์สำนักงาน"}
    )
    unit, _ = BusinessUnit.objects.get_or_create(
        code="bench-sales-bangkok",
        defaults={"name": "Sales Bangkok (bench)", "name_th": "ฝ่ายขายกรุงเทพฯ"},
    )
    unit.product_lines.add(line)
    region, _ = Region.objects.get_or_create(
        code="bench-central", defaults={"name": "Central (bench)", "name_th": "ภาคกลาง"}
    )
    districts = [
        District.objects.get_or_create(
            code=code, defaults={"name": name, "name_th": name_th, "region": region}
        )[0]
        for code, name, name_th in MINIMAL_DISTRICTS
    ]
    pipeline, created = Pipeline.objects.get_or_create(
        business_unit=unit, name="Standard", defaults={"is_default": True}
    )
    if created or not pipeline.stages.exists():
        Stage.objects.bulk_create(
            Stage(
                pipeline=pipeline,
                name=name,
                name_th=name_th,
                position=position,
                probability=probability,
                forecast_category=category,
                outcome=outcome,
            )
            for position, (name, name_th, probability, category, outcome) in enumerate(
                MINIMAL_STAGES, start=1
            )
        )
    if User.objects.filter(username="bench-admin").exists():
        return
    _user("bench-admin", "Bench", "Admin", role=Role.ADMINISTRATOR, is_staff=True)
    manager = _user(
        "bench-manager",
        "Manop",
        "Srisuk",
        role=Role.SALES_MANAGER,
        business_unit=unit,
        region=region,
    )
    for i in range(8):
        rep = _user(
            f"bench-rep{i + 1}",
            ["Somchai", "Suda", "Wichai", "Malee", "Anan", "Kanya", "Decha", "Orapin"][i],
            "Bench",
            role=Role.SALES_REP,
            business_unit=unit,
            manager=manager,
        )
        rep.districts.add(districts[i % len(districts)], districts[(i + 3) % len(districts)])


BENCH_PRODUCTS: tuple[tuple[str, str, str], ...] = (
    ("BENCH-MFP-A3", "A3 colour multifunction printer", "85000.00"),
    ("BENCH-MFP-A4", "A4 mono multifunction printer", "18500.00"),
    ("BENCH-TONER", "Toner cartridge (black)", "3200.00"),
    ("BENCH-MPS", "Managed print service, per device per month", "1500.00"),
    ("BENCH-LAPTOP", "Business laptop", "32900.00"),
    ("BENCH-SWITCH", "24-port managed switch", "21000.00"),
    ("BENCH-DMS", "Document management licence, per user per year", "4800.00"),
    ("BENCH-INSTALL", "Installation and training, per day", "9000.00"),
)


@transaction.atomic
def create_products() -> None:
    line = ProductLine.objects.order_by("code").first()
    if line is None:
        line = ProductLine.objects.create(
            code="bench-office", name="Office equipment", name_th="อุปกรณ์สำนักงาน"
        )
    for code, name, price in BENCH_PRODUCTS:
        Product.objects.get_or_create(
            code=code, defaults={"name": name, "product_line": line, "list_price": Decimal(price)}
        )
