"""The application as production runs it: a prepared database, collected static files, gunicorn.

Benches that need a live server use `production_environ`, `prepare_project` and `gunicorn`.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import signal
import string
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping

from bench.harness import PROJECT_DIR, BenchError, die_with_parent, free_port, progress

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 30.0  # seconds for gunicorn to answer /healthz
STOP_TIMEOUT = 10.0  # seconds for a graceful stop before SIGKILL


def production_environ(database_url: str) -> dict[str, str]:
    """The current environment plus the settings production runs with.

    No DATABASE_URL means the default SQLite file under var/. SSL redirects are off because the
    bench speaks plain HTTP to the app, as the TLS-terminating proxy does in production.
    """
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="inbound.settings",
        DEBUG="0",
        SECRET_KEY=_random_key(),
        PERSONAL_DATA_KEY=_random_key(),
        ALLOWED_HOSTS=HOST,
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
        STATIC_MANIFEST="1",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    return env


def _random_key() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(64))


# One Python process for the three commands: each Django start-up costs about a second.
_PREPARE_SCRIPT = """
import django
from django.core.management import call_command

django.setup()
call_command("collectstatic", interactive=False)  # first: seeding renders pages (workflow checks)
call_command("migrate", interactive=False)
call_command("seed_demo")
"""


def prepare_project(env: Mapping[str, str]) -> None:
    """Migrate and seed the bench's database and collect static files for the manifest storage.

    The three commands are idempotent, so running them before every bench only costs seconds.
    Their output goes to stderr: stdout is the result line's.
    """
    progress("migrating and seeding the database, collecting static files")
    completed = subprocess.run(
        [sys.executable, "-c", _PREPARE_SCRIPT],
        cwd=PROJECT_DIR,
        env={"DJANGO_SETTINGS_MODULE": "inbound.settings", **env},
        stdout=sys.stderr,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(
            "preparing the project (migrate, seed_demo, collectstatic) "
            f"exited with {completed.returncode}"
        )


def _answers_ok(port: int, path: str) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    # gunicorn leads its own process group: signal master and workers together.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        progress("gunicorn did not stop in time; killing it")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def gunicorn(env: Mapping[str, str], *, workers: int = 2) -> Iterator[str]:
    """Serve `inbound.wsgi` with sync workers on a free loopback port; yield its base URL.

    The server (master and workers) is stopped on leaving the block, whatever the reason.
    """
    port = free_port(HOST)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "inbound.wsgi",
        f"--bind={HOST}:{port}",
        f"--workers={workers}",
        "--worker-class=sync",
        "--log-level=warning",
        "--graceful-timeout=5",
    ]
    progress(f"starting gunicorn ({workers} sync workers) on {HOST}:{port}")
    process = subprocess.Popen(
        command,
        cwd=PROJECT_DIR,
        env=dict(env),
        stdout=sys.stderr,
        start_new_session=True,
        preexec_fn=die_with_parent,  # safe: the bench runs no threads while forking
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _answers_ok(port, "/healthz"):
            if process.poll() is not None:
                raise BenchError(f"gunicorn exited with {process.returncode} while starting")
            if time.monotonic() > deadline:
                raise BenchError(f"gunicorn did not answer /healthz within {STARTUP_TIMEOUT:g} s")
            time.sleep(0.1)
        yield f"http://{HOST}:{port}"
    finally:
        _stop(process)
        progress("gunicorn stopped")
