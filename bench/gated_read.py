"""Gated read vs ungated read: what the paywall costs a reader who may read.

    .venv/bin/python bench/gated_read.py [--rounds 3] [--seconds 10] [--connections 4]

Sets up PostgreSQL database ``masthead_bench_read`` (dropped and recreated) with the demo
catalogue (``manage.py seed_demo``), serves it with gunicorn (2 sync workers, DEBUG off,
persistent database connections, API rate limits off) on a free port of 127.0.0.1, signs
the complimentary demo reader in through allauth headless's app login, and drives wrk
(a second process) at the article detail endpoint with the reader's ``X-Session-Token``:

- gated: a premium article the reader's live entitlement covers (the reader, then the
  article with the entitlement question asked in its statement: 2 queries; the session
  comes from the cache);
- ungated: a free article, with the same token, so it goes through the same authentication
  and the same statements (an open article's statement skips the question).

The session cache is Redis (``BENCH_READ_CACHE``, db 10 unless set), as in production.
Warm-up, then rounds alternating gated and ungated (the order flips each round) so that
noise on this shared machine hits both. Prints requests/s, p50 and p99 of each, the ratio
gated/ungated (goal of issue M13: >= 0.95) with the spread of the per-round ratios, and the
SQL statements of one read of each kind, counted in gunicorn (goal: 3 for the gated read).
Every response must be 200 and the bodies are checked before and after the load; anything
else is an error (exit 1). Each goal is printed MET or MISSED.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from statistics import median
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
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

DATABASE = "masthead_bench_read"
READER = "reader.comp@masthead.localhost"  # seed_demo: comp access to the Essentials titles
READER_PASSWORD = "read-all-about-it"
GOAL = 0.95
GOAL_QUERIES = 3
CACHE = os.environ.get("BENCH_READ_CACHE", "redis://127.0.0.1:6379/10")
CONF = Path(__file__).resolve().parent / "_read_gunicorn_conf.py"

# wrk calls done() once at the end; print what we need as one JSON line.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


def http_json(
    url: str, *, token: str = "", body: dict[str, Any] | None = None, count: str = ""
) -> tuple[int, Any]:
    """GET (or POST ``body``) as JSON; return the status and the decoded answer. With
    ``count``, gunicorn logs the request's SQL statements under that label."""
    headers = {"Accept": "application/json"}
    if count:
        headers["X-Bench-Count"] = count
    data = None
    if token:
        headers["X-Session-Token"] = token
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def session_token(base: str) -> str:
    """Sign the reader in through allauth headless's app API; return the session token."""
    status, answer = http_json(
        base + "/_allauth/app/v1/auth/login",
        body={"email": READER, "password": READER_PASSWORD},
    )
    if status != 200:
        fail(f"headless login answered {status}: {answer}")
    return str(answer["meta"]["session_token"])


PAIR_SQL = """
SELECT gated.id, free.id, length(gated.body), length(free.body)
FROM membership_article gated
JOIN membership_title gated_title ON gated_title.id = gated.title_id
CROSS JOIN membership_article free
JOIN membership_title free_title ON free_title.id = free.title_id
WHERE gated_title.is_premium AND NOT gated.is_free
  AND free_title.is_premium AND free.is_free
  AND gated.title_id IN (
    SELECT covered.title_id FROM membership_entitlement_titles covered
    JOIN membership_entitlement e ON e.id = covered.entitlement_id
    JOIN accounts_user reader ON reader.id = e.user_id
    WHERE reader.email = %s)
ORDER BY abs(length(gated.body) - length(free.body)),
         abs(length(gated.headline) - length(free.headline)), gated.id, free.id
LIMIT 1
"""


def articles_pick(url: str) -> tuple[int, int, int, int]:
    """Return a premium article the reader's comp covers and a free article of a premium
    title whose bodies are as close in length as the catalogue allows (so both answers
    weigh the same), with the two body lengths."""
    with psycopg.connect(url) as conn:
        row = conn.execute(PAIR_SQL, (READER,)).fetchone()
    if row is None:
        fail("the demo catalogue has no premium article the reader may read, or no free one")
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def read_check(base: str, token: str, article_id: int, *, gated: bool) -> str:
    """Read the article once; fail unless it is a 200 with the body granted as expected."""
    status, answer = http_json(f"{base}/api/v1/articles/{article_id}/", token=token)
    if status != 200:
        fail(f"article {article_id} answered {status}: {answer}")
    access = answer["access"]
    expected_reason_ok = (
        access["reason"] != "free_article" if gated else (access["reason"] == "free_article")
    )
    if not (access["granted"] and expected_reason_ok and answer.get("body")):
        fail(f"article {article_id}: expected a granted body, got access={access}")
    if "paywall" in answer:
        fail(f"article {article_id}: a granted read carries a paywall")
    return str(access["reason"])


def wrk_run(url: str, token: str, *, seconds: int, connections: int, script: Path) -> dict:
    """Run wrk (one thread) against ``url`` with the token; return its figures."""
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(script),
        "-H",
        f"X-Session-Token: {token}",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        fail(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
    if not lines:
        fail(f"wrk printed no figures: {done.stdout}")
    figures = json.loads(lines[-1][len("BENCH ") :])
    errors = {k: figures[k] for k in ("connect", "read", "write", "status", "timeout")}
    if any(errors.values()):
        fail(f"wrk saw errors or non-2xx answers at {url}: {errors}")
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def summary(rounds: list[dict]) -> dict[str, float]:
    """Requests/s over all rounds; the median of the rounds' p50 and p99 (milliseconds);
    the server's CPU milliseconds per request (gunicorn workers + their PostgreSQL backends)."""
    requests = sum(r["requests"] for r in rounds)
    seconds = sum(r["duration_us"] for r in rounds) / 1e6
    return {
        "requests": requests,
        "rps": requests / seconds,
        "p50_ms": median(r["p50_us"] for r in rounds) / 1000,
        "p99_ms": median(r["p99_us"] for r in rounds) / 1000,
        "cpu_ms": 1000 * sum(r["cpu_s"] for r in rounds) / requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=6, help="rounds of gated + ungated")
    parser.add_argument("--seconds", type=int, default=5, help="per kind and round")
    parser.add_argument("--warmup", type=int, default=3, help="seconds per kind")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    args = parser.parse_args()

    machine_print()
    print(f"database {DATABASE}: recreating, migrating, loading the demo catalogue ...")
    url = database_recreate(DATABASE)
    database_migrate(url)
    manage(url, "seed_demo", "--no-progress", "-v", "0")
    env = without_api_throttles(server_env(url, CACHE_URL=CACHE))
    query_log = Path(env["MASTHEAD_VAR_DIR"]) / "bench-gated-read.queries"
    query_log.parent.mkdir(parents=True, exist_ok=True)
    query_log.unlink(missing_ok=True)
    env["BENCH_QUERY_LOG"] = str(query_log)

    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "figures.lua"
        script.write_text(WRK_SCRIPT)
        log = Path(env["MASTHEAD_VAR_DIR"]) / "bench-gated-read-gunicorn.log"
        with gunicorn(env, workers=args.workers, log_path=log, config=CONF) as server:
            base = server.url
            token = session_token(base)
            gated_id, ungated_id, gated_len, ungated_len = articles_pick(url)
            reason = read_check(base, token, gated_id, gated=True)
            read_check(base, token, ungated_id, gated=False)
            targets = {
                "gated": f"{base}/api/v1/articles/{gated_id}/",
                "ungated": f"{base}/api/v1/articles/{ungated_id}/",
            }
            # More reads measured in the same runs go here, each with its target and its
            # check: the metered read (M8) and the read beacon (M10), once they exist.
            print(
                f"gunicorn {args.workers} sync workers at {base}, DEBUG off, "
                "DB_CONN_MAX_AGE=600, API rate limits off"
            )
            print(
                f"wrk -t1 -c{args.connections} --latency, X-Session-Token of {READER} "
                "(headless app login)"
            )
            print(
                f"  gated   = GET /api/v1/articles/{gated_id}/ (premium, granted: {reason}, "
                f"body {gated_len} chars)"
            )
            print(
                f"  ungated = GET /api/v1/articles/{ungated_id}/ (free article, same token, "
                f"body {ungated_len} chars)"
            )
            kw = {"connections": args.connections, "script": script}
            for kind in ("gated", "ungated"):
                wrk_run(targets[kind], token, seconds=args.warmup, **kw)
            # Every worker holds its database connection now (DB_CONN_MAX_AGE).
            pids = children(server.pid) + database_backends(DATABASE)

            results: dict[str, list[dict]] = {"gated": [], "ungated": []}
            pair_ratios = []
            for n in range(args.rounds):
                order = ("gated", "ungated") if n % 2 == 0 else ("ungated", "gated")
                for kind in order:
                    cpu_before = cpu_seconds(pids)
                    figures = wrk_run(targets[kind], token, seconds=args.seconds, **kw)
                    figures["cpu_s"] = cpu_seconds(pids) - cpu_before
                    results[kind].append(figures)
                    print(
                        f"  round {n + 1} {kind:<8} {figures['rps']:8.1f} req/s  "
                        f"p50 {figures['p50_us'] / 1000:6.2f} ms  "
                        f"p99 {figures['p99_us'] / 1000:6.2f} ms  "
                        f"server CPU {1000 * figures['cpu_s'] / figures['requests']:5.2f} ms/req"
                    )
                pair_ratios.append(results["gated"][-1]["rps"] / results["ungated"][-1]["rps"])
            read_check(base, token, gated_id, gated=True)
            read_check(base, token, ungated_id, gated=False)
            for kind, target in targets.items():  # each worker has the session cached now
                for _ in range(args.workers * 2):
                    http_json(target, token=token, count=kind)
            queries = queries_read(query_log, expected=len(targets) * args.workers * 2)

    gated, ungated = summary(results["gated"]), summary(results["ungated"])
    print(
        f"over {args.rounds} rounds of {args.seconds} s per kind "
        "(p50/p99: median of the rounds; server CPU: gunicorn workers + PostgreSQL backends):"
    )
    for kind, s in (("gated", gated), ("ungated", ungated)):
        print(
            f"  {kind:<8} {s['rps']:8.1f} req/s  p50 {s['p50_ms']:6.2f} ms  "
            f"p99 {s['p99_ms']:6.2f} ms  server CPU {s['cpu_ms']:5.2f} ms/req  "
            f"({s['requests']} requests, all 200)"
        )
    ratio = gated["rps"] / ungated["rps"]
    print(f"ratio gated/ungated requests/s: {ratio:.3f}")
    spread = ", ".join(f"{r:.3f}" for r in pair_ratios)
    print(f"  per-round ratios: {spread}")
    print(
        f"  median {median(pair_ratios):.3f}, spread {min(pair_ratios):.3f} to "
        f"{max(pair_ratios):.3f} ({max(pair_ratios) - min(pair_ratios):.3f})"
    )
    print(
        "  server CPU per request, ungated/gated (the same ratio, free of other load): "
        f"{ungated['cpu_ms'] / gated['cpu_ms']:.3f}"
    )
    print(f"ratio gated/ungated p50 latency: {gated['p50_ms'] / ungated['p50_ms']:.3f}")
    print(f"SQL statements per read (counted in gunicorn): {queries}")
    print("goals (issue M13):")
    gated_queries = max(queries.get("gated", [99]))
    for label, value, wanted, met in (
        ("gated/ungated requests/s", f"{ratio:.3f}", f">= {GOAL}", ratio >= GOAL),
        ("SQL per gated read, signed in", str(gated_queries), f"<= {GOAL_QUERIES}",
         gated_queries <= GOAL_QUERIES),
    ):  # fmt: skip
        print(f"  {label:<32} {value:>6}  goal {wanted:<7} {'MET' if met else 'MISSED'}")


def queries_read(path: Path, *, expected: int) -> dict[str, list[int]]:
    """The statements of each counted request, by label. gunicorn logs a request after
    answering it, so wait (5 s at most) until the ``expected`` lines are there."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (
        not path.exists() or len(path.read_text().splitlines()) < expected
    ):
        time.sleep(0.05)
    found: dict[str, list[int]] = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        label, status, count = line.split()
        if status != "200":
            fail(f"a counted {label} read answered {status}")
        found.setdefault(label, []).append(int(count))
    return found


if __name__ == "__main__":
    main()
