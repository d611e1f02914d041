"""Data-entry templates: which fields a record must have, per record type and stage."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accord.core.models import BaseModel


class RecordType(models.TextChoices):
    ACCOUNT = "account", _("Account")
    CONTACT = "contact", _("Contact")
    LEAD = "lead", _("Lead")
    OPPORTUNITY = "opportunity", _("Opportunity")
    ACTIVITY = "activity", _("Activity")


# The fields an administrator may make compulsory, per record type.
CONFIGURABLE_FIELDS: dict[str, tuple[str, ...]] = {
    RecordType.ACCOUNT: (
        "name_th",
        "name_en",
        "tax_id",
        "industry",
        "district",
        "phone",
        "email",
        "website",
        "address_line1",
        "subdistrict",
        "city",
        "province",
        "postal_code",
        "shipping_address",
    ),
    RecordType.CONTACT: (
        "last_name",
        "first_name_th",
        "last_name_th",
        "job_title",
        "department",
        "email",
        "phone",
        "mobile",
        "line_id",
    ),
    RecordType.LEAD: (
        "first_name",
        "last_name",
        "job_title",
        "email",
        "phone",
        "business_unit",
        "district",
        "description",
        "disqualified_reason",
    ),
    RecordType.OPPORTUNITY: (
        "contact",
        "amount",
        "expected_close_date",
        "next_step",
        "description",
        "lost_reason",
        "line_items",
    ),
    RecordType.ACTIVITY: (
        "body",
        "start_at",
        "end_at",
        "due_date",
        "outcome",
        "location",
        "contact",
        "opportunity",
    ),
}


class RequiredFieldRule(BaseModel):
    """``field`` must be filled in on every ``record_type`` (only in ``stage``, if set)."""

    record_type = models.CharField(max_length=16, choices=RecordType.choices)
    field = models.CharField(max_length=64)
    stage = models.ForeignKey(
        "sales.Stage",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="required_field_rules",
        help_text=_("Opportunities only: the rule applies from this stage on."),
    )
    applies_to_later_stages = models.BooleanField(
        default=True,
        help_text=_("Also require the field in every later open or won stage of the pipeline."),
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["record_type", "field"]
        constraints = [
            models.UniqueConstraint(
                fields=["record_type", "field"],
                condition=models.Q(stage__isnull=True),
                name="required_field_unique",
            ),
            models.UniqueConstraint(
                fields=["record_type", "field", "stage"],
                condition=models.Q(stage__isnull=False),
                name="required_field_unique_stage",
            ),
        ]

    def __str__(self) -> str:
        where = f" in {self.stage}" if self.stage_id else ""
        return f"{self.record_type}.{self.field} required{where}"

    def clean(self) -> None:
        allowed = CONFIGURABLE_FIELDS.get(self.record_type, ())
        if self.field not in allowed:
            raise ValidationError(
                {"field": _("Choose one of: %(fields)s") % {"fields": ", ".join(allowed)}}
            )
        if self.stage_id and self.record_type != RecordType.OPPORTUNITY:
            raise ValidationError({"stage": _("Only opportunity rules can name a stage.")})


class Comparison(models.TextChoices):
    EXACT = "exact", _("same normalised value")
    FUZZY_NAME = "fuzzy_name", _("similar name (rapidfuzz on the name key)")
    TAX_ID_BRANCH = "tax_id_branch", _("same tax ID and branch")
    PHONE = "phone", _("same phone number (E.164)")
    EMAIL = "email", _("same email address")
    EMAIL_DOMAIN = "email_domain", _("same company email domain (free-mail never matches)")
    WEBSITE_DOMAIN = "website_domain", _("same website domain")


# The fields a match condition may compare, per record type, and the comparisons allowed.
MATCH_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    RecordType.ACCOUNT: {
        "name": (Comparison.FUZZY_NAME, Comparison.EXACT),
        "tax_id": (Comparison.TAX_ID_BRANCH, Comparison.EXACT),
        "branch": (Comparison.EXACT,),
        "phone": (Comparison.PHONE, Comparison.EXACT),
        "email": (Comparison.EMAIL, Comparison.EMAIL_DOMAIN, Comparison.EXACT),
        "website": (Comparison.WEBSITE_DOMAIN, Comparison.EXACT),
    },
    RecordType.CONTACT: {
        "name": (Comparison.FUZZY_NAME, Comparison.EXACT),
        "account": (Comparison.EXACT,),
        "phone": (Comparison.PHONE, Comparison.EXACT),
        "email": (Comparison.EMAIL, Comparison.EXACT),
    },
}


class MatchRule(BaseModel):
    """A declarative duplicate rule: it matches when *every* condition holds.

    ``conditions`` is a list of ``{"field", "comparison", "weight", "min_similarity"}``. A
    condition holds when the compared values are present on both sides and equal (or, for
    ``fuzzy_name``, at least ``min_similarity`` alike, 0 to 1). The rule's score is the sum of
    ``weight * similarity`` over its conditions (at most 1); a candidate's score is that of
    its best matching rule, judged against the record type's :class:`MatchThreshold`.
    """

    record_type = models.CharField(
        max_length=16,
        choices=[(RecordType.ACCOUNT, _("Account")), (RecordType.CONTACT, _("Contact"))],
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    conditions = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["record_type", "name"]
        constraints = [
            models.UniqueConstraint(fields=["record_type", "name"], name="match_rule_unique")
        ]

    def __str__(self) -> str:
        return f"{self.record_type}: {self.name}"

    def clean(self) -> None:
        fields = MATCH_FIELDS.get(self.record_type, {})
        if not isinstance(self.conditions, list) or not self.conditions:
            raise ValidationError({"conditions": _("List at least one condition.")})
        errors: list[str] = []
        for i, cond in enumerate(self.conditions, start=1):
            if not isinstance(cond, dict):
                errors.append(_("Condition %(n)d is not an object.") % {"n": i})
                continue
            unknown = set(cond) - {"field", "comparison", "weight", "min_similarity"}
            if unknown:
                errors.append(
                    _("Condition %(n)d: unknown keys %(keys)s.")
                    % {"n": i, "keys": ", ".join(sorted(unknown))}
                )
            field, comparison = cond.get("field"), cond.get("comparison")
            if field not in fields:
                errors.append(
                    _("Condition %(n)d: field must be one of %(fields)s.")
                    % {"n": i, "fields": ", ".join(fields)}
                )
            elif comparison not in fields[field]:
                errors.append(
                    _("Condition %(n)d: compare %(field)s with one of %(cmp)s.")
                    % {"n": i, "field": field, "cmp": ", ".join(fields[field])}
                )
            for key in ("weight", "min_similarity"):
                value = cond.get(key, 0 if key == "weight" else 1)
                if not isinstance(value, int | float) or isinstance(value, bool):
                    errors.append(_("Condition %(n)d: %(key)s is a number.") % {"n": i, "key": key})
                elif not 0 <= value <= 1:
                    errors.append(
                        _("Condition %(n)d: %(key)s lies between 0 and 1.") % {"n": i, "key": key}
                    )
        if errors:
            raise ValidationError({"conditions": errors})


class MatchThreshold(BaseModel):
    """Per record type: a candidate scoring ``block`` or more stops the write (unless a
    justification overrides it); ``warn`` or more is shown but lets the write through."""

    record_type = models.CharField(
        max_length=16,
        unique=True,
        choices=[(RecordType.ACCOUNT, _("Account")), (RecordType.CONTACT, _("Contact"))],
    )
    block = models.FloatField(default=0.9)
    warn = models.FloatField(default=0.75)

    class Meta:
        ordering = ["record_type"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(warn__gt=0, warn__lte=models.F("block"), block__lte=1),
                name="match_threshold_order",
                violation_error_message=_("0 < warn ≤ block ≤ 1."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.record_type}: block ≥ {self.block}, warn ≥ {self.warn}"


# --- the duplicate review queue and merges ----------------------------------------------------


class ClusterStatus(models.TextChoices):
    OPEN = "open", _("Open")
    MERGED = "merged", _("Merged")
    DISMISSED = "dismissed", _("Not duplicates")


class ClusterSource(models.TextChoices):
    BATCH = "batch", _("Batch dedupe")
    REALTIME = "realtime", _("Real-time check")
    REQUEST = "request", _("Account request")


MERGEABLE_TYPES = [(RecordType.ACCOUNT, _("Account")), (RecordType.CONTACT, _("Contact"))]


class DuplicateCluster(BaseModel):
    """A group of accounts (or contacts) that may be one customer (or person), for a steward.

    Its members and the scored pairs that linked them are rows of
    :class:`DuplicateClusterMember` and :class:`DuplicateClusterPair`. A steward merges the
    cluster or dismisses it ("not duplicates"; the pairs are remembered in
    :class:`DismissedPair` so they are not queued again).
    """

    record_type = models.CharField(max_length=16, choices=MERGEABLE_TYPES)
    status = models.CharField(
        max_length=16, choices=ClusterStatus.choices, default=ClusterStatus.OPEN
    )
    source = models.CharField(
        max_length=16, choices=ClusterSource.choices, default=ClusterSource.BATCH
    )
    best_score = models.FloatField(default=0)
    resolved_by = models.ForeignKey(
        "org.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The queue: one type and status, oldest first.
            models.Index(
                fields=["record_type", "status", "created_at", "id"], name="dup_cluster_queue"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_type} cluster {self.pk} ({self.status})"


class DuplicateClusterMember(BaseModel):
    """One record of a cluster (an account or a contact: exactly one of the two is set).

    Memberships are history: a merge leaves them pointing at the records as they were.
    """

    cluster = models.ForeignKey(
        DuplicateCluster, on_delete=models.CASCADE, related_name="members", db_index=False
    )  # indexed by dup_member_account_once
    account = models.ForeignKey(
        "customers.Account",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="duplicate_memberships",
        db_index=False,
    )  # indexed by dup_member_account (partial)
    contact = models.ForeignKey(
        "customers.Contact",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="duplicate_memberships",
        db_index=False,
    )  # indexed by dup_member_contact (partial)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["account"],
                condition=models.Q(account__isnull=False),
                name="dup_member_account",
            ),
            models.Index(
                fields=["contact"],
                condition=models.Q(contact__isnull=False),
                name="dup_member_contact",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(account__isnull=False, contact__isnull=True)
                | models.Q(account__isnull=True, contact__isnull=False),
                name="dup_member_one_record",
            ),
            models.UniqueConstraint(fields=["cluster", "account"], name="dup_member_account_once"),
            models.UniqueConstraint(fields=["cluster", "contact"], name="dup_member_contact_once"),
        ]

    def __str__(self) -> str:
        return str(self.account_id or self.contact_id)

    @property
    def record_id(self) -> object:
        return self.account_id or self.contact_id


class DuplicateClusterPair(BaseModel):
    """Why two members are in the cluster: the score and reasons of the matching rules."""

    cluster = models.ForeignKey(
        DuplicateCluster, on_delete=models.CASCADE, related_name="pairs", db_index=False
    )  # indexed by dup_pair_unique
    left_id = models.UUIDField()
    right_id = models.UUIDField()
    score = models.FloatField()
    reasons = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "left_id", "right_id"], name="dup_pair_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.left_id} ~ {self.right_id} ({self.score:.2f})"


class DismissedPair(BaseModel):
    """Two records a steward judged "not duplicates": never queued together again.

    ``low_id`` < ``high_id`` (as strings), so each pair is stored once.
    """

    record_type = models.CharField(max_length=16, choices=MERGEABLE_TYPES)
    low_id = models.UUIDField()
    high_id = models.UUIDField()
    dismissed_by = models.ForeignKey(
        "org.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["record_type", "low_id", "high_id"], name="dismissed_pair_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.low_id} ≠ {self.high_id}"


class MergeStatus(models.TextChoices):
    DONE = "done", _("Merged")
    UNDONE = "undone", _("Unmerged")


class MergeRecord(BaseModel):
    """One merge of ``losers`` into ``survivor``, with everything needed to undo it.

    ``before``: the full field state of the survivor and each loser before the merge
    (``{"survivor": {...}, "losers": {id: {...}}}``); ``changes``: the survivor's fields the
    merge changed (``{field: [old, new]}``); ``field_choices``: per field, the record whose
    value won; ``moved``: every child row the merge repointed, as
    ``[model label, pk, field, old value]``.
    """

    record_type = models.CharField(max_length=16, choices=MERGEABLE_TYPES)
    survivor_id = models.UUIDField()
    loser_ids = models.JSONField(default=list)
    actor = models.ForeignKey("org.User", on_delete=models.PROTECT, related_name="+")
    cluster = models.ForeignKey(
        DuplicateCluster,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merges",
        db_index=False,
    )  # indexed by merge_record_cluster (partial)
    field_choices = models.JSONField(default=dict, blank=True)
    before = models.JSONField(default=dict)
    changes = models.JSONField(default=dict, blank=True)
    moved = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=MergeStatus.choices, default=MergeStatus.DONE)
    undone_by = models.ForeignKey(
        "org.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_at", "id"], name="merge_record_created"),
            models.Index(fields=["record_type", "created_at", "id"], name="merge_record_history"),
            models.Index(
                fields=["cluster"],
                condition=models.Q(cluster__isnull=False),
                name="merge_record_cluster",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_type} merge into {self.survivor_id} ({self.status})"


class ParticipantRole(models.TextChoices):
    SURVIVOR = "survivor", _("Survivor")
    LOSER = "loser", _("Merged away")
    MOVED = "moved", _("Moved")  # a mergeable record (e.g. a contact) the merge repointed


class MergeParticipant(models.Model):
    """A record a merge touched: the survivor, a loser, or a mergeable record it moved (an
    account merge moves contacts). Finds the merges of a record, and the later merges that
    an unmerge would contradict."""

    merge = models.ForeignKey(
        MergeRecord, on_delete=models.CASCADE, related_name="participants", db_index=False
    )  # indexed by merge_participant_once
    record_id = models.UUIDField()
    role = models.CharField(max_length=16, choices=ParticipantRole.choices)

    class Meta:
        indexes = [models.Index(fields=["record_id", "merge"], name="merge_participant_record")]
        constraints = [
            models.UniqueConstraint(fields=["merge", "record_id"], name="merge_participant_once")
        ]

    def __str__(self) -> str:
        return f"{self.record_id} in {self.merge_id}"
