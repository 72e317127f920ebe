"""Metered read vs ungated read: what the monthly meter costs a reader it lets in.

    .venv/bin/python bench/metered_read.py [--rounds 6] [--seconds 5] [--connections 4]

Sets up PostgreSQL database ``masthead_bench_metered`` (dropped and recreated) with the demo
catalogue, serves it with gunicorn (2 sync workers, DEBUG off, persistent database
connections, API rate limits off) and drives wrk at the article detail endpoint as the app
does for a reader who is not signed in (``X-Device-Token``, no session):

- metered: a premium article, each request from a new device (the token rotates through
  signed tokens made up front), so every request is a counted free read: the article's
  statement also counts it (the count's upsert and the read's one insert, on PostgreSQL in
  the same statement, ``membership/services/meter.py``);
- re-read: the same premium article from one device that read it already (free, no write);
- ungated: a free article of a premium title with one device token.

First, in a separate process, the SQL statements of each kind are counted through Django's
test client (goal for a metered read: <= 6). Then warm-up, then rounds alternating the kinds
(the order rotates each round). Prints requests/s, p50 and p99 of each and the ratio
metered/ungated (goal: >= 0.8). Bodies are checked before and after the load, and the
number of counted reads must equal the metered requests answered; anything else is an error.
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

import psycopg
from django.core import signing

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_SECRET_KEY,
    PYTHON,
    REPO,
    children,
    cpu_seconds,
    database_backends,
    database_migrate,
    database_recreate,
    fail,
    gunicorn,
    machine_print,
    manage,
    server_env,
    without_api_throttles,
)
from gated_read import summary

DATABASE = "masthead_bench_metered"
TOKEN_SALT = "membership.devices.token"  # membership/devices.py
GOAL_RATIO = 0.8
GOAL_SQL = 6
TOKENS = 150_000

WRK_SCRIPT = """
local tokens = {}
local rotate = os.getenv("BENCH_TOKENS")
if rotate then
  for line in io.lines(rotate) do tokens[#tokens + 1] = line end
end
local fixed = os.getenv("BENCH_TOKEN")
local i = tonumber(os.getenv("BENCH_OFFSET") or "0")
request = function()
  local token = fixed
  if #tokens > 0 then
    i = i + 1
    token = tokens[((i - 1) % #tokens) + 1]
  end
  return wrk.format("GET", nil, {["X-Device-Token"] = token})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""

PAIR_SQL = """
SELECT gated.id, free.id FROM membership_article gated
JOIN membership_title gated_title ON gated_title.id = gated.title_id
CROSS JOIN membership_article free
JOIN membership_title free_title ON free_title.id = free.title_id
WHERE gated_title.is_premium AND NOT gated_title.never_metered AND NOT gated.is_free
  AND free_title.is_premium AND free.is_free
ORDER BY abs(length(gated.body) - length(free.body)), gated.id, free.id
LIMIT 1
"""

# Run in a Django process on the bench database: the statements of one request per kind.
SQL_COUNT = """
import json, sys
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
metered, free, fixed, fresh_a, fresh_b = sys.argv[1:6]
client = Client(HTTP_HOST="127.0.0.1")
def run(path, token):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, HTTP_X_DEVICE_TOKEN=token)
    assert response.status_code == 200, response.status_code
    return [q["sql"] for q in captured.captured_queries], response.json()["access"]
# The meter's limits are read once and cached, as in a running worker (another device).
run(f"/api/v1/articles/{sys.argv[6]}/", sys.argv[8])
out = {}
out["metered"] = run(metered, fresh_a)
out["re-read"] = run(metered, fresh_a)
out["ungated"] = run(free, fixed)
run(f"/api/v1/articles/{sys.argv[6]}/", fresh_b)
run(metered, fresh_b)
out["spent"] = run(f"/api/v1/articles/{sys.argv[7]}/", fresh_b)
print("SQL " + json.dumps(out))
"""


def token_make() -> str:
    signer = signing.Signer(key=BENCH_SECRET_KEY, salt=TOKEN_SALT, fallback_keys=[])
    return signer.sign(secrets.token_hex(16))


def statements_count(env: dict[str, str], *args: str) -> dict[str, tuple[list[str], dict]]:
    """Count each kind's SQL statements in a Django process (transaction control left out)."""
    done = subprocess.run(
        [PYTHON, "-c", "import django; django.setup()\n" + SQL_COUNT, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("SQL ")]
    if done.returncode != 0 or not lines:
        fail(f"counting statements failed: {done.stderr[-2000:]}")
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
    found = json.loads(lines[-1][4:])
    return {
        kind: ([q for q in sql if not q.upper().startswith(control)], access)
        for kind, (sql, access) in found.items()
    }


def wrk_run(url: str, *, seconds: int, connections: int, script: Path, env: dict) -> dict:
    """Run wrk (one thread) against ``url``; return its figures."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script)]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=False, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        fail(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    figures = json.loads(lines[-1][len("BENCH ") :])
    errors = {k: figures[k] for k in ("connect", "read", "write", "status", "timeout")}
    if any(errors.values()):
        fail(f"wrk saw errors or non-2xx answers at {url}: {errors}")
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def counted_reads(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM membership_meterread").fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=5, help="per kind and round")
    parser.add_argument("--warmup", type=int, default=2, help="seconds per kind")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    args = parser.parse_args()

    machine_print()
    print(f"database {DATABASE}: recreating, migrating, loading the demo catalogue ...")
    url = database_recreate(DATABASE)
    database_migrate(url)
    manage(url, "seed_demo", "--no-progress", "-v", "0")
    env = without_api_throttles(server_env(url))
    with psycopg.connect(url) as conn:
        pair = conn.execute(PAIR_SQL).fetchone()
        others = conn.execute(
            "SELECT a.id FROM membership_article a JOIN membership_title t ON t.id = a.title_id"
            " WHERE t.is_premium AND NOT a.is_free AND NOT t.never_metered ORDER BY a.id"
            " LIMIT 3"
        ).fetchall()
    if pair is None or len(others) < 3:
        fail("the demo catalogue lacks premium and free articles")
    assert pair is not None
    metered_id, free_id = int(pair[0]), int(pair[1])
    spare = [int(r[0]) for r in others if int(r[0]) != metered_id][:2]
    metered_path = f"/api/v1/articles/{metered_id}/"
    free_path = f"/api/v1/articles/{free_id}/"

    sql = statements_count(
        env,
        metered_path,
        free_path,
        token_make(),
        token_make(),
        token_make(),
        *map(str, spare),
        token_make(),
    )
    print("SQL statements per request (transaction control left out):")
    for kind, (statements, access) in sql.items():
        print(f"  {kind:<8} {len(statements)}  {access}")
        for statement in statements:
            print(f"      {statement[:110]}")
    if sql["metered"][1] != {"granted": True, "reason": "metered"}:
        fail(f"a first read was not metered: {sql['metered'][1]}")
    if sql["spent"][1]["granted"]:
        fail("a spent meter still granted a read")

    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "metered.lua"
        script.write_text(WRK_SCRIPT)
        tokens = Path(folder) / "tokens.txt"
        tokens.write_text("\n".join(token_make() for _ in range(TOKENS)) + "\n")
        reread_token = token_make()
        kinds = {
            "metered": (metered_path, {"BENCH_TOKENS": str(tokens)}),
            "re-read": (metered_path, {"BENCH_TOKEN": reread_token}),
            "ungated": (free_path, {"BENCH_TOKEN": token_make()}),
        }
        log = Path(env["MASTHEAD_VAR_DIR"]) / "bench-metered-read-gunicorn.log"
        with gunicorn(env, workers=args.workers, log_path=log) as server:
            base = server.url
            print(f"gunicorn {args.workers} sync workers at {base}, DEBUG off, API limits off")
            print(f"wrk -t1 -c{args.connections} --latency, X-Device-Token, no session")
            print(f"  metered = GET {metered_path} (premium, a new device each request)")
            print(f"  re-read = GET {metered_path} (premium, one device, read already)")
            print(f"  ungated = GET {free_path} (free article of a premium title)")
            kw = {"connections": args.connections, "script": script}
            # Each wrk run starts past the tokens every earlier run may have sent, so every
            # metered request is a new device (a token reused would be a free re-read).
            offset = 0

            def run(kind: str, seconds: int) -> dict:
                nonlocal offset
                path, extra = kinds[kind]
                extra = {**extra, "BENCH_OFFSET": str(offset)}
                figures = wrk_run(base + path, seconds=seconds, env={**env, **extra}, **kw)
                if kind == "metered":
                    offset += figures["requests"] + 10 * args.connections
                return figures

            for kind in kinds:
                run(kind, args.warmup)
            before = counted_reads(url)
            pids = children(server.pid) + database_backends(DATABASE)
            results: dict[str, list[dict]] = {kind: [] for kind in kinds}
            ratios = []
            names = list(kinds)
            for n in range(args.rounds):
                order = names[n % 3 :] + names[: n % 3]
                for kind in order:
                    cpu_before = cpu_seconds(pids)
                    figures = run(kind, args.seconds)
                    figures["cpu_s"] = cpu_seconds(pids) - cpu_before
                    results[kind].append(figures)
                    print(
                        f"  round {n + 1} {kind:<8} {figures['rps']:8.1f} req/s  "
                        f"p50 {figures['p50_us'] / 1000:6.2f} ms  "
                        f"p99 {figures['p99_us'] / 1000:6.2f} ms"
                    )
                ratios.append(results["metered"][-1]["rps"] / results["ungated"][-1]["rps"])
            counted = counted_reads(url) - before

    metered_requests = sum(r["requests"] for r in results["metered"])
    print(f"counted reads during the rounds: {counted} (metered requests: {metered_requests})")
    # wrk counts only the answers it read before stopping; a few more may have been served.
    if offset <= TOKENS and not 0 <= counted - metered_requests <= args.connections * args.rounds:
        fail("the counted reads do not match the metered requests answered")
    figures = {kind: summary(rounds) for kind, rounds in results.items()}
    print(f"over {args.rounds} rounds of {args.seconds} s per kind (p50/p99: median of rounds):")
    for kind, s in figures.items():
        print(
            f"  {kind:<8} {s['rps']:8.1f} req/s  p50 {s['p50_ms']:6.2f} ms  "
            f"p99 {s['p99_ms']:6.2f} ms  server CPU {s['cpu_ms']:5.2f} ms/req"
        )
    ratio = figures["metered"]["rps"] / figures["ungated"]["rps"]
    reread = figures["re-read"]["rps"] / figures["ungated"]["rps"]
    statements = len(sql["metered"][0])
    print(
        f"SQL per metered read: {statements} (goal <= {GOAL_SQL}: "
        f"{'met' if statements <= GOAL_SQL else 'MISSED'})"
    )
    print(
        f"ratio metered/ungated requests/s: {ratio:.3f} (goal >= {GOAL_RATIO}: "
        f"{'met' if ratio >= GOAL_RATIO else 'MISSED'})"
    )
    print(f"  median of the per-round ratios: {median(ratios):.3f}")
    print(f"ratio re-read/ungated requests/s: {reread:.3f}")


if __name__ == "__main__":
    main()
