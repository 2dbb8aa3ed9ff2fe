"""`python -m bench submissions`: form submissions under gunicorn, and none lost in a Redis outage.

Three load phases against one gunicorn (2 sync workers), each `--duration` seconds:

1. baseline: POST /bench/insert/, a view doing one INSERT behind the full middleware stack
   (routed only with BENCH_ENDPOINTS=1);
2. floor: the same valid submissions to /bench/form/<slug>/, the form page's own POST path
   (`form_handle`: form lookup, rate limit, size and CSRF checks, validation, redirect) with the
   submission's writes replaced by the baseline's one INSERT: the ceiling of any way of storing
   a submission behind a Django form request (routed only with BENCH_ENDPOINTS=1);
3. submissions: valid submissions of a published double opt-in form, each with a new address;
4. outage: the same load, with the bench's own Redis (broker and cache) stopped for the middle
   `--outage` seconds; afterwards the bench waits until every opt-in e-mail of that phase has
   reached its SMTP sink (the outbox sweeper sends what the broker could not take).

"Accepted" is the form's answer to a stored submission: the redirect to its thanks page. After
each phase the bench counts the phase's `Submission` rows in the database; `lost` is accepted
minus stored. Redis is a private `redis-server` on a free port without persistence, so stopping
it never touches the machine's shared Redis; the Celery worker (with its beat, for the
outbox relay every 2 s) and gunicorn both use it. E-mail goes to an SMTP sink on loopback run by
the bench, which records each recipient.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import json
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from bench import harness, loadgen, server
from bench.harness import (
    PROJECT_DIR,
    BenchError,
    Report,
    at_least,
    at_most,
    die_with_parent,
    percentile,
    progress,
)

BENCH = "submissions"

SUBMISSIONS_RPS_GOAL = 300.0
VS_BASELINE_GOAL = 0.5
SUBMISSIONS_P99_MS_GOAL = 100.0

FORM_SLUG = "bench-submissions"
EMAIL_DOMAIN = "example.com"
BASELINE_PATH = "/bench/insert/"
ACCEPTED = (302, 303)  # the form's redirect to its thanks page
BASELINE_ACCEPTED = (204,)
EMAIL_WAIT_SECONDS = 120.0
REDIS_START_TIMEOUT = 10.0
SERVICE_STOP_TIMEOUT = 10.0
REQUEST_TIMEOUT = 5.0


def parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = harness.parser_for(BENCH, __doc__.splitlines()[0] if __doc__ else BENCH)
    harness.add_database_argument(parser)
    parser.add_argument(
        "--duration",
        type=harness.positive_int,
        default=60,
        metavar="SECONDS",
        help="length of each load phase (default: 60)",
    )
    parser.add_argument(
        "--outage",
        type=harness.positive_int,
        default=20,
        metavar="SECONDS",
        help="how long Redis is stopped, in the middle of the outage phase (default: 20)",
    )
    parser.add_argument(
        "--connections",
        type=harness.positive_int,
        default=8,
        help="concurrent connections (default: 8)",
    )
    parser.add_argument(
        "--workers", type=harness.positive_int, default=2, help="gunicorn workers (default: 2)"
    )
    parser.add_argument(
        "--load-generator",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="wrk if on PATH, else Python (default: auto)",
    )
    options = parser.parse_args(argv)
    if options.outage >= options.duration:
        parser.error("--outage must be shorter than --duration")
    return options


# --- Services the bench runs: Redis, an SMTP sink, a Celery worker -----------------------------


def _popen(
    command: list[str], env: Mapping[str, str] | None = None, *, stderr: Any = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        cwd=PROJECT_DIR,
        env=dict(env) if env is not None else None,
        stdout=subprocess.DEVNULL,
        stderr=stderr if stderr is not None else sys.stderr,
        start_new_session=True,
        preexec_fn=die_with_parent,  # safe: the bench runs no threads while forking
    )


def _stop(process: subprocess.Popen[bytes] | None, name: str) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=SERVICE_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        progress(f"{name} did not stop in time; killing it")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _port_open(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((server.HOST, port)) == 0


class PrivateRedis:
    """A `redis-server` of the bench's own on a free loopback port, with no persistence."""

    def __init__(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise BenchError("redis-server is not on PATH")
        self.executable = executable
        self.port = harness.free_port(server.HOST)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{server.HOST}:{self.port}/0"

    def start(self) -> None:
        self.process = _popen(
            [
                self.executable,
                "--bind",
                server.HOST,
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--loglevel",
                "warning",
            ]
        )
        deadline = time.monotonic() + REDIS_START_TIMEOUT
        while not _port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        _stop(self.process, "redis-server")
        self.process = None


def smtp_sink() -> None:
    """Child process: an SMTP server on loopback appending each recipient to a file, one a line.

    Arguments: port, file. Runs until SIGTERM.
    """
    from aiosmtpd.controller import Controller

    port, path = int(sys.argv[1]), sys.argv[2]
    die_with_parent()

    class Handler:
        def __init__(self) -> None:
            self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (lives with the process)

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            for recipient in envelope.rcpt_tos:
                self.file.write(f"{recipient}\n")
            self.file.flush()
            return "250 OK"

    controller = Controller(Handler(), hostname=server.HOST, port=port)
    controller.start()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


@dataclass
class Sink:
    port: int
    path: Path

    def recipients(self, prefix: str) -> int:
        """How many different recipients starting with `prefix` got a message."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return 0
        return len({line for line in lines if line.startswith(prefix)})


@contextlib.contextmanager
def services(folder: Path) -> Iterator[tuple[PrivateRedis, Sink]]:
    """The private Redis and the SMTP sink, stopped on leaving the block."""
    redis = PrivateRedis()
    sink = Sink(port=harness.free_port(server.HOST), path=folder / "recipients.txt")
    sink_process = None
    try:
        redis.start()
        progress(f"private redis-server on port {redis.port}")
        sink_process = _popen(
            [
                sys.executable,
                "-c",
                "from bench.submissions import smtp_sink; smtp_sink()",
                str(sink.port),
                str(sink.path),
            ]
        )
        deadline = time.monotonic() + 10
        while not _port_open(sink.port):
            if sink_process.poll() is not None or time.monotonic() > deadline:
                raise BenchError("the SMTP sink did not start")
            time.sleep(0.05)
        progress(f"SMTP sink on port {sink.port}")
        yield redis, sink
    finally:
        _stop(sink_process, "SMTP sink")
        redis.stop()


@contextlib.contextmanager
def celery_worker(env: Mapping[str, str], folder: Path) -> Iterator[None]:
    """A worker on the three queues with an embedded beat (the outbox relay, every 2 s)."""
    process = celery_worker_start(env, folder)
    progress("celery worker (with beat) started")
    try:
        yield
    finally:
        _stop(process, "celery worker")
        progress("celery worker stopped")


def celery_worker_start(
    env: Mapping[str, str],
    folder: Path,
    *,
    concurrency: int = 1,
    log: Any = None,
    loglevel: str = "WARNING",
) -> subprocess.Popen[bytes]:
    """Start a worker on the three queues with an embedded beat (its own process group);
    `log`: where its log goes (an open file), the bench's stderr by default."""
    return _popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "inbound",
            "worker",
            "-Q",
            "default,email,tracking",
            f"--concurrency={concurrency}",
            "--beat",
            f"--schedule={folder / 'beat-schedule'}",
            f"--loglevel={loglevel}",  # Celery sets the root logger to it
        ],
        env,
        stderr=log,
    )


# --- Django-side steps, each in a child process on the bench's environment ---------------------


def _django_call(
    env: Mapping[str, str], function: str, *, module: str = "bench.submissions", **kwargs: Any
) -> dict[str, Any]:
    script = (
        "import json, sys\n"
        f"from {module} import {function}\n"
        f"print(json.dumps({function}(**json.loads(sys.argv[1]))))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, json.dumps(kwargs)],
        cwd=PROJECT_DIR,
        env={"DJANGO_SETTINGS_MODULE": "inbound.settings", **env},
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        raise BenchError(f"{function} exited with {completed.returncode}")
    answer: dict[str, Any] = json.loads(lines[-1])
    if "error" in answer:
        raise BenchError(answer["error"])
    return answer


def form_seed() -> dict[str, Any]:
    """Child process: the bench's published double opt-in form (e-mail, first name, consent)."""
    import django

    django.setup()
    from django.urls import reverse
    from django.utils import translation

    from contacts.models import ConsentRecord
    from conversion.models import Form, FormField

    form, _created = Form.objects.update_or_create(
        slug=FORM_SLUG,
        defaults={
            "name": "Bench: submissions",
            "title_es": "Banco de pruebas",
            "title_en": "Bench",
            "success_message_es": "Gracias.",
            "success_message_en": "Thank you.",
            "purpose_notice_es": "Medir el rendimiento.",
            "purpose_notice_en": "Measuring performance.",
            "status": Form.Status.PUBLISHED,
            "double_opt_in": True,
            "notify_emails": "",
            "webhook_url": "",
        },
    )
    fields: list[dict[str, Any]] = [
        {
            "key": "email",
            "kind": FormField.Kind.EMAIL,
            "required": True,
            "target": FormField.Target.CONTACT,
            "target_key": "email",
            "label_es": "Correo electrónico",
            "label_en": "E-mail address",
        },
        {
            "key": "nombre",
            "kind": FormField.Kind.TEXT,
            "target": FormField.Target.CONTACT,
            "target_key": "first_name",
            "label_es": "Nombre",
            "label_en": "First name",
        },
        {
            "key": "boletin",
            "kind": FormField.Kind.CONSENT,
            "consent_purpose": ConsentRecord.Purpose.NEWSLETTER,
            "consent_version": "bench-1",
            "consent_text_es": "Quiero recibir el boletín.",
            "consent_text_en": "I want the newsletter.",
            "label_es": "Boletín",
            "label_en": "Newsletter",
        },
    ]
    for order, field in enumerate(fields):
        FormField.objects.update_or_create(
            form=form, key=field["key"], defaults={**field, "order": order}
        )
    with translation.override("es"):
        path = reverse("conversion:form", kwargs={"slug": FORM_SLUG})
    return {"path": path}


def submissions_count(prefix: str) -> dict[str, Any]:
    """Child process: the bench form's stored submissions whose address starts with `prefix`."""
    import django

    django.setup()
    from conversion.models import Submission

    stored = Submission.objects.filter(
        form__slug=FORM_SLUG, values__email__startswith=prefix
    ).count()
    return {"stored": stored}


# --- Load --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostLoad:
    """What one phase sends: a body, headers, the statuses that count as accepted, and the
    prefix of a new address per request (empty: the same body every time)."""

    url: str
    body: str
    headers: dict[str, str]
    accepted: tuple[int, ...]
    email_prefix: str = ""


@dataclass(frozen=True)
class PostResult:
    requests: int
    accepted: int
    other: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua one for ASCII text


WRK_POST_SCRIPT = """
local threads = {}
local counter = 0
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function init(args) accepted = 0; other = 0 end
function request()
  local body = BODY
  if PREFIX ~= "" then
    counter = counter + 1
    body = body .. "&email=" .. PREFIX .. id .. "-" .. counter .. "%40" .. DOMAIN
  end
  return wrk.format("POST", nil, HEADERS, body)
end
function response(status, headers, body)
  if ACCEPTED[status] then accepted = accepted + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local a, o = 0, 0
  for _, thread in ipairs(threads) do
    a = a + thread:get("accepted")
    o = o + thread:get("other")
  end
  io.write(string.format("Accepted responses: %d\\nOther responses: %d\\n", a, o))
end
"""
_ACCEPTED_LINE = re.compile(r"^Accepted responses: (\d+)", re.MULTILINE)
_OTHER_LINE = re.compile(r"^Other responses: (\d+)", re.MULTILINE)


def wrk_script(load: PostLoad) -> str:
    headers = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in load.headers.items())
    accepted = ", ".join(f"[{status}] = true" for status in load.accepted)
    return (
        f"BODY = {_lua_string(load.body)}\n"
        f"PREFIX = {_lua_string(load.email_prefix)}\n"
        f"DOMAIN = {_lua_string(EMAIL_DOMAIN)}\n"
        f"HEADERS = {{{headers}}}\n"
        f"ACCEPTED = {{{accepted}}}\n" + WRK_POST_SCRIPT
    )


def _wrk_post(
    load: PostLoad, *, duration: int, connections: int, during: Callable[[], None]
) -> PostResult:
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as folder:
        script = Path(folder) / "post.lua"
        script.write_text(wrk_script(load), encoding="utf-8")
        command = [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            f"--timeout={int(REQUEST_TIMEOUT)}s",
            "--latency",
            f"--script={script}",
            load.url,
        ]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=die_with_parent,  # safe: the bench runs no threads while forking
        )
        try:
            during()
            stdout, stderr = process.communicate(timeout=duration + 60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    if process.returncode != 0:
        raise BenchError(f"wrk exited with {process.returncode}: {stderr.strip()}")
    figures = loadgen.parse_wrk_output(stdout)
    accepted, other = _ACCEPTED_LINE.search(stdout), _OTHER_LINE.search(stdout)
    if accepted is None or other is None:
        raise BenchError(f"unexpected wrk output:\n{stdout}")
    return PostResult(
        requests=figures.requests,
        accepted=int(accepted.group(1)),
        other=int(other.group(1)),
        errors=figures.errors,
        rps=figures.rps,
        p50_ms=figures.p50_ms,
        p99_ms=figures.p99_ms,
    )


def _python_post_worker(
    load: PostLoad,
    number: int,
    duration: float,
    start: Event,
    results: Queue[tuple[list[float], int, int, int]],
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    parts = urlsplit(load.url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=REQUEST_TIMEOUT)
    headers = {**load.headers, "Connection": "keep-alive"}
    latencies: list[float] = []
    accepted = other = errors = counter = 0
    start.wait()
    deadline = time.perf_counter() + duration
    while (sent_at := time.perf_counter()) < deadline:
        body = load.body
        if load.email_prefix:
            counter += 1
            body += f"&email={load.email_prefix}{number}-{counter}%40{EMAIL_DOMAIN}"
        try:
            connection.request("POST", parts.path, body=body.encode(), headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            continue
        latencies.append((time.perf_counter() - sent_at) * 1000.0)
        if response.status in load.accepted:
            accepted += 1
        else:
            other += 1
    connection.close()
    results.put((latencies, accepted, other, errors))


def _python_post(
    load: PostLoad, *, duration: int, connections: int, during: Callable[[], None]
) -> PostResult:
    context = multiprocessing.get_context()
    start = context.Event()
    results: Queue[tuple[list[float], int, int, int]] = context.Queue()
    workers = [
        context.Process(
            target=_python_post_worker,
            args=(load, number, duration, start, results),
            daemon=True,
        )
        for number in range(1, connections + 1)
    ]
    for worker in workers:
        worker.start()
    try:
        start.set()
        during()
        collected = [results.get(timeout=duration + 60) for _ in workers]
        for worker in workers:
            worker.join()
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                with contextlib.suppress(Exception):
                    worker.join(timeout=5)
    latencies = [latency for worker_latencies, *_ in collected for latency in worker_latencies]
    return PostResult(
        requests=len(latencies),
        accepted=sum(item[1] for item in collected),
        other=sum(item[2] for item in collected),
        errors=sum(item[3] for item in collected),
        rps=len(latencies) / duration,
        p50_ms=percentile(latencies, 0.50) if latencies else 0.0,
        p99_ms=percentile(latencies, 0.99) if latencies else 0.0,
    )


def post_load(
    generator: str,
    load: PostLoad,
    *,
    duration: int,
    connections: int,
    during: Callable[[], None] = lambda: None,
) -> PostResult:
    """Send `load` for `duration` seconds; `during` runs in the bench while the load goes on."""
    send = _wrk_post if generator == "wrk" else _python_post
    return send(load, duration=duration, connections=connections, during=during)


# --- The form's token, cookie and start time ---------------------------------------------------

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_STARTED_INPUT = re.compile(r'name="started" value="([^"]+)"')
_CSRF_COOKIE = re.compile(r"csrftoken=([^;]+)")


def form_load(base_url: str, path: str, email_prefix: str) -> PostLoad:
    """One GET of the form gives the CSRF cookie and token and the signed start time, which
    every POST of the phase reuses (the token stays valid with its cookie)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        html = response.read().decode("utf-8", "replace")
        cookies = " ".join(response.headers.get_all("Set-Cookie") or [])
    except (OSError, http.client.HTTPException) as error:
        raise BenchError(f"GET {path} failed: {error}") from error
    finally:
        connection.close()
    token, started = _CSRF_INPUT.search(html), _STARTED_INPUT.search(html)
    cookie = _CSRF_COOKIE.search(cookies)
    if response.status != 200 or token is None or started is None or cookie is None:
        raise BenchError(f"GET {path} answered {response.status} without a usable form")
    body = "&".join(
        f"{name}={quote(value, safe='')}"
        for name, value in (
            ("csrfmiddlewaretoken", token.group(1)),
            ("started", started.group(1)),
            ("nombre", "Ana"),
            ("boletin", "on"),
        )
    )
    return PostLoad(
        url=base_url + path,
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie.group(1)}",
        },
        accepted=ACCEPTED,
        email_prefix=email_prefix,
    )


# --- The run -------------------------------------------------------------------------------------


def bench_environ(database_url: str, redis: PrivateRedis, sink: Sink) -> dict[str, str]:
    env = server.production_environ(database_url)
    env.update(
        REDIS_URL=redis.url,
        EMAIL_URL=f"smtp://{server.HOST}:{sink.port}",
        CONVERSION_RATE_LIMIT_PER_MINUTE=str(10**9),
        CONVERSION_MIN_FILL_SECONDS="0",
        BENCH_ENDPOINTS="1",
        CELERY_NAMESPACE="",
    )
    env.pop("REDIS_CACHE_URL", None)
    return env


def _outage(redis: PrivateRedis, *, duration: int, outage: int, marks: dict[str, float]) -> None:
    started = time.monotonic()
    time.sleep((duration - outage) / 2)
    progress(f"stopping redis for {outage} s")
    redis.stop()
    marks["stopped"] = time.monotonic() - started
    time.sleep(outage)
    redis.start()
    marks["restarted"] = time.monotonic() - started
    progress("redis is back")


def _wait_for_emails(sink: Sink, prefix: str, expected: int) -> int:
    deadline = time.monotonic() + EMAIL_WAIT_SECONDS
    received = sink.recipients(prefix)
    while received < expected and time.monotonic() < deadline:
        time.sleep(1)
        received = sink.recipients(prefix)
    return received


def _phase_line(name: str, result: PostResult) -> None:
    progress(
        f"{name:<12} {result.rps:8.1f} req/s  p50 {result.p50_ms:7.2f} ms  "
        f"p99 {result.p99_ms:7.2f} ms  accepted {result.accepted}  other {result.other}  "
        f"errors {result.errors}"
    )


def measure(options: argparse.Namespace) -> Report:
    generator = loadgen.available_generator(options.load_generator)
    run_id = secrets.token_hex(4)
    main_prefix, outage_prefix = f"b{run_id}-s-", f"b{run_id}-o-"
    with (
        tempfile.TemporaryDirectory(prefix="bench-submissions-") as tmp,
        services(Path(tmp)) as (redis, sink),
    ):
        folder = Path(tmp)
        env = bench_environ(options.database_url, redis, sink)
        server.prepare_project(env)
        form_path = str(_django_call(env, "form_seed")["path"])
        with (
            celery_worker(env, folder),
            server.gunicorn(env, workers=options.workers) as base_url,
        ):
            baseline_load = PostLoad(
                url=base_url + BASELINE_PATH,
                body="",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                accepted=BASELINE_ACCEPTED,
            )
            run = {"duration": options.duration, "connections": options.connections}
            baseline = post_load(generator, baseline_load, **run)
            _phase_line("baseline", baseline)
            floor_load = dataclasses.replace(
                form_load(base_url, form_path, f"b{run_id}-f-"),
                url=f"{base_url}/bench/form/{FORM_SLUG}/",
            )
            floor = post_load(generator, floor_load, **run)
            _phase_line("floor", floor)
            submissions = post_load(generator, form_load(base_url, form_path, main_prefix), **run)
            _phase_line("submissions", submissions)
            stored = _django_call(env, "submissions_count", prefix=main_prefix)["stored"]

            outage_form = form_load(base_url, form_path, outage_prefix)
            marks: dict[str, float] = {}
            outage = post_load(
                generator,
                outage_form,
                during=lambda: _outage(
                    redis, duration=options.duration, outage=options.outage, marks=marks
                ),
                **run,
            )
            _phase_line("outage", outage)
            outage_stored = _django_call(env, "submissions_count", prefix=outage_prefix)["stored"]
            progress(f"waiting up to {EMAIL_WAIT_SECONDS:g} s for the outage's opt-in e-mails")
            outage_emails = _wait_for_emails(sink, outage_prefix, outage_stored)
            main_emails = sink.recipients(main_prefix)

    lost = max(0, submissions.accepted - stored)
    outage_lost = max(0, outage.accepted - outage_stored)
    vs_baseline = round(submissions.rps / baseline.rps, 3) if baseline.rps else 0.0
    figures: dict[str, harness.Figure] = {
        "database": harness.database_vendor(options.database_url),
        "load_generator": generator,
        "duration_s": options.duration,
        "outage_s": options.outage,
        "connections": options.connections,
        "workers": options.workers,
        "submissions_rps": round(submissions.rps, 1),
        "submissions_p50_ms": round(submissions.p50_ms, 2),
        "submissions_p99_ms": round(submissions.p99_ms, 2),
        "requests": submissions.requests,
        "accepted": submissions.accepted,
        "rejected": submissions.other,
        "errors": submissions.errors,
        "stored": stored,
        "lost": lost,
        "optin_emails": main_emails,
        "baseline_rps": round(baseline.rps, 1),
        "baseline_p50_ms": round(baseline.p50_ms, 2),
        "baseline_p99_ms": round(baseline.p99_ms, 2),
        "baseline_errors": baseline.errors + baseline.other,
        "vs_baseline": vs_baseline,
        "floor_rps": round(floor.rps, 1),
        "floor_p99_ms": round(floor.p99_ms, 2),
        "floor_errors": floor.errors + floor.other,
        "floor_vs_baseline": round(floor.rps / baseline.rps, 3) if baseline.rps else 0.0,
        "submissions_vs_floor": round(submissions.rps / floor.rps, 3) if floor.rps else 0.0,
        "outage_rps": round(outage.rps, 1),
        "outage_p99_ms": round(outage.p99_ms, 2),
        "outage_requests": outage.requests,
        "outage_accepted": outage.accepted,
        "outage_rejected": outage.other,
        "outage_errors": outage.errors,
        "outage_stored": outage_stored,
        "outage_lost": outage_lost,
        "outage_optin_emails": outage_emails,
        "outage_emails_missing": max(0, outage_stored - outage_emails),
        "redis_stopped_at_s": round(marks.get("stopped", 0.0), 1),
        "redis_restarted_at_s": round(marks.get("restarted", 0.0), 1),
    }
    targets = {
        "submissions_rps": at_least(round(submissions.rps, 1), SUBMISSIONS_RPS_GOAL),
        "vs_baseline": at_least(vs_baseline, VS_BASELINE_GOAL),
        "submissions_p99_ms": at_most(
            float(figures["submissions_p99_ms"] or 0.0), SUBMISSIONS_P99_MS_GOAL
        ),
        "lost": at_most(lost, 0),
        "outage_lost": at_most(outage_lost, 0),
        "outage_emails_missing": at_most(float(figures["outage_emails_missing"] or 0), 0),
    }
    # A run that accepted nothing measured nothing.
    failed = submissions.accepted == 0 or baseline.accepted == 0
    return Report(figures=figures, targets=targets, failed=failed)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    return harness.run(BENCH, lambda: measure(options))
