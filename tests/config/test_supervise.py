"""``config/supervise.py`` keeps a command running for ``make run`` and stops it on a signal.

The reliability suite runs the Procfile's own worker line under honcho and kills the worker
(tests/reliability/test_faults_broker_restart.py)."""

import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.reliability.instances import ROOT, wait_until

SUPERVISE = [sys.executable, str(ROOT / "config" / "supervise.py"), "--name", "test"]


def supervised(command: str, tmp_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*SUPERVISE, "--pause", "0.2", "--", sys.executable, "-c", command],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_command_that_exits_on_its_own_is_started_again(tmp_path: Path) -> None:
    dies = "open('runs', 'a').write('run\\n'); raise SystemExit(3)"
    supervisor = supervised(dies, tmp_path)
    runs = tmp_path / "runs"
    try:
        wait_until(lambda: runs.exists() and runs.read_text().count("run") >= 3, "3 runs", 20)
        assert supervisor.poll() is None
    finally:
        supervisor.send_signal(signal.SIGTERM)
        _, stderr = supervisor.communicate(timeout=10)
    assert "supervise[test]: exited with code 3; starting it again in 0.2 s" in stderr
    assert "starting it again in 0.4 s" in stderr  # the pause grows while it keeps dying


def test_a_signal_is_passed_on_and_the_command_is_not_started_again(tmp_path: Path) -> None:
    waits = (
        "import signal, sys, time\n"
        "open('runs', 'a').write('run\\n')\n"
        "def stop(*_): open('stopped', 'w').write('yes'); sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "time.sleep(60)\n"
    )
    supervisor = supervised(waits, tmp_path)
    wait_until(lambda: (tmp_path / "runs").exists(), "the command started", 20)
    time.sleep(0.2)  # its handler is set

    supervisor.send_signal(signal.SIGTERM)

    assert supervisor.wait(timeout=10) == 0
    assert (tmp_path / "stopped").read_text() == "yes"
    assert (tmp_path / "runs").read_text() == "run\n"


def test_make_run_supervises_the_worker_and_beat() -> None:
    lines = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    for name in ("worker", "beat"):
        assert lines[name].startswith(
            f"exec .venv/bin/python config/supervise.py --name {name} -- .venv/bin/celery "
        )
