"""POST load that accounts for every request: the `submissions` bench's load generator.

One child process runs `connections` keep-alive HTTP/1.1 connections with asyncio. Each sends a
request, reads the whole answer, and sends the next until the phase's time is up; then it sends
nothing more and waits for the answer it has in flight (at most the request timeout), so no
request is left unaccounted: each one sent is accepted, rejected (another status) or failed (no
answer: a socket error or the timeout). When the load gives each request a new address, the
addresses accepted and those left without an answer are returned, so that the bench can check
each accepted one against the database. Throughput is accepted answers divided by the time from
the first request to the last answer, never requests per second.

wrk is lighter but cannot say which request an answer belongs to; this costs about a tenth of
a core at 600 requests/s, for the baseline and the form alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from urllib.parse import quote, urlsplit

from bench.harness import BenchError, die_with_parent, percentile

REQUEST_TIMEOUT = 5.0
EMAIL_DOMAIN = "example.com"


@dataclass(frozen=True)
class PostLoad:
    """What one phase sends: a body, headers, the statuses that count as accepted, and the
    prefix of a new address per request (empty: the same body every time)."""

    url: str
    body: str
    headers: dict[str, str]
    accepted: tuple[int, ...]
    email_prefix: str = ""


@dataclass
class PostResult:
    sent: int = 0
    accepted: int = 0
    rejected: int = 0  # answered with a status outside `accepted`
    failed: int = 0  # no answer: a socket error or the timeout
    elapsed_s: float = 0.0  # from the first request to the last answer
    latencies_ms: list[float] = field(default_factory=list)
    accepted_emails: list[str] = field(default_factory=list)
    unanswered_emails: list[str] = field(default_factory=list)

    def __add__(self, other: PostResult) -> PostResult:
        """Two runs of the same load as one (their times added)."""
        return PostResult(
            sent=self.sent + other.sent,
            accepted=self.accepted + other.accepted,
            rejected=self.rejected + other.rejected,
            failed=self.failed + other.failed,
            elapsed_s=self.elapsed_s + other.elapsed_s,
            latencies_ms=self.latencies_ms + other.latencies_ms,
            accepted_emails=self.accepted_emails + other.accepted_emails,
            unanswered_emails=self.unanswered_emails + other.unanswered_emails,
        )

    @property
    def rps(self) -> float:
        """Accepted answers per second."""
        return self.accepted / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 0.50) if self.latencies_ms else 0.0

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 0.99) if self.latencies_ms else 0.0


async def _answer_status(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, whether the server keeps the connection) of one answer, its body read."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers = {}
    for line in header_lines:
        name, _sep, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    if headers.get("transfer-encoding") == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers.get("connection") != "close"


async def _connection(
    load: PostLoad, number: int, deadline: float, result: PostResult, stamps: list[float]
) -> None:
    parts = urlsplit(load.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    head = f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in load.headers.items()
    )
    streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    counter = 0
    while time.perf_counter() < deadline:
        counter += 1
        body, address = load.body, ""
        if load.email_prefix:
            address = f"{load.email_prefix}{number}-{counter}@{EMAIL_DOMAIN}"
            body += f"&email={quote(address, safe='')}"
        request = f"{head}Content-Length: {len(body)}\r\n\r\n{body}".encode()
        sent_at = time.perf_counter()
        result.sent += 1
        try:
            if streams is None:
                streams = await asyncio.wait_for(
                    asyncio.open_connection(host, port), REQUEST_TIMEOUT
                )
            reader, writer = streams
            writer.write(request)
            status, keep = await asyncio.wait_for(_answer_status(reader), REQUEST_TIMEOUT)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
            result.failed += 1
            if address:
                result.unanswered_emails.append(address)
            if streams is not None:
                streams[1].close()
            streams = None
            continue
        answered_at = time.perf_counter()
        stamps.append(answered_at)
        result.latencies_ms.append((answered_at - sent_at) * 1000.0)
        if status in load.accepted:
            result.accepted += 1
            if address:
                result.accepted_emails.append(address)
        else:
            result.rejected += 1
        if not keep:
            streams[1].close()
            streams = None
    if streams is not None:
        streams[1].close()


async def _load(load: PostLoad, *, duration: float, connections: int) -> PostResult:
    result = PostResult()
    stamps: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _connection(load, number, started + duration, result, stamps)
            for number in range(1, connections + 1)
        )
    )
    result.elapsed_s = (max(stamps) if stamps else time.perf_counter()) - started
    return result


def _child(
    load: PostLoad,
    duration: float,
    connections: int,
    start: Event,
    results: Queue[PostResult],
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    die_with_parent()
    start.wait()
    results.put(asyncio.run(_load(load, duration=duration, connections=connections)))


def post_load(
    load: PostLoad,
    *,
    duration: int,
    connections: int,
    during: Callable[[], None] = lambda: None,
) -> PostResult:
    """Send `load` for `duration` seconds; `during` runs in the bench while the load goes on."""
    context = multiprocessing.get_context("fork")
    start = context.Event()
    results: Queue[PostResult] = context.Queue()
    child = context.Process(
        target=_child, args=(load, duration, connections, start, results), daemon=True
    )
    child.start()
    try:
        start.set()
        during()
        # Read before joining: the child cannot exit while its result sits in the pipe.
        result = results.get(timeout=duration + REQUEST_TIMEOUT + 60)
        child.join()
    except Exception as error:
        raise BenchError(f"the load generator gave no result: {error!r}") from error
    finally:
        if child.is_alive():
            child.terminate()
            with contextlib.suppress(Exception):
                child.join(timeout=5)
    return result
