"""Start a sandbox as a real process for tests (imported by tests only, never by the apps).

from stripe_sandbox.testing import running_sandbox

with running_sandbox(tmp_path) as sandbox:
    client = sandbox.client()          # a stripe.StripeClient aimed at it
    sandbox.url                        # "http://127.0.0.1:<port>"
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

API_KEY = "sk_test_sandbox"


@dataclass
class RunningSandbox:
    """A sandbox process: its URL, data dir and a way to build SDK clients for it."""

    url: str
    data_dir: Path
    process: subprocess.Popen[str]
    log_path: Path
    args: list[str] = field(default_factory=list)

    def client(self, api_key: str = API_KEY, **kwargs: Any) -> Any:
        """Return a ``stripe.StripeClient`` that talks to this sandbox."""
        import stripe

        kwargs.setdefault("max_network_retries", 0)
        return stripe.StripeClient(api_key, base_addresses={"api": self.url}, **kwargs)

    def get_json(self, path: str) -> Any:
        """GET a sandbox-only JSON endpoint such as ``/_sandbox/deliveries``."""
        with urllib.request.urlopen(self.url + path, timeout=5) as resp:  # noqa: S310
            return json.loads(resp.read())

    def deliveries(self, **filters: str) -> list[dict[str, Any]]:
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        return self.get_json("/_sandbox/deliveries" + (f"?{query}" if query else ""))["data"]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _start(data_dir: Path, port: int, extra: list[str], timeout: float) -> RunningSandbox:
    log_path = data_dir.parent / f"{data_dir.name}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    log_file = open(log_path, "a")  # noqa: SIM115 - closed when the process is stopped
    args = [
        sys.executable,
        "-m",
        "stripe_sandbox",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        *extra,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen(  # noqa: S603 - runs our own module
        args,
        stdout=subprocess.PIPE,
        stderr=log_file,
        text=True,
        env=env,
    )
    log_file.close()
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on " not in line:
        proc.kill()
        raise RuntimeError(f"stripe_sandbox did not start: {line!r}\n{log_path.read_text()}")
    url = line.split("listening on ", 1)[1].split()[0]
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_sandbox/health", timeout=1):  # noqa: S310
                break
        except OSError:
            time.sleep(0.02)
    return RunningSandbox(url=url, data_dir=data_dir, process=proc, log_path=log_path, args=extra)


def _stop(sandbox: RunningSandbox) -> None:
    proc = sandbox.process
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout:
        proc.stdout.close()


@contextmanager
def running_sandbox(
    data_dir: Path | str | None = None,
    *,
    port: int = 0,
    args: list[str] | None = None,
    timeout: float = 10.0,
) -> Iterator[RunningSandbox]:
    """Run ``python -m stripe_sandbox`` on a free port (or ``port``) for the block.

    ``data_dir`` defaults to a fresh temporary directory, removed afterwards; ``args`` are
    extra command-line options such as ``["--chaos", "dup=0.5"]``.
    """
    with tempfile.TemporaryDirectory(prefix="stripe_sandbox_") as tmp:
        path = Path(data_dir) if data_dir is not None else Path(tmp) / "data"
        sandbox = _start(path, port, list(args or []), timeout)
        try:
            yield sandbox
        finally:
            _stop(sandbox)


def restart(sandbox: RunningSandbox, timeout: float = 10.0) -> RunningSandbox:
    """Stop a sandbox and start it again on the same data dir (and port); return the new one."""
    port = int(sandbox.url.rsplit(":", 1)[1])
    _stop(sandbox)
    return _start(sandbox.data_dir, port, sandbox.args, timeout)
