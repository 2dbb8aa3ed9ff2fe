"""`python -m bench sending`: a campaign to N recipients through a real worker to an SMTP sink.

1. plain: pre-built messages sent with `smtplib` over one connection to the sink (the machine's
   limit for this sink), `--plain` of them;
2. campaign: a newsletter campaign to `--size` consented contacts (a static segment), started
   the way staff start it (`campaign_start`: one INSERT…SELECT of the deliveries), sent by a
   real Celery worker (with its beat) on the bench's own Redis; timed from the start until no
   delivery is pending: materialise + render + SMTP + status;
3. fault: another campaign to `--fault-size` contacts; once a third has been sent the worker is
   killed with SIGKILL and started again. The sink must then hold every recipient once, with at
   most one duplicate per message in flight when it died: one per worker process per kill.

The sink (aiosmtpd, loopback) writes each recipient to a file; the bench counts them there.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import secrets
import signal
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench import harness, server
from bench.harness import BenchError, Report, at_least, at_most, progress
from bench.submissions import Sink, _stop, bench_environ, celery_worker_start, services
from bench.submissions import _django_call as _submissions_call


def _django_call(env: Mapping[str, str], function: str, **kwargs: Any) -> dict[str, Any]:
    return _submissions_call(env, function, module="bench.sending", **kwargs)


BENCH = "sending"
RATE_GOAL = 1000.0
VS_PLAIN_GOAL = 0.5
LEASE_SECONDS = 10  # the bench's lease: a killed worker's chunk is taken again this soon
WAIT_SECONDS = 1800.0
# One worker process per core, as production runs them: each sends its own leased chunks over
# its own SMTP connection.
WORKER_PROCESSES = 2


def parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = harness.parser_for(BENCH, __doc__.splitlines()[0] if __doc__ else BENCH)
    harness.add_database_argument(parser)
    harness.add_size_argument(parser, default=100_000, unit="recipients")
    parser.add_argument(
        "--plain",
        type=harness.positive_int,
        default=20_000,
        help="messages of the plain smtplib phase (default: 20000)",
    )
    parser.add_argument(
        "--fault-size",
        type=harness.positive_int,
        default=20_000,
        help="recipients of the fault run (default: 20000)",
    )
    return parser.parse_args(argv)


# --- Django-side steps, each in a child process on the bench's environment ---------------------


def audience_seed(size: int, prefix: str) -> dict[str, Any]:
    """Child process: `size` contacts with a newsletter consent in a new static segment."""
    import django

    django.setup()
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
    return {"segment": segment.pk}


def campaign_start_now(segment: int, name: str) -> dict[str, Any]:
    """Child process: a newsletter campaign to the segment, started; the wall clock at start."""
    import django

    django.setup()
    from campaigns.models import Campaign, Email
    from campaigns.sending import campaign_start

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
    started = time.time()
    recipients = campaign_start(campaign=campaign)
    return {"campaign": campaign.pk, "started": started, "recipients": recipients}


def campaign_progress(campaign: int) -> dict[str, Any]:
    """Child process: the campaign's deliveries by status."""
    import django

    django.setup()
    from django.db.models import Count

    from campaigns.models import Delivery

    rows = Delivery.objects.filter(campaign_id=campaign).values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows}


def campaign_wait(campaign: int, timeout: float, at_least_sent: int = 0) -> dict[str, Any]:
    """Child process: poll until nothing is pending (or `at_least_sent` were sent); the wall
    clock then and the counts."""
    import django

    django.setup()
    from django.db.models import Count, Q

    from campaigns.models import Delivery

    deadline = time.monotonic() + timeout
    while True:
        counts = Delivery.objects.filter(campaign_id=campaign).aggregate(
            pending=Count("pk", filter=Q(status=Delivery.Status.PENDING)),
            sent=Count("pk", filter=Q(status=Delivery.Status.SENT)),
            other=Count("pk", filter=~Q(status__in=["pending", "sent"])),
        )
        done = counts["pending"] == 0 or (at_least_sent and counts["sent"] >= at_least_sent)
        if done or time.monotonic() > deadline:
            return {**counts, "at": time.time(), "timed_out": not done}
        time.sleep(0.2)


def plain_smtp_rate(port: int, count: int) -> dict[str, Any]:
    """Child process: `count` pre-built messages over one smtplib connection; messages/s."""
    import smtplib

    import django

    django.setup()
    from django.core.mail import EmailMultiAlternatives

    message = EmailMultiAlternatives(
        subject="Fiestas de San Blas: el programa",
        body="Hola, Lucía\n\nYa está aquí el programa de las fiestas de San Blas.\n",
        from_email="Ayuntamiento <atencion@villaclara.example>",
        to=["placeholder@correo.example"],
    )
    message.attach_alternative("<h2>Hola, Lucía</h2><p>Ya está aquí el programa.</p>", "text/html")
    raw = message.message().as_bytes()
    built = [(f"plain{n}@correo.example", raw) for n in range(count)]
    with smtplib.SMTP(server.HOST, port) as smtp:
        started = time.perf_counter()
        for recipient, data in built:
            smtp.sendmail("atencion@villaclara.example", [recipient], data)
        elapsed = time.perf_counter() - started
    return {"rps": count / elapsed}


# --- The worker ----------------------------------------------------------------------------------


@contextlib.contextmanager
def worker(env: Mapping[str, str], folder: Path) -> Iterator[Worker]:
    """A worker with embedded beat, stopped on leaving the block (whichever one runs then)."""
    running = Worker(env, folder)
    try:
        yield running
    finally:
        _stop(running.process, "celery worker")


class Worker:
    def __init__(self, env: Mapping[str, str], folder: Path) -> None:
        self.env, self.folder = env, folder
        self.process = celery_worker_start(env, folder, concurrency=WORKER_PROCESSES)

    def kill_and_restart(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = celery_worker_start(self.env, self.folder, concurrency=WORKER_PROCESSES)


def _sink_counts(sink: Sink, prefix: str) -> collections.Counter[str]:
    try:
        lines = sink.path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return collections.Counter()
    return collections.Counter(line for line in lines if line.startswith(prefix))


def measure(options: argparse.Namespace) -> Report:
    run_id = secrets.token_hex(3)
    main_prefix, fault_prefix = f"s{run_id}-m-", f"s{run_id}-f-"
    with (
        tempfile.TemporaryDirectory(prefix="bench-sending-") as tmp,
        services(Path(tmp)) as (redis, sink),
    ):
        folder = Path(tmp)
        env = {**bench_environ(options.database_url, redis, sink)}
        env["CAMPAIGNS_LEASE_SECONDS"] = str(LEASE_SECONDS)
        server.prepare_project(env)
        progress(f"seeding {options.size} + {options.fault_size} consented contacts")
        main_segment = _django_call(env, "audience_seed", size=options.size, prefix=main_prefix)
        fault_segment = _django_call(
            env, "audience_seed", size=options.fault_size, prefix=fault_prefix
        )

        plain = _django_call(env, "plain_smtp_rate", port=sink.port, count=options.plain)
        progress(f"plain smtplib: {plain['rps']:.0f} messages/s")

        with worker(env, folder) as running:
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
            progress(f"campaign: {started['recipients']} in {elapsed:.1f} s, {rate:.0f}/s")

            fault = _django_call(
                env, "campaign_start_now", segment=fault_segment["segment"], name="Bench fault"
            )
            third = fault["recipients"] // 3
            _django_call(
                env,
                "campaign_wait",
                campaign=fault["campaign"],
                timeout=WAIT_SECONDS,
                at_least_sent=third,
            )
            running.kill_and_restart()
            progress(f"worker killed with SIGKILL after {third}+ sent; started again")
            fault_done = _django_call(
                env, "campaign_wait", campaign=fault["campaign"], timeout=WAIT_SECONDS
            )
        time.sleep(1)  # the sink's last lines
        main_counts = _sink_counts(sink, main_prefix)
        fault_counts = _sink_counts(sink, fault_prefix)

    kills = 1
    # Each of the worker's processes may be sending one message when SIGKILL lands.
    in_flight = kills * WORKER_PROCESSES
    fault_missing = fault["recipients"] - len(fault_counts)
    fault_duplicates = sum(n - 1 for n in fault_counts.values() if n > 1)
    vs_plain = round(rate / plain["rps"], 3) if plain["rps"] else 0.0
    figures: dict[str, harness.Figure] = {
        "database": harness.database_vendor(options.database_url),
        "recipients": started["recipients"],
        "messages_per_s": round(rate, 1),
        "elapsed_s": round(elapsed, 1),
        "plain_smtplib_per_s": round(plain["rps"], 1),
        "vs_plain": vs_plain,
        "sink_recipients": len(main_counts),
        "sink_duplicates": sum(n - 1 for n in main_counts.values() if n > 1),
        "failed": done["other"],
        "fault_recipients": fault["recipients"],
        "fault_kills": kills,
        "fault_in_flight_max": in_flight,
        "fault_sink_recipients": len(fault_counts),
        "fault_missing": fault_missing,
        "fault_duplicates": fault_duplicates,
        "fault_timed_out": bool(fault_done["timed_out"]),
    }
    targets = {
        "messages_per_s": at_least(round(rate, 1), RATE_GOAL),
        "vs_plain": at_least(vs_plain, VS_PLAIN_GOAL),
        "sink_missing": at_most(started["recipients"] - len(main_counts), 0),
        "fault_missing": at_most(fault_missing, 0),
        "fault_duplicates": at_most(fault_duplicates, in_flight),
    }
    failed = fault_done["timed_out"] or fault_missing > 0
    return Report(figures=figures, targets=targets, failed=bool(failed))


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    return harness.run(BENCH, lambda: measure(options))
