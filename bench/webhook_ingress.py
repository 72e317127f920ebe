"""Webhook ingress: one stream of signed Stripe events into Masthead and into dj-stripe 2.11.

    .venv/bin/python bench/webhook_ingress.py [--events 500] [--senders 4] [--skip-djstripe]

1. The offline Stripe (``python -m stripe_sandbox``, a process) gets, through the official
   SDK, one customer per reader and a subscription of one of five kinds (paid, paid then set
   to end at the period's end, card trial then set to end, failing card, paid then
   cancelled). The stream is the first N events of the types Masthead applies
   (``customer.subscription.created/updated/deleted``, ``invoice.paid``,
   ``invoice.payment_failed``), read back from the sandbox's own ``/v1/events``, oldest
   first. Masthead's database holds the readers, their Stripe customers and the plan.
2. Masthead: gunicorn (2 sync workers, DEBUG off) on PostgreSQL (``masthead_bench_ingress``,
   recreated and migrated here) with Redis as broker (``BENCH_INGRESS_BROKER``, db 9 unless
   set), and one ``celery worker -c 2`` (2 pool processes) started once and warmed. 4
   senders in a second process post the stream, each event signed as it is sent: accepted/s
   (every answer 200) and p50/p99. By default the workers hold off while a part is posted,
   then apply it: applied/s end to end is N / (posting + applying). With ``--live`` they
   apply as events arrive: N / (first send to the last event applied). A handler fetches
   the subscription from the sandbox unless a state fetched after its event arrived is
   already stored.
3. dj-stripe 2.11.0 in its own virtualenv (created under ``$MASTHEAD_VAR_DIR/bench/``), its
   own project (``bench/djstripe_peer/``) and database (``masthead_bench_ingress_djstripe``),
   a ``WebhookEndpoint`` row written directly, gunicorn with 2 sync workers, and a read-only
   Stripe stand-in (``djstripe_peer/standin.py``) serving every object the stream refers to,
   as the sandbox has them at the end. Same bodies (signed with its endpoint's secret), same
   4 senders: events/s, each applied inside its request.

The machine is shared, so the two are interleaved: the stream goes in ``--rounds`` parts
(5), and each part is posted to Masthead and applied by its workers, then posted to
dj-stripe, before the next. Rates add the parts' times; CPU per event (a figure the load of
other processes disturbs less than rates) is printed beside them.

SQL statements are counted in the serving processes with Django's
``connection.execute_wrappers`` (``bench/_ingress_gunicorn_conf.py`` per request,
``bench/_ingress_worker.py`` per Celery task): every ``cursor.execute``, savepoints
included, BEGIN/COMMIT not. CPU is user + system time of the server's process tree.
The script exits non-zero only on errors, never on a missed goal.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from _common import (  # noqa: E402
    PYTHON,
    database_migrate,
    database_recreate,
    machine_print,
    server_env,
)
from _ingress_proc import djstripe_venv, gunicorn, stop, tree_cpu_seconds  # noqa: E402
from _ingress_report import merged, per_event, query_counts, rate_line  # noqa: E402

MASTHEAD_DB = "masthead_bench_ingress"
DJSTRIPE_DB = "masthead_bench_ingress_djstripe"
BROKER = os.environ.get("BENCH_INGRESS_BROKER", "redis://127.0.0.1:6379/9")
# The web and worker processes share the cache, as in production: it holds the flag of the
# pending nudge (one broker message per burst, billing/nudges.py).
CACHE = os.environ.get("BENCH_INGRESS_CACHE", "redis://127.0.0.1:6379/10")
MASTHEAD_SECRET = "whsec_bench_ingress_masthead"
DJSTRIPE_SECRET = "whsec_bench_ingress_djstripe"
STRIPE_KEY = "sk_test_benchingress" + "0" * 16  # dj-stripe wants 24+ characters after sk_test_
WEBHOOK_PATH = "/billing/stripe/webhook/"
# Goals of issue M13, judged on --live (workers applying while events arrive).
GOAL_ACCEPTED, GOAL_APPLIED, GOAL_SQL, GOAL_CPU = 5.0, 3.0, 8.0, 4.0
FINISHED = ("succeeded", "ignored")
VAR_ROOT = Path(os.environ.get("MASTHEAD_VAR_DIR") or ROOT / "var")


def log(message: str) -> None:
    print(f"  .. {message}", flush=True)


def warm_up(port: int, path: str) -> None:
    """Unsigned POSTs (answered 400, nothing stored) so each worker has loaded the view."""
    for _ in range(8):
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=b"{}")
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=10)


def send(stream: Path, port: int, path: str, secret: str, senders: int) -> dict[str, Any]:
    """Run the sender process against the server; return its report."""
    done = subprocess.run(
        [PYTHON, str(BENCH / "_ingress_sender.py"), str(stream), f"http://127.0.0.1:{port}{path}",
         secret, "--senders", str(senders)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def masthead_world(sandbox: Any, readers: int) -> list[dict[str, Any]]:
    """Readers, their Stripe customers and subscriptions; return every handled event."""
    from _ingress_world import stream_collect, world_build

    from accounts.models import User
    from billing.models import Customer
    from membership.models import Plan

    plan = Plan.objects.create(
        slug="bench", name="Bench", monthly_amount=900, yearly_amount=9000, currency="gbp"
    )
    User.objects.bulk_create(
        User(email=f"reader{i}@bench.example", password="!unusable") for i in range(readers)
    )
    users = list(User.objects.order_by("pk").values_list("pk", "email"))
    client = sandbox.client(STRIPE_KEY)
    world = world_build(client, users=users, plan_id=plan.pk)
    Customer.objects.bulk_create(
        Customer(user_id=user_id, stripe_id=customer) for user_id, customer in world["customers"]
    )
    return stream_collect(client)


def masthead_statuses(conn: Any, ids: list[str]) -> Counter[str]:
    rows = conn.execute(
        "SELECT status, count(*) FROM billing_webhookevent WHERE stripe_id = ANY(%s) GROUP BY 1",
        [ids],
    )
    return Counter({status: count for status, count in rows})


class Masthead:
    """Masthead under gunicorn, with 2 Celery pool processes running the whole time, as in
    production; ``round`` posts a part of the stream and waits until every event is applied."""

    def __init__(self, args: argparse.Namespace, work: Path, sandbox: Any, url: str) -> None:
        self.args, self.work, self.sandbox, self.url = args, work, sandbox, url
        self.env = server_env(
            url,
            CELERY_BROKER_URL=BROKER,
            CACHE_URL=CACHE,
            STRIPE_API_BASE=sandbox.url,
            STRIPE_SECRET_KEY=STRIPE_KEY,
            STRIPE_WEBHOOK_SECRET=MASTHEAD_SECRET,
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
            MASTHEAD_VAR_DIR=str(work / "var"),
        )
        self.request_log = work / "masthead-requests.queries"
        self.task_log = work / "masthead-tasks.queries"
        self.posts: list[dict[str, Any]] = []
        self.post_cpu = self.apply_cpu = self.stripe_cpu = 0.0
        # Per part: from the workers' start on it (--live: its first send) to its last event.
        self.drains: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.max_attempts = 0

    def start(self, stack: contextlib.ExitStack) -> None:
        from billing.tasks import webhook_events_redrive
        from config.celery import app as celery_app

        celery_app.conf.broker_url = BROKER
        purged = celery_app.control.purge()
        if purged:
            log(f"purged {purged} old messages from {BROKER}")
        env = {**self.env, "BENCH_QUERY_LOG": str(self.request_log)}
        self.port, self.master = stack.enter_context(
            gunicorn(PYTHON, "config.wsgi", env, cwd=ROOT, log=self.work / "masthead-web.log")
        )
        warm_up(self.port, WEBHOOK_PATH)
        self.worker_name = f"bench-ingress-{os.getpid()}@{socket.gethostname()}"
        command = [
            PYTHON, str(BENCH / "_ingress_worker.py"), "-c", "2", "--pool", "prefork",
            "--loglevel", "WARNING", "--without-mingle", "--without-gossip",
            "--without-heartbeat", "-n", self.worker_name,
        ]  # fmt: skip
        env = {**self.env, "BENCH_QUERY_LOG": str(self.task_log)}
        self.worker_log = self.work / "masthead-worker.log"
        with open(self.worker_log, "ab") as out:
            self.worker = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
            )
        stack.callback(stop, self.worker)
        # Warm both pool processes (database connection, imports) with a task that finds
        # nothing to do, as a worker that has been up for a while is.
        for _ in range(4):
            webhook_events_redrive.delay()
        deadline = time.perf_counter() + 60
        while len(query_counts(self.task_log, "SUCCESS")) < 4:
            if self.worker.poll() is not None or time.perf_counter() > deadline:
                raise SystemExit(f"ERROR: the Celery worker did not start; see {self.worker_log}")
            time.sleep(0.05)
        self.task_log.unlink()

    def consuming(self, on: bool) -> None:
        """Let the workers take messages from the queue, or hold them off (answers awaited)."""
        from config.celery import app as celery_app

        control = celery_app.control
        change = control.add_consumer if on else control.cancel_consumer
        answers = change("celery", destination=[self.worker_name], reply=True, timeout=10)
        if not answers:
            raise SystemExit(f"ERROR: the Celery worker did not answer; see {self.worker_log}")

    def round(self, stream: Path, ids: list[str]) -> None:
        cpu = tree_cpu_seconds(self.master.pid)
        worker_cpu = tree_cpu_seconds(self.worker.pid)
        stripe_cpu = tree_cpu_seconds(self.sandbox.process.pid)
        if not self.args.live:
            self.consuming(False)
        post = send(stream, self.port, WEBHOOK_PATH, MASTHEAD_SECRET, self.args.senders)
        self.post_cpu += tree_cpu_seconds(self.master.pid) - cpu
        self.posts.append(post)
        drain_from = post["began_at"] if self.args.live else time.time()
        if not self.args.live:
            self.consuming(True)
        deadline = time.perf_counter() + self.args.timeout
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:  # one, not one per poll
            while True:
                statuses = masthead_statuses(conn, ids)
                if sum(statuses[s] for s in FINISHED) >= len(ids):
                    break
                if self.worker.poll() is not None or time.perf_counter() > deadline:
                    raise SystemExit(
                        f"ERROR: events not applied: {dict(statuses)}; see {self.worker_log}"
                    )
                time.sleep(0.1)  # the time taken comes from the rows, not from this loop
            self.apply_cpu += tree_cpu_seconds(self.worker.pid) - worker_cpu
            self.stripe_cpu += tree_cpu_seconds(self.sandbox.process.pid) - stripe_cpu
            row = conn.execute(
                "SELECT extract(epoch FROM max(finished_at)), max(attempts) "
                "FROM billing_webhookevent WHERE stripe_id = ANY(%s)",
                [ids],
            ).fetchone()
        assert row is not None
        last_applied = float(row[0])
        self.drains.append(last_applied - drain_from)
        self.max_attempts = max(self.max_attempts, row[1])
        self.statuses += statuses

    def report(self, n: int) -> tuple[float, float, float]:
        """Print Masthead's figures; return accepted/s, applied/s end to end and SQL
        statements per applied event (web and workers)."""
        post = merged(self.posts)
        accepted = rate_line("Masthead accepted (stored+queued)", post, n)
        drain = sum(self.drains)
        if self.args.live:
            span = drain
            how = f"{span:.2f} s from the first send to the last event applied, workers live"
        else:
            print(f"{'Masthead applied by 2 workers':<38} {n / drain:7.1f} events/s   "
                  f"({drain:.2f} s from the workers' start on each part to its last event "
                  f"applied)")  # fmt: skip
            span = post["wall"] + drain
            how = f"posting {post['wall']:.2f} s + applying {drain:.2f} s"
        end_to_end = n / span
        print(f"{'Masthead applied end to end':<38} {end_to_end:7.1f} events/s   ({how}; rows "
              f"{dict(self.statuses)}, max attempts {self.max_attempts})")  # fmt: skip
        ingress_q = query_counts(self.request_log, "200")
        task_q = query_counts(self.task_log, "SUCCESS")
        # A task applies its event and drains the others waiting: count per event, not task.
        total_q = (sum(ingress_q) + sum(task_q)) / n
        print(f"Masthead SQL per applied event: {total_q:.1f} (door {sum(ingress_q) / n:.1f} "
              f"per request: {per_event(ingress_q)}; workers {sum(task_q) / n:.1f})")  # fmt: skip
        print(f"Masthead broker messages: {len(task_q)} tasks ran for {n} events "
              f"({len(task_q) / n:.2f} per event; statements per task "
              f"{per_event(task_q)})")  # fmt: skip
        print(f"Masthead server CPU per event: web {self.post_cpu / n * 1000:.1f} ms, "
              f"workers {self.apply_cpu / n * 1000:.1f} ms; the sandbox answering the "
              f"workers' re-fetches {self.stripe_cpu / n * 1000:.1f} ms")  # fmt: skip
        return accepted, end_to_end, total_q


class DjStripe:
    """dj-stripe 2.11.0 under gunicorn in its own virtualenv, with the Stripe stand-in."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args, self.work = args, work
        self.request_log = work / "djstripe-requests.queries"
        self.posts: list[dict[str, Any]] = []
        self.post_cpu = self.stripe_cpu = 0.0

    def start(self, stack: contextlib.ExitStack, snapshot: dict[str, Any]) -> None:
        log("dj-stripe virtualenv (created once)")
        python = str(djstripe_venv(VAR_ROOT / "bench" / "djstripe-venv"))
        (self.work / "objects.json").write_text(json.dumps(snapshot))
        env = {
            **os.environ,
            "PYTHONPATH": str(BENCH),
            "DJANGO_SETTINGS_MODULE": "djstripe_peer.settings",
            "SECRET_KEY": "bench-only-" + "y" * 40,
            "STRIPE_SECRET_KEY": STRIPE_KEY,
            "LOG_LEVEL": "WARNING",
        }
        self.standin = subprocess.Popen(
            [python, "-m", "djstripe_peer.standin", str(self.work / "objects.json")],
            cwd=BENCH, env=env, stdout=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        stack.callback(stop, self.standin)
        assert self.standin.stdout is not None
        line = self.standin.stdout.readline().decode()
        if "listening on " not in line:
            raise SystemExit(f"ERROR: the Stripe stand-in did not start: {line!r}")
        self.standin_url = env["STRIPE_API_HOST"] = line.split("listening on ", 1)[1].strip()
        self.db_url = env["DATABASE_URL"] = database_recreate(DJSTRIPE_DB)
        log(f"dj-stripe database {DJSTRIPE_DB}: migrating")
        subprocess.run(
            [python, "-m", "django", "migrate", "--noinput", "-v", "0"], cwd=BENCH, env=env,
            check=True,
        )  # fmt: skip
        endpoint = str(uuid.uuid4())
        self.path = f"/stripe/webhook/{endpoint}/"
        subprocess.run(
            [python, "-m", "djstripe_peer.endpoint", endpoint, DJSTRIPE_SECRET,
             f"http://127.0.0.1{self.path}"],
            cwd=BENCH, env=env, check=True,
        )  # fmt: skip
        env["BENCH_QUERY_LOG"] = str(self.request_log)
        self.port, self.master = stack.enter_context(
            gunicorn(python, "djstripe_peer.wsgi", env, cwd=BENCH, log=self.work / "djstripe.log")
        )
        warm_up(self.port, self.path)

    def round(self, stream: Path) -> None:
        cpu = tree_cpu_seconds(self.master.pid)
        stripe_cpu = tree_cpu_seconds(self.standin.pid)
        self.posts.append(send(stream, self.port, self.path, DJSTRIPE_SECRET, self.args.senders))
        self.post_cpu += tree_cpu_seconds(self.master.pid) - cpu
        self.stripe_cpu += tree_cpu_seconds(self.standin.pid) - stripe_cpu

    def report(self, n: int) -> float:
        """Print dj-stripe's figures; return its events/s."""
        rate = rate_line("dj-stripe 2.11.0 (applied in request)", merged(self.posts), n)
        import psycopg

        with psycopg.connect(self.db_url) as conn:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE processed), count(*) FILTER (WHERE exception <> '')"
                ", (SELECT count(*) FROM djstripe_event) FROM djstripe_webhookeventtrigger"
            ).fetchone()
        assert row is not None
        with urllib.request.urlopen(self.standin_url + "/_standin/stats") as answer:
            stats = json.loads(answer.read())
        print(f"dj-stripe SQL per applied event: {per_event(query_counts(self.request_log, '200'))}"
              f"; server CPU per event {self.post_cpu / n * 1000:.1f} ms; the stand-in "
              f"{self.stripe_cpu / n * 1000:.1f} ms")  # fmt: skip
        print(f"dj-stripe rows: triggers processed {row[0]}, with exception {row[1]}, events "
              f"{row[2]}; the stand-in served {stats['requests']} requests, "
              f"misses {stats['misses'] or 'none'}")  # fmt: skip
        return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5, help="parts the stream is sent in")
    parser.add_argument("--readers", type=int, default=0, help="default: events / 2")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to apply a round")
    parser.add_argument("--skip-djstripe", action="store_true")
    parser.add_argument(
        "--live",
        action="store_true",
        help="workers apply while the part is being posted (default: they wait until it is in)",
    )
    args = parser.parse_args()
    n = args.events
    readers = args.readers or max(5, n // 2)

    from stripe_sandbox.testing import running_sandbox

    print("Webhook ingress: Masthead (store, then Celery) vs dj-stripe 2.11.0 (in the request)")
    machine_print()
    work = VAR_ROOT / "bench" / "webhook_ingress"
    work.mkdir(parents=True, exist_ok=True)
    for old in work.glob("*.queries"):
        old.unlink()
    url = database_recreate(MASTHEAD_DB)
    log(f"Masthead database {MASTHEAD_DB}: migrating")
    database_migrate(url)
    with running_sandbox(args=["--quiet"]) as sandbox, contextlib.ExitStack() as stack:
        os.environ.update(
            server_env(
                url,
                CELERY_BROKER_URL=BROKER,
                STRIPE_API_BASE=sandbox.url,
                MASTHEAD_VAR_DIR=str(work / "var"),
            )
        )
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
        import django

        django.setup()
        log(f"sandbox {sandbox.url}: {readers} readers with their subscriptions")
        began = time.perf_counter()
        events = masthead_world(sandbox, readers)
        if len(events) < n:
            raise SystemExit(f"ERROR: only {len(events)} events for {n}; pass --readers higher")
        events = events[:n]
        log(f"{len(events)} events in {time.perf_counter() - began:.1f} s: "
            f"{dict(Counter(e['type'] for e in events))}")  # fmt: skip
        masthead = Masthead(args, work, sandbox, url)
        masthead.start(stack)
        peer = None
        if not args.skip_djstripe:
            from _ingress_world import objects_snapshot

            snapshot = objects_snapshot(sandbox.url, STRIPE_KEY, events)
            log(f"{len(snapshot)} objects for the dj-stripe stand-in")
            peer = DjStripe(args, work)
            peer.start(stack, snapshot)
        size = -(-n // args.rounds)
        for number, first in enumerate(range(0, n, size), start=1):
            part = events[first : first + size]
            stream = work / f"stream-{number}.json"
            stream.write_text(json.dumps([json.dumps(e) for e in part]))
            # Which side goes first flips each round, so neither always meets a fresh machine.
            peer_first = peer is not None and number % 2 == 0
            first_side = "dj-stripe" if peer_first else "Masthead"
            log(f"round {number}: {len(part)} events, {first_side} first")
            if peer is not None and peer_first:
                peer.round(stream)
            masthead.round(stream, [e["id"] for e in part])
            if peer is not None and not peer_first:
                peer.round(stream)

        print()
        mode = (
            "--live: workers applying while events arrive"
            if args.live
            else "default: workers hold off while a part is posted"
        )
        print(f"stream: {n} events for {readers} readers in {args.rounds} rounds (each: Masthead "
              f"posting and applying, and dj-stripe; which goes first flips each round); "
              f"{args.senders} concurrent senders in one process (http.client); gunicorn 2 sync "
              f"workers; PostgreSQL; mode {mode}")  # fmt: skip
        accepted, end_to_end, sql_per_event = masthead.report(n)
        answers = [merged(masthead.posts)["statuses"]]
        if peer is not None:
            djstripe = peer.report(n)
            answers.append(merged(peer.posts)["statuses"])
    if any(set(a) != {"200"} for a in answers):
        raise SystemExit(f"ERROR: not every event was answered 200: {answers}; logs in {work}")
    if peer is None:
        return
    print()
    masthead_cpu = (masthead.post_cpu + masthead.apply_cpu) / n * 1000
    cpu_ratio = peer.post_cpu / (masthead.post_cpu + masthead.apply_cpu)
    print(f"server CPU per applied event: Masthead {masthead_cpu:.1f} ms (web + workers), "
          f"dj-stripe {peer.post_cpu / n * 1000:.1f} ms")  # fmt: skip
    goals_print(
        live=args.live,
        accepted=accepted / djstripe,
        applied=end_to_end / djstripe,
        sql=sql_per_event,
        cpu=cpu_ratio,
    )


def goals_print(*, live: bool, accepted: float, applied: float, sql: float, cpu: float) -> None:
    """Each goal with MET or MISSED; they are judged on --live, the production shape."""
    judged = "" if live else "  (default mode: shown only, the goals are judged on --live)"
    print(f"goals (issue M13), {'--live' if live else 'default mode'}:{judged}")
    rows = (
        ("accepted/s, Masthead / dj-stripe", accepted, GOAL_ACCEPTED, "x", True),
        ("applied/s end to end, Masthead / dj-stripe", applied, GOAL_APPLIED, "x", True),
        ("SQL statements per applied event, Masthead", sql, GOAL_SQL, "", False),
        ("server CPU per applied event, dj-stripe / Masthead", cpu, GOAL_CPU, "x", True),
    )
    for label, value, goal, unit, at_least in rows:
        met = value >= goal if at_least else value <= goal
        verdict = "MET" if met else "MISSED"
        wanted = f"{'>=' if at_least else '<='} {goal:.0f}{unit}"
        print(f"  {label:<52} {value:6.1f}{unit:<2} goal {wanted:<6} {verdict}")


if __name__ == "__main__":
    main()
