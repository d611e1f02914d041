"""A real webhook receiver on 127.0.0.1 for tests and trying connectors out.

It listens on an ephemeral port in a background thread, records every request, answers
with a scripted sequence of behaviours (``200``, ``500``, ``400``, ``"timeout"``…; the
last one repeats) and counts effects once per ``Idempotency-Key``, as a well-behaved
receiver should.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from accord.integration.connectors.webhook import SIGNATURE_HEADER, sign


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int | str

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    secret: str = "s3cret"  # noqa: S105 - a test receiver's default
    script: list[int | str] = field(default_factory=lambda: [200])
    timeout_sleep: float = 2.0
    requests: list[ReceivedRequest] = field(default_factory=list)
    effects: dict[str, Any] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def _next_behaviour(self) -> int | str:
        with self._lock:
            if len(self.script) > 1:
                return self.script.pop(0)
            return self.script[0]

    def signature_ok(self, request: ReceivedRequest) -> bool:
        expected = sign(self.secret, request.body)
        return hmac.compare_digest(expected, request.headers.get(SIGNATURE_HEADER, ""))

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                behaviour = receiver._next_behaviour()
                request = ReceivedRequest(
                    path=self.path,
                    headers=dict(self.headers.items()),
                    body=body,
                    answered=behaviour,
                )
                with receiver._lock:
                    receiver.requests.append(request)
                if behaviour == "timeout":
                    time.sleep(receiver.timeout_sleep)
                    status = 200
                else:
                    status = int(behaviour)
                if status == 200 and receiver.signature_ok(request):
                    key = request.headers.get("Idempotency-Key", "")
                    with receiver._lock:
                        receiver.effects.setdefault(key, request.json)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"ok": true}' if status < 400 else b'{"error": "no"}')
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
