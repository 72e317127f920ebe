"""The web process at start-up: ready to queue work before the first request."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_web_process_loads_the_broker_transport_at_start_without_connecting() -> None:
    code = "import sys, config.wsgi; print('kombu.transport.redis' in sys.modules)"
    unreachable = {**os.environ, "CELERY_BROKER_URL": "redis://127.0.0.1:1/0", "DEBUG": "true"}

    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=unreachable,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
