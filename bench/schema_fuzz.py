"""Schema fuzz, the long run: the reliability suite's schemathesis test with more examples.

Runs ``tests/reliability/test_schema_fuzz.py`` (every operation of ``/api/schema/``, valid
and invalid requests, as a signed-in reader and as an anonymous one, against a live server
on PostgreSQL, with plans on sale at the offline Stripe) with ``--examples`` examples per
operation and mode instead of CI's 25, and a random seed instead of CI's fixed one, then
prints the requests sent and the statuses answered per operation. Like every bench script
it passes or fails on errors only: a 5xx, or an answer the schema does not document, fails
it exactly as in CI, with Hypothesis's reproduction printed.

    .venv/bin/python bench/schema_fuzz.py [--examples 250]

Environment: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432; pytest-django makes
and drops ``test_masthead_bench_fuzz``), BENCH_FUZZ_REDIS_URL (default
redis://127.0.0.1:6379/3, the cache for the throttles, which the tests flush).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
REDIS_URL = os.environ.get("BENCH_FUZZ_REDIS_URL", "redis://127.0.0.1:6379/3")
TEST = "tests/reliability/test_schema_fuzz.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=250, help="per operation and mode")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="schema-fuzz-") as folder:
        report = Path(folder) / "report.json"
        env = {
            **os.environ,
            "DEBUG": "true",
            "MASTHEAD_VAR_DIR": str(Path(folder) / "var"),
            "DATABASE_URL": f"{PG_URL}/masthead_bench_fuzz",
            "CACHE_URL": REDIS_URL,
            "CELERY_BROKER_URL": REDIS_URL,
            "SCHEMA_FUZZ_EXAMPLES": str(args.examples),
            "SCHEMA_FUZZ_RANDOM": "1",
            "SCHEMA_FUZZ_REPORT": str(report),
        }
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-m",
            "reliability",
            "-q",
            "-p",
            "no:cacheprovider",
            TEST,
            "-k",
            "every_operation",
        ]
        started = time.monotonic()
        result = subprocess.run(command, cwd=ROOT, env=env, check=False)
        seconds = time.monotonic() - started
        figures = json.loads(report.read_text()) if report.exists() else {}
    _print(figures, args.examples, seconds)
    return result.returncode


def _print(figures: dict[str, dict[str, dict[str, int]]], examples: int, seconds: float) -> None:
    print(
        f"\nSchema fuzz, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores; up to {examples} examples per operation and mode, "
        f"random seed; {seconds:.0f} s in all"
    )
    for reader, data in sorted(figures.items()):
        sent = sum(data["examples"].values())
        print(f"\n{reader}: {len(data['examples'])} operations, {sent} requests")
        for operation, count in sorted(data["examples"].items()):
            statuses = {
                key.rsplit(" ", 1)[1]: n
                for key, n in data["statuses"].items()
                if key.rsplit(" ", 1)[0] == operation
            }
            answered = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
            print(f"  {operation:<34} {count:>5}  {answered}")
        server_errors = sum(
            n for key, n in data["statuses"].items() if int(key.rsplit(" ", 1)[1]) >= 500
        )
        print(f"  responses with status >= 500: {server_errors}")


if __name__ == "__main__":
    sys.exit(main())
