"""The demo organisation: a Thai office-equipment and IT-solutions company, ready to sell.

``accord demo-data`` calls :func:`demo_load`. It is deterministic (``random.Random(42)``;
dates are relative to the day it runs) and idempotent: the business-unit codes mark a
loaded demo, and a second run raises :class:`DemoAlreadyLoaded` and changes nothing.

What it loads (see :data:`DEMO_COUNTS`):

* the organisation — 3 business units with their product lines, 5 regions, 13 districts,
  3 teams and 20 users covering every role (password :data:`DEMO_PASSWORD`);
* selling set-up — one pipeline per unit with 7 stages, 27 products with THB list prices,
  and the data-entry templates (required fields per record type and stage);
* customers and selling — 300 accounts (some of them branches), 600 contacts, 100 leads,
  400 opportunities across every stage (many with line items) and 2,000 activities over
  the last six months and the next two weeks.

Organisation rows are written with the ORM and audited here; customers and selling records
go through the same services as the UI and the API, so they get customer codes, pass the
data-entry templates and are audited like any other write.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.utils import timezone

from accord.activities.models import Activity, ActivityKind
from accord.activities.services import activity_create
from accord.audit.models import AuditAction, AuditEvent
from accord.audit.services import audit_record_change, snapshot
from accord.core import context
from accord.core.context import Source, acting_as
from accord.core.thai import HEAD_OFFICE_BRANCH, tax_id_with_check_digit
from accord.customers.models import Account, Contact, Industry
from accord.customers.services import account_create, contact_create
from accord.dataquality.models import RecordType, RequiredFieldRule
from accord.org.models import BusinessUnit, District, ProductLine, Region, Role, Team, User
from accord.sales.models import (
    ForecastCategory,
    Lead,
    LeadSource,
    LeadStatus,
    Opportunity,
    OpportunityLineItem,
    Pipeline,
    Product,
    Stage,
    StageOutcome,
)
from accord.sales.services import lead_create, opportunity_create
from accord.territories.models import AssignmentRule
from accord.territories.ownership import assignment_apply, assignment_rule_create

DEMO_PASSWORD = "accord-demo"  # noqa: S105 - the documented, shared demo password
SEED = 42
BANGKOK = ZoneInfo("Asia/Bangkok")
EMAIL_DOMAIN = "accord.example"

ACCOUNT_COUNT = 300
ACCOUNT_BRANCHES = 20  # of the 300: branches (same tax ID, branch 00001…) of other accounts
CONTACT_COUNT = 600
LEAD_COUNT = 100
OPPORTUNITY_COUNT = 400
ACTIVITY_COUNT = 2000
ACTIVITY_DAYS_BACK = 182
ACTIVITY_DAYS_AHEAD = 14


class DemoAlreadyLoaded(Exception):
    """The demo business units exist: the demo was loaded before."""


class DemoConflict(Exception):
    """The database holds records the demo would clash with (e.g. a user called admin)."""


# --- the organisation ---------------------------------------------------------------------


class LineSpec(NamedTuple):
    code: str
    name: str
    name_th: str


class UnitSpec(NamedTuple):
    code: str
    name: str
    name_th: str
    lines: tuple[str, ...]
    team: str
    pipeline: str


class RegionSpec(NamedTuple):
    code: str
    name: str
    name_th: str


class DistrictSpec(NamedTuple):
    code: str
    name: str
    name_th: str
    region: str
    weight: int  # share of the demo accounts located here
    area_code: str  # telephone area code
    province_code: str  # the two digits a tax ID registered here carries


class UserSpec(NamedTuple):
    username: str
    first_name: str
    last_name: str
    first_name_th: str
    last_name_th: str
    role: Role
    unit: str | None = None
    manager: str | None = None
    region: str | None = None
    districts: tuple[str, ...] = ()


PRODUCT_LINES: tuple[LineSpec, ...] = (
    LineSpec("mfp", "Multifunction printers", "เครื่องพิมพ์มัลติฟังก์ชัน"),
    LineSpec("production", "Production printing", "การพิมพ์ระบบโปรดักชัน"),
    LineSpec("mps", "Managed print services", "บริการบริหารงานพิมพ์"),
    LineSpec("dms", "Document management software", "ซอฟต์แวร์บริหารจัดการเอกสาร"),
    LineSpec("infra", "IT infrastructure", "โครงสร้างพื้นฐานไอที"),
    LineSpec("cloud", "Cloud & security", "คลาวด์และความปลอดภัย"),
    LineSpec("supplies", "Office supplies", "วัสดุสำนักงาน"),
)

UNITS: tuple[UnitSpec, ...] = (
    UnitSpec(
        "bsd",
        "Business Solution Development",
        "ฝ่ายพัฒนาโซลูชันธุรกิจ",
        ("dms", "infra", "cloud", "mfp"),
        "BSD Solutions Team",
        "Solution sales",
    ),
    UnitSpec(
        "bso",
        "Business Solution Outsourcing",
        "ฝ่ายเอาต์ซอร์สโซลูชันธุรกิจ",
        ("mps", "production", "mfp", "supplies"),
        "BSO Managed Services Team",
        "Outsourcing contracts",
    ),
    UnitSpec(
        "sales-bkk",
        "Sales Bangkok",
        "ฝ่ายขายกรุงเทพฯ",
        ("mfp", "supplies", "mps", "cloud"),
        "Bangkok Field Sales Team",
        "Field sales",
    ),
)
DEMO_UNIT_CODES = tuple(u.code for u in UNITS)

REGIONS: tuple[RegionSpec, ...] = (
    RegionSpec("bkk-metro", "Bangkok & Metropolitan", "กรุงเทพฯ และปริมณฑล"),
    RegionSpec("central-east", "Central & East", "ภาคกลางและภาคตะวันออก"),
    RegionSpec("north", "North", "ภาคเหนือ"),
    RegionSpec("northeast", "Northeast", "ภาคตะวันออกเฉียงเหนือ"),
    RegionSpec("south", "South", "ภาคใต้"),
)

DISTRICTS: tuple[DistrictSpec, ...] = (
    DistrictSpec("bkk-north", "Bangkok North", "กรุงเทพฯ เหนือ", "bkk-metro", 36, "2", "10"),
    DistrictSpec("bkk-south", "Bangkok South", "กรุงเทพฯ ใต้", "bkk-metro", 36, "2", "10"),
    DistrictSpec("bkk-east", "Bangkok East", "กรุงเทพฯ ตะวันออก", "bkk-metro", 34, "2", "10"),
    DistrictSpec(
        "nonthaburi",
        "Nonthaburi & Pathum Thani",
        "นนทบุรีและปทุมธานี",
        "bkk-metro",
        24,
        "2",
        "12",
    ),
    DistrictSpec("samut-prakan", "Samut Prakan", "สมุทรปราการ", "bkk-metro", 24, "2", "11"),
    DistrictSpec("ayutthaya", "Ayutthaya", "พระนครศรีอยุธยา", "central-east", 14, "35", "14"),
    DistrictSpec("chonburi", "Chonburi", "ชลบุรี", "central-east", 20, "38", "20"),
    DistrictSpec("rayong", "Rayong", "ระยอง", "central-east", 14, "38", "21"),
    DistrictSpec("chiang-mai", "Chiang Mai", "เชียงใหม่", "north", 18, "53", "50"),
    DistrictSpec("khon-kaen", "Khon Kaen", "ขอนแก่น", "northeast", 13, "43", "40"),
    DistrictSpec(
        "nakhon-ratchasima", "Nakhon Ratchasima", "นครราชสีมา", "northeast", 12, "44", "30"
    ),
    DistrictSpec("phuket", "Phuket", "ภูเก็ต", "south", 13, "76", "83"),
    DistrictSpec("songkhla", "Songkhla (Hat Yai)", "สงขลา (หาดใหญ่)", "south", 12, "74", "90"),
)

USERS: tuple[UserSpec, ...] = (
    UserSpec("admin", "Teerapong", "Wongsuwan", "ธีรพงษ์", "วงศ์สุวรรณ", Role.ADMINISTRATOR),
    UserSpec("steward", "Duangjai", "Srisuk", "ดวงใจ", "ศรีสุข", Role.CRM_OFFICER),
    UserSpec("rattana", "Rattana", "Boonmee", "รัตนา", "บุญมี", Role.CRM_OFFICER),
    UserSpec("kanya", "Kanya", "Siriwat", "กัญญา", "ศิริวัฒน์", Role.EXECUTIVE),
    UserSpec("ledger", "Legacy", "Ledger", "ระบบบัญชี", "(เดิม)", Role.INTEGRATION),
    UserSpec(
        "suchart",
        "Suchart",
        "Thongdee",
        "สุชาติ",
        "ทองดี",
        Role.REGIONAL_MANAGER,
        manager="kanya",
        region="bkk-metro",
    ),
    UserSpec(
        "malee",
        "Malee",
        "Rattanakul",
        "มาลี",
        "รัตนกุล",
        Role.REGIONAL_MANAGER,
        manager="kanya",
        region="central-east",
    ),
    UserSpec(
        "prasert", "Prasert", "Kaewmanee", "ประเสริฐ", "แก้วมณี", Role.SALES_MANAGER, "bsd", "suchart"
    ),
    UserSpec("wanpen", "Wanpen", "Sukjai", "วันเพ็ญ", "สุขใจ", Role.SALES_MANAGER, "bso", "malee"),
    UserSpec(
        "chaiwat",
        "Chaiwat",
        "Phromma",
        "ชัยวัฒน์",
        "พรหมมา",
        Role.SALES_MANAGER,
        "sales-bkk",
        "suchart",
    ),
    UserSpec(
        "somchai",
        "Somchai",
        "Jaidee",
        "สมชาย",
        "ใจดี",
        Role.SALES_REP,
        "bsd",
        "prasert",
        districts=("bkk-north", "nonthaburi"),
    ),
    UserSpec(
        "nattaya",
        "Nattaya",
        "Srisawat",
        "ณัฐยา",
        "ศรีสวัสดิ์",
        Role.SALES_REP,
        "bsd",
        "prasert",
        districts=("bkk-south", "samut-prakan"),
    ),
    UserSpec(
        "wichai",
        "Wichai",
        "Petchsri",
        "วิชัย",
        "เพชรศรี",
        Role.SALES_REP,
        "bsd",
        "prasert",
        districts=("chonburi", "rayong"),
    ),
    UserSpec(
        "kittipong",
        "Kittipong",
        "Inthanon",
        "กิตติพงษ์",
        "อินทนนท์",
        Role.SALES_REP,
        "bso",
        "wanpen",
        districts=("chiang-mai",),
    ),
    UserSpec(
        "siriporn",
        "Siriporn",
        "Khamsaen",
        "ศิริพร",
        "คำแสน",
        Role.SALES_REP,
        "bso",
        "wanpen",
        districts=("khon-kaen", "nakhon-ratchasima"),
    ),
    UserSpec(
        "anan",
        "Anan",
        "Saelim",
        "อนันต์",
        "แซ่ลิ้ม",
        Role.SALES_REP,
        "bso",
        "wanpen",
        districts=("phuket", "songkhla"),
    ),
    UserSpec(
        "kanokwan",
        "Kanokwan",
        "Meesuk",
        "กนกวรรณ",
        "มีสุข",
        Role.SALES_REP,
        "bso",
        "wanpen",
        districts=("ayutthaya", "bkk-east"),
    ),
    UserSpec(
        "pimchanok",
        "Pimchanok",
        "Charoenrat",
        "พิมพ์ชนก",
        "เจริญรัตน์",
        Role.SALES_REP,
        "sales-bkk",
        "chaiwat",
        districts=("bkk-north", "nonthaburi"),
    ),
    UserSpec(
        "thanawat",
        "Thanawat",
        "Saengthong",
        "ธนวัฒน์",
        "แสงทอง",
        Role.SALES_REP,
        "sales-bkk",
        "chaiwat",
        districts=("bkk-south", "samut-prakan"),
    ),
    UserSpec(
        "jiraporn",
        "Jiraporn",
        "Wongsa",
        "จิราพร",
        "วงศ์ษา",
        Role.SALES_REP,
        "sales-bkk",
        "chaiwat",
        districts=("bkk-east",),
    ),
)
DEMO_USERNAMES = tuple(u.username for u in USERS)
THAI_UI_USERS = frozenset({"rattana", "wanpen", "nattaya", "siriporn", "kanokwan", "thanawat"})

# --- selling set-up -----------------------------------------------------------------------


class StageSpec(NamedTuple):
    name: str
    name_th: str
    probability: int
    forecast_category: ForecastCategory
    outcome: StageOutcome
    color: str
    weight: int  # share of the demo opportunities in this stage


STAGES: tuple[StageSpec, ...] = (
    StageSpec(
        "Prospecting", "แสวงหาลูกค้า", 10, ForecastCategory.PIPELINE, StageOutcome.OPEN, "#94a3b8", 14
    ),
    StageSpec(
        "Qualification",
        "คัดกรองโอกาสการขาย",
        20,
        ForecastCategory.PIPELINE,
        StageOutcome.OPEN,
        "#38bdf8",
        14,
    ),
    StageSpec(
        "Needs analysis",
        "วิเคราะห์ความต้องการ",
        40,
        ForecastCategory.BEST_CASE,
        StageOutcome.OPEN,
        "#6366f1",
        13,
    ),
    StageSpec(
        "Proposal", "เสนอราคา", 60, ForecastCategory.BEST_CASE, StageOutcome.OPEN, "#a855f7", 12
    ),
    StageSpec(
        "Negotiation", "เจรจาต่อรอง", 80, ForecastCategory.COMMIT, StageOutcome.OPEN, "#f59e0b", 9
    ),
    StageSpec(
        "Closed won",
        "ปิดการขายสำเร็จ",
        100,
        ForecastCategory.CLOSED_WON,
        StageOutcome.WON,
        "#22c55e",
        22,
    ),
    StageSpec(
        "Closed lost",
        "ปิดการขายไม่สำเร็จ",
        0,
        ForecastCategory.OMITTED,
        StageOutcome.LOST,
        "#ef4444",
        16,
    ),
)
PROPOSAL_STAGE = "Proposal"
LOST_STAGE = "Closed lost"


class ProductSpec(NamedTuple):
    code: str
    name: str
    line: str
    list_price: str
    quantity: tuple[int, int]  # how many a typical deal has


PRODUCTS: tuple[ProductSpec, ...] = (
    ProductSpec("MFP-A4-C30", "Colour MFP A4, 30 ppm", "mfp", "45900", (1, 10)),
    ProductSpec("MFP-A3-C45", "Colour MFP A3, 45 ppm", "mfp", "189000", (1, 12)),
    ProductSpec("MFP-A3-M60", "Mono MFP A3, 60 ppm", "mfp", "265000", (1, 6)),
    ProductSpec("MFP-A3-C70", "Colour MFP A3, 70 ppm", "mfp", "420000", (1, 4)),
    ProductSpec("MFP-FIN-BK", "Booklet finisher for A3 MFPs", "mfp", "68500", (1, 4)),
    ProductSpec("PRD-C100", "Colour production press, 100 ppm", "production", "2450000", (1, 1)),
    ProductSpec("PRD-M135", "Mono production printer, 135 ppm", "production", "1890000", (1, 2)),
    ProductSpec("PRD-WF36", "Wide-format printer, 36-inch", "production", "385000", (1, 2)),
    ProductSpec("MPS-FLEET-S", "Managed print, up to 25 devices (year)", "mps", "240000", (1, 3)),
    ProductSpec("MPS-FLEET-L", "Managed print, up to 100 devices (year)", "mps", "850000", (1, 2)),
    ProductSpec("MPS-CLICK", "Click-charge pack, 100,000 pages", "mps", "38000", (2, 24)),
    ProductSpec("MPS-ONSITE", "On-site print engineer (month)", "mps", "55000", (3, 12)),
    ProductSpec("DMS-CAP-10", "Document capture, 10 users", "dms", "120000", (1, 5)),
    ProductSpec("DMS-WF-50", "Workflow and e-approval, 50 users", "dms", "450000", (1, 3)),
    ProductSpec("DMS-ARCH", "Digital archive module", "dms", "280000", (1, 1)),
    ProductSpec("DMS-IMPL", "Implementation services (day)", "dms", "18000", (5, 40)),
    ProductSpec("INF-SRV-2P", "Rack server, 2 CPU", "infra", "320000", (1, 4)),
    ProductSpec("INF-NAS-24", "NAS storage, 24 TB", "infra", "145000", (1, 3)),
    ProductSpec("INF-SW-48", "Managed switch, 48-port", "infra", "62000", (1, 10)),
    ProductSpec("INF-AP-W6", "Wi-Fi 6 access point", "infra", "14500", (4, 40)),
    ProductSpec(
        "CLD-M365-BP", "Microsoft 365 Business Premium (user/year)", "cloud", "8900", (10, 200)
    ),
    ProductSpec("CLD-BKP-1T", "Cloud backup, 1 TB (year)", "cloud", "36000", (1, 10)),
    ProductSpec("CLD-NGFW", "Next-generation firewall appliance", "cloud", "178000", (1, 3)),
    ProductSpec("CLD-EDR", "Endpoint protection (device/year)", "cloud", "1450", (20, 400)),
    ProductSpec("SUP-A4-80", "A4 copy paper 80 gsm (box of 5 reams)", "supplies", "650", (20, 500)),
    ProductSpec("SUP-TNR-K", "Black toner cartridge", "supplies", "3200", (10, 120)),
    ProductSpec("SUP-TNR-CMY", "Colour toner set (C/M/Y)", "supplies", "11800", (5, 60)),
)

# What each unit sells, as deal names and the products such a deal usually holds.
SOLUTIONS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "bsd": (
        ("Document workflow digitisation", ("DMS-CAP-10", "DMS-WF-50", "DMS-IMPL")),
        ("e-Approval roll-out", ("DMS-WF-50", "DMS-IMPL")),
        ("Digital archive project", ("DMS-ARCH", "DMS-CAP-10", "DMS-IMPL")),
        ("Server room refresh", ("INF-SRV-2P", "INF-NAS-24", "INF-SW-48")),
        ("Office network upgrade", ("INF-SW-48", "INF-AP-W6")),
        ("Microsoft 365 migration", ("CLD-M365-BP", "CLD-BKP-1T")),
        ("Firewall and endpoint security", ("CLD-NGFW", "CLD-EDR")),
        ("Head-office MFP refresh", ("MFP-A3-C45", "MFP-A3-M60", "MFP-FIN-BK")),
    ),
    "bso": (
        ("Managed print contract renewal", ("MPS-FLEET-S", "MPS-CLICK")),
        ("Managed print fleet expansion", ("MPS-FLEET-L", "MPS-ONSITE", "MPS-CLICK")),
        ("Print room outsourcing", ("MPS-ONSITE", "PRD-M135", "MPS-CLICK")),
        ("Production press upgrade", ("PRD-C100", "PRD-M135")),
        ("Wide-format printing for engineering", ("PRD-WF36",)),
        ("Toner and paper supply contract", ("SUP-TNR-K", "SUP-TNR-CMY", "SUP-A4-80")),
        ("Branch MFP replacement", ("MFP-A3-C45", "MFP-A4-C30")),
    ),
    "sales-bkk": (
        ("MFP fleet renewal", ("MFP-A3-C45", "MFP-A3-M60", "MFP-A4-C30")),
        ("Colour MFP upgrade", ("MFP-A3-C70", "MFP-FIN-BK")),
        ("Annual supplies contract", ("SUP-A4-80", "SUP-TNR-K", "SUP-TNR-CMY")),
        ("Managed print pilot", ("MPS-FLEET-S", "MPS-CLICK")),
        ("Microsoft 365 licences", ("CLD-M365-BP",)),
        ("Endpoint protection renewal", ("CLD-EDR",)),
        ("New branch office set-up", ("MFP-A4-C30", "SUP-A4-80", "CLD-M365-BP")),
    ),
}

# --- people and places --------------------------------------------------------------------

MALE_NAMES: tuple[tuple[str, str], ...] = (
    ("Somsak", "สมศักดิ์"),
    ("Prasit", "ประสิทธิ์"),
    ("Sombat", "สมบัติ"),
    ("Surasak", "สุรศักดิ์"),
    ("Anucha", "อนุชา"),
    ("Thawatchai", "ธวัชชัย"),
    ("Chatchai", "ฉัตรชัย"),
    ("Narong", "ณรงค์"),
    ("Sakda", "ศักดา"),
    ("Weerapong", "วีระพงษ์"),
    ("Kriangkrai", "เกรียงไกร"),
    ("Apichart", "อภิชาติ"),
    ("Nattapong", "ณัฐพงศ์"),
    ("Phuwadol", "ภูวดล"),
    ("Teerawat", "ธีรวัฒน์"),
    ("Sutthipong", "สุทธิพงษ์"),
    ("Ekkachai", "เอกชัย"),
    ("Manop", "มานพ"),
    ("Yutthana", "ยุทธนา"),
    ("Pichit", "พิชิต"),
    ("Boonlert", "บุญเลิศ"),
    ("Chanin", "ชนินทร์"),
)
FEMALE_NAMES: tuple[tuple[str, str], ...] = (
    ("Siriwan", "ศิริวรรณ"),
    ("Supaporn", "สุภาพร"),
    ("Wanida", "วนิดา"),
    ("Kannika", "กรรณิกา"),
    ("Ratchanee", "รัชนี"),
    ("Sunisa", "สุนิสา"),
    ("Pornthip", "พรทิพย์"),
    ("Jintana", "จินตนา"),
    ("Araya", "อารยา"),
    ("Nongluck", "นงลักษณ์"),
    ("Pattama", "ปัทมา"),
    ("Sasithorn", "ศศิธร"),
    ("Chutima", "ชุติมา"),
    ("Kanjana", "กาญจนา"),
    ("Orawan", "อรวรรณ"),
    ("Thidarat", "ธิดารัตน์"),
    ("Warunee", "วารุณี"),
    ("Benjawan", "เบญจวรรณ"),
    ("Duangporn", "ดวงพร"),
    ("Sudarat", "สุดารัตน์"),
    ("Lalita", "ลลิตา"),
    ("Yupin", "ยุพิน"),
)
LAST_NAMES: tuple[tuple[str, str], ...] = (
    ("Saetang", "แซ่ตั้ง"),
    ("Srisuk", "ศรีสุข"),
    ("Boonmee", "บุญมี"),
    ("Wongsuwan", "วงศ์สุวรรณ"),
    ("Thongdee", "ทองดี"),
    ("Rattanakul", "รัตนกุล"),
    ("Kaewmanee", "แก้วมณี"),
    ("Sukjai", "สุขใจ"),
    ("Petchsri", "เพชรศรี"),
    ("Charoenrat", "เจริญรัตน์"),
    ("Saengthong", "แสงทอง"),
    ("Chanthawong", "จันทวงศ์"),
    ("Nakprasert", "นาคประเสริฐ"),
    ("Siriwat", "ศิริวัฒน์"),
    ("Tangsakul", "ตั้งสกุล"),
    ("Limpanich", "ลิ้มพานิช"),
    ("Rungruang", "รุ่งเรือง"),
    ("Wattanachai", "วัฒนชัย"),
    ("Thanasombat", "ธนสมบัติ"),
    ("Pattanapong", "พัฒนพงษ์"),
    ("Intharasuk", "อินทรสุข"),
    ("Buasri", "บัวศรี"),
    ("Kaewprasert", "แก้วประเสริฐ"),
    ("Suwannarat", "สุวรรณรัตน์"),
    ("Chaiyasit", "ชัยสิทธิ์"),
    ("Boonchu", "บุญชู"),
)
NICKNAMES = (
    "Nok", "Lek", "Ple", "Bee", "Tom", "Pu", "Noi", "Aom", "Kung", "Joy", "Mint", "Beam",
    "Golf", "Ton", "Pond", "Fon", "Nat", "Oat", "Ice", "Ann",
)  # fmt: skip
JOB_TITLES: tuple[tuple[str, str], ...] = (
    ("Managing Director", "Management"),
    ("Purchasing Manager", "Purchasing"),
    ("Procurement Officer", "Purchasing"),
    ("IT Manager", "IT"),
    ("IT Support Supervisor", "IT"),
    ("Chief Financial Officer", "Finance"),
    ("Accounting Manager", "Accounting"),
    ("Office Manager", "Administration"),
    ("Admin Officer", "Administration"),
    ("HR Manager", "Human Resources"),
    ("Operations Director", "Operations"),
    ("Facility Manager", "General Affairs"),
    ("Marketing Manager", "Marketing"),
)


class Place(NamedTuple):
    road: str
    subdistrict: str
    city: str
    province: str
    postal_code: str
    latitude: float
    longitude: float


PLACES: dict[str, tuple[Place, ...]] = {
    "bkk-north": (
        Place("Phahonyothin Road", "Chatuchak", "Chatuchak", "Bangkok", "10900", 13.8200, 100.5600),
        Place(
            "Vibhavadi Rangsit Road",
            "Talat Bang Khen",
            "Lak Si",
            "Bangkok",
            "10210",
            13.879,
            100.578,
        ),
        Place(
            "Ratchadaphisek Road", "Huai Khwang", "Huai Khwang", "Bangkok", "10310", 13.776, 100.574
        ),
        Place("Ngam Wong Wan Road", "Lat Yao", "Chatuchak", "Bangkok", "10900", 13.8480, 100.5530),
    ),
    "bkk-south": (
        Place("Silom Road", "Suriyawong", "Bang Rak", "Bangkok", "10500", 13.7270, 100.5280),
        Place("Sathorn Road", "Yan Nawa", "Sathon", "Bangkok", "10120", 13.7200, 100.5300),
        Place("Rama IV Road", "Khlong Toei", "Khlong Toei", "Bangkok", "10110", 13.7230, 100.5590),
        Place("Rama III Road", "Bang Phong Phang", "Yan Nawa", "Bangkok", "10120", 13.690, 100.535),
    ),
    "bkk-east": (
        Place(
            "Sukhumvit Road", "Khlong Toei Nuea", "Watthana", "Bangkok", "10110", 13.737, 100.560
        ),
        Place("Srinakarin Road", "Nong Bon", "Prawet", "Bangkok", "10250", 13.6900, 100.6460),
        Place("Ramkhamhaeng Road", "Hua Mak", "Bang Kapi", "Bangkok", "10240", 13.7560, 100.6200),
        Place("Bang Na-Trat Road", "Bang Na", "Bang Na", "Bangkok", "10260", 13.6680, 100.6340),
    ),
    "nonthaburi": (
        Place(
            "Chaeng Watthana Road", "Pak Kret", "Pak Kret", "Nonthaburi", "11120", 13.903, 100.527
        ),
        Place(
            "Rattanathibet Road",
            "Bang Kraso",
            "Mueang Nonthaburi",
            "Nonthaburi",
            "11000",
            13.8600,
            100.5150,
        ),
        Place(
            "Phahonyothin Road",
            "Khlong Nueng",
            "Khlong Luang",
            "Pathum Thani",
            "12120",
            14.0700,
            100.6100,
        ),
    ),
    "samut-prakan": (
        Place(
            "Theparak Road",
            "Thepharak",
            "Mueang Samut Prakan",
            "Samut Prakan",
            "10270",
            13.6150,
            100.6400,
        ),
        Place(
            "Bang Na-Trat Road",
            "Bang Sao Thong",
            "Bang Sao Thong",
            "Samut Prakan",
            "10570",
            13.5900,
            100.7900,
        ),
        Place(
            "Sukhumvit Road",
            "Bang Pu Mai",
            "Mueang Samut Prakan",
            "Samut Prakan",
            "10280",
            13.5300,
            100.6700,
        ),
    ),
    "ayutthaya": (
        Place(
            "Rojana Road", "Khan Ham", "Uthai", "Phra Nakhon Si Ayutthaya", "13210", 14.36, 100.65
        ),
        Place(
            "Asia Road",
            "Khlong Chik",
            "Bang Pa-in",
            "Phra Nakhon Si Ayutthaya",
            "13160",
            14.2300,
            100.6000,
        ),
        Place(
            "U Thong Road",
            "Pratu Chai",
            "Phra Nakhon Si Ayutthaya",
            "Phra Nakhon Si Ayutthaya",
            "13000",
            14.3530,
            100.5680,
        ),
    ),
    "chonburi": (
        Place("Sukhumvit Road", "Nong Prue", "Bang Lamung", "Chon Buri", "20150", 12.927, 100.877),
        Place("Laem Chabang Road", "Thung Sukhla", "Si Racha", "Chon Buri", "20230", 13.08, 100.90),
        Place(
            "Phraya Satja Road",
            "Ban Suan",
            "Mueang Chon Buri",
            "Chon Buri",
            "20000",
            13.3600,
            100.9800,
        ),
    ),
    "rayong": (
        Place("Sukhumvit Road", "Map Ta Phut", "Mueang Rayong", "Rayong", "21150", 12.71, 101.15),
        Place("Highway 36", "Pluak Daeng", "Pluak Daeng", "Rayong", "21140", 12.9800, 101.2200),
    ),
    "chiang-mai": (
        Place(
            "Huay Kaew Road", "Suthep", "Mueang Chiang Mai", "Chiang Mai", "50200", 18.800, 98.967
        ),
        Place(
            "Chang Khlan Road",
            "Chang Khlan",
            "Mueang Chiang Mai",
            "Chiang Mai",
            "50100",
            18.7780,
            99.0000,
        ),
        Place(
            "Chiang Mai-Lampang Road",
            "Nong Pa Khrang",
            "Mueang Chiang Mai",
            "Chiang Mai",
            "50000",
            18.8000,
            99.0200,
        ),
    ),
    "khon-kaen": (
        Place(
            "Mittraphap Road", "Nai Mueang", "Mueang Khon Kaen", "Khon Kaen", "40000", 16.44, 102.83
        ),
        Place(
            "Sri Chan Road", "Nai Mueang", "Mueang Khon Kaen", "Khon Kaen", "40000", 16.43, 102.84
        ),
    ),
    "nakhon-ratchasima": (
        Place(
            "Mittraphap Road",
            "Nai Mueang",
            "Mueang Nakhon Ratchasima",
            "Nakhon Ratchasima",
            "30000",
            14.9800,
            102.0800,
        ),
        Place(
            "Suranari Road",
            "Suranari",
            "Mueang Nakhon Ratchasima",
            "Nakhon Ratchasima",
            "30000",
            14.8800,
            102.0200,
        ),
    ),
    "phuket": (
        Place("Chalermprakiat Road", "Wichit", "Mueang Phuket", "Phuket", "83000", 7.880, 98.390),
        Place("Thepkasattri Road", "Ratsada", "Mueang Phuket", "Phuket", "83000", 7.9000, 98.3800),
        Place("Rat-U-Thit 200 Pi Road", "Patong", "Kathu", "Phuket", "83150", 7.8950, 98.2980),
    ),
    "songkhla": (
        Place("Kanchanavanich Road", "Hat Yai", "Hat Yai", "Songkhla", "90110", 7.0100, 100.4700),
        Place("Phetkasem Road", "Hat Yai", "Hat Yai", "Songkhla", "90110", 7.0000, 100.4750),
        Place("Ramwithi Road", "Bo Yang", "Mueang Songkhla", "Songkhla", "90000", 7.1900, 100.5950),
    ),
}

# --- company names ------------------------------------------------------------------------

ROOTS: tuple[tuple[str, str], ...] = (
    ("Siam", "สยาม"),
    ("Thai", "ไทย"),
    ("Chao Phraya", "เจ้าพระยา"),
    ("Rattanakosin", "รัตนโกสินทร์"),
    ("Lanna", "ล้านนา"),
    ("Isan", "อีสาน"),
    ("Andaman", "อันดามัน"),
    ("Krungthep", "กรุงเทพ"),
    ("Sukhumvit", "สุขุมวิท"),
    ("Chaiyaphruek", "ชัยพฤกษ์"),
    ("Benjamit", "เบญจมิตร"),
    ("Srisuk", "ศรีสุข"),
    ("Thanakorn", "ธนากร"),
    ("Charoenchai", "เจริญชัย"),
    ("Rungrueang", "รุ่งเรือง"),
    ("Mongkol", "มงคล"),
    ("Sombat", "สมบัติ"),
    ("Suwanna", "สุวรรณ"),
    ("Petcharat", "เพชรรัตน์"),
    ("Kasemsuk", "เกษมสุข"),
    ("Wattana", "วัฒนา"),
    ("Udom", "อุดม"),
    ("Pattana", "พัฒนา"),
    ("Thanasin", "ธนสิน"),
    ("Chokchai", "โชคชัย"),
    ("Ruamjai", "รวมใจ"),
    ("Samakkhi", "สามัคคี"),
    ("Thongthai", "ทองไทย"),
    ("Ratchada", "รัชดา"),
    ("Lumpini", "ลุมพินี"),
    ("Asoke", "อโศก"),
    ("Bangna", "บางนา"),
    ("Golden", "โกลเด้น"),
    ("Royal", "รอยัล"),
    ("Grand", "แกรนด์"),
    ("Prime", "ไพร์ม"),
    ("Pacific", "แปซิฟิค"),
    ("Oriental", "โอเรียนทอล"),
    ("Metro", "เมโทร"),
    ("Asia", "เอเชีย"),
    ("Global", "โกลบอล"),
    ("Smart", "สมาร์ท"),
    ("Thai Nippon", "ไทยนิปปอน"),
    ("Unity", "ยูนิตี้"),
)

# Per industry: (English word, Thai word, Thai word comes first in the Thai name).
INDUSTRY_WORDS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    Industry.MANUFACTURING: (
        ("Industries", "อุตสาหกรรม", False),
        ("Steel", "สตีล", False),
        ("Plastic", "พลาสติก", False),
        ("Packaging", "แพ็คเกจจิ้ง", False),
        ("Auto Parts", "ออโต้พาร์ท", False),
        ("Electronics", "อิเล็กทรอนิกส์", False),
        ("Precision", "พรีซิชั่น", False),
        ("Rubber", "รับเบอร์", False),
    ),
    Industry.RETAIL: (
        ("Panich", "พาณิชย์", False),
        ("Trading", "เทรดดิ้ง", False),
        ("Mart", "มาร์ท", False),
        ("Supply", "ซัพพลาย", False),
        ("Distribution", "ดิสทริบิวชั่น", False),
    ),
    Industry.FINANCE: (
        ("Capital", "แคปปิตอล", False),
        ("Leasing", "ลีสซิ่ง", False),
        ("Insurance", "ประกันภัย", False),
        ("Securities", "หลักทรัพย์", False),
    ),
    Industry.HEALTHCARE: (
        ("Hospital", "โรงพยาบาล", True),
        ("Medical", "เมดิคอล", False),
        ("Clinic", "คลินิก", False),
        ("Pharma", "ฟาร์มา", False),
    ),
    Industry.HOSPITALITY: (
        ("Hotel", "โฮเทล", False),
        ("Resort", "รีสอร์ท", False),
        ("Hospitality", "ฮอสพิทาลิตี้", False),
    ),
    Industry.LOGISTICS: (
        ("Logistics", "โลจิสติกส์", False),
        ("Transport", "ขนส่ง", False),
        ("Cargo", "คาร์โก้", False),
        ("Express", "เอ็กซ์เพรส", False),
    ),
    Industry.CONSTRUCTION: (
        ("Construction", "คอนสตรัคชั่น", False),
        ("Property", "พร็อพเพอร์ตี้", False),
        ("Engineering", "เอ็นจิเนียริ่ง", False),
        ("Development", "ดีเวลลอปเม้นท์", False),
    ),
    Industry.ENERGY: (
        ("Energy", "เอ็นเนอร์ยี", False),
        ("Power", "พาวเวอร์", False),
        ("Solar", "โซลาร์", False),
    ),
    Industry.TECHNOLOGY: (
        ("Technology", "เทคโนโลยี", False),
        ("Solutions", "โซลูชั่นส์", False),
        ("Telecom", "เทเลคอม", False),
        ("Digital", "ดิจิทัล", False),
    ),
    Industry.PROFESSIONAL: (
        ("Consulting", "คอนซัลติ้ง", False),
        ("Advisory", "แอดไวเซอรี่", False),
        ("Audit", "ออดิท", False),
        ("Law Office", "สำนักงานกฎหมาย", True),
    ),
    Industry.AGRICULTURE: (
        ("Agro", "อะโกร", False),
        ("Foods", "ฟู้ดส์", False),
        ("Feed Mill", "ฟีดมิลล์", False),
        ("Seafood", "ซีฟู้ด", False),
        ("Sugar", "น้ำตาล", False),
    ),
    Industry.OTHER: (
        ("Group", "กรุ๊ป", False),
        ("Holdings", "โฮลดิ้งส์", False),
    ),
}
INDUSTRY_WEIGHTS: dict[str, int] = {
    Industry.MANUFACTURING: 20,
    Industry.RETAIL: 14,
    Industry.FINANCE: 6,
    Industry.GOVERNMENT: 4,
    Industry.EDUCATION: 6,
    Industry.HEALTHCARE: 7,
    Industry.HOSPITALITY: 7,
    Industry.LOGISTICS: 8,
    Industry.CONSTRUCTION: 8,
    Industry.ENERGY: 4,
    Industry.TECHNOLOGY: 6,
    Industry.PROFESSIONAL: 6,
    Industry.AGRICULTURE: 6,
    Industry.OTHER: 2,
}

# Public bodies, each in its district: (district, English name, Thai name).
GOVERNMENT_BODIES: tuple[tuple[str, str, str], ...] = (
    ("bkk-north", "Chatuchak District Office", "สำนักงานเขตจตุจักร"),
    ("bkk-south", "Bang Rak District Office", "สำนักงานเขตบางรัก"),
    ("bkk-east", "Bang Kapi District Office", "สำนักงานเขตบางกะปิ"),
    ("nonthaburi", "Nonthaburi Provincial Administrative Organization", "องค์การบริหารส่วนจังหวัดนนทบุรี"),
    ("nonthaburi", "Pak Kret City Municipality", "เทศบาลนครปากเกร็ด"),
    ("samut-prakan", "Samut Prakan Provincial Hall", "ศาลากลางจังหวัดสมุทรปราการ"),
    ("ayutthaya", "Ayutthaya City Municipality", "เทศบาลนครพระนครศรีอยุธยา"),
    ("chonburi", "Chonburi Provincial Administrative Organization", "องค์การบริหารส่วนจังหวัดชลบุรี"),
    ("chonburi", "Laem Chabang City Municipality", "เทศบาลนครแหลมฉบัง"),
    ("rayong", "Rayong City Municipality", "เทศบาลนครระยอง"),
    ("chiang-mai", "Chiang Mai City Municipality", "เทศบาลนครเชียงใหม่"),
    (
        "chiang-mai",
        "Chiang Mai Provincial Administrative Organization",
        "องค์การบริหารส่วนจังหวัดเชียงใหม่",
    ),
    ("khon-kaen", "Khon Kaen City Municipality", "เทศบาลนครขอนแก่น"),
    ("nakhon-ratchasima", "Nakhon Ratchasima City Municipality", "เทศบาลนครนครราชสีมา"),
    ("phuket", "Phuket Provincial Administrative Organization", "องค์การบริหารส่วนจังหวัดภูเก็ต"),
    ("songkhla", "Hat Yai City Municipality", "เทศบาลนครหาดใหญ่"),
    ("songkhla", "Songkhla Provincial Hall", "ศาลากลางจังหวัดสงขลา"),
)

# --- selling texts ------------------------------------------------------------------------

LOST_REASONS = (
    "Price too high compared with the competitor",
    "Customer chose a competitor (Canon)",
    "Customer chose a competitor (Ricoh)",
    "Budget frozen this fiscal year",
    "No decision; project postponed",
    "Incumbent vendor renewed at a discount",
    "Project cancelled after management change",
)
# Next steps that fit an open stage, by stage position (1 = Prospecting … 5 = Negotiation).
NEXT_STEPS: dict[int, tuple[str, ...]] = {
    1: (
        "Introductory call with the office manager",
        "Meet the purchasing manager",
        "Send company profile and references",
    ),
    2: (
        "Confirm budget with finance",
        "Site survey for device placement",
        "นัดสาธิตเครื่องที่สำนักงานลูกค้า",
    ),
    3: (
        "Arrange a demo at the customer's office",
        "Prepare proof of concept",
        "Collect current print volumes",
    ),
    4: (
        "Send revised quotation",
        "Present proposal to the board",
        "ส่งใบเสนอราคาฉบับแก้ไข",
    ),
    5: (
        "Agree payment terms",
        "Follow up on contract signature",
        "Confirm delivery and installation date",
    ),
}
LEAD_DESCRIPTIONS = (
    "Asked for a quotation through the website.",
    "Met at the Office Solutions Expo at BITEC.",
    "Referred by an existing customer.",
    "Wants to replace an ageing printer fleet.",
    "Interested in moving documents to the cloud.",
    "สนใจบริการเช่าเครื่องถ่ายเอกสารรายเดือน",
    "ขอข้อมูลระบบจัดการเอกสารอิเล็กทรอนิกส์",
)
DISQUALIFIED_REASONS = (
    "No budget this year",
    "Too small for our offer",
    "Already under contract with a competitor until next year",
    "Could not reach the contact",
)

ACTIVITY_SUBJECTS: dict[str, tuple[str, ...]] = {
    ActivityKind.VISIT: (
        "Site visit: review print volumes",
        "Quarterly business review",
        "Demo: {solution}",
        "Introduce the new account manager",
        "Survey for device placement",
        "Follow-up visit after installation",
        "เยี่ยมลูกค้าประจำไตรมาส",
    ),
    ActivityKind.CALL: (
        "Follow-up call on quotation",
        "Check delivery date",
        "Call about contract renewal",
        "Discuss requirements: {solution}",
        "Confirm meeting time",
        "Service complaint follow-up",
        "โทรติดตามใบเสนอราคา",
    ),
    ActivityKind.MEETING: (
        "Solution presentation: {solution}",
        "Negotiation meeting",
        "Kick-off meeting",
        "Technical workshop",
        "Budget planning meeting",
    ),
    ActivityKind.EMAIL: (
        "Sent quotation",
        "Sent product brochure",
        "Sent proposal draft: {solution}",
        "Sent contract for signature",
        "Replied to pricing question",
    ),
    ActivityKind.TASK: (
        "Prepare quotation: {solution}",
        "Send revised proposal",
        "Arrange a demo unit",
        "Collect company certificate for account update",
        "Check credit terms with accounting",
        "Book the installation team",
    ),
    ActivityKind.NOTE: (
        "Customer prefers LINE for quick questions",
        "Budget approved for next quarter",
        "Competitor quoted 8% lower",
        "Decision maker is the CFO",
        "Contract renewal due in March",
        "ลูกค้าขอเครดิตเทอม 60 วัน",
    ),
}
ACTIVITY_OUTCOMES = (
    "Customer interested; send quotation",
    "Asked for a demo",
    "Needs board approval",
    "Not interested this year",
    "Agreed on the next meeting",
    "Requested revised pricing",
    "ลูกค้าสนใจ ขอใบเสนอราคาภายในสัปดาห์นี้",
)
ACTIVITY_BODIES = (
    "",
    "",
    "Discussed current print volumes and pain points with the team.",
    "Customer is comparing three vendors; price and service level matter most.",
    "IT manager joined; wants integration with their ERP.",
    "ลูกค้าสนใจเครื่องพิมพ์สี ต้องการทดลองใช้ 2 สัปดาห์",
    "Bring the signed NDA next time.",
)
KIND_WEIGHTS: dict[str, int] = {
    ActivityKind.VISIT: 25,
    ActivityKind.CALL: 25,
    ActivityKind.MEETING: 12,
    ActivityKind.EMAIL: 15,
    ActivityKind.TASK: 15,
    ActivityKind.NOTE: 8,
}
ACTIVITY_MINUTES: dict[str, tuple[int, ...]] = {
    ActivityKind.VISIT: (45, 60, 90, 120),
    ActivityKind.CALL: (5, 10, 15, 20, 30),
    ActivityKind.MEETING: (30, 60, 90),
}
LEAD_SOURCE_WEIGHTS: dict[str, int] = {
    LeadSource.WEB_FORM: 25,
    LeadSource.PHONE: 15,
    LeadSource.EMAIL: 10,
    LeadSource.REFERRAL: 15,
    LeadSource.EVENT: 15,
    LeadSource.PARTNER: 8,
    LeadSource.COLD_CALL: 10,
    LeadSource.OTHER: 2,
}
LEAD_STATUS_WEIGHTS: dict[str, int] = {
    LeadStatus.NEW: 35,
    LeadStatus.WORKING: 30,
    LeadStatus.QUALIFIED: 20,
    LeadStatus.DISQUALIFIED: 15,
}

# What a load creates, per model (the test checks these).
DEMO_COUNTS: dict[str, int] = {
    "business units": len(UNITS),
    "product lines": len(PRODUCT_LINES),
    "regions": len(REGIONS),
    "districts": len(DISTRICTS),
    "teams": len(UNITS),
    "users": len(USERS),
    "pipelines": len(UNITS),
    "stages": len(UNITS) * len(STAGES),
    "products": len(PRODUCTS),
    "data-entry rules": 2 + 3 * len(UNITS),
    "accounts": ACCOUNT_COUNT,
    "contacts": CONTACT_COUNT,
    "leads": LEAD_COUNT,
    "opportunities": OPPORTUNITY_COUNT,
    "activities": ACTIVITY_COUNT,
}

COUNTED_MODELS: dict[str, type[models.Model]] = {
    "business units": BusinessUnit,
    "product lines": ProductLine,
    "regions": Region,
    "districts": District,
    "teams": Team,
    "users": User,
    "pipelines": Pipeline,
    "stages": Stage,
    "products": Product,
    "data-entry rules": RequiredFieldRule,
    "accounts": Account,
    "contacts": Contact,
    "leads": Lead,
    "opportunities": Opportunity,
    "opportunity line items": OpportunityLineItem,
    "activities": Activity,
    "audit events": AuditEvent,
}


def demo_counts() -> dict[str, int]:
    """How many rows each demo model holds now."""
    return {label: model._default_manager.count() for label, model in COUNTED_MODELS.items()}


def demo_is_loaded() -> bool:
    return BusinessUnit.objects.filter(code__in=DEMO_UNIT_CODES).exists()


def demo_conflicts() -> list[str]:
    """Existing records the demo would collide with (when the demo is not loaded)."""
    checks: list[tuple[str, models.QuerySet[Any]]] = [
        ("users", User.objects.filter(username__in=DEMO_USERNAMES).values_list("username")),
        (
            "business units",
            BusinessUnit.objects.filter(name__in=[u.name for u in UNITS]).values_list("name"),
        ),
        (
            "product lines",
            ProductLine.objects.filter(code__in=[p.code for p in PRODUCT_LINES]).values_list(
                "code"
            ),
        ),
        ("regions", Region.objects.filter(code__in=[r.code for r in REGIONS]).values_list("code")),
        (
            "districts",
            District.objects.filter(code__in=[d.code for d in DISTRICTS]).values_list("code"),
        ),
        (
            "products",
            Product.objects.filter(code__in=[p.code for p in PRODUCTS]).values_list("code"),
        ),
    ]
    found = []
    for label, qs in checks:
        names = sorted(str(row[0]) for row in qs)
        if names:
            found.append(f"{label}: {', '.join(names)}")
    return found


@dataclass(frozen=True)
class DemoLogin:
    username: str
    name: str
    role: str
    unit: str


def demo_logins() -> list[DemoLogin]:
    """The demo users who exist, in the documented order."""
    users = {
        u.username: u
        for u in User.objects.filter(username__in=DEMO_USERNAMES).select_related(
            "business_unit", "region"
        )
    }
    rows = []
    for username in DEMO_USERNAMES:
        user = users.get(username)
        if user is None:
            continue
        if user.business_unit is not None:
            unit = user.business_unit.name
        elif user.region is not None:
            unit = f"region {user.region.name}"
        else:
            unit = ""
        rows.append(DemoLogin(username, user.get_full_name(), str(user.get_role_display()), unit))
    return rows


def demo_load(*, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Load the demo organisation in one transaction; return the row counts afterwards.

    Raises :class:`DemoAlreadyLoaded` if it was loaded before, :class:`DemoConflict` if
    the database holds records with the demo's usernames or codes.
    """
    with acting_as(None, Source.SYSTEM), transaction.atomic():
        if demo_is_loaded():
            raise DemoAlreadyLoaded("demo data already loaded")
        conflicts = demo_conflicts()
        if conflicts:
            raise DemoConflict(
                "The database already holds records the demo would duplicate ("
                + "; ".join(conflicts)
                + "). Load the demo into an empty database."
            )
        _DemoLoader(now=timezone.now(), progress=progress or (lambda _msg: None)).run()
    return demo_counts()


def demo_ownership_load() -> dict[str, dict[str, int]]:
    """One assignment rule per demo rep (their unit and districts) and the demo accounts'
    owners from those rules. Idempotent: rules are found by name, and re-running the rules
    changes nothing the second time. Returns the counts per unit of the re-run."""
    admin = User.objects.filter(username="admin", is_active=True).first()
    if admin is None or not demo_is_loaded():
        return {}
    with acting_as(admin, Source.SYSTEM), transaction.atomic():
        units = {u.code: u for u in BusinessUnit.objects.filter(code__in=DEMO_UNIT_CODES)}
        districts = {d.code: d for d in District.objects.all()}
        people = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
        for spec in USERS:
            rep = people.get(spec.username)
            if spec.role != Role.SALES_REP or spec.unit not in units or rep is None:
                continue
            covered = [districts[code] for code in spec.districts if code in districts]
            name = f"{', '.join(d.name for d in covered)} → {spec.first_name}"
            if AssignmentRule.objects.filter(business_unit=units[spec.unit], name=name).exists():
                continue
            assignment_rule_create(
                actor=admin,
                data={
                    "name": name,
                    "business_unit": units[spec.unit].pk,
                    "owner": rep.pk,
                    "districts": [d.pk for d in covered],
                },
            )
        return assignment_apply(actor=admin)


# --- the loader ---------------------------------------------------------------------------


@dataclass
class _AccountInfo:
    account: Account
    district: str
    place: Place
    domain: str
    is_company: bool


class _NewAccount(NamedTuple):
    data: dict[str, Any]
    district: str
    place: Place
    domain: str
    is_company: bool


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


_GOVERNMENT_DOMAIN_TAGS = (
    ("Provincial Administrative Organization", "pao"),
    ("City Municipality", "city"),
    ("District Office", "district"),
    ("Provincial Hall", "province"),
)


def _government_domain(name_en: str) -> str:
    """ "Chiang Mai Provincial Administrative Organization" -> "chiangmaipao"."""
    for suffix, tag in _GOVERNMENT_DOMAIN_TAGS:
        if name_en.endswith(suffix):
            return _slug(name_en.removesuffix(suffix)) + tag
    return _slug(name_en)


_LEGAL_SUFFIX = re.compile(r" (Co\., Ltd\.|Public Company Limited|Limited Partnership)")


class _DemoLoader:
    def __init__(self, *, now: dt.datetime, progress: Callable[[str], None]) -> None:
        self.rng = random.Random(SEED)
        self.now = now
        self.today = now.astimezone(BANGKOK).date()
        self.progress = progress
        self.lines: dict[str, ProductLine] = {}
        self.units: dict[str, BusinessUnit] = {}
        self.regions: dict[str, Region] = {}
        self.districts: dict[str, District] = {}
        self.district_specs = {d.code: d for d in DISTRICTS}
        self.teams: dict[str, Team] = {}
        self.users: dict[str, User] = {}
        self.reps: list[User] = []
        self.rep_districts: dict[str, tuple[str, ...]] = {}
        self.managers: dict[str, list[str]] = {}  # sales manager → their reps
        self.stages: dict[str, dict[str, Stage]] = {}
        self.products: dict[str, Product] = {}
        self.product_specs = {p.code: p for p in PRODUCTS}
        self.accounts: list[_AccountInfo] = []
        self.accounts_by_district: dict[str, list[_AccountInfo]] = {}
        self.account_info: dict[uuid.UUID, _AccountInfo] = {}
        self.contacts: dict[uuid.UUID, list[Contact]] = {}
        self.leads: dict[str, list[Lead]] = {}
        self.opportunities: dict[str, list[tuple[Opportunity, str]]] = {}
        self.used_names: set[str] = set()
        self.used_tax_ids: set[str] = set()
        self.used_domains: set[str] = set()

    def run(self) -> None:
        self._organisation()
        self._selling_setup()
        context.update(actor=self.users["admin"])
        self.progress("accounts")
        self._accounts()
        self.progress("contacts")
        self._contacts()
        self.progress("leads")
        self._leads()
        self.progress("opportunities")
        self._opportunities()
        self.progress("activities")
        self._activities()
        self.progress("account owners")
        demo_ownership_load()

    # --- helpers ------------------------------------------------------------------------

    @staticmethod
    def _audit(instance: models.Model, **extra: Any) -> None:
        after = snapshot(instance)
        after.update(extra)
        audit_record_change(action=AuditAction.CREATE, instance=instance, after=after)

    def _weighted[T](self, weights: dict[T, int]) -> T:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _mobile(self) -> str:
        prefix = self.rng.choice(("61", "62", "63", "64", "65", "81", "82", "86", "89", "91", "95"))
        return f"+66 {prefix} {self.rng.randint(100, 999)} {self.rng.randint(1000, 9999)}"

    def _landline(self, district: str) -> str:
        area = self.district_specs[district].area_code
        if area == "2":
            return f"+66 2 {self.rng.randint(100, 999)} {self.rng.randint(1000, 9999)}"
        return f"+66 {area} {self.rng.randint(100, 999)} {self.rng.randint(100, 999)}"

    def _person(self) -> tuple[str, str, str, str, bool]:
        male = self.rng.random() < 0.5
        first, first_th = self.rng.choice(MALE_NAMES if male else FEMALE_NAMES)
        last, last_th = self.rng.choice(LAST_NAMES)
        return first, last, first_th, last_th, male

    def _tax_id(self, prefix: str) -> str:
        while True:
            body = prefix + "".join(str(self.rng.randint(0, 9)) for _ in range(12 - len(prefix)))
            tax_id = tax_id_with_check_digit(body)
            if tax_id not in self.used_tax_ids:
                self.used_tax_ids.add(tax_id)
                return tax_id

    def _domain(self, base: str, tld: str) -> str:
        domain, n = f"{base}.{tld}", 2
        while domain in self.used_domains:
            domain, n = f"{base}{n}.{tld}", n + 1
        self.used_domains.add(domain)
        return domain

    def _at(self, day: dt.date, hour: int, minute: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BANGKOK)

    # --- organisation -------------------------------------------------------------------

    def _organisation(self) -> None:
        for spec in PRODUCT_LINES:
            line = ProductLine.objects.create(code=spec.code, name=spec.name, name_th=spec.name_th)
            self._audit(line)
            self.lines[spec.code] = line
        for unit_spec in UNITS:
            unit = BusinessUnit.objects.create(
                code=unit_spec.code, name=unit_spec.name, name_th=unit_spec.name_th
            )
            lines = [self.lines[c] for c in unit_spec.lines]
            unit.product_lines.set(lines)
            self._audit(unit, product_lines=[str(line.pk) for line in lines])
            self.units[unit_spec.code] = unit
        for region_spec in REGIONS:
            region = Region.objects.create(
                code=region_spec.code, name=region_spec.name, name_th=region_spec.name_th
            )
            self._audit(region)
            self.regions[region_spec.code] = region
        for district_spec in DISTRICTS:
            district = District.objects.create(
                code=district_spec.code,
                name=district_spec.name,
                name_th=district_spec.name_th,
                region=self.regions[district_spec.region],
            )
            self._audit(district)
            self.districts[district_spec.code] = district
        # Teams are audited once their manager is known (below), in this same transaction.
        for unit_spec in UNITS:
            self.teams[unit_spec.code] = Team.objects.create(
                name=unit_spec.team, business_unit=self.units[unit_spec.code]
            )
        self._users()
        for unit_spec in UNITS:
            team = self.teams[unit_spec.code]
            team.manager = next(
                u
                for u in self.users.values()
                if u.role == Role.SALES_MANAGER and u.business_unit_id == team.business_unit_id
            )
            team.save(update_fields=["manager", "updated_at"])
            self._audit(team)

    def _users(self) -> None:
        password = make_password(DEMO_PASSWORD)
        for spec in USERS:
            unit = self.units[spec.unit] if spec.unit else None
            in_team = spec.role in (Role.SALES_MANAGER, Role.SALES_REP)
            user = User(
                username=spec.username,
                first_name=spec.first_name,
                last_name=spec.last_name,
                first_name_th=spec.first_name_th,
                last_name_th=spec.last_name_th,
                email=f"{spec.username}@{EMAIL_DOMAIN}",
                phone=self._mobile(),
                role=spec.role,
                business_unit=unit,
                team=self.teams[spec.unit] if spec.unit and in_team else None,
                manager=self.users[spec.manager] if spec.manager else None,
                region=self.regions[spec.region] if spec.region else None,
                is_staff=spec.role in (Role.ADMINISTRATOR, Role.CRM_OFFICER),
                is_superuser=spec.role == Role.ADMINISTRATOR,
                language="th" if spec.username in THAI_UI_USERS else "en",
                password=password,
            )
            user.save()
            districts = [self.districts[c] for c in spec.districts]
            if districts:
                user.districts.set(districts)
            self._audit(user, districts=[str(d.pk) for d in districts])
            self.users[spec.username] = user
            if spec.role == Role.SALES_REP:
                self.reps.append(user)
                self.rep_districts[spec.username] = spec.districts
                self.managers.setdefault(spec.manager or "", []).append(spec.username)

    # --- pipelines, products, data-entry templates -------------------------------------

    def _selling_setup(self) -> None:
        for unit_spec in UNITS:
            pipeline = Pipeline.objects.create(
                business_unit=self.units[unit_spec.code], name=unit_spec.pipeline, is_default=True
            )
            self._audit(pipeline)
            stages: dict[str, Stage] = {}
            for position, spec in enumerate(STAGES, start=1):
                stage = Stage.objects.create(
                    pipeline=pipeline,
                    name=spec.name,
                    name_th=spec.name_th,
                    position=position,
                    probability=spec.probability,
                    forecast_category=spec.forecast_category,
                    outcome=spec.outcome,
                    color=spec.color,
                )
                self._audit(stage)
                stages[spec.name] = stage
            self.stages[unit_spec.code] = stages
        for product_spec in PRODUCTS:
            product = Product.objects.create(
                code=product_spec.code,
                name=product_spec.name,
                product_line=self.lines[product_spec.line],
                list_price=Decimal(product_spec.list_price),
                currency="THB",
            )
            self._audit(product)
            self.products[product_spec.code] = product
        rules: list[RequiredFieldRule] = [
            RequiredFieldRule(record_type=RecordType.ACCOUNT, field="tax_id"),
            RequiredFieldRule(record_type=RecordType.ACCOUNT, field="district"),
        ]
        for unit_spec in UNITS:
            stages = self.stages[unit_spec.code]
            for field in ("amount", "expected_close_date"):
                rules.append(
                    RequiredFieldRule(
                        record_type=RecordType.OPPORTUNITY,
                        field=field,
                        stage=stages[PROPOSAL_STAGE],
                        applies_to_later_stages=True,
                    )
                )
            rules.append(
                RequiredFieldRule(
                    record_type=RecordType.OPPORTUNITY,
                    field="lost_reason",
                    stage=stages[LOST_STAGE],
                    applies_to_later_stages=False,
                )
            )
        for rule in rules:
            rule.full_clean()
            rule.save()
            self._audit(rule)

    # --- accounts -----------------------------------------------------------------------

    def _company_name(self, industry: str) -> tuple[str, str, str, str, str]:
        """(name_en, name_th, domain base, tax-ID type digit, legal form) for a new company."""
        words = INDUSTRY_WORDS[industry]
        while True:
            root, root_th = self.rng.choice(ROOTS)
            word, word_th, th_first = self.rng.choice(words)
            base_en = f"{root} {word}"
            if base_en not in self.used_names:
                self.used_names.add(base_en)
                break
        base_th = f"{word_th}{root_th}" if th_first else f"{root_th}{word_th}"
        form = self.rng.choices(("ltd", "plc", "lp"), weights=(80, 8, 12))[0]
        if form == "plc":
            name_en, name_th, kind = (
                f"{base_en} Public Company Limited",
                f"บริษัท {base_th} จำกัด (มหาชน)",
                "7",
            )
        elif form == "lp":
            name_en, name_th, kind = (
                f"{base_en} Limited Partnership",
                f"ห้างหุ้นส่วนจำกัด {base_th}",
                "3",
            )
        else:
            name_en, name_th, kind = f"{base_en} Co., Ltd.", f"บริษัท {base_th} จำกัด", "5"
        return name_en, name_th, _slug(base_en), kind, form

    def _new_account_data(self, gov_pool: list[tuple[str, str, str]]) -> _NewAccount:
        industry = self._weighted(INDUSTRY_WEIGHTS)
        if industry == Industry.GOVERNMENT and not gov_pool:
            industry = Industry.MANUFACTURING
        codes = [d.code for d in DISTRICTS]
        district = self.rng.choices(codes, weights=[d.weight for d in DISTRICTS])[0]
        is_company = industry not in (Industry.GOVERNMENT, Industry.EDUCATION)
        if industry == Industry.GOVERNMENT:
            district, name_en, name_th = gov_pool.pop()
            domain = self._domain(_government_domain(name_en), "go.th")
            tax_id = self._tax_id("0994000")
            legal_name = name_th
        elif industry == Industry.EDUCATION:
            while True:
                root, root_th = self.rng.choice([r for r in ROOTS if " " not in r[0]])
                kind = self.rng.choice(("school", "international", "college"))
                if kind == "school":
                    name_en, name_th = f"{root}wittaya School", f"โรงเรียน{root_th}วิทยา"
                    base = f"{_slug(root)}wittaya"
                elif kind == "international":
                    name_en, name_th = (
                        f"{root} International School",
                        f"โรงเรียนนานาชาติ{root_th}",
                    )
                    base = f"{_slug(root)}-is"
                else:
                    name_en, name_th = f"{root} Technological College", f"วิทยาลัยเทคโนโลยี{root_th}"
                    base = f"{_slug(root)}tech"
                if name_en not in self.used_names:
                    self.used_names.add(name_en)
                    break
            domain = self._domain(base, "ac.th")
            tax_id = self._tax_id("0993000")
            legal_name = name_th
        else:
            name_en, name_th, base, kind, _form = self._company_name(industry)
            province = self.district_specs[district].province_code
            year = f"{self.rng.randint(25, 67):02d}"
            tax_id = self._tax_id(f"0{province}{kind}{year}")
            domain = self._domain(base, "co.th")
            # Most register their Thai name; foreign-owned firms often use the English one.
            legal_name = name_th if self.rng.random() < 0.75 else name_en
        place = self.rng.choice(PLACES[district])
        number = str(self.rng.randint(1, 999))
        if self.rng.random() < 0.4:
            number += f"/{self.rng.randint(1, 99)}"
        line2 = ""
        if is_company and self.rng.random() < 0.25:
            root = name_en.split()[0]
            line2 = f"Floor {self.rng.randint(2, 32)}, {root} Tower"
        data: dict[str, Any] = {
            "legal_name": legal_name,
            "name_th": name_th,
            "name_en": name_en,
            "tax_id": tax_id,
            "branch_code": HEAD_OFFICE_BRANCH,
            "industry": industry,
            "district": self.districts[district],
            "phone": self._landline(district),
            "email": f"{self.rng.choice(('info', 'contact', 'sales', 'admin'))}@{domain}",
            "website": f"https://www.{domain}",
            "address_line1": f"{number} {place.road}",
            "address_line2": line2,
            "subdistrict": place.subdistrict,
            "city": place.city,
            "province": place.province,
            "postal_code": place.postal_code,
        }
        return _NewAccount(data, district, place, domain, is_company)

    def _remember_account(
        self, account: Account, district: str, place: Place, domain: str, is_company: bool
    ) -> None:
        info = _AccountInfo(account, district, place, domain, is_company)
        self.accounts.append(info)
        self.accounts_by_district.setdefault(district, []).append(info)
        self.account_info[account.pk] = info

    def _accounts(self) -> None:
        steward = self.users["steward"]
        gov_pool = list(GOVERNMENT_BODIES)
        self.rng.shuffle(gov_pool)
        for _ in range(ACCOUNT_COUNT - ACCOUNT_BRANCHES):
            new = self._new_account_data(gov_pool)
            account = account_create(actor=steward, data=new.data)
            self._remember_account(account, new.district, new.place, new.domain, new.is_company)
        # Branches: the same company (tax ID) at another address, with a branch number.
        companies = [info for info in self.accounts if info.is_company]
        branch_counts: dict[uuid.UUID, int] = {}
        for _ in range(ACCOUNT_BRANCHES):
            parent = self.rng.choice(companies)
            head = parent.account
            n = branch_counts.get(head.pk, 0) + 1
            branch_counts[head.pk] = n
            branch = f"{n:05d}"
            district = self.rng.choices(
                [d.code for d in DISTRICTS], weights=[d.weight for d in DISTRICTS]
            )[0]
            place = self.rng.choice(PLACES[district])
            data = {
                "legal_name": f"{head.legal_name} (สาขาที่ {branch})"
                if head.legal_name == head.name_th
                else f"{head.legal_name} (Branch {branch})",
                "name_th": f"{head.name_th} (สาขาที่ {branch})",
                "name_en": f"{head.name_en} ({place.province} Branch)",
                "tax_id": head.tax_id,
                "branch_code": branch,
                "industry": head.industry,
                "district": self.districts[district],
                "phone": self._landline(district),
                "email": f"{_slug(place.province)[:12]}@{parent.domain}",
                "website": head.website,
                "address_line1": f"{self.rng.randint(1, 999)} {place.road}",
                "subdistrict": place.subdistrict,
                "city": place.city,
                "province": place.province,
                "postal_code": place.postal_code,
            }
            account = account_create(actor=steward, data=data)
            self._remember_account(account, district, place, parent.domain, True)

    # --- contacts -----------------------------------------------------------------------

    def _rep_for_district(self, district: str) -> User | None:
        covering = [r for r in self.reps if district in self.rep_districts[r.username]]
        return self.rng.choice(covering) if covering else None

    def _contacts(self) -> None:
        per_account = [1] * len(self.accounts)
        for _ in range(CONTACT_COUNT - len(self.accounts)):
            while True:
                i = self.rng.randrange(len(self.accounts))
                if per_account[i] < 4:
                    per_account[i] += 1
                    break
        steward = self.users["steward"]
        for info, count in zip(self.accounts, per_account, strict=True):
            # The rep covering the district keeps the contacts; the CRM team if nobody does.
            actor = self._rep_for_district(info.district) or steward
            used_titles: set[str] = set()
            for _ in range(count):
                first, last, first_th, last_th, male = self._person()
                title, department = self.rng.choice(JOB_TITLES)
                if title in used_titles:
                    title, department = self.rng.choice(JOB_TITLES)
                used_titles.add(title)
                nickname = self.rng.choice(NICKNAMES)
                data: dict[str, Any] = {
                    "account": info.account,
                    "salutation": "Mr." if male else self.rng.choice(("Ms.", "Mrs.", "Khun")),
                    "first_name": first,
                    "last_name": last,
                    "first_name_th": first_th,
                    "last_name_th": last_th,
                    "nickname": nickname,
                    "job_title": title,
                    "department": department,
                    "email": f"{first.lower()}.{last[:2].lower()}@{info.domain}",
                    "phone": f"{info.account.phone} ext. {self.rng.randint(100, 599)}",
                    "mobile": self._mobile(),
                    "line_id": f"{nickname.lower()}{self.rng.randint(1, 999)}"
                    if self.rng.random() < 0.6
                    else "",
                    "preferred_language": "th" if self.rng.random() < 0.75 else "en",
                }
                contact = contact_create(actor=actor, data=data)
                self.contacts.setdefault(info.account.pk, []).append(contact)

    # --- leads --------------------------------------------------------------------------

    def _leads(self) -> None:
        industries = [i for i in INDUSTRY_WORDS if i != Industry.OTHER]
        for _ in range(LEAD_COUNT):
            rep = self.rng.choice(self.reps)
            district = self.rng.choice(self.rep_districts[rep.username])
            name_en, name_th, base, _kind, _form = self._company_name(self.rng.choice(industries))
            first, last, first_th, last_th, _male = self._person()
            title, _department = self.rng.choice(JOB_TITLES)
            status = self._weighted(LEAD_STATUS_WEIGHTS)
            thai = self.rng.random() < 0.4
            data: dict[str, Any] = {
                "company_name": name_th if thai else name_en,
                "first_name": first_th if thai else first,
                "last_name": last_th if thai else last,
                "job_title": title,
                "email": f"{first.lower()}@{base}.co.th",
                "phone": self._mobile() if self.rng.random() < 0.5 else self._landline(district),
                "source": self._weighted(LEAD_SOURCE_WEIGHTS),
                "status": status,
                "owner": rep,
                "business_unit": rep.business_unit,
                "district": self.districts[district],
                "description": self.rng.choice(LEAD_DESCRIPTIONS),
            }
            if status == LeadStatus.DISQUALIFIED:
                data["disqualified_reason"] = self.rng.choice(DISQUALIFIED_REASONS)
            lead = lead_create(actor=rep, data=data)
            self.leads.setdefault(rep.username, []).append(lead)

    # --- opportunities ------------------------------------------------------------------

    def _opportunities(self) -> None:
        stage_weights = {s.name: s.weight for s in STAGES}
        unit_codes = {u.pk: code for code, u in self.units.items()}
        for _ in range(OPPORTUNITY_COUNT):
            rep = self.rng.choice(self.reps)
            unit = unit_codes[rep.business_unit_id]  # type: ignore[index]
            district = self.rng.choice(self.rep_districts[rep.username])
            info = self.rng.choice(self.accounts_by_district[district])
            account = info.account
            contacts = self.contacts[account.pk]
            contact = self.rng.choice(contacts) if self.rng.random() < 0.85 else None
            stage_name = self._weighted(stage_weights)
            stage = self.stages[unit][stage_name]
            solution, codes = self.rng.choice(SOLUTIONS[unit])
            short = _LEGAL_SUFFIX.sub("", account.name_en)
            data: dict[str, Any] = {
                "name": f"{short}: {solution}",
                "account": account,
                "contact": contact,
                "business_unit": self.units[unit],
                "owner": rep,
                "stage": stage,
                "currency": "THB",
                "description": "",
            }
            if self.rng.random() < 0.75:
                chosen = self.rng.sample(codes, self.rng.randint(1, min(3, len(codes))))
                lines = []
                for code in chosen:
                    low, high = self.product_specs[code].quantity
                    lines.append(
                        {
                            "product": self.products[code],
                            "quantity": Decimal(self.rng.randint(low, high)),
                            "discount_percent": Decimal(self.rng.choice((0, 0, 0, 5, 10, 15))),
                        }
                    )
                data["line_items"] = lines
            elif stage.position <= 2 and self.rng.random() < 0.3:
                data["amount"] = Decimal(0)  # not estimated yet
            else:
                data["amount"] = Decimal(self.rng.randrange(50_000, 3_000_000, 5_000))
            if stage.outcome == StageOutcome.OPEN:
                if stage.position > 1 or self.rng.random() < 0.8:
                    # Some open deals have slipped past their close date (reports flag them).
                    slipped = self.rng.random() < 0.1
                    days = self.rng.randint(-30, -1) if slipped else self.rng.randint(7, 180)
                    data["expected_close_date"] = self.today + dt.timedelta(days=days)
                data["next_step"] = self.rng.choice(NEXT_STEPS[stage.position])
            else:
                data["expected_close_date"] = self.today - dt.timedelta(
                    days=self.rng.randint(1, 170)
                )
                if stage.outcome == StageOutcome.LOST:
                    data["lost_reason"] = self.rng.choice(LOST_REASONS)
            opportunity = opportunity_create(actor=rep, data=data)
            self.opportunities.setdefault(rep.username, []).append((opportunity, solution))

    # --- activities ---------------------------------------------------------------------

    def _activity_time(self, kind: str) -> dt.datetime:
        day = self.today + dt.timedelta(
            days=self.rng.randint(-ACTIVITY_DAYS_BACK, ACTIVITY_DAYS_AHEAD)
        )
        while day.weekday() >= 5:  # weekends: the Friday before
            day -= dt.timedelta(days=1)
        start = self._at(day, self.rng.randint(8, 16), self.rng.choice((0, 15, 30, 45)))
        if kind in (ActivityKind.EMAIL, ActivityKind.NOTE) and start > self.now:
            start -= dt.timedelta(days=ACTIVITY_DAYS_AHEAD + 1)  # written, so in the past
        return start

    def _activities(self) -> None:
        managers = [self.users[m] for m in self.managers]
        for _ in range(ACTIVITY_COUNT):
            kind = self._weighted(KIND_WEIGHTS)
            start = self._activity_time(kind)
            roll = self.rng.random()
            solution = ""
            data: dict[str, Any] = {"kind": kind}
            if roll < 0.04:
                # Working a lead: calls and emails before there is an account.
                rep = self.rng.choice([r for r in self.reps if r.username in self.leads])
                actor = rep
                data["lead"] = self.rng.choice(self.leads[rep.username])
                kind = self.rng.choice((ActivityKind.CALL, ActivityKind.EMAIL))
                data["kind"] = kind
                start = self._activity_time(kind)
                solution = "our solutions"
            else:
                if roll < 0.12:
                    actor = self.rng.choice(managers)  # a manager joins or follows up
                    reps = self.managers[actor.username]
                    owner = self.rng.choice(reps)
                else:
                    actor = self.rng.choice(self.reps)
                    owner = actor.username
                opps = self.opportunities.get(owner, [])
                if start > self.now:  # plans are made for deals still open
                    opps = [o for o in opps if o[0].stage.outcome == StageOutcome.OPEN]
                if opps and self.rng.random() < 0.45:
                    opportunity, solution = self.rng.choice(opps)
                    info = self.account_info[opportunity.account_id]
                    data["opportunity"] = opportunity
                    contact = opportunity.contact
                else:
                    district = self.rng.choice(self.rep_districts[owner])
                    info = self.rng.choice(self.accounts_by_district[district])
                    contact = None
                    unit = next(u for u in UNITS if self.units[u.code].pk == actor.business_unit_id)
                    solution = self.rng.choice(SOLUTIONS[unit.code])[0]
                if contact is None and self.rng.random() < 0.7:
                    contact = self.rng.choice(self.contacts[info.account.pk])
                if "opportunity" not in data:  # else the service takes the opportunity's
                    data["account"] = info.account
                if contact is not None:
                    data["contact"] = contact
                if kind == ActivityKind.VISIT:
                    data["latitude"] = Decimal(
                        f"{info.place.latitude + self.rng.uniform(-0.008, 0.008):.6f}"
                    )
                    data["longitude"] = Decimal(
                        f"{info.place.longitude + self.rng.uniform(-0.008, 0.008):.6f}"
                    )
                    data["location"] = (
                        f"{info.account.address_line1}, {info.place.city}, {info.place.province}"
                    )
                elif kind == ActivityKind.MEETING:
                    data["location"] = (
                        "Online (Microsoft Teams)"
                        if self.rng.random() < 0.4
                        else f"{info.account.name_en}, {info.place.city}"
                    )
            subject = self.rng.choice(ACTIVITY_SUBJECTS[kind]).format(
                solution=solution or "our solutions"
            )
            data["subject"] = subject[:255]
            data["body"] = self.rng.choice(ACTIVITY_BODIES)
            past = start <= self.now
            if kind == ActivityKind.TASK:
                data["due_date"] = start.date()
                if start.date() < self.today:
                    data["is_done"] = self.rng.random() < 0.7  # the rest are overdue
                elif start.date() == self.today:
                    data["is_done"] = self.rng.random() < 0.5
                else:
                    data["is_done"] = False
            else:
                data["start_at"] = start
                minutes = ACTIVITY_MINUTES.get(kind)
                if minutes:
                    data["end_at"] = start + dt.timedelta(minutes=self.rng.choice(minutes))
                data["is_done"] = past
                if past and kind in (ActivityKind.VISIT, ActivityKind.CALL, ActivityKind.MEETING):
                    data["outcome"] = self.rng.choice(ACTIVITY_OUTCOMES)
            activity_create(actor=actor, data=data)
