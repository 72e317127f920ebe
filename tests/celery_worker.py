"""A real ``celery worker`` process for tests that must cross a process boundary.

Register the fixture in a conftest (``from tests.celery_worker import celery_worker_process``),
then mark the test::

    @pytest.mark.celery_worker                     # or celery_worker(env={"NAME": "value"})
                                                   # or celery_worker(concurrency=2): prefork
    @pytest.mark.django_db(transaction=True)       # so that on_commit fires and rows are visible
    def test_something(celery_worker_process): ...

Enqueue with ``.delay()`` and wait for the effect with ``celery_worker_process.wait_for()``.
The worker uses this test's database (the SQLite file or PostgreSQL's ``test_`` database),
the same broker (``CELERY_BROKER_URL``, else the filesystem broker under
``MASTHEAD_VAR_DIR``), and a file email backend whose messages ``emails()`` returns.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

# The file backend ends every message with this line (django.core.mail.backends.filebased).
MESSAGE_END = b"\n" + b"-" * 79 + b"\n"
STOP_TIMEOUT = 20


def worker_database_url() -> str:
    """Return a ``DATABASE_URL`` that points another process at this test database."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    if db["ENGINE"] == "django.db.backends.postgresql":
        user = quote(db["USER"] or "", safe="")
        password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
        host = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
        return f"postgres://{user}{password}@{host}/{quote(db['NAME'], safe='')}"
    raise NotImplementedError(f"No worker database URL for {db['ENGINE']}")


@dataclass
class CeleryWorkerProcess:
    process: subprocess.Popen[bytes]
    log_path: Path
    mail_dir: Path

    def log(self) -> str:
        """Return what the worker has logged so far."""
        return self.log_path.read_text(errors="replace")

    def emails(self) -> list[Message]:
        """Return every email the worker has finished writing, oldest file first."""
        messages = []
        for path in sorted(self.mail_dir.glob("*.log")):
            complete = path.read_bytes().split(MESSAGE_END)[:-1]  # the tail may be half-written
            messages.extend(message_from_bytes(raw) for raw in complete)
        return messages

    def wait_for(self, condition: Callable[[], bool], *, what: str, timeout: float = 60) -> None:
        """Poll ``condition`` until it holds; fail with the worker's log if it never does."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                pytest.fail(
                    f"The worker exited ({self.process.returncode}) before {what}:\n{self.log()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"No {what} after {timeout:.0f}s. Worker log:\n{self.log()[-6000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop the worker warmly (SIGTERM lets a running task finish); kill it if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def celery_worker_process(
    request: pytest.FixtureRequest, transactional_db: None, tmp_path: Path
) -> Iterator[CeleryWorkerProcess]:
    """Start a Celery worker on this test's database and broker; stop it after the test."""
    marker = request.node.get_closest_marker("celery_worker")
    if marker is None:  # without the mark, tasks run inline and the worker would test nothing
        pytest.fail("Tests using celery_worker_process need @pytest.mark.celery_worker.")
    celery_app.control.purge()  # messages left by an earlier run would act on this database
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "PYTHONUNBUFFERED": "1",
        **marker.kwargs.get("env", {}),
    }
    concurrency = marker.kwargs.get("concurrency")  # N pool processes instead of one (solo)
    pool = ["--pool=prefork", f"--concurrency={concurrency}"] if concurrency else ["--pool=solo"]
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        *pool, "--loglevel=INFO", "--without-mingle", "--without-gossip",
        "--without-heartbeat", "--hostname", f"test-{uuid.uuid4().hex[:8]}@%h",
    ]  # fmt: skip
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    worker = CeleryWorkerProcess(process=process, log_path=log_path, mail_dir=mail_dir)
    yield worker
    worker.stop()
