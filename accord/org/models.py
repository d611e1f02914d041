"""The sales organisation: business units, regions, districts, teams, users and roles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from accord.core.models import BaseModel, new_id


class ProductLine(BaseModel):
    """A line of products a business unit sells (e.g. printers, managed print, cloud)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    name_th = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BusinessUnit(BaseModel):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120, unique=True)
    name_th = models.CharField(max_length=120, blank=True)
    product_lines = models.ManyToManyField(ProductLine, blank=True, related_name="business_units")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Region(BaseModel):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120, unique=True)
    name_th = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class District(BaseModel):
    """A sales territory; every account lies in one."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    name_th = models.CharField(max_length=120, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="districts")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(BaseModel):
    name = models.CharField(max_length=120)
    business_unit = models.ForeignKey(BusinessUnit, on_delete=models.PROTECT, related_name="teams")
    manager = models.ForeignKey(
        "User", null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["business_unit", "name"], name="team_unique_in_unit")
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    SALES_REP = "sales_rep", _("Sales rep")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    REGIONAL_MANAGER = "regional_manager", _("Regional manager")
    CRM_OFFICER = "crm_officer", _("CRM officer (data steward)")
    EXECUTIVE = "executive", _("Executive")
    INTEGRATION = "integration", _("Integration user")
    ADMINISTRATOR = "administrator", _("Administrator")


class Language(models.TextChoices):
    EN = "en", "English"
    TH = "th", "ไทย"


class User(AbstractUser):
    """A person (or integration) who signs in. One unit; may cover several districts."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.SALES_REP)
    business_unit = models.ForeignKey(
        BusinessUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    manager = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
        help_text=_("Who this person reports to (the reporting hierarchy)."),
    )
    region = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="managers",
        help_text=_("For regional managers: the region they run."),
    )
    districts = models.ManyToManyField(District, blank=True, related_name="members")
    first_name_th = models.CharField(max_length=150, blank=True)
    last_name_th = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.EN)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def sees_everything(self) -> bool:
        return self.is_superuser or self.role in ALL_SEEING_ROLES


ALL_SEEING_ROLES = frozenset(
    {Role.ADMINISTRATOR, Role.CRM_OFFICER, Role.EXECUTIVE, Role.INTEGRATION}
)


class ApiToken(BaseModel):
    """A personal API token. Only a SHA-256 of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=120, default="API token")
    prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Notification(BaseModel):
    """Something a person should know about (a decision on their request…), in the app;
    :mod:`accord.org.notifications` writes it and e-mails a copy."""

    recipient = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )  # indexed by notification_recipient
    kind = models.CharField(max_length=60)
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    # What it is about, as "app_label.model" and the record's id (no generic relation).
    related_type = models.CharField(max_length=100, blank=True)
    related_id = models.CharField(max_length=64, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "created_at", "id"], name="notification_recipient"),
            models.Index(
                fields=["recipient", "created_at"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
