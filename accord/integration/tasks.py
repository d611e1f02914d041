"""Background tasks (Django's tasks framework; django-tasks-db by default).

One task, :func:`deliver_key_task`, drains what is due for one (connector, ordering key).
It is enqueued when an emitting write commits, when a retry falls due (as a deferred task
where the backend supports it) and by the worker's sweep for work whose task was lost.
Extra tasks for the same pair are harmless: the claim decides who delivers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.tasks import task

from accord.integration.delivery import deliver_key


@task()
def deliver_key_task(connector_id: str, key: str) -> int:
    return deliver_key(connector_id, key)


def enqueue_key_deliveries(
    pairs: Iterable[tuple[str, str]], *, run_after: datetime | None = None
) -> None:
    task_ = deliver_key_task
    if run_after is not None:
        if not task_.get_backend().supports_defer:
            return  # the worker's sweep picks the retry up when it falls due
        task_ = task_.using(run_after=run_after)
    for connector_id, key in dict.fromkeys(pairs):
        task_.enqueue(connector_id, key)


def queued_pairs() -> set[tuple[str, str]]:
    """(connector, key) pairs with a delivery task waiting to run now (database backend).

    The sweep skips these, so a backlog longer than the sweep's grace period does not
    pile up duplicate tasks. Other backends cannot be inspected; extra tasks are harmless.
    """
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    backend = deliver_key_task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        return set()
    rows = (
        DBTaskResult.objects.ready()
        .filter(task_path=deliver_key_task.module_path, backend_name=backend.alias)
        .values_list("args_kwargs", flat=True)
    )
    pairs: set[tuple[str, str]] = set()
    for row in rows:
        args = row.get("args") if isinstance(row, dict) else None
        if isinstance(args, list) and len(args) == 2:
            pairs.add((str(args[0]), str(args[1])))
    return pairs
