"""Helpers shared by the bench scripts: databases, a production-like server, timing, the machine.

Every bench script runs from the repository root with ``.venv/bin/python bench/<name>.py``.
PostgreSQL is reached at ``BENCH_PG_URL`` (``postgres://postgres@127.0.0.1:5432`` unless set);
each script owns databases named ``masthead_bench_*`` and drops and recreates them at every
run, so a run is repeatable and never touches anyone else's data.

- ``database_recreate(name)`` / ``database_drop(name)``: a fresh, empty database; its URL.
- ``database_migrate(url)``: ``manage.py migrate`` in a subprocess against that database.
- ``server_env(url)``: the environment of a production-like process (DEBUG off, a
  SECRET_KEY, Stripe keys, ALLOWED_HOSTS=127.0.0.1, persistent database connections,
  a per-process cache), for gunicorn or an in-process ``django.setup()``.
- ``without_api_throttles(env)``: the same, with DRF's per-reader rate limits switched off,
  so a load generator measures the view rather than the limiter's 429s.
- ``gunicorn(env)``: a context manager that starts gunicorn on a free port, waits until it
  answers and stops it (by its own pid) on exit; it yields a ``Server`` (``.url``, ``.pid``).
- ``cpu_seconds(pids)``, ``children(pid)``, ``database_backends(name)``: CPU time actually
  spent by a server's workers and their PostgreSQL backends, a figure that noise from other
  processes on a shared machine barely moves (unlike requests/s).
- ``percentile(values, p)`` and ``machine()``: figures and where they were taken.
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
PYTHON = str(REPO / ".venv" / "bin" / "python")
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")

# Not secrets: values for a throwaway benchmark server on 127.0.0.1.
BENCH_SECRET_KEY = "bench-only-secret-key-" + "x" * 40
BENCH_STRIPE_KEY = "sk_test_bench_only"
BENCH_WEBHOOK_SECRET = "whsec_bench_only"


def database_url(name: str) -> str:
    """Return the URL of database ``name`` on the benchmark server."""
    return f"{PG_URL}/{name}"


def database_drop(name: str) -> None:
    """Drop database ``name`` if it exists, closing its connections first."""
    if not name.startswith("masthead_bench"):
        raise ValueError(f"refusing to drop {name!r}: bench databases are masthead_bench_*")
    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_recreate(name: str) -> str:
    """Drop and create database ``name``; return its URL."""
    database_drop(name)
    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(name)


def database_migrate(url: str) -> None:
    """Apply every migration to the database at ``url`` (``manage.py migrate`` subprocess)."""
    env = server_env(url)
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True
    )


def manage(url: str, *args: str) -> str:
    """Run ``manage.py <args>`` against the database at ``url``; return its output."""
    done = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=REPO,
        env=server_env(url),
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def server_env(url: str, **extra: str) -> dict[str, str]:
    """Return the environment of a production-like Masthead process on database ``url``.

    DEBUG off (with the SECRET_KEY and Stripe keys production demands), no SSL redirect
    (plain HTTP on 127.0.0.1), persistent database connections (``DB_CONN_MAX_AGE``) as a
    production deployment would set, and a per-process memory cache so nothing is written
    to the shared Redis. ``extra`` overrides or adds variables.
    """
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DEBUG="false",
        SECRET_KEY=BENCH_SECRET_KEY,
        STRIPE_SECRET_KEY=BENCH_STRIPE_KEY,
        STRIPE_WEBHOOK_SECRET=BENCH_WEBHOOK_SECRET,
        STRIPE_API_BASE="http://127.0.0.1:9",
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL="http://127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        DB_CONN_MAX_AGE="600",
        CACHE_URL="locmem://",
        CELERY_BROKER_URL="memory://",
        LOG_LEVEL="WARNING",
        MASTHEAD_VAR_DIR=os.environ.get("MASTHEAD_VAR_DIR", "/tmp/var-bench"),
    )
    env.update(extra)
    return env


THROTTLE_FREE_SETTINGS = """\
# Written by bench/_common.py: Masthead's settings with DRF's API rate limits switched off.
from config.settings import *  # noqa: F403

REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}  # noqa: F405
"""


def without_api_throttles(env: dict[str, str]) -> dict[str, str]:
    """Return ``env`` pointing at Masthead's settings minus DRF's per-reader rate limits.

    A load generator sends thousands of requests a second for one reader; with the limits
    on it would measure 429s. The settings module is written under ``MASTHEAD_VAR_DIR``.
    """
    folder = Path(env["MASTHEAD_VAR_DIR"]) / "bench_settings"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "masthead_bench_settings.py").write_text(THROTTLE_FREE_SETTINGS)
    path = os.pathsep.join(p for p in (str(folder), str(REPO), env.get("PYTHONPATH", "")) if p)
    return {**env, "PYTHONPATH": path, "DJANGO_SETTINGS_MODULE": "masthead_bench_settings"}


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_answering(base: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(base + "/api/v1/titles/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers, whatever it says
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer at {base} within {timeout:.0f} s")


@dataclass(frozen=True)
class Server:
    """A running gunicorn: its base URL (``http://127.0.0.1:<port>``) and master pid."""

    url: str
    pid: int


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str],
    *,
    workers: int = 2,
    worker_class: str = "sync",
    threads: int = 1,
    log_path: Path | None = None,
    config: Path | None = None,
) -> Iterator[Server]:
    """Serve ``config.wsgi`` with gunicorn on a free port of 127.0.0.1; yield the ``Server``.

    Output goes to ``log_path`` (or is discarded); ``config`` is a gunicorn config file of
    hooks (``bench/_read_gunicorn_conf.py``). The server is stopped with SIGTERM, then
    SIGKILL, through its own process group, when the block ends.
    """
    port = free_port()
    command = [
        PYTHON,
        "-m",
        "gunicorn",
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--log-level",
        "warning",
        *(["-c", str(config)] if config else []),
    ]
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=log, stderr=log, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(base, process, timeout=30)
        yield Server(url=base, pid=process.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if log is not subprocess.DEVNULL:
            log.close()


def children(pid: int) -> list[int]:
    """Return the pids of the direct children of ``pid`` (gunicorn's workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return sorted(found)


def database_backends(name: str) -> list[int]:
    """Return the pids of the PostgreSQL backends connected to database ``name``
    (other than the connection asking). PostgreSQL must run on this machine."""
    with psycopg.connect(database_url("postgres")) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return sorted(int(row[0]) for row in rows)


def cpu_seconds(pids: Iterable[int]) -> float:
    """Return the CPU time (user + system) the processes have used so far, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def percentile(values: Sequence[float], p: float) -> float:
    """Return the ``p``-th percentile (0-100) of ``values``, nearest rank."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, round(p / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def machine() -> dict[str, str]:
    """Describe where figures were taken: date, cores, CPU model, Python, PostgreSQL."""
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with psycopg.connect(database_url("postgres")) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "postgresql": row[0] if row else "unknown",
    }


def machine_print() -> None:
    """Print ``machine()`` as one line."""
    m = machine()
    print(
        f"machine: {m['date']}, {m['cores']} cores ({m['cpu']}), "
        f"Python {m['python']}, PostgreSQL {m['postgresql']}"
    )


def fail(message: str) -> None:
    """Print an error and exit non-zero (for errors, never for a missed goal)."""
    print(f"ERROR: {message}", file=sys.stderr)
    raise SystemExit(1)
