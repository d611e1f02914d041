"""Background tasks (Django's tasks framework; django-tasks-db by default).

:func:`deliver_connector_task` drains what is due for one connector, in batches of heads
of different keys (see :mod:`accord.integration.delivery`). It is enqueued when an
emitting write commits, when a retry falls due (as a deferred task where the backend
supports it) and by the worker's sweep for work whose task was lost. With the database
backend a connector whose task is already waiting is not enqueued again, so a burst of
commits makes one task, not one per commit; a task that finds a full batch offers the
backlog to one more task, so every idle worker joins in. Extra tasks are harmless: the
claim decides who delivers what.

:func:`deliver_key_task` (one key) stays for tasks enqueued before batches existed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.tasks import TaskResultStatus, task
from django.tasks.backends.immediate import ImmediateBackend
from django.utils import timezone

from accord.integration.delivery import deliver_connector, deliver_key


@task()
def deliver_connector_task(connector_id: str) -> int:
    fan_out = not isinstance(deliver_connector_task.get_backend(), ImmediateBackend)
    return deliver_connector(
        connector_id,
        on_full_batch=(lambda: ensure_connector_task(connector_id)) if fan_out else None,
    )


@task()
def deliver_key_task(connector_id: str, key: str) -> int:
    return deliver_key(connector_id, key)


def _waiting(connector_id: str, *, by: datetime) -> bool:
    """Whether a task for the connector waits to run no later than ``by`` (database
    backend only; other backends cannot be inspected and get the task anyway)."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult, get_date_max

    backend = deliver_connector_task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        return False
    return (
        DBTaskResult.objects.filter(
            status=TaskResultStatus.READY,
            task_path=deliver_connector_task.module_path,
            backend_name=backend.alias,
            args_kwargs__args__0=connector_id,
        )
        .exclude(run_after__gt=by, run_after__lt=get_date_max())
        .exists()
    )


def ensure_connector_task(connector_id: str, *, run_after: datetime | None = None) -> bool:
    """Enqueue a delivery task for the connector unless one already waits to run by then;
    returns whether a task was enqueued."""
    task_ = deliver_connector_task
    if run_after is not None:
        if not task_.get_backend().supports_defer:
            return False  # the worker's sweep picks the retry up when it falls due
        task_ = task_.using(run_after=run_after)
    by = max(run_after, timezone.now()) if run_after is not None else timezone.now()
    if _waiting(connector_id, by=by):
        return False
    task_.enqueue(connector_id)
    return True


def enqueue_key_deliveries(
    pairs: Iterable[tuple[str, str]], *, run_after: datetime | None = None
) -> None:
    """Make sure the connectors of these (connector, key) pairs get a delivery task."""
    for connector_id in dict.fromkeys(c for c, _ in pairs):
        ensure_connector_task(connector_id, run_after=run_after)
