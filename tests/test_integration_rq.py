"""The documented switch to Redis: ACCORD_TASKS_BACKEND=rq (django-tasks-rq + django-rq).

Real processes against the Redis at 127.0.0.1:6379: one enqueues a delivery task through
Django's tasks framework onto an RQ queue, ``accord worker --batch`` (an RQ worker in burst
mode, with django-tasks-rq's job class) runs it, and the webhook receives the event once.
Skips, saying why, when Redis or django-tasks-rq is missing. The test database must be
reachable from another process (PostgreSQL, or SQLite in a file).
"""

from __future__ import annotations

import importlib.util
import os
import random
import socket
import subprocess
import sys

import pytest

from accord.integration.models import Connector, ConnectorKind, Delivery, DeliveryStatus
from accord.integration.testing import WebhookReceiver
from tests.conftest import make_account
from tests.test_integration_crash import _database_url

pytestmark = pytest.mark.django_db(transaction=True)


def _redis_or_skip() -> None:
    if importlib.util.find_spec("django_tasks_rq") is None:
        pytest.skip("django-tasks-rq is not installed (pip install 'accord[rq]')")
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError as exc:
        pytest.skip(f"Redis at 127.0.0.1:6379 is unreachable ({exc})")


def _accord(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accord.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deliveries_run_on_rq_workers(org, tmp_path):
    _redis_or_skip()
    receiver = WebhookReceiver(secret="k" * 16).start()
    try:
        connector = Connector.objects.create(
            name="hook",
            kind=ConnectorKind.WEBHOOK,
            event_types=["account.approved"],
            settings={"url": receiver.url, "secret": "k" * 16},
        )
        account = make_account(org)
        # A Redis database of its own, so parallel runs do not take each other's jobs.
        redis_db = random.randint(1, 15)
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "ACCORD_VAR_DIR": str(tmp_path),
            "ACCORD_TASKS_BACKEND": "rq",
            "ACCORD_REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        }
        enqueue = (
            "from accord.integration.tasks import deliver_key_task, enqueue_key_deliveries;"
            f"enqueue_key_deliveries([({str(connector.pk)!r}, {str(account.pk)!r})]);"
            "print(type(deliver_key_task.get_backend()).__name__)"
        )
        queued = _accord(env, "shell", "-c", enqueue)
        assert queued.returncode == 0, queued.stderr
        assert queued.stdout.strip().endswith("RQBackend")
        assert not receiver.requests  # queued on Redis, not run yet
        worked = _accord(env, "worker", "--batch", "--sweep-interval", "0", "--verbosity", "0")
        assert worked.returncode == 0, worked.stderr
    finally:
        receiver.stop()
    delivery = Delivery.objects.get(connector=connector)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
    assert [r.headers["X-Accord-Event"] for r in receiver.requests] == ["account.approved"]
    assert receiver.signature_ok(receiver.requests[0])
