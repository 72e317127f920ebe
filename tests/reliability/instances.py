"""Throwaway services for fault tests: each test breaks only what it started itself.

- ``redis_server(tmp)``: a ``redis-server`` on a free port (no persistence), which a test
  may stop and start again on the same port.
- ``postgres_cluster(tmp)``: an ``initdb`` + ``pg_ctl`` cluster on a free port, which a test
  may restart. ``initdb`` refuses root, so as root the cluster belongs to ``postgres``.
- ``fault_worker(...)``: a real ``celery worker`` (prefork) on the app's Celery config,
  started in its own process group so it can be killed whole. With ``hold_dir`` set, every
  webhook event handler first writes a ``started.<event>.<pid>.<ns>`` marker and waits while
  ``hold_dir/hold`` exists, then writes ``applied.<event>.<pid>.<ns>`` after it ran and waits
  while ``hold_dir/hold_after`` exists (the event applied, not yet marked finished): a test can
  catch a task while it runs, and count how many times each event was applied.

The machine's own PostgreSQL (5432) and Redis (6379) are never touched.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """Return a TCP port that nothing listens on just now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until(check: Callable[[], object], what: str, timeout: float = 30.0) -> object:
    """Poll ``check`` until it returns something truthy; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


# Redis ---------------------------------------------------------------------------------


@dataclass
class RedisServer:
    """A redis-server of our own: ``stop()`` it, ``start()`` it again on the same port."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.directory),
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_until(lambda: port_open(self.port), f"redis-server on port {self.port}", 10)

    def stop(self) -> None:
        """Stop the server at once (SIGKILL): whatever the broker held in memory is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        wait_until(lambda: not port_open(self.port), "redis-server to stop", 10)


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    directory.mkdir(parents=True, exist_ok=True)
    server = RedisServer(port=free_port(), directory=directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# PostgreSQL ----------------------------------------------------------------------------


@dataclass
class PostgresCluster:
    """A PostgreSQL cluster of our own on a free port; ``restart()`` drops every connection."""

    port: int
    directory: Path
    restarts: int = 0

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*prefix, *command], check=True, cwd=self.directory, capture_output=True, timeout=120
        )

    def _ctl(self, action: str, *extra: str) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(PG_BIN / "pg_ctl"), action, "-D", str(self.data), "-w", "-t", "60",
            "-l", str(self.directory / "postgres.log"), "-o", options, *extra,
        )  # fmt: skip

    def init(self) -> None:
        self._run(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        self._ctl("start")

    def restart(self, *, down_for: float = 0.0) -> None:
        """Restart the server (fast shutdown: open connections are terminated), staying down
        ``down_for`` seconds in between."""
        self._ctl("stop", "-m", "fast")
        time.sleep(down_for)
        self._ctl("start")
        self.restarts += 1

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._ctl("stop", "-m", "immediate")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """Start a fresh cluster in a temporary directory; stop and delete it afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="faults-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    cluster = PostgresCluster(port=free_port(), directory=directory)
    try:
        cluster.init()
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(directory, ignore_errors=True)


# A Celery worker that can be caught mid-task --------------------------------------------


@dataclass
class FaultWorker:
    """A ``celery worker`` process group; ``hold_dir`` holds the markers described above."""

    process: subprocess.Popen[bytes]
    log_path: Path
    hold_dir: Path
    killed: list[str] = field(default_factory=list)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def hold(self) -> None:
        """Make every handler wait before it applies an event."""
        (self.hold_dir / "hold").touch()

    def release(self) -> None:
        (self.hold_dir / "hold").unlink(missing_ok=True)
        (self.hold_dir / "hold_after").unlink(missing_ok=True)

    def hold_after(self) -> None:
        """Make every handler wait after it applied an event, before the event is finished."""
        (self.hold_dir / "hold_after").touch()

    def markers(self, kind: str, event_id: str = "") -> list[tuple[str, int]]:
        """``(event id, pid)`` of each ``started`` or ``applied`` marker."""
        found = []
        for path in sorted(
            self.hold_dir.glob(f"{kind}.*"), key=lambda p: int(p.name.split(".")[3])
        ):
            _, event, pid, _ns = path.name.split(".")
            if event_id in ("", event):
                found.append((event, int(pid)))
        return found

    def wait_ready(self, timeout: float = 60) -> None:
        wait_until(lambda: self.alive() and " ready." in self.log(), "the worker ready", timeout)

    def alive(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited ({self.process.returncode}):\n{self.log()}")
        return True

    def pool_pids(self) -> list[int]:
        """The prefork pool's processes (children of the main worker process)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except FileNotFoundError:
            return []

    def kill_pool_process(self, pid: int) -> None:
        assert pid in self.pool_pids(), f"{pid} is not one of the worker's pool processes"
        os.kill(pid, signal.SIGKILL)
        self.killed.append(f"pool process {pid}")

    def kill_all(self) -> None:
        """SIGKILL the main process and its pool together, as when the host dies."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.killed.append(f"worker {self.process.pid} and its pool")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def fault_worker(
    *, env: dict[str, str], log_path: Path, hold_dir: Path, concurrency: int = 1
) -> FaultWorker:
    """Start a prefork worker (``-c concurrency``) with ``env`` over the current environment."""
    hold_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "tests.reliability.instances",
        "--pool=prefork", f"--concurrency={concurrency}", "--loglevel=INFO",
        "--without-mingle", "--without-gossip", "--without-heartbeat",
        "--hostname", f"faults-{uuid.uuid4().hex[:8]}@%h",
    ]  # fmt: skip
    full_env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "FAULTS_HOLD_DIR": str(hold_dir),
        **env,
    }
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return FaultWorker(process=process, log_path=log_path, hold_dir=hold_dir)


def _hold_handlers(hold_dir: Path) -> None:
    """Wrap every webhook event handler in place so a test can catch it running."""
    from billing.events import EVENT_HANDLERS

    def held(handler: Callable[[Any], None]) -> Callable[[Any], None]:
        def run(event: Any) -> None:  # a stored billing.models.WebhookEvent
            pid = os.getpid()
            (hold_dir / f"started.{event.stripe_id}.{pid}.{time.time_ns()}").touch()
            deadline = time.monotonic() + 120
            while (hold_dir / "hold").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            handler(event)
            (hold_dir / f"applied.{event.stripe_id}.{pid}.{time.time_ns()}").touch()
            deadline = time.monotonic() + 120
            while (hold_dir / "hold_after").exists() and time.monotonic() < deadline:
                time.sleep(0.05)

        return run

    for event_type, handler in list(EVENT_HANDLERS.items()):
        EVENT_HANDLERS[event_type] = held(handler)


def _worker_main(argv: list[str]) -> None:
    """``python -m tests.reliability.instances <celery worker options>``."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    hold_dir = os.environ.get("FAULTS_HOLD_DIR")
    if hold_dir:
        _hold_handlers(Path(hold_dir))
    from config.celery import app

    app.worker_main(["worker", *argv])


if __name__ == "__main__":
    _worker_main(sys.argv[1:])
