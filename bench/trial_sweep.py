"""Trial sweep: ``trial_reminders_send`` + ``trials_close`` over 10k and 100k due trials.

On PostgreSQL (a database of its own, dropped, created and migrated by this script) it
bulk-loads, with COPY, N due cardless trials: half ending within the reminder window (they
get a reminder), half past their end and still active (they are closed and get the "trial
ended" email), each with its reader (unusable password) and trial entitlement, beside N
trials ended long ago whose emails went out (history the sweeps must skip). Then it runs
the two sweep tasks in-process with the real broker (Redis; no worker, so the batch tasks
stay queued and are counted there) and times the database sweep and the queueing of the
batch tasks apart: the time spent inside the tasks' ``delay`` is the queueing, the rest is
the sweep.

Beside it, email rendering throughput: reminder and "trial ended" emails built with the real
templates and serialised to MIME, in emails/s (no target).

    .venv/bin/python bench/trial_sweep.py [--sizes 10000,100000] [--emails 2000]

Environment: BENCH_PG_URL (the server, default postgres://postgres@127.0.0.1:5432; the database
is masthead_bench_trials), BENCH_BROKER_URL (default redis://127.0.0.1:6379/5, whose "celery"
list it empties). The script exits non-zero only on errors.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import database_recreate, machine_print  # noqa: E402  (bench/ is on sys.path)

DATABASE = "masthead_bench_trials"
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/5")
GOAL_SECONDS_100K = 10.0


def django_setup(database_url: str) -> Path:
    os.environ["DATABASE_URL"] = database_url
    os.environ["CELERY_BROKER_URL"] = BROKER_URL
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("CACHE_URL", "locmem://")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings

    # The services log a line per trial, as in production; into a file, not the terminal.
    log_path = Path(settings.VAR_DIR) / "bench" / "trial_sweep.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO)
    return log_path


def _copy(cursor: Any, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def trials_load(*, due: int, now: datetime) -> dict[str, int]:
    """COPY ``due`` due trials (half in the reminder window, half past their end) and as many
    long-ended ones, with their readers and trial entitlements; return the counts."""
    from django.conf import settings
    from django.db import connection

    reminder_window = timedelta(days=settings.TRIAL_REMINDER_DAYS)
    history = due
    total = due + history
    reminders = due // 2

    def trial_row(i: int) -> tuple[Any, ...]:
        if i <= reminders:  # ends within the window: between 1 h and the window's end
            ends = (
                now
                + timedelta(hours=1)
                + (reminder_window - timedelta(hours=2)) * ((i % 997) / 997)
            )
            return (i, i, "cardless", "active", ends - timedelta(days=14), ends, None, None, None)
        if i <= due:  # past its end, not yet closed
            ends = now - timedelta(minutes=5 + i % 600)
            return (i, i, "cardless", "active", ends - timedelta(days=14), ends, None, None, None)
        ends = now - timedelta(days=30 + i % 300)  # long over, emails sent
        reminded = ends - timedelta(days=3)
        return (i, i, "cardless", "ended", ends - timedelta(days=14), ends, reminded, ends, ends)

    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        _copy(
            raw,
            "accounts_user",
            ["id", "email", "password", "full_name", "is_staff", "is_active", "is_superuser",
             "date_joined", "trial_used_at"],
            (
                (i, f"bench.reader{i}@example.com", f"!unusable{i}", "", False, True, False,
                 now - timedelta(days=60), now - timedelta(days=20))
                for i in range(1, total + 1)
            ),
        )  # fmt: skip
        trial_rows = [trial_row(i) for i in range(1, total + 1)]
        _copy(
            raw,
            "membership_trial",
            ["id", "user_id", "kind", "status", "started_at", "ends_at", "reminder_sent_at",
             "ended_at", "ended_email_sent_at", "email_hash"],
            (
                (*row, hashlib.sha256(f"bench-{row[0]}".encode()).hexdigest())
                for row in trial_rows
            ),
        )  # fmt: skip
        _copy(
            raw,
            "membership_entitlement",
            ["id", "user_id", "source", "all_titles", "starts_at", "ends_at", "reference",
             "note", "created_at"],
            (
                (row[0], row[1], "trial", True, row[4], row[5], f"trial:{row[0]}", "", row[4])
                for row in trial_rows
            ),
        )  # fmt: skip
        for table in ("accounts_user", "membership_trial", "membership_entitlement"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {total})")
        cursor.execute("ANALYZE")
    return {"in_window": reminders, "past_end": due - reminders, "history": history}


def tables_empty() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE accounts_user, membership_trial, membership_trialevent, "
            "membership_entitlement, membership_entitlementevent RESTART IDENTITY CASCADE"
        )


class QueueTimer:
    """Wrap a task's ``delay`` to count the batch tasks queued and the time spent queueing."""

    def __init__(self, *tasks: Any) -> None:
        self.tasks = tasks
        self.seconds = 0.0
        self.batches = 0
        self.ids = 0

    def _wrap(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def delay(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.batches += 1
                self.ids += len(kwargs.get("trial_ids", []))

        return delay

    @contextmanager
    def active(self) -> Iterator[QueueTimer]:
        for task in self.tasks:
            task.delay = self._wrap(task.delay)
        try:
            yield self
        finally:
            for task in self.tasks:
                del task.delay  # back to the class's own method


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def queue_length() -> int:
    from config.celery import app

    with app.connection_for_write() as conn:
        return int(conn.default_channel.client.llen("celery"))


def queue_purge() -> None:
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.client.delete("celery")


def sweep_measure(size: int) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from membership.models import Trial, TrialStatus
    from membership.tasks import (
        trial_ended_emails_send,
        trial_reminder_emails_send,
        trial_reminders_send,
        trials_close,
    )

    tables_empty()
    queue_purge()
    now = timezone.now()
    started = time.perf_counter()
    loaded = trials_load(due=size, now=now)
    load_seconds = time.perf_counter() - started

    result: dict[str, Any] = {"size": size, "load_s": load_seconds, **loaded}
    for name, service, task, expected in (
        ("reminders", trial_reminders_send, trial_reminder_emails_send, loaded["in_window"]),
        ("close", trials_close, trial_ended_emails_send, loaded["past_end"]),
    ):
        queries = QueryCounter()
        with QueueTimer(task).active() as timer, connection.execute_wrapper(queries):
            started = time.perf_counter()
            count = service()
            total = time.perf_counter() - started
        if count != expected:
            raise SystemExit(f"{name}: the service handled {count} trials, expected {expected}")
        if timer.ids != expected:
            raise SystemExit(f"{name}: {timer.ids} trial ids queued, expected {expected}")
        result[name] = {
            "trials": count,
            "sweep_s": total - timer.seconds,
            "queue_s": timer.seconds,
            "total_s": total,
            "batches": timer.batches,
            "queries": queries.count,
        }
    queued = queue_length()
    batches = result["reminders"]["batches"] + result["close"]["batches"]
    if queued != batches:
        raise SystemExit(f"Redis holds {queued} messages; {batches} batch tasks were queued")
    result["redis_queued"] = queued
    still_active = Trial.objects.filter(status=TrialStatus.ACTIVE, ends_at__lte=now).count()
    if still_active:
        raise SystemExit(f"{still_active} trials past their end are still active")
    queue_purge()
    return result


def emails_render(count: int) -> dict[str, float]:
    from django.utils import timezone

    from membership.emails import trial_ended_email_build, trial_reminder_email_build
    from membership.models import Plan, Trial

    now = timezone.now()
    plans = [
        Plan(name=name, description="Every premium title.", monthly_amount=m, yearly_amount=y)
        for name, m, y in (("Essentials", 699, 6990), ("Complete", 1299, 12990))
    ]
    rates = {}
    trial_reminder_email_build(trial=Trial(pk=1, ends_at=now), to="warm@example.com", now=now)
    trial_ended_email_build(trial=Trial(pk=1, ends_at=now), to="warm@example.com", plans=plans)
    for kind in ("reminder", "ended"):
        started = time.perf_counter()
        size = 0
        for i in range(count):
            trial = Trial(pk=i + 1, ends_at=now + timedelta(days=2, minutes=i % 1440))
            to = f"reader{i}@example.com"
            if kind == "reminder":
                message = trial_reminder_email_build(trial=trial, to=to, now=now)
            else:
                message = trial_ended_email_build(trial=trial, to=to, plans=plans)
            size += len(message.message().as_bytes())
        elapsed = time.perf_counter() - started
        rates[kind] = count / elapsed
        rates[f"{kind}_bytes"] = size / count
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="due trials per run")
    parser.add_argument("--emails", type=int, default=2000, help="emails to render per kind")
    options = parser.parse_args()
    sizes = [int(s) for s in options.sizes.split(",")]

    database_url = database_recreate(DATABASE)
    log_path = django_setup(database_url)
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0, stdout=io.StringIO())
    print(f"Trial sweep benchmark; load average {os.getloadavg()[0]:.1f} at start")
    machine_print()
    print(
        f"PostgreSQL {DATABASE} (recreated, migrated, COPY-loaded, ANALYZE), broker "
        f"{BROKER_URL} (no worker), MEMBERSHIP_BATCH_SIZE={settings.MEMBERSHIP_BATCH_SIZE}, "
        f"service logs in {log_path}"
    )
    results = []
    for size in sizes:
        r = sweep_measure(size)
        results.append(r)
        print(
            f"\n{size:>7} due trials ({r['in_window']} in the reminder window, {r['past_end']} "
            f"past their end, {r['history']} long ended); loaded in {r['load_s']:.1f} s"
        )
        print(f"  {'service':<22}{'trials':>8}{'sweep s':>10}{'queue s':>10}{'total s':>10}"
              f"{'tasks':>7}{'queries':>9}")  # fmt: skip
        for name, label in (("reminders", "trial_reminders_send"), ("close", "trials_close")):
            s = r[name]
            print(
                f"  {label:<22}{s['trials']:>8}{s['sweep_s']:>10.2f}{s['queue_s']:>10.3f}"
                f"{s['total_s']:>10.2f}{s['batches']:>7}{s['queries']:>9}"
            )
        both = r["reminders"]["total_s"] + r["close"]["total_s"]
        r["both_s"] = both
        r["sweep_s"] = r["reminders"]["sweep_s"] + r["close"]["sweep_s"]
        r["queue_s"] = r["reminders"]["queue_s"] + r["close"]["queue_s"]
        print(
            f"  both: {both:.2f} s (sweep {r['sweep_s']:.2f} s, queueing {r['queue_s']:.3f} s); "
            f"{r['redis_queued']} batch tasks waiting in Redis"
        )
    if len(results) >= 2:
        small, big = results[0], results[-1]
        factor = big["size"] / small["size"]
        print(f"\nRatio {big['size']} / {small['size']} (linear would be {factor:.0f}x):")
        for key, label in (("sweep_s", "sweep"), ("queue_s", "queueing"), ("both_s", "total")):
            print(f"  {label:<9} {big[key] / small[key]:6.1f}x")
    for r in results:
        if r["size"] == 100_000:
            verdict = "met" if r["both_s"] <= GOAL_SECONDS_100K else "MISSED"
            print(f"Goal 100k <= {GOAL_SECONDS_100K:.0f} s: {r['both_s']:.2f} s, {verdict}")

    rates = emails_render(options.emails)
    print(
        f"\nEmail rendering ({options.emails} of each, subject + text + HTML, to MIME bytes): "
        f"reminder {rates['reminder']:.0f} emails/s ({rates['reminder_bytes']:.0f} B), "
        f"trial ended {rates['ended']:.0f} emails/s ({rates['ended_bytes']:.0f} B)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
