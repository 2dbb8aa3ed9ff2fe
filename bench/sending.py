"""`python -m bench sending`: a campaign to N recipients through a real worker to an SMTP sink.

1. plain (the fair reference): the engine's own messages for `--plain` recipients, rendered
   beforehand, sent as finished bytes with `smtplib` by as many processes at once as the
   worker has, one connection each, to the same sink; once before the campaign and once after
   (the higher rate is the reference: a machine shared with others never flatters the ratio);
2. campaign: a newsletter campaign to `--size` consented contacts (a static segment), started
   the way staff start it (`campaign_start`: one INSERT…SELECT of the deliveries), sent by a
   real Celery worker (`--processes` processes, with its beat) on the bench's own Redis; timed
   from the start until no delivery is pending: materialise + render + SMTP + status. The CPU
   each party used meanwhile (worker, PostgreSQL, sink, the whole machine) says what bounds it;
3. fault: another campaign to `--fault-size` contacts; once a third has been sent the worker is
   killed with SIGKILL and started again. The sink must then hold every recipient, and every
   recipient it holds twice must be a delivery the killed worker had handed to the mail server
   without recording it as sent: its journal (`campaigns.sending.journal`) names them.

The sink is Postfix's `smtp-sink` (C, much faster than any Python sender), else aiosmtpd with a
note in the result (`bench.sinks`); the bench counts recipients from what the sink accepted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench import harness, server
from bench.cpu import CpuSampler, group_pids, postgres_pids, process_cpu
from bench.harness import BenchError, Report, at_least, at_most, progress
from bench.sinks import Sink, sink_make
from bench.submissions import PrivateRedis, _stop, celery_worker_start
from bench.submissions import _django_call as _submissions_call


def _django_call(env: Mapping[str, str], function: str, **kwargs: Any) -> dict[str, Any]:
    return _submissions_call(env, function, module="bench.sending", **kwargs)


BENCH = "sending"
RATE_GOAL = 1000.0
VS_PLAIN_GOAL = 0.5
LEASE_SECONDS = 10  # the bench's lease: a killed worker's chunk is taken again this soon
WAIT_SECONDS = 1800.0
# One worker process per core by default, as production runs them: each sends its own leased
# chunks over its own SMTP connection.
WORKER_PROCESSES = 2
JOURNAL = re.compile(r"campaign (\d+): \d+ deliveries handed to the mail server: ([\d,]+)")


def parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = harness.parser_for(BENCH, __doc__.splitlines()[0] if __doc__ else BENCH)
    harness.add_database_argument(parser)
    harness.add_size_argument(parser, default=100_000, unit="recipients")
    parser.add_argument(
        "--plain",
        type=harness.positive_int,
        default=20_000,
        help="messages of each plain smtplib run (default: 20000)",
    )
    parser.add_argument(
        "--fault-size",
        type=harness.positive_int,
        default=20_000,
        help="recipients of the fault run (default: 20000)",
    )
    parser.add_argument(
        "--processes",
        type=harness.positive_int,
        default=WORKER_PROCESSES,
        help=f"worker processes, and plain connections (default: {WORKER_PROCESSES})",
    )
    parser.add_argument(
        "--sink",
        choices=["auto", "smtp-sink", "aiosmtpd"],
        default="auto",
        help="Postfix's smtp-sink when installed, else aiosmtpd (default: auto)",
    )
    return parser.parse_args(argv)


# --- Django-side steps, each in a child process on the bench's environment ---------------------


def audience_seed(size: int, prefix: str) -> dict[str, Any]:
    """Child process: `size` contacts with a newsletter consent in a new static segment."""
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from contacts.models import ConsentRecord, Contact, Segment, SegmentMember

    segment = Segment.objects.create(name=f"Bench {prefix}", kind=Segment.Kind.STATIC)
    now = timezone.now()
    batch = 5000
    for start in range(0, size, batch):
        contacts = Contact.objects.bulk_create(
            Contact(
                email=f"{prefix}{n}@correo.example",
                first_name=("Lucía", "José", "", "Ana")[n % 4],
                email_status=Contact.EmailStatus.ACTIVE,
                language=("es", "en")[n % 5 == 0],
                source=Contact.Source.IMPORT,
            )
            for n in range(start, min(size, start + batch))
        )
        ConsentRecord.objects.bulk_create(
            ConsentRecord(
                contact=contact,
                purpose=ConsentRecord.Purpose.NEWSLETTER,
                action=ConsentRecord.Action.GRANTED,
                legal_basis=ConsentRecord.LegalBasis.CONSENT,
                text="Quiero recibir el boletín.",
                text_version="bench-1",
                source=ConsentRecord.Source.IMPORT,
                occurred_at=now,
            )
            for contact in contacts
        )
        SegmentMember.objects.bulk_create(
            SegmentMember(segment=segment, contact=contact) for contact in contacts
        )
    if connection.vendor == "postgresql":
        # Fresh statistics, as autovacuum keeps them in production: with none, the planner
        # believes the bulk-loaded contacts are few and picks scans of the whole table.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE contacts_contact, contacts_consentrecord")
    return {"segment": segment.pk}


def _bench_campaign(name: str, segment: int) -> Any:
    """A draft newsletter campaign to the segment: a greeting merge tag, a tracked link."""
    from campaigns.models import Campaign, Email

    email = Email.objects.create(
        name=name,
        subject_es="Fiestas de San Blas: el programa",
        subject_en="San Blas festival: the programme",
        preheader_es="Conciertos, talleres y la cabalgata",
        body_es=(
            '<h2>Hola, {{ contact.first_name|default:"vecino/a" }}</h2>'
            "<p>Ya está aquí el programa de las fiestas de San Blas: conciertos en la plaza, "
            "talleres para peques y la cabalgata del sábado.</p>"
            '<p><a href="https://villaclara.example/es/agenda/">Consulta el programa</a></p>'
        ),
        body_en=(
            '<h2>Hello, {{ contact.first_name|default:"neighbour" }}</h2>'
            "<p>The San Blas festival programme is here.</p>"
        ),
    )
    campaign = Campaign.objects.create(name=name, email=email)
    campaign.segments.add(segment)
    return campaign


def campaign_start_now(segment: int, name: str) -> dict[str, Any]:
    """Child process: a newsletter campaign to the segment, started; the wall clock at start."""
    import django

    django.setup()
    from campaigns.sending import campaign_start

    campaign = _bench_campaign(name, segment)
    started = time.time()
    recipients = campaign_start(campaign=campaign)
    return {"campaign": campaign.pk, "started": started, "recipients": recipients}


def campaign_wait(campaign: int, timeout: float, at_least_sent: int = 0) -> dict[str, Any]:
    """Child process: poll until nothing is pending (or `at_least_sent` were sent); the wall
    clock then and the counts. The poll is one indexed EXISTS, so it takes next to nothing
    from the database the engine writes to."""
    import django

    django.setup()
    from django.db.models import Count, Q

    from campaigns.models import Delivery

    deliveries = Delivery.objects.filter(campaign_id=campaign)
    deadline = time.monotonic() + timeout
    while True:
        if at_least_sent:
            done = deliveries.filter(status=Delivery.Status.SENT).count() >= at_least_sent
        else:
            done = not deliveries.filter(status=Delivery.Status.PENDING).exists()
        at = time.time()
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    counts = deliveries.aggregate(
        pending=Count("pk", filter=Q(status=Delivery.Status.PENDING)),
        sent=Count("pk", filter=Q(status=Delivery.Status.SENT)),
        other=Count("pk", filter=~Q(status__in=["pending", "sent"])),
    )
    return {**counts, "at": at, "timed_out": not done}


def plain_fair_rate(port: int, segment: int, count: int, connections: int) -> dict[str, Any]:
    """Child process: the engine's own messages for `count` recipients of the segment, rendered
    first (the campaign's renderer, tracking and signed links included), then sent as finished
    bytes by `connections` processes at once, each over one `smtplib` connection; messages/s
    from the first start to the last end."""
    import multiprocessing
    from email.utils import parseaddr

    import django

    django.setup()
    from django.db import connections as databases

    from campaigns.rendering import CampaignRenderer
    from contacts.models import Contact

    campaign = _bench_campaign("Bench plain", segment)  # a draft: rendered, never started
    renderer = CampaignRenderer(campaign)
    contacts = list(Contact.objects.filter(segmentmember__segment_id=segment).order_by("pk"))
    built = []
    for n in range(count):
        copy = renderer.outgoing(contacts[n % len(contacts)])
        # The bare address, as a plain script would pass it.
        built.append((parseaddr(copy.envelope_from)[1], list(copy.recipients), copy.data))
    databases.close_all()  # the forks below must not share the database connection
    context = multiprocessing.get_context("fork")
    ready = context.Barrier(connections)
    results = context.Queue()
    workers = [
        context.Process(target=_plain_send, args=(port, built[n::connections], ready, results))
        for n in range(connections)
    ]
    for process in workers:
        process.start()
    answers = [results.get(timeout=WAIT_SECONDS) for _ in workers]
    for process in workers:
        process.join()
    failures = [answer["error"] for answer in answers if answer.get("error")]
    if failures:
        return {"error": f"plain smtplib: {failures[0]}"}
    elapsed = max(a["end"] for a in answers) - min(a["start"] for a in answers)
    cpu = sum(a["cpu"] for a in answers)
    return {"rps": count / elapsed, "bytes": len(built[0][2]), "client_cpu_s": cpu}


def _plain_send(port: int, messages: list[Any], ready: Any, results: Any) -> None:
    import smtplib

    try:
        with smtplib.SMTP(server.HOST, port) as smtp:
            smtp.ehlo()
            ready.wait()
            start, cpu = time.monotonic(), time.process_time()  # monotonic: one machine clock
            for sender, recipients, data in messages:
                smtp.sendmail(sender, recipients, data)
            end, cpu = time.monotonic(), time.process_time() - cpu
            results.put({"start": start, "end": end, "cpu": cpu})
    except (OSError, smtplib.SMTPException, threading.BrokenBarrierError) as error:
        results.put({"error": f"{type(error).__name__}: {error}"})


def deliveries_pending(ids: list[int]) -> dict[str, Any]:
    """Child process: which of these deliveries are still pending (not recorded as sent)."""
    import django

    django.setup()
    from campaigns.models import Delivery

    pending = Delivery.objects.filter(pk__in=ids, status=Delivery.Status.PENDING)
    return {"ids": sorted(pending.values_list("pk", flat=True))}


def deliveries_of(campaign: int, emails: list[str]) -> dict[str, Any]:
    """Child process: the delivery id and recorded Message-ID of each address in the campaign."""
    import django

    django.setup()
    from campaigns.models import Delivery

    rows = Delivery.objects.filter(campaign_id=campaign, contact__email__in=emails).values_list(
        "contact__email", "pk", "message_id"
    )
    return {"deliveries": {email: [pk, message_id] for email, pk, message_id in rows}}


# --- The worker ----------------------------------------------------------------------------------


@contextlib.contextmanager
def worker(env: Mapping[str, str], folder: Path, processes: int) -> Iterator[Worker]:
    """A worker with embedded beat, stopped on leaving the block (whichever one runs then)."""
    running = Worker(env, folder, processes)
    try:
        yield running
    finally:
        _stop(running.process, "celery worker")


class Worker:
    """The Celery worker (its own process group), logging to a file per start: the journal of
    a killed worker stays readable after it died."""

    def __init__(self, env: Mapping[str, str], folder: Path, processes: int) -> None:
        # INFO: the sending journal's lines (each group's delivery ids before they leave).
        self.env = {**env, "LOG_LEVEL": "INFO"}
        self.folder, self.processes = folder, processes
        self.starts = 0
        self.process = self._start()

    @property
    def log(self) -> Path:
        return self.folder / f"worker-{self.starts}.log"

    def _start(self) -> subprocess.Popen[bytes]:
        self.starts += 1
        with self.log.open("wb") as log:
            return celery_worker_start(
                self.env, self.folder, concurrency=self.processes, log=log, loglevel="INFO"
            )

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def restart(self) -> None:
        self.process = self._start()

    def journal(self, campaign: int) -> list[int]:
        """The delivery ids this start of the worker handed to the mail server for `campaign`,
        from its log (the journal lines, written before each group leaves)."""
        ids: list[int] = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                line = str(json.loads(line).get("message", ""))
            found = JOURNAL.search(line)
            if found and int(found.group(1)) == campaign:
                ids += [int(n) for n in found.group(2).split(",")]
        return ids


# --- The run -------------------------------------------------------------------------------------


@contextlib.contextmanager
def services(folder: Path, sink_choice: str) -> Iterator[tuple[PrivateRedis, Sink, Sink, str]]:
    """The private Redis, the engine's sink and the plain runs' sink (so each run's count is its
    own), stopped on leaving the block."""
    redis = PrivateRedis()
    engine_sink, note = sink_make(folder, sink_choice)
    plain_sink, _note = sink_make(folder, sink_choice)
    try:
        redis.start()
        progress(f"private redis-server on port {redis.port}")
        for sink in (engine_sink, plain_sink):
            sink.start()
        progress(f"SMTP sinks ({engine_sink.kind}) on ports {engine_sink.port}, {plain_sink.port}")
        yield redis, engine_sink, plain_sink, note
    finally:
        for sink in (engine_sink, plain_sink):
            sink.stop()
            sink.remove()
        redis.stop()


def _environ(database_url: str, redis: PrivateRedis, sink: Sink) -> dict[str, str]:
    env = server.production_environ(database_url)
    env.update(
        REDIS_URL=redis.url,
        EMAIL_URL=f"smtp://{server.HOST}:{sink.port}",
        CELERY_NAMESPACE="",
        CAMPAIGNS_LEASE_SECONDS=str(LEASE_SECONDS),
    )
    env.pop("REDIS_CACHE_URL", None)
    return env


def measure(options: argparse.Namespace) -> Report:
    run_id = secrets.token_hex(3)
    main_prefix, fault_prefix = f"s{run_id}-m-", f"s{run_id}-f-"
    processes = options.processes
    with (
        tempfile.TemporaryDirectory(prefix="bench-sending-") as tmp,
        services(Path(tmp), options.sink) as (redis, sink, plain_sink, sink_note),
    ):
        folder = Path(tmp)
        env = _environ(options.database_url, redis, sink)
        server.prepare_project(env)
        progress(f"seeding {options.size} + {options.fault_size} consented contacts")
        main_segment = _django_call(env, "audience_seed", size=options.size, prefix=main_prefix)
        fault_segment = _django_call(
            env, "audience_seed", size=options.fault_size, prefix=fault_prefix
        )

        def plain_run(when: str) -> tuple[float, float]:
            """Messages/s, and CPU microseconds a message cost the clients and the sink."""
            sink_pid = plain_sink.process.pid if plain_sink.process else 0
            sink_cpu = process_cpu(sink_pid) or 0.0
            plain = _django_call(
                env,
                "plain_fair_rate",
                port=plain_sink.port,
                segment=main_segment["segment"],
                count=options.plain,
                connections=processes,
            )
            cpu = plain["client_cpu_s"] + (process_cpu(sink_pid) or 0.0) - sink_cpu
            progress(
                f"plain smtplib {when}, {processes} connections, the engine's "
                f"{plain['bytes']}-byte messages: {plain['rps']:.0f} messages/s, "
                f"{cpu / options.plain * 1e6:.0f} µs of CPU each (clients and sink)"
            )
            return float(plain["rps"]), cpu / options.plain * 1e6

        with worker(env, folder, processes) as running:
            plain_before, plain_cpu_before = plain_run("before")  # the worker starts meanwhile
            parties = {
                "worker": lambda: group_pids(running.process.pid),
                "postgres": postgres_pids(options.database_url),
                "sink": lambda: {sink.process.pid} if sink.process else set(),
            }
            with CpuSampler(parties) as cpu:
                started = _django_call(
                    env, "campaign_start_now", segment=main_segment["segment"], name="Bench"
                )
                done = _django_call(
                    env, "campaign_wait", campaign=started["campaign"], timeout=WAIT_SECONDS
                )
            if done["timed_out"]:
                raise BenchError(f"the campaign did not finish in {WAIT_SECONDS:g} s: {done}")
            elapsed = done["at"] - started["started"]
            rate = started["recipients"] / elapsed
            cores = cpu.cores()
            engine_cpu = sum(cpu.seconds().values()) / started["recipients"] * 1e6
            progress(
                f"campaign: {started['recipients']} in {elapsed:.1f} s, {rate:.0f}/s; "
                f"busy cores of {os.cpu_count()}: {cores}; {engine_cpu:.0f} µs of CPU a "
                "message (worker, PostgreSQL, sink)"
            )
            plain_after, plain_cpu_after = plain_run("after")
            fault = _fault_run(env, running, fault_segment["segment"], sink, fault_prefix)

        time.sleep(1)  # the sink's last messages
        main_counts = sink.recipients(main_prefix)
        fault_counts = sink.recipients(fault_prefix)
        fault_evidence = _fault_evidence(env, fault, fault_counts)

    plain = max(plain_before, plain_after)
    vs_plain = round(rate / plain, 3) if plain else 0.0
    main_missing = started["recipients"] - len(main_counts)
    main_duplicates = sum(n - 1 for n in main_counts.values() if n > 1)
    fault_missing = fault["recipients"] - len(fault_counts)
    figures: dict[str, harness.Figure] = {
        "database": harness.database_vendor(options.database_url),
        "sink": sink.kind,
        "sink_note": sink_note,
        "worker_processes": processes,
        "recipients": started["recipients"],
        "engine_msgs_per_s": round(rate, 1),
        "elapsed_s": round(elapsed, 1),
        "plain_fair_msgs_per_s": round(plain, 1),
        "plain_fair_before_msgs_per_s": round(plain_before, 1),
        "plain_fair_after_msgs_per_s": round(plain_after, 1),
        "vs_plain_fair": vs_plain,
        "cores": os.cpu_count(),
        "engine_cpu_us_per_msg": round(engine_cpu),
        "plain_fair_cpu_us_per_msg": round(min(plain_cpu_before, plain_cpu_after)),
        "busy_cores_worker": cores["worker"],
        "busy_cores_postgres": cores["postgres"],
        "busy_cores_sink": cores["sink"],
        "busy_cores_machine": cores["machine"],
        "sink_recipients": len(main_counts),
        "sink_missing": main_missing,
        "sink_duplicates": main_duplicates,
        "failed": done["other"],
        "fault_recipients": fault["recipients"],
        "fault_kills": 1,
        "fault_in_flight": len(fault["in_flight"]),
        "fault_sink_recipients": len(fault_counts),
        "fault_missing": fault_missing,
        "fault_duplicates": fault_evidence["duplicates"],
        "fault_duplicates_in_flight": fault_evidence["in_flight"],
        "fault_duplicates_not_in_flight": fault_evidence["not_in_flight"],
        "fault_timed_out": bool(fault["timed_out"]),
    }
    targets = {
        "engine_msgs_per_s": at_least(round(rate, 1), RATE_GOAL),
        "vs_plain_fair": at_least(vs_plain, VS_PLAIN_GOAL),
        "sink_missing": at_most(main_missing, 0),
        "sink_duplicates": at_most(main_duplicates, 0),
        "fault_missing": at_most(fault_missing, 0),
        "fault_duplicates_not_in_flight": at_most(fault_evidence["not_in_flight"], 0),
    }
    failed = fault["timed_out"] or fault_missing > 0 or main_missing > 0
    return Report(figures=figures, targets=targets, failed=bool(failed))


def _fault_run(
    env: Mapping[str, str], running: Worker, segment: int, sink: Sink, prefix: str
) -> dict[str, Any]:
    """A campaign whose worker is killed with SIGKILL once a third is sent, then restarted;
    what the killed worker had in flight (handed to the mail server, not recorded as sent)."""
    fault = _django_call(env, "campaign_start_now", segment=segment, name="Bench fault")
    third = fault["recipients"] // 3
    _django_call(
        env, "campaign_wait", campaign=fault["campaign"], timeout=WAIT_SECONDS, at_least_sent=third
    )
    running.kill()
    handed = running.journal(fault["campaign"])
    # Before the restart: nobody can record these now, so pending means in flight at the kill.
    in_flight = _django_call(env, "deliveries_pending", ids=handed)["ids"] if handed else []
    progress(
        f"worker killed with SIGKILL after {third}+ sent; its journal: {len(handed)} handed, "
        f"{len(in_flight)} of them not recorded as sent (in flight): {_ids(in_flight)}"
    )
    running.restart()
    done = _django_call(env, "campaign_wait", campaign=fault["campaign"], timeout=WAIT_SECONDS)
    return {**fault, "in_flight": in_flight, "timed_out": done["timed_out"]}


def _fault_evidence(
    env: Mapping[str, str], fault: dict[str, Any], counts: Counter[str]
) -> dict[str, int]:
    """Each recipient the sink holds twice, as a delivery id, matched against what the killed
    worker had in flight; logged, so the match can be checked by hand."""
    doubled = sorted(address for address, n in counts.items() if n > 1)
    if not doubled:
        progress("fault run: no recipient got the message twice")
        return {"duplicates": 0, "in_flight": 0, "not_in_flight": 0}
    rows = _django_call(env, "deliveries_of", campaign=fault["campaign"], emails=doubled)
    ids = {address: int(row[0]) for address, row in rows["deliveries"].items()}
    in_flight = set(fault["in_flight"])
    explained = sorted(ids[a] for a in doubled if ids.get(a) in in_flight)
    unexplained = sorted(ids.get(a, 0) for a in doubled if ids.get(a) not in in_flight)
    progress(
        f"fault run: {len(doubled)} recipients got it twice; delivery ids in flight in the "
        f"killed worker: {_ids(explained)}; not in flight: {_ids(unexplained)}"
    )
    duplicates = sum(counts[a] - 1 for a in doubled)
    return {
        "duplicates": duplicates,
        "in_flight": len(explained),
        "not_in_flight": len(unexplained),
    }


def _ids(ids: Sequence[int]) -> str:
    return ",".join(map(str, ids)) or "none"


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    return harness.run(BENCH, lambda: measure(options))
