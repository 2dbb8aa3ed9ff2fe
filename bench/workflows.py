"""`python -m bench workflows`: N enrollments due at once, run by a real worker; and a fault run.

1. floor: `--floor-size` enrollments of a workflow the engine never sees (a draft) advanced by
   the database alone: per batch of 500, one SQL statement writes exactly the rows the engine
   writes (four step runs, the tag, the delivery, the touchpoint, the enrollment's new state),
   from as many connections as the worker has processes. No engine can write faster here;
2. main: a workflow wait 1 day → tag the contact → send an e-mail → end, and `--size`
   enrollments loaded with COPY, all woken at the same `next_run_at` (their day of waiting is
   over). A Celery worker (`-Q default`, prefork, one process per core) runs them as in
   production: `workflows.tasks.workflows_due` queued every 2 s like beat (one per worker process
   at the moment they fall due), re-queuing itself when its budget runs out. Timed from the
   shared `next_run_at` to the last step run;
3. fault: `--fault-size` other enrollments, the same way; once a third of them have advanced the
   worker's whole process group is killed with SIGKILL while its ticks run, and started again.
   Every enrollment must then have advanced exactly once: four step runs, one delivery, its tag,
   none left in progress. A batch is one transaction, so no duplicate is allowed.

Deliveries are only rows for the sending engine, which the bench does not run (the worker takes
no `email` queue): at the end the bench pauses its workflows and marks its pending deliveries
skipped, so no other worker on the same database ever sends them. PostgreSQL only.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from bench import harness, server
from bench.harness import BenchError, Report, at_least, at_most, progress
from bench.submissions import PrivateRedis, _popen, _stop
from bench.submissions import _django_call as _submissions_call

BENCH = "workflows"
STEPS_GOAL = 1000.0  # due steps per second, counting actions only (not waits ending, ends)
# "Fired within 60 s after due", for every step: the p99, and the worst step run too.
LAG_P99_GOAL_S = 60.0  # per enrollment, seconds from the shared due time to its wait's run
LAG_MAX_GOAL_S = 60.0  # every step run, seconds from its `due_at` to its `ran_at`
WORKER_PROCESSES = 2  # one per core, as production runs them
TICK_SECONDS = 2.0  # beat's schedule of workflows.tasks.workflows_due
STEPS = 4  # step runs per enrollment: the wait ending, the tag, the e-mail, the end
# Of those, the steps that do something for the citizen (a tag, an e-mail) and the engine's
# own bookkeeping (a wait ending, the end): counted apart, so the bookkeeping cannot pass for
# work done.
ACTION_STEPS = ("tag", "send")
BOOKKEEPING_STEPS = ("wait", "end")
BATCH = 500  # the engine's batch (workflows.steps.BATCH), used by the floor too
WAIT_SECONDS = 1800.0
READY_TIMEOUT = 60.0
POLL_SECONDS = 0.2
# The enrollments are loaded before they fall due: a second, plus a second per 20,000 rows
# (COPY into the indexed table runs at about 30,000 rows/s here), so that the load does not
# eat into the measured lag (`load_overrun_s` says by how much it did).
LEAD_SECONDS = 1.0
LOAD_ROWS_PER_SECOND = 20_000


def _django_call(env: Mapping[str, str], function: str, **kwargs: Any) -> dict[str, Any]:
    return _submissions_call(env, function, module="bench.workflows", **kwargs)


def parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = harness.parser_for(BENCH, __doc__.splitlines()[0] if __doc__ else BENCH)
    harness.add_database_argument(parser)
    harness.add_size_argument(parser, default=100_000, unit="enrollments due at once")
    parser.add_argument(
        "--fault-size",
        type=harness.positive_int,
        default=20_000,
        help="enrollments of the fault run (default: 20000)",
    )
    parser.add_argument(
        "--floor-size",
        type=harness.positive_int,
        default=20_000,
        help="enrollments advanced by plain SQL for the floor (default: 20000)",
    )
    return parser.parse_args(argv)


# --- Django-side steps, each in a child process on the bench's environment ---------------------


def _setup() -> None:
    import django

    django.setup()


def _loader() -> Any:
    from bench.segments import Loader

    return Loader("postgresql")


def _contacts_load(prefix: str, count: int) -> list[int]:
    """`count` active contacts with a newsletter consent, by COPY; their ids."""
    from django.utils import timezone

    from contacts.models import Contact

    loader = _loader()
    now = loader.timestamp(timezone.now())
    names = ("Lucía", "José", "", "Ana")
    text = "Quiero recibir el boletín."
    loader.load(
        "contacts_contact",
        [
            "email",
            "first_name",
            "last_name",
            "phone",
            "language",
            "postal_code",
            "district",
            "source",
            "lifecycle",
            "email_status",
            "properties",
            "created_at",
            "updated_at",
            "version",
        ],
        (
            (
                f"{prefix}{n}@correo.example",
                names[n % 4],
                "",
                "",
                "en" if n % 5 == 0 else "es",
                "",
                "",
                "import",
                "contact",
                "active",
                "{}",
                now,
                now,
                1,
            )
            for n in range(count)
        ),
    )
    ids = list(
        Contact.objects.filter(email__startswith=prefix).order_by("pk").values_list("pk", flat=True)
    )
    loader.load(
        "contacts_consentrecord",
        [
            "contact_id",
            "purpose",
            "legal_basis",
            "action",
            "text",
            "text_version",
            "source",
            "occurred_at",
            "ip_hash",
        ],
        (
            (pk, "newsletter", "consent", "granted", text, "bench-1", "import", now, "")
            for pk in ids
        ),
    )
    return ids


def _email(name: str) -> Any:
    from campaigns.models import Email

    return Email.objects.create(
        name=name,
        subject_es="Bienvenida al boletín de Villa Clara",
        subject_en="Welcome to the Villa Clara newsletter",
        body_es='<h2>Hola, {{ contact.first_name|default:"vecino/a" }}</h2>'
        "<p>Gracias por suscribirte: cada semana, la agenda y los avisos del municipio.</p>",
        body_en='<h2>Hello, {{ contact.first_name|default:"neighbour" }}</h2>'
        "<p>Thank you for subscribing.</p>",
    )


def _workflow_create(name: str, tag: str, *, activate: bool) -> dict[str, Any]:
    """Wait 1 day → tag → send an e-mail → end; activated (its send step gets its campaign)."""
    from campaigns.models import Campaign
    from workflows.models import Workflow, WorkflowStep
    from workflows.services import workflow_activate

    kind = WorkflowStep.Kind
    workflow = Workflow.objects.create(name=name, trigger=Workflow.Trigger.MANUAL)
    email = _email(name)
    steps = {
        "wait": WorkflowStep.objects.create(
            workflow=workflow, key="wait", order=1, kind=kind.WAIT, wait_days=1
        ),
        "tag": WorkflowStep.objects.create(
            workflow=workflow, key="tag", order=2, kind=kind.UPDATE_CONTACT, tag=tag
        ),
        "send": WorkflowStep.objects.create(
            workflow=workflow, key="send", order=3, kind=kind.SEND_EMAIL, email=email
        ),
        "end": WorkflowStep.objects.create(workflow=workflow, key="end", order=4, kind=kind.END),
    }
    if activate:
        workflow_activate(workflow=workflow, by=None)
        campaign = WorkflowStep.objects.get(pk=steps["send"].pk).campaign_id
    else:
        campaign = Campaign.objects.create(name=name, email=email).pk
    return {
        "workflow": workflow.pk,
        "steps": {key: step.pk for key, step in steps.items()},
        "campaign": campaign,
        "tag": tag,
    }


def _enrollments_load(workflow: dict[str, Any], contact_ids: Sequence[int], due: float) -> None:
    """The enrollments, by COPY: on the wait step, waiting, all due at `due` (a day after they
    arrived), as `enrol_contacts` and a day's wait would have left them."""
    import datetime as dt

    from django.db import connection, transaction

    loader = _loader()
    due_at = dt.datetime.fromtimestamp(due, dt.UTC)
    next_run_at = due_at.isoformat()
    enrolled_at = (due_at - dt.timedelta(days=1)).isoformat()
    step = (workflow["workflow"], workflow["steps"]["wait"])
    with transaction.atomic():
        loader.load(
            "workflows_enrollment",
            [
                "status",
                "next_run_at",
                "seq",
                "trigger_key",
                "context",
                "enrolled_at",
                "waiting",
                "test",
                "contact_id",
                "workflow_id",
                "step_id",
            ],
            (
                ("active", next_run_at, 0, "bench", "{}", enrolled_at, "t", "f", pk, *step)
                for pk in contact_ids
            ),
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE workflows_enrollment")


# The floor: the rows the engine writes for a batch (the engine's claim, four step runs, the
# tag, the delivery, the touchpoint `workflow_finished`, the enrollment completed), in one
# statement, with no Python per row.
FLOOR_SQL = """
WITH claimed AS (
    SELECT id, contact_id, next_run_at FROM workflows_enrollment
    WHERE workflow_id = %(workflow)s AND status = 'active' AND next_run_at <= now()
    ORDER BY next_run_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED
), runs AS (
    INSERT INTO workflows_steprun (enrollment_id, step_id, seq, status, detail, due_at, ran_at)
    SELECT c.id, s.step_id, s.seq, 'passed', s.detail, c.next_run_at, clock_timestamp()
    FROM claimed c CROSS JOIN (VALUES
        (1, %(wait)s::bigint, 'Esperó.'), (2, %(tag)s, 'Etiqueta añadida.'),
        (3, %(send)s, 'Correo en cola.'), (4, %(end)s, 'Fin.')
    ) AS s (seq, step_id, detail)
    RETURNING id, enrollment_id, seq
), tagged AS (
    INSERT INTO contacts_contact_tags (contact_id, tag_id)
    SELECT contact_id, %(tag_id)s FROM claimed ON CONFLICT DO NOTHING
), deliveries AS (
    INSERT INTO campaigns_delivery (campaign_id, contact_id, status, attempts, next_attempt_at,
        message_id, language, error, in_ab_test, step_run_id)
    SELECT %(campaign)s, c.contact_id, 'pending', 0, now(), '', 'es', '', false, r.id
    FROM runs r JOIN claimed c ON c.id = r.enrollment_id WHERE r.seq = 3
), touched AS (
    INSERT INTO contacts_touchpoint (occurred_at, kind, stage, contact_id, visitor_key,
        subject_type_id, subject_id, properties)
    SELECT now(), 'workflow_finished', %(stage)s, contact_id, '', %(subject_type)s,
        %(subject)s, '{}' FROM claimed
)
UPDATE workflows_enrollment e SET status = 'completed', step_id = %(end)s, seq = 4,
    waiting = false, finished_at = now(), next_run_at = now()
FROM claimed c WHERE e.id = c.id
"""


def _floor(workflow: dict[str, Any], enrollments: int) -> float:
    """Steps/s of FLOOR_SQL over the floor's enrollments, one connection per worker process."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from contacts.models import Tag
    from contacts.services import KIND_STAGES
    from workflows.models import Workflow

    params = {
        **workflow["steps"],
        "workflow": workflow["workflow"],
        "limit": BATCH,
        "campaign": workflow["campaign"],
        "tag_id": Tag.objects.get_or_create(name=workflow["tag"])[0].pk,
        "stage": KIND_STAGES["workflow_finished"],
        "subject_type": ContentType.objects.get_for_model(Workflow).pk,
        "subject": str(workflow["workflow"]),
    }

    def work() -> None:
        try:
            while True:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(FLOOR_SQL, params)
                    if cursor.rowcount == 0:
                        return
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _n in range(WORKER_PROCESSES)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return STEPS * enrollments / (time.perf_counter() - started)


def seed(prefix: str, size: int, fault_size: int, floor_size: int) -> dict[str, Any]:
    """Child process: migrate; the contacts, the three workflows; the floor, measured once the
    worker is up (and idle)."""
    from django.core.management import call_command

    _setup()
    from django.db import connection, transaction

    with contextlib.redirect_stdout(io.StringIO()):
        call_command("migrate", interactive=False, verbosity=0)
    with transaction.atomic():
        main_ids = _contacts_load(f"{prefix}m-", size)
        _contacts_load(f"{prefix}f-", fault_size)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")
        cursor.execute("ANALYZE contacts_consentrecord")
    main = _workflow_create(f"Bench {prefix}main", "bench", activate=True)
    fault = _workflow_create(f"Bench {prefix}fault", "bench fault", activate=True)
    # A draft: the engine never claims its enrollments, only the floor's SQL does.
    floor = _workflow_create(f"Bench {prefix}floor", "bench floor", activate=False)
    floor_ids = main_ids[:floor_size]  # other workflow, other tag: the same contacts do
    _enrollments_load(floor, floor_ids, time.time())
    try:
        _worker_ready(READY_TIMEOUT)  # started meanwhile: idle once it answers
    except BenchError as error:
        return {"error": str(error)}
    rate = _floor(floor, len(floor_ids))
    return {
        "main": main,
        "fault": fault,
        "floor_enrollments": len(floor_ids),
        "floor_steps_per_s": rate,
    }


def _worker_ready(timeout: float) -> None:
    from inbound.celery import app

    deadline = time.monotonic() + timeout
    while not app.control.ping(timeout=0.5):
        if time.monotonic() > deadline:
            raise BenchError(f"the worker did not answer a ping within {timeout:g} s")


def _drive(
    workflow: dict[str, Any], *, first: int, timeout: float, stop_after: int = 0
) -> dict[str, Any]:
    """Queue the tick as beat does (every 2 s, expiring after TICK_LIFETIME of them; `first`
    of them now) until no enrollment is in progress, or `stop_after` of them have advanced."""
    from django.conf import settings

    from workflows.models import Enrollment, StepRun
    from workflows.tasks import workflows_due

    expires = TICK_SECONDS * settings.TICK_LIFETIME
    deadline = time.monotonic() + timeout
    for _n in range(first):
        workflows_due.apply_async(expires=expires)
    next_tick = time.monotonic() + TICK_SECONDS
    while True:
        if stop_after:
            advanced = StepRun.objects.filter(step_id=workflow["steps"]["wait"]).count()
            done = advanced >= stop_after
        else:
            advanced = 0
            done = not Enrollment.objects.filter(
                workflow_id=workflow["workflow"], status=Enrollment.Status.ACTIVE
            ).exists()
        if done or time.monotonic() > deadline:
            return {"advanced": advanced, "at": time.time(), "timed_out": not done}
        if time.monotonic() >= next_tick:
            workflows_due.apply_async(expires=expires)
            next_tick += TICK_SECONDS
        time.sleep(POLL_SECONDS)


def _due_at_once(
    workflow: dict[str, Any], prefix: str, *, timeout: float, stop_after: int = 0
) -> dict[str, Any]:
    """Load the enrollments of the contacts with this prefix, all due a moment later, and drive
    the ticks from that moment (see `_drive`)."""
    from contacts.models import Contact

    ids = list(
        Contact.objects.filter(email__startswith=prefix).order_by("pk").values_list("pk", flat=True)
    )
    due = time.time() + LEAD_SECONDS + len(ids) / LOAD_ROWS_PER_SECOND
    _enrollments_load(workflow, ids, due)
    overrun = max(0.0, time.time() - due)
    time.sleep(max(0.0, due - time.time()))
    driven = _drive(workflow, first=WORKER_PROCESSES, timeout=timeout, stop_after=stop_after)
    return {**driven, "load_overrun_s": overrun}


def run_main_then_fault(
    main: dict[str, Any], fault: dict[str, Any], prefix: str, fault_stop: int, timeout: float
) -> dict[str, Any]:
    """Child process: the main run to its end; then the fault run until `fault_stop` of its
    enrollments have advanced (the bench then kills the worker)."""
    _setup()
    done = _due_at_once(main, f"{prefix}m-", timeout=timeout)
    stopped = _due_at_once(fault, f"{prefix}f-", timeout=timeout, stop_after=fault_stop)
    return {"main": done, "fault": stopped}


OUTCOME_SQL = """
WITH e AS (
    SELECT id, contact_id, status FROM workflows_enrollment WHERE workflow_id = %(workflow)s
), r AS (
    SELECT enrollment_id, count(*) AS n FROM workflows_steprun
    WHERE step_id = ANY(%(steps)s) GROUP BY enrollment_id
), d AS (
    SELECT r.enrollment_id, count(*) AS n
    FROM campaigns_delivery d JOIN workflows_steprun r ON r.id = d.step_run_id
    WHERE d.campaign_id = %(campaign)s GROUP BY r.enrollment_id
), t AS (
    SELECT ct.contact_id FROM contacts_contact_tags ct JOIN contacts_tag tag ON tag.id = ct.tag_id
    WHERE tag.name = %(tag)s
)
SELECT
    count(*),
    count(*) FILTER (WHERE e.status = 'completed'),
    count(*) FILTER (WHERE e.status = 'active'),
    coalesce(sum(r.n), 0)::bigint,
    coalesce(sum(d.n), 0)::bigint,
    count(t.contact_id),
    count(*) FILTER (WHERE e.status <> 'completed' OR coalesce(r.n, 0) < %(runs)s
        OR coalesce(d.n, 0) < 1 OR t.contact_id IS NULL),
    (coalesce(sum(greatest(r.n - %(runs)s, 0)), 0)
        + coalesce(sum(greatest(d.n - 1, 0)), 0))::bigint
FROM e
LEFT JOIN r ON r.enrollment_id = e.id
LEFT JOIN d ON d.enrollment_id = e.id
LEFT JOIN t ON t.contact_id = e.contact_id
"""

TIMING_SQL = """
SELECT
    count(*) FILTER (WHERE step_id = ANY(%(actions)s)),
    count(*) FILTER (WHERE step_id = ANY(%(bookkeeping)s)),
    extract(epoch FROM max(ran_at) - min(due_at))::float8
FROM workflows_steprun WHERE step_id = ANY(%(steps)s)
"""

# Lags, seconds from due to run. p50 and p99 per enrollment: its wait's run against the shared
# due time (when the engine picked it up). The maximum over every step run: a step following
# another in the same go is due when that one ran (`next_run_at` moves on), so this is the
# worst any single step waited, as the goal reads ("fired within 60 s after due", every step).
LAG_SQL = """
WITH waits AS (
    SELECT extract(epoch FROM min(ran_at) - min(due_at))::float8 AS lag
    FROM workflows_steprun WHERE step_id = %(wait)s GROUP BY enrollment_id
)
SELECT
    (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) FROM waits),
    (SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY lag) FROM waits),
    (SELECT max(extract(epoch FROM ran_at - due_at))::float8
     FROM workflows_steprun WHERE step_id = ANY(%(steps)s))
"""


def _outcome(workflow: dict[str, Any], expected: int) -> dict[str, Any]:
    from django.db import connection

    params = {
        "workflow": workflow["workflow"],
        "steps": list(workflow["steps"].values()),
        "wait": workflow["steps"]["wait"],
        "actions": [workflow["steps"][key] for key in ACTION_STEPS],
        "bookkeeping": [workflow["steps"][key] for key in BOOKKEEPING_STEPS],
        "campaign": workflow["campaign"],
        "tag": workflow["tag"],
        "runs": STEPS,
    }
    with connection.cursor() as cursor:
        cursor.execute(OUTCOME_SQL, params)
        enrollments, completed, active, runs, deliveries, tagged, missing, duplicates = (
            cursor.fetchone()
        )
        cursor.execute(TIMING_SQL, params)
        actions, bookkeeping, elapsed = cursor.fetchone()
        cursor.execute(LAG_SQL, params)
        p50, p99, worst = cursor.fetchone()
    return {
        "enrollments": enrollments,
        "completed": completed,
        "active_left": active,
        "step_runs": runs,
        "action_runs": actions,
        "bookkeeping_runs": bookkeeping,
        "deliveries": deliveries,
        "tagged": tagged,
        "missing": missing + max(0, expected - enrollments),
        "duplicates": duplicates,
        "elapsed_s": elapsed or 0.0,
        "lag_p50_s": p50 or 0.0,
        "lag_p99_s": p99 or 0.0,
        "lag_max_s": worst or 0.0,
    }


def finish(
    fault: dict[str, Any], workflows: list[dict[str, Any]], expected: list[int], timeout: float
) -> dict[str, Any]:
    """Child process: beat's tick until the fault run is over; what each workflow's enrollments
    left behind; then the bench's workflows paused and its deliveries marked skipped (no other
    worker on this database may send them)."""
    _setup()
    from campaigns.models import Delivery
    from workflows.models import Workflow

    driven = _drive(fault, first=1, timeout=timeout)
    outcomes = [_outcome(w, n) for w, n in zip(workflows, expected, strict=True)]
    Workflow.objects.filter(pk__in=[w["workflow"] for w in workflows]).update(
        status=Workflow.Status.PAUSED
    )
    Delivery.objects.filter(
        campaign_id__in=[w["campaign"] for w in workflows], status=Delivery.Status.PENDING
    ).update(status=Delivery.Status.SKIPPED, error="python -m bench workflows: never sent")
    return {"fault_timed_out": driven["timed_out"], "outcomes": outcomes}


# --- Services: Redis and the worker ------------------------------------------------------------


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    """The bench's own `redis-server` (broker only), stopped on leaving the block."""
    redis = PrivateRedis()
    try:
        redis.start()
        progress(f"private redis-server on port {redis.port}")
        yield redis
    finally:
        redis.stop()


def bench_environ(database_url: str, redis: PrivateRedis) -> dict[str, str]:
    env = server.production_environ(database_url)
    env.update(REDIS_URL=redis.url, CELERY_NAMESPACE="")
    env.pop("REDIS_CACHE_URL", None)
    return env


def workflow_worker_start(env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """A worker on the `default` queue only (no beat: the bench ticks), in its own group."""
    return _popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "inbound",
            "worker",
            "-Q",
            "default",
            f"--concurrency={WORKER_PROCESSES}",
            "--pool=prefork",
            "--loglevel=WARNING",
        ],
        env,
    )


class Worker:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.process = workflow_worker_start(env)

    def kill_and_restart(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = workflow_worker_start(self.env)


@contextlib.contextmanager
def worker(env: Mapping[str, str]) -> Iterator[Worker]:
    """The worker, stopped on leaving the block (whichever one runs then)."""
    running = Worker(env)
    try:
        yield running
    finally:
        _stop(running.process, "celery worker")


# --- The measurement ---------------------------------------------------------------------------


def measure(options: argparse.Namespace) -> Report:
    if harness.database_vendor(options.database_url) != "postgresql":
        raise BenchError("this bench needs PostgreSQL (--database-url or DATABASE_URL)")
    prefix = f"w{secrets.token_hex(3)}-"
    with private_redis() as redis:
        env = bench_environ(options.database_url, redis)
        # The worker starts while the database is prepared; the floor waits until it is idle.
        with worker(env) as running:
            progress(
                f"migrating; loading {options.size} + {options.fault_size} contacts; floor of "
                f"{options.floor_size} enrollments"
            )
            seeded = _django_call(
                env,
                "seed",
                prefix=prefix,
                size=options.size,
                fault_size=options.fault_size,
                floor_size=options.floor_size,
            )
            floor_rate = seeded["floor_steps_per_s"]
            progress(f"floor: {floor_rate:.0f} steps/s")
            main, fault = seeded["main"], seeded["fault"]
            progress(
                f"{options.size} enrollments due at once; then the fault run "
                f"({options.fault_size}), stopped when a third have advanced"
            )
            driven = _django_call(
                env,
                "run_main_then_fault",
                main=main,
                fault=fault,
                prefix=prefix,
                fault_stop=max(1, options.fault_size // 3),
                timeout=WAIT_SECONDS,
            )
            done, killed = driven["main"], driven["fault"]
            running.kill_and_restart()
            progress(f"worker killed with SIGKILL after {killed['advanced']} advanced; restarted")
            result = _django_call(
                env,
                "finish",
                fault=fault,
                workflows=[main, fault],
                expected=[options.size, options.fault_size],
                timeout=WAIT_SECONDS,
            )
    ran, faulted = result["outcomes"]
    elapsed = ran["elapsed_s"]
    rate = ran["step_runs"] / elapsed if elapsed > 0 else 0.0
    actions_rate = round(ran["action_runs"] / elapsed, 1) if elapsed > 0 else 0.0
    figures: dict[str, harness.Figure] = {
        "database": "postgresql",
        "enrollments": options.size,
        "worker_processes": WORKER_PROCESSES,
        "steps_per_s": round(rate, 1),
        "actions_per_s": actions_rate,
        "bookkeeping_steps_per_s": (
            round(ran["bookkeeping_runs"] / elapsed, 1) if elapsed > 0 else 0.0
        ),
        "enrollments_per_s": round(ran["completed"] / elapsed, 1) if elapsed > 0 else 0.0,
        "elapsed_s": round(elapsed, 1),
        "lag_p50_s": round(ran["lag_p50_s"], 2),
        "lag_p99_s": round(ran["lag_p99_s"], 2),
        "lag_max_s": round(ran["lag_max_s"], 2),
        "load_overrun_s": round(done["load_overrun_s"], 2),
        "floor_enrollments": seeded["floor_enrollments"],
        "floor_steps_per_s": round(floor_rate, 1),
        "vs_floor": round(rate / floor_rate, 3) if floor_rate else 0.0,
        "step_runs": ran["step_runs"],
        "action_runs": ran["action_runs"],
        "bookkeeping_runs": ran["bookkeeping_runs"],
        "completed": ran["completed"],
        "active_left": ran["active_left"],
        "deliveries": ran["deliveries"],
        "tagged": ran["tagged"],
        "missing": ran["missing"],
        "duplicates": ran["duplicates"],
        "timed_out": bool(done["timed_out"]),
        "fault_enrollments": options.fault_size,
        "fault_kills": 1,
        "fault_killed_after": killed["advanced"],
        "fault_step_runs": faulted["step_runs"],
        "fault_completed": faulted["completed"],
        "fault_deliveries": faulted["deliveries"],
        "fault_tagged": faulted["tagged"],
        "fault_missing": faulted["missing"],
        "fault_duplicates": faulted["duplicates"],
        "fault_timed_out": bool(result["fault_timed_out"]),
    }
    targets = {
        "actions_per_s": at_least(actions_rate, STEPS_GOAL),
        "lag_p99_s": at_most(round(ran["lag_p99_s"], 2), LAG_P99_GOAL_S),
        "lag_max_s": at_most(round(ran["lag_max_s"], 2), LAG_MAX_GOAL_S),
        "missing": at_most(ran["missing"], 0),
        "duplicates": at_most(ran["duplicates"], 0),
        "fault_missing": at_most(faulted["missing"], 0),
        "fault_duplicates": at_most(faulted["duplicates"], 0),
    }
    failed = (
        done["timed_out"]
        or result["fault_timed_out"]
        or ran["missing"]
        or ran["duplicates"]
        or faulted["missing"]
        or faulted["duplicates"]
    )
    return Report(figures=figures, targets=targets, failed=bool(failed))


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    return harness.run(BENCH, lambda: measure(options))
