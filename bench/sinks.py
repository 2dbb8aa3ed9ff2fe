"""SMTP sinks for the benches: Postfix's `smtp-sink`, else aiosmtpd; each says who got what.

`smtp-sink` (Debian package `postfix`; the program alone, no mail daemon) is a C server that
takes mail as fast as a client can hand it over, so it measures the sender, not itself: on the
2-core machine it takes some 7,700 small messages a second from one `smtplib` loop, against
about 1,100 for aiosmtpd. It appends every message it accepted (after the final `.`, never an
aborted one) to one dump file with its envelope (`-D`, one `X-Rcpt-Args:` line per recipient),
which the bench reads afterwards; the dump sits in memory (`/dev/shm`) when it can, so writing
it costs the sink no disk. Without `smtp-sink`, an aiosmtpd sink in a process of its own writes
one line per recipient instead, and the bench's result says which sink it used.

Each sink reports the recipient of every message it accepted, so a bench can count them: nobody
lost, nobody doubled.
"""

from __future__ import annotations

import mmap
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from bench import harness, server
from bench.harness import PROJECT_DIR, BenchError, die_with_parent, progress

SMTP_SINK_PATHS = ("/usr/sbin/smtp-sink", "/usr/lib/postfix/sbin/smtp-sink")
INSTALL_HINT = "apt-get install postfix (the package's smtp-sink; the mail daemon need not run)"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
# In a dump, each envelope recipient of a message, on a line smtp-sink writes before it.
_RECIPIENT = re.compile(rb"^X-Rcpt-Args: <([^>\r\n]*)>\r?$", re.M)


def smtp_sink_path() -> str | None:
    """Where Postfix's smtp-sink is, or None."""
    found = shutil.which("smtp-sink")
    if found:
        return found
    return next((path for path in SMTP_SINK_PATHS if os.access(path, os.X_OK)), None)


class Sink:
    """An SMTP sink on a free loopback port, started by `start()` and stopped by `stop()`."""

    kind = ""

    def __init__(self, folder: Path) -> None:
        self.port = harness.free_port(server.HOST)
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = self._popen()
        deadline = time.monotonic() + START_TIMEOUT
        while not _port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"the SMTP sink ({self.kind}) did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    @property
    def record(self) -> Path:
        """The file the sink records what it accepted in (`delivered_in` reads it)."""
        raise NotImplementedError

    def delivered(self) -> Iterator[str]:
        """The recipient of every message the sink accepted so far (one per recipient)."""
        return delivered_in(self.kind, self.record)

    def recipients(self, prefix: str = "") -> Counter[str]:
        """How many messages each recipient starting with `prefix` got."""
        return Counter(r for r in self.delivered() if r.startswith(prefix))

    def remove(self) -> None:
        """Delete what the sink wrote (after `stop`)."""

    def _popen(self) -> subprocess.Popen[bytes]:
        raise NotImplementedError


class PostfixSink(Sink):
    """`smtp-sink -D <dump>`: accepted messages appended to one file, in memory when it can."""

    kind = "smtp-sink"

    def __init__(self, folder: Path, executable: str) -> None:
        super().__init__(folder)
        self.executable = executable
        memory = Path("/dev/shm")  # noqa: S108 (mkdtemp makes a private folder in it)
        base = memory if memory.is_dir() and os.access(memory, os.W_OK) else folder
        self.dump_folder = Path(tempfile.mkdtemp(prefix="bench-sink-", dir=base))
        self.dump = self.dump_folder / "dump"

    def _popen(self) -> subprocess.Popen[bytes]:
        command = [self.executable]
        if os.geteuid() == 0:
            # smtp-sink will not run as root: it drops to `nobody`, who must write the dump.
            self.dump_folder.chmod(0o777)
            command += ["-u", "nobody"]
        command += ["-D", str(self.dump), f"{server.HOST}:{self.port}", "256"]
        return _spawn(command)

    @property
    def record(self) -> Path:
        return self.dump

    def remove(self) -> None:
        shutil.rmtree(self.dump_folder, ignore_errors=True)


class AiosmtpdSink(Sink):
    """aiosmtpd in a process of its own (`bench.submissions.smtp_sink`), writing each recipient
    on a line."""

    kind = "aiosmtpd"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.path = Path(tempfile.mkstemp(prefix="sink-", suffix=".txt", dir=folder)[1])

    def _popen(self) -> subprocess.Popen[bytes]:
        command = "from bench.submissions import smtp_sink; smtp_sink()"
        return _spawn([sys.executable, "-c", command, str(self.port), str(self.path)])

    @property
    def record(self) -> Path:
        return self.path

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def delivered_in(kind: str, record: Path) -> Iterator[str]:
    """The recipient of every message a sink of `kind` recorded in `record` so far (one per
    recipient), read by any process: a bench's child reads its parent's sink this way."""
    if kind == PostfixSink.kind:
        yield from _dump_recipients(record)
        return
    try:
        yield from record.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return


def _dump_recipients(dump: Path) -> Iterator[str]:
    try:
        if dump.stat().st_size == 0:
            return
    except FileNotFoundError:
        return
    with dump.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        for match in _RECIPIENT.finditer(data):  # type: ignore[call-overload]
            yield match.group(1).decode()


def sink_make(folder: Path, choice: str = "auto") -> tuple[Sink, str]:
    """The sink to use (`choice`: auto, smtp-sink or aiosmtpd) and a note for the result line
    ("" when it is the one asked for)."""
    executable = smtp_sink_path()
    if choice == "aiosmtpd":
        return AiosmtpdSink(folder), ""
    if executable is not None:
        return PostfixSink(folder, executable), ""
    if choice == "smtp-sink":
        raise BenchError(f"smtp-sink is not installed: {INSTALL_HINT}")
    note = (
        "smtp-sink not found: aiosmtpd took the messages, and it bounds both figures; "
        f"install it for a sink that does not: {INSTALL_HINT}"
    )
    progress(note)
    return AiosmtpdSink(folder), note


def _spawn(command: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        cwd=PROJECT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=sys.stderr,
        start_new_session=True,
        preexec_fn=die_with_parent,  # safe: the bench runs no threads while forking
    )


def _port_open(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((server.HOST, port)) == 0
