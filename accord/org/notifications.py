"""In-app notifications, each also sent by e-mail (Django's e-mail backend) after commit.

Services call :func:`notify` inside their transaction: the row is written with the write it
reports, and the e-mail goes only once that write is committed — never for a rolled-back one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accord.core.pagination import Page, keyset_page
from accord.org.models import Notification, User

logger = logging.getLogger(__name__)


def absolute_link(url: str) -> str:
    """A link for an e-mail: the site's address (``ACCORD_BASE_URL``) before a path."""
    base = str(getattr(settings, "ACCORD_BASE_URL", "") or "").rstrip("/")
    return f"{base}{url}" if base and url.startswith("/") else url


def _send_email(*, to: str, subject: str, body: str) -> None:
    try:
        send_mail(
            subject=subject,
            message=body,
            from_email=None,  # DEFAULT_FROM_EMAIL
            recipient_list=[to],
        )
    except Exception:  # the in-app notification stands; a mail server outage is logged
        logger.exception("Could not e-mail a notification to %s", to)


def notify(
    *,
    recipient: User,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    related: models.Model | None = None,
) -> Notification:
    """Tell ``recipient``: an in-app notification now, an e-mail when the write commits."""
    notification = Notification.objects.create(
        recipient=recipient,
        kind=kind,
        title=title[:255],
        body=body,
        url=url[:500],
        related_type=related._meta.label_lower if related is not None else "",
        related_id=str(related.pk) if related is not None else "",
    )
    if recipient.email and recipient.is_active:
        link = absolute_link(url)
        text = f"{body}\n\n{link}" if link else body
        email = recipient.email
        transaction.on_commit(lambda: _send_email(to=email, subject=title, body=text))
    return notification


# --- reads --------------------------------------------------------------------------------


def notifications_of(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def notification_list(
    *, user: User, unread: bool | None = None, cursor: str | None = None, limit: int = 50
) -> Page[Notification]:
    """``user``'s notifications, newest first."""
    qs = notifications_of(user)
    if unread is True:
        qs = qs.filter(read_at__isnull=True)
    elif unread is False:
        qs = qs.filter(read_at__isnull=False)
    return keyset_page(qs, ordering="-created_at", cursor=cursor, limit=limit)


def unread_count(user: User) -> int:
    return notifications_of(user).filter(read_at__isnull=True).count()


# --- writes -------------------------------------------------------------------------------


@transaction.atomic
def notifications_mark_read(*, user: User, ids: Iterable[uuid.UUID] | None = None) -> int:
    """Mark ``user``'s notifications read (``ids``, or all of them); return how many changed.

    Another person's notification ids are ignored, as if they did not exist. Reading a
    notification is the reader's own state, not a change to a record, so it is not audited.
    """
    qs = notifications_of(user).filter(read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now(), updated_at=timezone.now())
