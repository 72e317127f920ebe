"""The publishers' ledger under load: the read beacon against the gated read, and the monthly
statement close at a million ledger rows.

    .venv/bin/python bench/publishers.py [--database wt_publishers] [--rows 1000000]

On PostgreSQL database ``--database`` (dropped and recreated; default ``wt_publishers``)
with the demo catalogue, gunicorn (2 sync workers, DEBUG off, persistent connections, API
rate limits off) serves Masthead and wrk drives, with the complimentary demo reader's
``X-Session-Token``, in alternating rounds:

- gated: ``GET /api/v1/articles/{id}/`` of a premium article the reader may read;
- beacon: ``POST /api/v1/articles/{id}/reads/`` ``{"seconds": 5, "progress": 0.3}`` over the
  same reader's covered articles in turn (the same decision, then the ledger's upsert).

Prints requests/s of each and the ratio beacon/gated (goal: >= 0.8). Then fills the ledger
with ``--rows`` rows of last month (readers, titles and days spread evenly; half the readers
paid last month, stored as paid-invoice events) and times ``month_close`` (goal: <= 60 s),
checking that every row was traced and the amounts add up to the pool.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from statistics import median

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    database_migrate,
    database_url,
    fail,
    gunicorn,
    machine_print,
    manage,
    server_env,
)
from gated_read import READER, WRK_SCRIPT, read_check, session_token, summary, wrk_run

BEACON_GOAL = 0.8
CLOSE_GOAL = 60.0

SETTINGS = """\
# Written by bench/publishers.py: Masthead's settings with DRF's API rate limits switched off.
from config.settings import *  # noqa: F403

REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_THROTTLE_RATES": {
        **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],  # noqa: F405
        "read_report": None,
    },
}
"""

# wrk: POST a report to each covered article in turn (``ARTICLES`` is filled in).
BEACON_SCRIPT = """
local paths = {ARTICLES}
local n = 0
wrk.method = "POST"
wrk.body = '{"seconds": 5, "progress": 0.3}'
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, paths[(n % #paths) + 1])
end
"""

COVERED_SQL = """
SELECT a.id FROM membership_article a JOIN membership_title t ON t.id = a.title_id
WHERE t.is_premium AND NOT a.is_free AND a.title_id IN (
  SELECT c.title_id FROM membership_entitlement_titles c
  JOIN membership_entitlement e ON e.id = c.entitlement_id
  JOIN accounts_user u ON u.id = e.user_id WHERE u.email = %s)
ORDER BY a.id LIMIT 20
"""


def database_fresh(name: str) -> str:
    """Drop and create the benchmark's own database; return its URL."""
    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(name)


def settings_env(url: str) -> dict[str, str]:
    env = server_env(url)
    folder = Path(env["MASTHEAD_VAR_DIR"]) / "bench_publishers_settings"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "masthead_bench_publishers.py").write_text(SETTINGS)
    repo = str(Path(__file__).resolve().parent.parent)
    return {
        **env,
        "PYTHONPATH": f"{folder}:{repo}",
        "DJANGO_SETTINGS_MODULE": "masthead_bench_publishers",
    }


def beacon_vs_gated(url: str, args: argparse.Namespace) -> float:
    env = settings_env(url)
    with psycopg.connect(url) as conn:
        covered = [row[0] for row in conn.execute(COVERED_SQL, (READER,)).fetchall()]
    if not covered:
        fail("the demo reader's comp covers no premium article")
    with tempfile.TemporaryDirectory() as folder, gunicorn(env, workers=2) as server:
        figures, beacon = Path(folder) / "figures.lua", Path(folder) / "beacon.lua"
        figures.write_text(WRK_SCRIPT)
        paths = ", ".join(f'"/api/v1/articles/{a}/reads/"' for a in covered)
        beacon.write_text(BEACON_SCRIPT.replace("{ARTICLES}", "{" + paths + "}") + WRK_SCRIPT)
        token = session_token(server.url)
        read_check(server.url, token, covered[0], gated=True)
        targets = {
            "gated": (f"{server.url}/api/v1/articles/{covered[0]}/", figures),
            "beacon": (f"{server.url}/api/v1/articles/{covered[0]}/reads/", beacon),
        }
        print(f"gunicorn 2 sync workers at {server.url}, DEBUG off, API rate limits off")
        print(f"wrk -t1 -c{args.connections}, X-Session-Token of {READER}")
        print(f"  gated  = GET /api/v1/articles/{covered[0]}/")
        print(f"  beacon = POST /api/v1/articles/{{id}}/reads/ over {len(covered)} articles")
        for target, script in targets.values():
            wrk_run(target, token, seconds=args.warmup, connections=args.connections, script=script)
        results: dict[str, list[dict]] = {"gated": [], "beacon": []}
        ratios = []
        for n in range(args.rounds):
            order = ("gated", "beacon") if n % 2 == 0 else ("beacon", "gated")
            for kind in order:
                target, script = targets[kind]
                run = wrk_run(
                    target, token, seconds=args.seconds, connections=args.connections, script=script
                )
                run["cpu_s"] = 0.0
                results[kind].append(run)
                print(f"  round {n + 1} {kind:<7} {run['rps']:8.1f} req/s")
            ratios.append(results["beacon"][-1]["rps"] / results["gated"][-1]["rps"])
    gated, beacon_sum = summary(results["gated"]), summary(results["beacon"])
    ratio = beacon_sum["rps"] / gated["rps"]
    for kind, s in (("gated", gated), ("beacon", beacon_sum)):
        print(
            f"  {kind:<7} {s['rps']:8.1f} req/s  p50 {s['p50_ms']:6.2f} ms  "
            f"p99 {s['p99_ms']:6.2f} ms  ({s['requests']} requests, all 2xx)"
        )
    verdict = "met" if ratio >= BEACON_GOAL else "MISSED"
    print(f"ratio beacon/gated requests/s: {ratio:.3f} (goal >= {BEACON_GOAL}: {verdict})")
    print(f"  median of the {args.rounds} per-round ratios: {median(ratios):.3f}")
    return ratio


CLOSE_CODE = """
import time
from datetime import date
from django.db.models import Sum
from publishers.models import PayoutPool, ReadRow, StatementLine
from publishers.statements import month_close
month = date.fromisoformat("{month}")
started = time.perf_counter()
month_close(month=month)
took = time.perf_counter() - started
from publishers.selectors import statement_line_rows
lines = StatementLine.objects.filter(statement__month=month).select_related("statement")
counted = sum(statement_line_rows(line=line).count() for line in lines)
left = ReadRow.objects.filter(day__gte=month).count() - counted
pool = PayoutPool.objects.get(month=month)
total = StatementLine.objects.filter(statement__month=month).aggregate(t=Sum("amount"))["t"]
print(f"CLOSE {{took:.2f}} {{left}} {{pool.amount}} {{pool.allocated}} {{total}}")
"""


def ledger_fill(url: str, rows: int, month: str) -> None:
    """``rows`` ledger rows of ``month``: readers x (title, day) pairs, half the readers paid."""
    readers = max(rows // 50, 1)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO accounts_user (password, is_superuser, email, full_name, is_staff,"
            " is_active, date_joined) SELECT '!', false, 'bench' || g || '@bench.example', '',"
            " false, true, now() FROM generate_series(1, %s) g",
            (readers,),
        )
        conn.execute(
            "INSERT INTO billing_customer (stripe_id, created_at, user_id)"
            " SELECT 'cus_bench' || u.id, now(), u.id FROM accounts_user u"
            " WHERE u.email LIKE 'bench%' AND u.id % 2 = 0"
        )
        conn.execute(
            "INSERT INTO billing_webhookevent (stripe_id, type, api_version, livemode, payload,"
            " status, attempts, last_error, received_at)"
            " SELECT 'evt_bench' || c.id, 'invoice.paid', '', false, jsonb_build_object("
            "  'type', 'invoice.paid', 'created', extract(epoch FROM %s::timestamptz)::int,"
            "  'data', jsonb_build_object('object', jsonb_build_object('id', 'in_bench' || c.id,"
            "   'customer', c.stripe_id, 'amount_paid', 999, 'currency', 'gbp',"
            "   'status_transitions', jsonb_build_object('paid_at',"
            "    extract(epoch FROM %s::timestamptz)::int)))),"
            " 'succeeded', 1, '', %s::timestamptz FROM billing_customer c"
            " WHERE c.stripe_id LIKE 'cus_bench%%'",
            (f"{month}T12:00:00Z",) * 3,
        )
        articles = conn.execute(
            "SELECT a.id, a.title_id FROM membership_article a"
            " JOIN membership_title t ON t.id = a.title_id WHERE t.is_premium ORDER BY a.id"
        ).fetchall()
        conn.execute("CREATE TEMP TABLE bench_articles (n int, id bigint, title_id bigint)")
        with conn.cursor().copy("COPY bench_articles (n, id, title_id) FROM STDIN") as copy:
            for n, (article_id, title_id) in enumerate(articles):
                copy.write_row((n, article_id, title_id))
        conn.execute(
            "INSERT INTO publishers_readrow (user_id, article_id, title_id, day, source, seconds,"
            " progress, qualified, first_at, last_at)"
            " SELECT u.id, a.id, a.title_id, %s::date + (k %% 28), CASE WHEN u.id %% 5 = 0"
            " THEN 'trial' ELSE 'subscription' END, 10 + (u.id * 7 + k * 13) %% 300, 0.4,"
            " (10 + (u.id * 7 + k * 13) %% 300) >= 30, now(), now()"
            " FROM accounts_user u CROSS JOIN generate_series(0, 49) k"
            " JOIN bench_articles a ON a.n = (u.id * 31 + k * 17) %% %s"
            " WHERE u.email LIKE 'bench%%'",
            (month, len(articles)),
        )
        conn.execute("ANALYZE publishers_readrow")
        count = conn.execute("SELECT count(*) FROM publishers_readrow").fetchone()
    print(f"ledger: {count[0] if count else 0} rows of {readers} readers in {month[:7]}")


def statement_close(url: str, rows: int) -> float:
    month = "2026-10-01"
    ledger_fill(url, rows, month)
    out = manage(url, "shell", "-c", CLOSE_CODE.format(month=month))
    line = next((x for x in out.splitlines() if x.startswith("CLOSE ")), "")
    if not line:
        fail(f"the close printed no figures: {out}")
    took, left, pool, allocated, total = line.split()[1:]
    if int(left) or int(allocated) != int(total or 0) or int(pool) != int(allocated):
        fail(f"close left rows untraced or amounts off: {line}")
    verdict = "met" if float(took) <= CLOSE_GOAL else "MISSED"
    print(
        f"month_close: {float(took):.1f} s for the month (goal <= {CLOSE_GOAL:.0f} s: {verdict});"
        f" every row traced, {allocated} of pool {pool} allocated"
    )
    return float(took)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="wt_publishers")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-close", action="store_true")
    args = parser.parse_args()
    machine_print()
    print(f"database {args.database}: recreating, migrating, loading the demo catalogue ...")
    url = database_fresh(args.database)
    database_migrate(url)
    manage(url, "seed_demo", "--no-progress", "-v", "0")
    if not args.skip_http:
        beacon_vs_gated(url, args)
    if not args.skip_close:
        statement_close(url, args.rows)


if __name__ == "__main__":
    main()
