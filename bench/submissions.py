"""`python -m bench submissions`: form submissions under gunicorn, the relay draining them, and
none lost in a Redis outage.

Load phases against one gunicorn (2 sync workers), each `--duration` seconds, 8 connections:

1. baseline: POST /bench/insert/, a view doing one INSERT behind the full middleware stack
   (routed only with BENCH_ENDPOINTS=1);
2. floor: the same valid submissions to /bench/form/<slug>/, the form page's own POST path
   (`form_handle`: form lookup, rate limit, size and CSRF checks, validation, redirect) with the
   submission's writes replaced by the baseline's one INSERT: the ceiling of any way of storing
   a submission behind a Django form request (routed only with BENCH_ENDPOINTS=1). Half of it
   runs before the burst and half after the relay drained it, so that a shared machine's drift
   moves both sides of `submissions_vs_floor` alike;
3. submissions: valid submissions of a published double opt-in form, each with a new address
   (the burst); then the bench times the relay until every one of them is applied and its
   opt-in e-mail is in the SMTP sink (`relay_drain_s`, from the burst's last answer);
4. outage: the same load, with the bench's own Redis (broker and cache) stopped for the middle
   `--outage` seconds; afterwards the bench waits until every opt-in e-mail of that phase has
   reached its SMTP sink (the outbox relay sends what the broker could not take);
5. backlog: whatever rate the machine served the burst at, the relays' own capacity: the goal's
   300/s × `--duration` submissions stored by `submission_create` while no relay runs, then the
   relays started and timed until every one is applied and mailed (`relay_backlog_drain_s`).

Every request is accounted for (`bench.postload`): accepted (the form's redirect to its thanks
page; 204 for the baseline), rejected (any other status) or failed (no answer). Rates are
accepted answers per second. Each accepted address is then looked up among the phase's stored
`Submission` rows: `lost` counts accepted ones not stored, `unexplained_stored` rows no request
explains (a double), `unanswered_stored` requests that got no answer yet were stored. Redis is a
private `redis-server` on a free port without persistence, so stopping it never touches the
machine's shared Redis; the Celery worker (`--relays` processes, with beat: the outbox relay
every 2 s) and gunicorn both use it. E-mail goes to an SMTP sink on loopback run by the bench,
which records each recipient.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import json
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
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from bench import harness, server, sinks
from bench.cpu import CpuSampler, group_pids, marker_pids, postgres_pids
from bench.harness import (
    PROJECT_DIR,
    BenchError,
    Report,
    at_least,
    at_most,
    die_with_parent,
    progress,
)
from bench.postload import EMAIL_DOMAIN, PostLoad, PostResult, post_load

BENCH = "submissions"

SUBMISSIONS_RPS_GOAL = 300.0
VS_FLOOR_GOAL = 0.6
SUBMISSIONS_P99_MS_GOAL = 100.0
RELAY_DRAIN_S_GOAL = 60.0

FORM_SLUG = "bench-submissions"
BASELINE_PATH = "/bench/insert/"
ACCEPTED = (302, 303)  # the form's redirect to its thanks page
BASELINE_ACCEPTED = (204,)
EMAIL_WAIT_SECONDS = 120.0
DRAIN_WAIT_SECONDS = 180.0  # then the bench goes on, the drain target not met
REDIS_START_TIMEOUT = 10.0
SERVICE_STOP_TIMEOUT = 10.0


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
        "--relays",
        type=harness.positive_int,
        default=2,
        help="Celery worker processes, each running outbox relay sweeps (default: 2)",
    )
    parser.add_argument(
        "--worker-niceness",
        type=int,
        choices=range(20),
        default=10,
        metavar="0-19",
        help="the worker's WORKER_NICENESS, its CPU priority below the web's (default: 10, the "
        "product's default; 0 runs the relay level with the web)",
    )
    parser.add_argument(
        "--sink",
        choices=["auto", "smtp-sink", "aiosmtpd"],
        default="auto",
        help="Postfix's smtp-sink when installed, else aiosmtpd (default: auto)",
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


@contextlib.contextmanager
def services(folder: Path, sink_choice: str) -> Iterator[tuple[PrivateRedis, sinks.Sink, str]]:
    """The private Redis and the SMTP sink (`bench.sinks`: Postfix's smtp-sink unless missing,
    so that taking the opt-in e-mails costs the machine little, as a remote mail server would;
    aiosmtpd in Python takes about 1 ms of CPU a message), stopped on leaving the block; and a
    note when the sink is not the one asked for."""
    redis = PrivateRedis()
    sink, note = sinks.sink_make(folder, sink_choice)
    try:
        redis.start()
        progress(f"private redis-server on port {redis.port}")
        sink.start()
        progress(f"SMTP sink ({sink.kind}) on port {sink.port}")
        yield redis, sink, note
    finally:
        sink.stop()
        sink.remove()
        redis.stop()


@contextlib.contextmanager
def celery_worker(
    env: Mapping[str, str], folder: Path, *, concurrency: int = 1
) -> Iterator[subprocess.Popen[bytes]]:
    """A worker on the three queues with an embedded beat (the outbox relay, every 2 s);
    `concurrency` processes run sweeps side by side (they claim rows with SKIP LOCKED). Yields
    the worker's main process, which leads the process group of its pool."""
    process = celery_worker_start(env, folder, concurrency=concurrency)
    progress("celery worker (with beat) started")
    try:
        yield process
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


def submissions_stored(prefix: str) -> dict[str, Any]:
    """Child process: the addresses of the bench form's stored submissions starting with
    `prefix`, one per submission (a twin shows as a repeat)."""
    import django

    django.setup()
    from conversion.models import Submission

    rows = Submission.objects.filter(form__slug=FORM_SLUG, values__email__startswith=prefix)
    return {"emails": list(rows.values_list("values__email", flat=True))}


def burst_stage(prefix: str, count: int) -> dict[str, Any]:
    """Child process: `count` submissions of the bench form stored as its page stores them
    (`submission_create`), one after another as fast as one process goes; the wall-clock time
    the last one was stored."""
    import django

    django.setup()
    from conversion.forms import form_published
    from conversion.services import submission_create

    form = form_published(FORM_SLUG)
    started = time.monotonic()
    for number in range(count):
        cleaned = {"email": f"{prefix}{number}@{EMAIL_DOMAIN}", "nombre": "Ana", "boletin": True}
        submission_create(
            form=form,
            cleaned=cleaned,
            files={},
            language="es",
            page="/bench/",
            referrer="",
            visitor_key="",
        )
    return {"ended_at": time.time(), "store_s": round(time.monotonic() - started, 1)}


def relay_drain_wait(
    prefix: str, sink_kind: str, sink_record: str, ended_at: float, timeout: float
) -> dict[str, Any]:
    """Child process: wait until every stored submission starting with `prefix` is applied and
    its opt-in e-mail is in the SMTP sink's file; seconds from `ended_at` (the burst's last
    answer, wall clock) until then, and what was still pending when it returned."""
    import django

    django.setup()
    from django.db.models import Max, Min

    from conversion.models import Submission

    phase = Submission.objects.filter(form__slug=FORM_SLUG, values__email__startswith=prefix)
    expected = set(phase.values_list("values__email", flat=True))
    # Polled by their id range (nothing else stores submissions meanwhile): a scan of every
    # submission's JSON twice a second would take the relays' database time.
    ids = phase.aggregate(low=Min("pk"), high=Max("pk"))
    rows = Submission.objects.filter(pk__range=(ids["low"] or 0, ids["high"] or 0))
    record = Path(sink_record)
    while True:
        unapplied = rows.filter(applied_at__isnull=True).count()
        mailed = len({r for r in sinks.delivered_in(sink_kind, record) if r.startswith(prefix)})
        waited = time.time() - ended_at
        if (unapplied == 0 and mailed >= len(expected)) or waited > timeout:
            return {
                "drain_s": round(waited, 1),
                "unapplied": unapplied,
                "emails_missing": len(expected) - mailed,
            }
        time.sleep(0.5)


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


def bench_environ(
    database_url: str, redis: PrivateRedis, sink: sinks.Sink, *, worker_niceness: int = 10
) -> dict[str, str]:
    env = server.production_environ(database_url)
    env.update(
        REDIS_URL=redis.url,
        EMAIL_URL=f"smtp://{server.HOST}:{sink.port}",
        CONVERSION_RATE_LIMIT_PER_MINUTE=str(10**9),
        CONVERSION_MIN_FILL_SECONDS="0",
        BENCH_ENDPOINTS="1",
        CELERY_NAMESPACE="",
        WORKER_NICENESS=str(worker_niceness),
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


def _wait_for_emails(sink: sinks.Sink, prefix: str, expected: int) -> int:
    deadline = time.monotonic() + EMAIL_WAIT_SECONDS
    received = len(sink.recipients(prefix))
    while received < expected and time.monotonic() < deadline:
        time.sleep(1)
        received = len(sink.recipients(prefix))
    return received


# Who used the CPU during a load phase, per accepted answer: the web (gunicorn), the bench
# database's PostgreSQL backends, the relays (the Celery worker), the SMTP sink and the load
# generator (this process). What bounds a phase's rate shows here, whatever else the machine runs.
PARTIES = ("web", "database", "relay", "sink", "loadgen")


@dataclass
class PhaseCpu:
    """CPU seconds per party and the machine's busy core-seconds, summed over a phase's runs."""

    seconds: dict[str, float] = dataclasses.field(
        default_factory=lambda: dict.fromkeys(PARTIES, 0.0)
    )
    machine: float = 0.0
    elapsed: float = 0.0

    def add(self, sampler: CpuSampler) -> None:
        for party, used in sampler.seconds().items():
            self.seconds[party] += used
        self.machine += sampler.machine
        self.elapsed += sampler.elapsed

    def figures(self, phase: str, result: PostResult) -> dict[str, harness.Figure]:
        figures: dict[str, harness.Figure] = {
            f"{phase}_{party}_cpu_ms": _per_answer(self.seconds[party], result) for party in PARTIES
        }
        figures[f"{phase}_busy_cores"] = (
            round(self.machine / self.elapsed, 2) if self.elapsed else 0.0
        )
        return figures


@contextlib.contextmanager
def cpu_used(parties: Mapping[str, Callable[[], set[int]]], into: PhaseCpu) -> Iterator[None]:
    """Add to `into` the CPU each party (and the machine) used during the block."""
    with CpuSampler(parties) as sampler:
        yield
    into.add(sampler)


def _phase_line(name: str, result: PostResult) -> None:
    progress(
        f"{name:<12} {result.rps:8.1f} accepted/s  p50 {result.p50_ms:7.2f} ms  "
        f"p99 {result.p99_ms:7.2f} ms  sent {result.sent}  accepted {result.accepted}  "
        f"rejected {result.rejected}  failed {result.failed}"
    )


@dataclass(frozen=True)
class Accounting:
    """A phase's accepted answers checked one by one against the database."""

    stored: int
    lost: int  # accepted, yet not stored
    unanswered_stored: int  # no answer (timeout, socket error), stored all the same
    unexplained: int  # stored without any request of ours to explain it (e.g. stored twice)


def accounting(result: PostResult, stored_emails: list[str]) -> Accounting:
    stored = set(stored_emails)
    accepted = set(result.accepted_emails)
    unanswered = set(result.unanswered_emails)
    return Accounting(
        stored=len(stored_emails),
        lost=len(accepted - stored),
        unanswered_stored=len(unanswered & stored),
        unexplained=len(stored_emails) - len(stored & (accepted | unanswered)),
    )


def _drained(
    env: Mapping[str, str], sink: sinks.Sink, prefix: str, *, since: float
) -> dict[str, Any]:
    """`relay_drain_wait` in a child process: seconds from `since` until `prefix` drained."""
    return _django_call(
        env,
        "relay_drain_wait",
        prefix=prefix,
        sink_kind=sink.kind,
        sink_record=str(sink.record),
        ended_at=since,
        timeout=DRAIN_WAIT_SECONDS,
    )


def _per_answer(cpu_s: float, result: PostResult) -> float:
    return round(cpu_s * 1000.0 / result.accepted, 2) if result.accepted else 0.0


def measure(options: argparse.Namespace) -> Report:
    run_id = secrets.token_hex(4)
    main_prefix, outage_prefix = f"b{run_id}-s-", f"b{run_id}-o-"
    backlog_prefix = f"b{run_id}-r-"
    with (
        tempfile.TemporaryDirectory(prefix="bench-submissions-") as tmp,
        services(Path(tmp), options.sink) as (redis, sink, sink_note),
    ):
        folder = Path(tmp)
        env = bench_environ(
            options.database_url, redis, sink, worker_niceness=options.worker_niceness
        )
        server.prepare_project(env)
        form_path = str(_django_call(env, "form_seed")["path"])
        autovacuum = harness.database_maintained(options.database_url)
        with (
            celery_worker(env, folder, concurrency=options.relays) as worker,
            server.gunicorn(env, workers=options.workers) as base_url,
        ):
            baseline_load = PostLoad(
                url=base_url + BASELINE_PATH,
                body="",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                accepted=BASELINE_ACCEPTED,
            )
            run = {"duration": options.duration, "connections": options.connections}
            # Each party's CPU per accepted answer, phase by phase: what each request path costs
            # whatever else the machine runs (gunicorn's workers are forks of its master: they
            # share its command line).
            parties: dict[str, Callable[[], set[int]]] = {
                "web": marker_pids(f"--bind={urlsplit(base_url).netloc}"),
                "database": postgres_pids(options.database_url),
                "relay": lambda: group_pids(worker.pid),
                "sink": lambda: {sink.process.pid} if sink.process else set(),
                "loadgen": lambda: {os.getpid()},
            }
            floor_cpu, submissions_cpu = PhaseCpu(), PhaseCpu()
            baseline = post_load(baseline_load, **run)
            _phase_line("baseline", baseline)
            floor_load = dataclasses.replace(
                form_load(base_url, form_path, f"b{run_id}-f-"),
                url=f"{base_url}/bench/form/{FORM_SLUG}/",
            )
            # Half the floor before the burst and half after the relay drained it: a machine
            # whose other load drifts during the run moves both sides of the ratio alike.
            half = {**run, "duration": max(1, options.duration // 2)}
            with cpu_used(parties, floor_cpu):
                floor_before = post_load(floor_load, **half)
            _phase_line("floor", floor_before)
            with cpu_used(parties, submissions_cpu):
                submissions = post_load(form_load(base_url, form_path, main_prefix), **run)
            ended_at = time.time()
            _phase_line("submissions", submissions)
            progress(f"waiting up to {DRAIN_WAIT_SECONDS:g} s for the relay to drain the burst")
            drain = _drained(env, sink, main_prefix, since=ended_at)
            progress(f"relay drained in {drain['drain_s']} s: {drain}")
            with cpu_used(parties, floor_cpu):
                floor_after = post_load(floor_load, **half)
            _phase_line("floor again", floor_after)
            floor = floor_before + floor_after
            main = accounting(
                submissions, _django_call(env, "submissions_stored", prefix=main_prefix)["emails"]
            )
            main_emails = len(sink.recipients(main_prefix))

            marks: dict[str, float] = {}
            outage = post_load(
                form_load(base_url, form_path, outage_prefix),
                during=lambda: _outage(
                    redis, duration=options.duration, outage=options.outage, marks=marks
                ),
                **run,
            )
            _phase_line("outage", outage)
            in_outage = accounting(
                outage, _django_call(env, "submissions_stored", prefix=outage_prefix)["emails"]
            )
            progress(f"waiting up to {EMAIL_WAIT_SECONDS:g} s for the outage's opt-in e-mails")
            outage_emails = _wait_for_emails(sink, outage_prefix, in_outage.stored)

        # The relay's own capacity, whatever rate this machine served the burst at: a backlog of
        # the goal's 300/s × --duration submissions stored while no relay runs, then the relays
        # started and timed (their start included) until all are applied and mailed.
        backlog_size = int(SUBMISSIONS_RPS_GOAL * options.duration)
        progress(f"storing a backlog of {backlog_size} submissions, no relay running")
        staged = _django_call(env, "burst_stage", prefix=backlog_prefix, count=backlog_size)
        relays_started_at = time.time()
        with celery_worker(env, folder, concurrency=options.relays):
            progress(f"waiting up to {DRAIN_WAIT_SECONDS:g} s for the relays to drain it")
            backlog = _drained(env, sink, backlog_prefix, since=relays_started_at)
        progress(f"relays drained the backlog in {backlog['drain_s']} s: {backlog}")

    vs_baseline = round(submissions.rps / baseline.rps, 3) if baseline.rps else 0.0
    vs_floor = round(submissions.rps / floor.rps, 3) if floor.rps else 0.0
    floor_errors = floor.rejected + floor.failed
    failed = submissions.rejected + submissions.failed
    outage_failed = outage.rejected + outage.failed
    figures: dict[str, harness.Figure] = {
        "database": harness.database_vendor(options.database_url),
        "database_autovacuum": autovacuum,
        "load_generator": "asyncio",
        "duration_s": options.duration,
        "outage_s": options.outage,
        "connections": options.connections,
        "workers": options.workers,
        "relays": options.relays,
        "worker_niceness": options.worker_niceness,
        "sink": sink.kind,
        "sink_note": sink_note,
        "submissions_rps": round(submissions.rps, 1),
        "submissions_p50_ms": round(submissions.p50_ms, 2),
        "submissions_p99_ms": round(submissions.p99_ms, 2),
        "elapsed_s": round(submissions.elapsed_s, 2),
        "requests": submissions.sent,
        "accepted": submissions.accepted,
        "rejected": submissions.rejected,
        "failed": submissions.failed,
        "stored": main.stored,
        "lost": main.lost,
        "unanswered_stored": main.unanswered_stored,
        "unexplained_stored": main.unexplained,
        "optin_emails": main_emails,
        "relay_drain_s": drain["drain_s"],
        "relay_unapplied": drain["unapplied"],
        "relay_emails_missing": drain["emails_missing"],
        "relay_backlog": int(SUBMISSIONS_RPS_GOAL * options.duration),
        "relay_backlog_store_s": staged["store_s"],
        "relay_backlog_drain_s": backlog["drain_s"],
        "relay_backlog_unapplied": backlog["unapplied"],
        "relay_backlog_emails_missing": backlog["emails_missing"],
        "baseline_rps": round(baseline.rps, 1),
        "baseline_p50_ms": round(baseline.p50_ms, 2),
        "baseline_p99_ms": round(baseline.p99_ms, 2),
        "baseline_errors": baseline.rejected + baseline.failed,
        "vs_baseline": vs_baseline,
        "floor_rps": round(floor.rps, 1),
        "floor_before_rps": round(floor_before.rps, 1),
        "floor_after_rps": round(floor_after.rps, 1),
        "floor_p99_ms": round(floor.p99_ms, 2),
        "floor_errors": floor_errors,
        "floor_vs_baseline": round(floor.rps / baseline.rps, 3) if baseline.rps else 0.0,
        **floor_cpu.figures("floor", floor),
        **submissions_cpu.figures("submissions", submissions),
        "submissions_vs_floor": vs_floor,
        "outage_rps": round(outage.rps, 1),
        "outage_p99_ms": round(outage.p99_ms, 2),
        "outage_requests": outage.sent,
        "outage_accepted": outage.accepted,
        "outage_rejected": outage.rejected,
        "outage_failed": outage.failed,
        "outage_stored": in_outage.stored,
        "outage_lost": in_outage.lost,
        "outage_unanswered_stored": in_outage.unanswered_stored,
        "outage_unexplained_stored": in_outage.unexplained,
        "outage_optin_emails": outage_emails,
        "outage_emails_missing": in_outage.stored - outage_emails,
        "redis_stopped_at_s": round(marks.get("stopped", 0.0), 1),
        "redis_restarted_at_s": round(marks.get("restarted", 0.0), 1),
    }
    targets = {
        "submissions_rps": at_least(round(submissions.rps, 1), SUBMISSIONS_RPS_GOAL),
        "submissions_vs_floor": at_least(vs_floor, VS_FLOOR_GOAL),
        "submissions_p99_ms": at_most(round(submissions.p99_ms, 2), SUBMISSIONS_P99_MS_GOAL),
        "failed": at_most(failed, 0),
        "floor_errors": at_most(floor_errors, 0),
        "lost": at_most(main.lost + main.unexplained, 0),
        "relay_drain_s": at_most(drain["drain_s"], RELAY_DRAIN_S_GOAL),
        "relay_backlog_drain_s": at_most(backlog["drain_s"], RELAY_DRAIN_S_GOAL),
        "outage_failed": at_most(outage_failed, 0),
        "outage_lost": at_most(in_outage.lost + in_outage.unexplained, 0),
        "outage_emails_missing": at_most(in_outage.stored - outage_emails, 0),
    }
    # A run that accepted nothing measured nothing.
    nothing = submissions.accepted == 0 or baseline.accepted == 0 or floor.accepted == 0
    return Report(figures=figures, targets=targets, failed=nothing)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    return harness.run(BENCH, lambda: measure(options))
