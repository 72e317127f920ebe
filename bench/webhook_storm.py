"""Webhook storm, bench size: ``tests/reliability/test_webhook_storm.py`` with 10k events.

The same test as CI's 2k storm (readers' lifecycles at the offline Stripe; every event
posted, a fifth of them twice, shuffled, by 4 concurrent senders to gunicorn with 2 sync
workers; applied by a Celery worker with 2 prefork processes; then checked against Stripe
and against the same events applied once, in order, after a reset), run by pytest on
PostgreSQL (pytest-django's ``test_masthead_bench_storm``, created and dropped by it) and
Redis, with ``STORM_EVENTS`` set. It prints events/s accepted, the time until every event
was applied, and events/s applied end to end.

    .venv/bin/python bench/webhook_storm.py [--events 10000]

Environment: BENCH_PG_URL (server, default postgres://postgres@127.0.0.1:5432),
BENCH_BROKER_URL / BENCH_CACHE_URL (default redis://127.0.0.1:6379/5 and /6; the storm
empties both). Exits non-zero only on errors (including a storm that ends in a wrong state).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PYTHON, REPO, database_url, fail, machine_print

BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/5")
CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/6")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    options = parser.parse_args()
    print(f"Webhook storm, {options.events} events; load average {os.getloadavg()[0]:.1f}")
    machine_print()
    with tempfile.TemporaryDirectory(prefix="webhook_storm_") as tmp:
        report = Path(tmp) / "storm.json"
        log = Path(os.environ.get("MASTHEAD_VAR_DIR", REPO / "var")) / "bench" / "webhook_storm.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DEBUG": "true",
            "DATABASE_URL": database_url("masthead_bench_storm"),
            "CELERY_BROKER_URL": BROKER_URL,
            "CACHE_URL": CACHE_URL,
            "STORM_EVENTS": str(options.events),
            "STORM_REPORT": str(report),
        }
        print(f"pytest's output: {log}")
        command = [
            PYTHON, "-m", "pytest", "tests/reliability/test_webhook_storm.py", "-q",
            "-p", "no:cacheprovider", "--create-db",
        ]  # fmt: skip
        started = time.monotonic()
        with log.open("wb") as out:
            done = subprocess.run(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        elapsed = time.monotonic() - started
        if done.returncode != 0 or not report.exists():
            text = log.read_text(errors="replace")
            failure = [line for line in text.splitlines() if line.startswith("E ")]
            print("\n".join(failure[:40]) or text[-4000:], file=sys.stderr)
            fail(f"the storm failed (pytest exit {done.returncode}); whole log: {log}")
        f = json.loads(report.read_text())
    print(
        f"{f['readers']} readers, {f['events']} events ({f['handled']} handled, {f['ignored']} "
        f"ignored types) + {f['duplicates']} duplicates = {f['posts']} posts, shuffled, "
        f"{f['senders']} senders, gunicorn 2 sync workers, Celery prefork x{f['workers']}"
    )
    print(f"  lifecycles built at the sandbox in   {f['build_s']:8.1f} s")
    print(
        f"  accepted (all posts answered 200)    {f['send_s']:8.1f} s  "
        f"{f['accepted_per_s']:7.1f} posts/s"
    )
    print(
        f"  applied (every event settled)        {f['applied_s']:8.1f} s  "
        f"{f['applied_per_s']:7.1f} events/s end to end"
    )
    print(
        f"  ordered replay, one process          {f['ordered_replay_s']:8.1f} s  "
        f"{f['events'] / f['ordered_replay_s']:7.1f} events/s"
    )
    print(
        f"  ordered replay time / storm apply time: "
        f"{f['ordered_replay_s'] / f['applied_s']:.2f}; "
        f"state equal, every event applied once, {f['emails']} emails, "
        f"{f['sender_retries']} sender retries; whole run {elapsed:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
