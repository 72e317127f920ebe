"""Start the app-store sandbox as a real process for tests (imported by tests only).

with running_appstore_sandbox(apple_notify_url=..., google_push_url=...) as sandbox:
    sandbox.post("/_sandbox/apple/subscriptions", {"product_id": "..."})
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class RunningAppStoreSandbox:
    url: str
    data_dir: Path
    process: subprocess.Popen[str]
    log_path: Path

    @property
    def apple_root(self) -> Path:
        """The root certificate (DER) Masthead is to trust."""
        return self.data_dir / "apple_root.der"

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body or {}).encode() if method == "POST" else None
        request = urllib.request.Request(  # noqa: S310 - the sandbox's own address
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.call("POST", path, body)

    def get(self, path: str) -> Any:
        return self.call("GET", path)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_appstore_sandbox(
    *, args: list[str] | None = None, timeout: float = 10.0
) -> Iterator[RunningAppStoreSandbox]:
    """Run ``python -m appstore_sandbox`` on a free port with a fresh data dir for the block."""
    with tempfile.TemporaryDirectory(prefix="appstore_sandbox_") as tmp:
        data_dir = Path(tmp) / "data"
        log_path = Path(tmp) / "sandbox.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        with open(log_path, "a") as log_file:
            proc = subprocess.Popen(  # noqa: S603 - runs our own module
                [
                    sys.executable,
                    "-m",
                    "appstore_sandbox",
                    "--port",
                    "0",
                    "--data-dir",
                    str(data_dir),
                    *(args or []),
                ],
                stdout=subprocess.PIPE,
                stderr=log_file,
                text=True,
                env=env,
            )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "listening on " not in line:
            proc.kill()
            raise RuntimeError(f"appstore_sandbox did not start: {line!r}\n{log_path.read_text()}")
        url = line.split("listening on ", 1)[1].split()[0]
        sandbox = RunningAppStoreSandbox(url, data_dir, proc, log_path)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                sandbox.get("/_sandbox/health")
                break
            except OSError:
                time.sleep(0.02)
        try:
            yield sandbox
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdout.close()
