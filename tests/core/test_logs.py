"""Gift links' tokens never reach a log: Django's handlers and gunicorn's logs redact them."""

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from core.logs import RedactSecretsFilter, secrets_redact

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "Zm9vYmFyLWdpZnQtdG9rZW4tdGhhdC1tdXN0LW5vdC1sZWFr"


@pytest.mark.parametrize(
    "line",
    [
        f'"GET /a/12/?gift={TOKEN} HTTP/1.1" 200 5120',
        f"/api/v1/articles/12/?page=2&gift={TOKEN}&x=1",
        f"/accounts/login/?next=%2Fa%2F12%2F%3Fgift%3D{TOKEN}",
        f'"https://news.example.com/a/12/?GIFT={TOKEN}" "Mozilla/5.0"',
    ],
)
def test_a_token_in_a_line_is_redacted_and_the_rest_kept(line: str) -> None:
    redacted = secrets_redact(line)

    assert TOKEN not in redacted
    assert "[redacted]" in redacted
    assert redacted.split("[redacted]")[0] == line.split(TOKEN)[0]


def test_djangos_console_handler_redacts_the_development_servers_request_lines() -> None:
    logger = logging.getLogger("django.server")
    handlers = logger.handlers or logging.getLogger().handlers
    record = logger.makeRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        (f"GET /a/3/?gift={TOKEN} HTTP/1.1", "200", "512"),
        None,
    )

    lines = [h.format(record) for h in handlers if h.filter(record)]

    assert lines and all(TOKEN not in line and "[redacted]" in line for line in lines)
    assert any(isinstance(f, RedactSecretsFilter) for h in handlers for f in h.filters)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_gunicorns_access_log_as_the_procfile_runs_it_holds_no_token(tmp_path: Path) -> None:
    procfile = (ROOT / "Procfile").read_text()
    assert "--logger-class core.logs.GunicornLogger" in procfile
    port, log = _free_port(), tmp_path / "access.log"
    env = {**os.environ, "DEBUG": "true", "MASTHEAD_VAR_DIR": str(tmp_path / "var")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--access-logfile",
            str(log),
            "--error-logfile",
            str(tmp_path / "e"),
            "--logger-class",
            "core.logs.GunicornLogger",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}/no-such-page/?gift={TOKEN}"
        request = urllib.request.Request(url, headers={"Referer": f"http://x/a/1/?gift={TOKEN}"})
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(request, timeout=5)
            except urllib.error.HTTPError as error:
                assert error.code == 404
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        deadline = time.monotonic() + 10
        while "no-such-page" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "nothing was logged"
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=10)

    written = log.read_text()
    assert TOKEN not in written
    assert written.count("gift=[redacted]") == 2  # the request line and the Referer


def test_the_request_loggers_redact_before_any_handler_sees_a_record(caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO):
        logging.getLogger("django.server").info(
            '"%s" %s %s', f"GET /a/3/?gift={TOKEN} HTTP/1.1", "200", "512"
        )
        logging.getLogger("django.request").warning("Not Found: %s", f"/a/3/?gift={TOKEN}")

    assert TOKEN not in caplog.text
    assert '"GET /a/3/?gift=[redacted] HTTP/1.1" 200 512' in caplog.text
    assert "Not Found: /a/3/?gift=[redacted]" in caplog.text
