"""A real HTTP server on 127.0.0.1 that records the requests it gets: the far end of webhooks.

`signature_is_valid` checks a recorded request's X-Inbound-Signature with the code that
docs/webhooks.md gives receivers, run exactly as written there.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class Receiver:
    """Answers POSTs with `status` (or `statuses[path]`), after `delay` seconds; a 3xx answer
    points `Location` at `/elsewhere` on the same server, so a followed redirect would show."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.statuses: dict[str, int] = {}
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                time.sleep(receiver.delay)
                status = receiver.statuses.get(self.path, receiver.status)
                try:
                    self.send_response(status)
                    if 300 <= status < 400:
                        self.send_header("Location", f"{receiver.base}/elsewhere")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the caller gave up waiting (a timeout test)
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/hook"


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


DOCS = Path(__file__).resolve().parents[1] / "docs" / "webhooks.md"


@functools.cache
def documented_verifier() -> Callable[..., bool]:
    """`inbound_signature_is_valid` from the first Python block of docs/webhooks.md."""
    code = DOCS.read_text(encoding="utf-8").split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 (our own documentation)
    return namespace["inbound_signature_is_valid"]  # type: ignore[no-any-return]


def signature_is_valid(
    request: dict[str, Any], secret: str, *, now: float | None = None, body: bytes | None = None
) -> bool:
    """Whether a request the receiver recorded is signed with `secret` (and recent, as of
    `now`), judged as docs/webhooks.md tells receivers to; `body` replaces the one received."""
    header = request["headers"].get("X-Inbound-Signature", "")
    return documented_verifier()(header, request["body"] if body is None else body, secret, now=now)
