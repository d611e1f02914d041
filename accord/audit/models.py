"""Append-only, hash-chained audit trail.

Each event stores the SHA-256 of its own canonical content plus the previous event's hash,
so altering, deleting, inserting or reordering rows breaks the chain that
``accord audit-verify`` recomputes. ``AuditChainHead`` holds the latest sequence number and
hash; writers lock it, which serialises appends and catches a truncated tail.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models
from django.utils.translation import gettext_lazy as _

from accord.core.context import Source


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")


class AppendOnlyQuerySet[M: models.Model](models.QuerySet[M]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError("Audit events are append-only.")

    def delete(self) -> NoReturn:
        raise TypeError("Audit events are append-only.")


class AuditEvent(models.Model):
    seq = models.BigIntegerField(primary_key=True)
    occurred_at = models.DateTimeField()
    actor_id = models.UUIDField(null=True, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=16, choices=[(s.value, s.value) for s in Source])
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    record_type = models.CharField(max_length=64)
    record_id = models.CharField(max_length=64)
    record_label = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet["AuditEvent"].as_manager()

    class Meta:
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["record_type", "record_id", "seq"], name="audit_record"),
            models.Index(fields=["actor_id", "seq"], name="audit_actor"),
            models.Index(fields=["occurred_at"], name="audit_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.record_type}:{self.record_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("Audit events are append-only.")


class AuditChainHead(models.Model):
    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"head #{self.seq}"


class SecurityEventKind(models.TextChoices):
    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login_failed", _("Sign-in failed")
    LOGIN_THROTTLED = "login_throttled", _("Sign-in refused: too many failures")
    LOGOUT = "logout", _("Signed out")
    ACCESS_DENIED = "access_denied", _("Access denied")
    EXPORT = "export", _("Export")
    OWNERSHIP_CHANGE = "ownership_change", _("Ownership changed")
    PERMISSION_CHANGE = "permission_change", _("Permissions changed")


class SecurityEvent(models.Model):
    """The security log: sign-ins, refusals, exports, ownership and permission changes.

    Kept apart from the hash-chained trail so that a flood of failed sign-ins cannot slow
    down the writes every record change makes; append-only like it. Who is the signed-in
    user (``actor``) or, for a failed sign-in, the name that was tried (``username``).
    """

    occurred_at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=24, choices=SecurityEventKind.choices)
    actor_id = models.UUIDField(null=True, blank=True)
    username = models.CharField(max_length=150, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=16, choices=[(s.value, s.value) for s in Source])
    request_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict)

    objects = AppendOnlyQuerySet["SecurityEvent"].as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # The sign-in throttle counts recent failures per name and per address.
            models.Index(fields=["kind", "username", "occurred_at"], name="security_by_username"),
            models.Index(fields=["kind", "ip", "occurred_at"], name="security_by_ip"),
            models.Index(fields=["actor_id", "occurred_at"], name="security_by_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.kind} {self.username}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("Security events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("Security events are append-only.")
