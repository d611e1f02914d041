"""Writes on the organisation: users, roles, API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from accord.audit.models import AuditAction
from accord.audit.services import audit_event, audit_record_change, snapshot
from accord.core.errors import NotFound, PermissionDenied
from accord.org.models import ApiToken, Role, User

TOKEN_PREFIX = "acc_"  # noqa: S105 - a public prefix, not a secret


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


@transaction.atomic
def api_token_create(*, user: User, name: str = "API token") -> IssuedToken:
    """Issue a token; the secret is returned once and never stored."""
    if not user.is_active:
        raise PermissionDenied("A deactivated user cannot get a token.", code="user_inactive")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=secret[:10], key_hash=token_digest(secret)
    )
    audit_event(
        action="token_create",
        record_type="org.apitoken",
        record_id=str(token.pk),
        label=str(token),
        data={"user": str(user.pk), "name": name},
    )
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        audit_event(
            action="token_revoke",
            record_type="org.apitoken",
            record_id=str(token.pk),
            label=str(token),
            data={"user": str(token.user_id)},
        )
    return token


def api_token_authenticate(raw: str) -> User | None:
    """The active user a token belongs to, or None (unknown, revoked, expired, inactive)."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 128:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=token_digest(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def user_deactivate(*, user: User) -> User:
    """Deactivate a user: their sessions end and their tokens stop working."""
    if not user.is_active:
        return user
    before = snapshot(user, ["is_active"])
    user.is_active = False
    user.save(update_fields=["is_active"])
    user_access_end(user=user)
    audit_record_change(
        action=AuditAction.UPDATE, instance=user, before=before, after=snapshot(user, ["is_active"])
    )
    return user


@transaction.atomic
def user_access_end(*, user: User) -> None:
    """End every session of ``user`` and revoke their API tokens (a deactivated user)."""
    for token in user.api_tokens.filter(revoked_at__isnull=True):
        api_token_revoke(token=token)
    now = timezone.now()
    for session in Session.objects.filter(expire_date__gt=now).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()


def user_by_username(username: str) -> User:
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist as exc:
        raise NotFound(f"No user called {username!r}.") from exc


def role_may_manage_org(user: User) -> bool:
    return user.is_superuser or user.role in {Role.ADMINISTRATOR, Role.CRM_OFFICER}
