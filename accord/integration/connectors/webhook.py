"""Webhook connector: the event as signed JSON, POSTed with httpx.

Headers: ``Idempotency-Key`` (the event id — a receiver that sees it twice should act
once), ``X-Accord-Event`` (the type), ``X-Accord-Signature: sha256=<hex>`` (HMAC-SHA256 of
the exact body bytes with the connector's ``secret``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx
from django.utils import timezone

from accord.integration.connectors import PermanentError, RetryableError, TargetUnavailable
from accord.integration.mapping import MappingError, map_event_payload

if TYPE_CHECKING:
    from accord.integration.models import Connector, OutboxEvent

SIGNATURE_HEADER = "X-Accord-Signature"
# The receiver is down, overloaded or behind a gateway that cannot reach it.
UNAVAILABLE_STATUSES = frozenset({429, 502, 503, 504})
DEFAULT_TIMEOUT_SECONDS = 10.0

_local = threading.local()


def _client() -> httpx.Client:
    client = getattr(_local, "client", None)
    if client is None:
        client = httpx.Client(follow_redirects=False, headers={"User-Agent": "Accord"})
        _local.client = client
    return client


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(connector: Connector, event: OutboxEvent) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "type": event.event_type,
        "occurred_at": event.created_at.isoformat(),
        "ordering_key": event.ordering_key,
        "sequence": event.seq,
        "data": map_event_payload(connector.field_mapping, event.event_type, event.payload),
    }


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return None


class WebhookConnector:
    def deliver(self, *, connector: Connector, event: OutboxEvent) -> None:
        settings = connector.settings
        url = settings.get("url")
        if not url:
            raise PermanentError("The connector has no url.")
        try:
            body = json.dumps(
                envelope(connector, event), separators=(",", ":"), sort_keys=True
            ).encode()
        except MappingError as exc:
            raise PermanentError(f"Mapping: {exc}") from exc
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": str(event.id),
            "X-Accord-Event": event.event_type,
            SIGNATURE_HEADER: sign(str(settings.get("secret", "")), body),
        }
        timeout = float(settings.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS))
        try:
            response = _client().post(
                url,
                content=body,
                headers=headers,
                timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            )
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TargetUnavailable(f"No connection within {timeout:g}s.") from exc
        except httpx.TimeoutException as exc:  # sent, no answer: maybe this event's fault
            raise RetryableError(f"Timed out after {timeout:g}s ({type(exc).__name__}).") from exc
        except httpx.TransportError as exc:
            raise TargetUnavailable(f"Connection failed: {exc}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        detail = f"HTTP {status}: {response.text[:200]}"
        if status in UNAVAILABLE_STATUSES:
            raise TargetUnavailable(detail, retry_after=_retry_after(response))
        if status == 408 or status >= 500:
            raise RetryableError(detail, retry_after=_retry_after(response))
        raise PermanentError(detail)
