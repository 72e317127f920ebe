"""Processes for the webhook ingress benchmark: gunicorn with the query-counting hooks,
the dj-stripe virtualenv, CPU time of a process tree, waiting for a port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
GUNICORN_CONF = BENCH / "_ingress_gunicorn_conf.py"
DJSTRIPE_REQUIREMENTS = (
    "dj-stripe==2.11.0",
    "stripe>=15,<16",
    "Django>=5.2,<5.3",
    "gunicorn",
    "psycopg[binary]",
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_wait(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Wait until something accepts connections on ``port``; fail if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing answered on port {port} within {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started in its own session, and its children, by its own group id."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def gunicorn(
    python: str, app: str, env: dict[str, str], *, cwd: Path, log: Path, workers: int = 2
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """Run ``app`` under gunicorn (sync workers, the query-counting hooks) on a free port;
    yield the port and the master process."""
    port = free_port()
    command = [
        python, "-m", "gunicorn", app, "-c", str(GUNICORN_CONF), "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--worker-class", "sync", "--log-level", "warning",
    ]  # fmt: skip
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=out, start_new_session=True
        )
    try:
        port_wait(port, process)
        yield port, process
    finally:
        stop(process)


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of ``root`` and its live descendants."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    total = 0.0
    for pid, cpu in times.items():
        current = pid
        while current > 1:
            if current == root:
                total += cpu
                break
            current = parents.get(current, 0)
    return total


def djstripe_venv(folder: Path) -> Path:
    """Create (once) the dj-stripe peer's virtualenv in ``folder``; return its python."""
    python = folder / "bin" / "python"
    stamp = folder / ".bench-requirements"
    wanted = "\n".join(DJSTRIPE_REQUIREMENTS)
    if stamp.exists() and stamp.read_text() == wanted:
        return python
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         *DJSTRIPE_REQUIREMENTS],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode:
        raise SystemExit(f"ERROR: pip could not install dj-stripe:\n{done.stdout}{done.stderr}")
    stamp.write_text(wanted)
    return python
