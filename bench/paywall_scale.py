"""Scale of the paywall: queries per gated read and the access decision's time, 1k vs 1M.

    .venv/bin/python bench/paywall_scale.py [--rounds 5] [--calls 2000] [--small-only]

Loads two PostgreSQL databases (dropped and recreated at every run) with COPY:

- ``masthead_bench_scale_1k``: 1,000 entitlements of 200 readers over 10 titles;
- ``masthead_bench_scale_1m``: 1,000,000 entitlements of 200,000 readers over 10,000 titles.

Every reader has five entitlements (an ended trial and, for most, an ended or live
subscription to every title, plus three complimentary or gift grants of one to three
titles, half of them live); users have unusable passwords. The measured reader has the same
handful, and may read the measured article through a gift covering its title (the per-title
path, the one that joins). Then, in this one process:

- SQL queries of one gated read through the Django test client with an allauth
  ``X-Session-Token`` (goal: <= 4 at both scales);
- ``article_access`` timed call by call at both scales, in alternating rounds so noise hits
  both: median and p99 in microseconds, and the ratio 1M / 1k (goal: <= 1.5);
- the decision query's EXPLAIN (ANALYZE) at 1M, to show it is answered from an index.

A missed goal is printed; errors exit 1.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from statistics import median
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    REPO,
    database_migrate,
    database_recreate,
    fail,
    machine_print,
    percentile,
    server_env,
)

QUERY_GOAL = 4
TIME_GOAL = 1.5
PER_READER = 5


@dataclass(frozen=True)
class Scale:
    label: str
    database: str
    titles: int
    readers: int

    @property
    def entitlements(self) -> int:
        return self.readers * PER_READER


SCALES = (
    Scale("1k", "masthead_bench_scale_1k", titles=10, readers=200),
    Scale("1M", "masthead_bench_scale_1m", titles=10_000, readers=200_000),
)


@dataclass
class Loaded:
    scale: Scale
    url: str
    reader_id: int
    article_id: int
    seconds: float
    through_rows: int


def _copy(conn: psycopg.Connection, table: str, columns: str, lines: Iterator[str]) -> None:
    """COPY tab-separated ``lines`` into ``table``, in chunks of about 8 MB."""
    with conn.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for line in lines:
            buffer.write(line)
            if buffer.tell() > 8_000_000:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def load(scale: Scale) -> Loaded:
    """Create, migrate and fill the scale's database; return the measured reader and article."""
    started = time.perf_counter()
    url = database_recreate(scale.database)
    database_migrate(url)
    rng = random.Random(7)  # the same data at every run
    reader_id = scale.readers // 2 + 1
    article_title = scale.titles // 2 + 1
    with psycopg.connect(url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        stamp = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]

        def at(days: float) -> str:
            return (stamp + timedelta(days=days)).isoformat()

        ago_400, ago_200, ago_30 = at(-400), at(-200), at(-30)
        ago_1, ahead_30 = at(-1), at(30)
        _copy(
            conn,
            "membership_title",
            "id, slug, name, publisher, description, is_premium, created_at",
            (
                f"{t}\ttitle-{t}\tTitle {t}\tBench Media\t\tt\t{ago_400}\n"
                for t in range(1, scale.titles + 1)
            ),
        )
        body = "An opening paragraph.\\n\\nPREMIUM-BODY-MARKER The rest, for members.\\n"
        _copy(
            conn,
            "membership_article",
            "id, headline, standfirst, lead, body, author, section, published_at, is_free, "
            "title_id",
            (
                f"{t}\tHeadline {t}\tStandfirst\tAn opening paragraph.\t{body}\tSam Writer\t"
                f"News\t{ago_1}\tf\t{t}\n"
                for t in range(1, scale.titles + 1)
            ),
        )
        _copy(
            conn,
            "accounts_user",
            "id, password, is_superuser, email, full_name, is_staff, is_active, date_joined, "
            "trial_used_at",
            (
                f"{r}\t!bench{r}\tf\treader{r}@bench.example\t\tf\tt\t{ago_400}\t{ago_400}\n"
                for r in range(1, scale.readers + 1)
            ),
        )
        entitlements: list[str] = []
        through: list[str] = []

        def grant(eid: int, reader: int, source: str, titles: list[int] | None, live: bool) -> None:
            starts, ends = (ago_30, ahead_30) if live else (ago_200, ago_30)
            all_titles = "t" if titles is None else "f"
            entitlements.append(
                f"{eid}\t{source}\t{all_titles}\t{starts}\t{ends}\tbench\t\t{ago_400}\t{reader}\n"
            )
            for title in titles or ():
                through.append(f"{eid}\t{title}\n")

        eid = 0
        for reader in range(1, scale.readers + 1):
            if reader == reader_id:
                others = [t for t in range(1, scale.titles + 1) if t != article_title]
                plan: list[tuple[str, list[int] | None, bool]] = [
                    ("trial", None, False),
                    ("subscription", None, False),
                    ("comp", rng.sample(others, 2), True),
                    ("gift", [article_title, rng.choice(others)], True),
                    ("comp", [article_title], False),
                ]
            else:
                plan = [
                    ("trial", None, False),
                    ("subscription", None, rng.random() < 0.3),
                ]
                for source in ("comp", "gift", "comp"):
                    count = rng.randint(1, min(3, scale.titles))
                    titles = rng.sample(range(1, scale.titles + 1), count)
                    plan.append((source, titles, rng.random() < 0.5))
            for source, titles, live in plan:
                eid += 1
                grant(eid, reader, source, titles, live)
        _copy(
            conn,
            "membership_entitlement",
            "id, source, all_titles, starts_at, ends_at, reference, note, created_at, user_id",
            iter(entitlements),
        )
        _copy(conn, "membership_entitlement_titles", "entitlement_id, title_id", iter(through))
        for table in (
            "membership_title",
            "membership_article",
            "accounts_user",
            "membership_entitlement",
            "membership_entitlement_titles",
        ):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        count = conn.execute("SELECT count(*) FROM membership_entitlement").fetchone()
    if not count or count[0] != scale.entitlements:
        fail(f"{scale.database}: expected {scale.entitlements} entitlements, found {count}")
    return Loaded(
        scale=scale,
        url=url,
        reader_id=reader_id,
        article_id=article_title,
        seconds=time.perf_counter() - started,
        through_rows=len(through),
    )


def django_start(first: Loaded) -> None:
    """Set Django up in this process, production-like, on the first database."""
    env = server_env(first.url, ALLOWED_HOSTS="127.0.0.1")
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def database_use(loaded: Loaded) -> None:
    """Point Django's default connection at ``loaded``'s database."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = loaded.scale.database


def gated_read_queries(loaded: Loaded) -> list[str]:
    """Read the article once through the test client with a session token; return its SQL."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    browser = Client()
    browser.force_login(User.objects.get(pk=loaded.reader_id))
    token = browser.session.session_key
    app = Client(HTTP_X_SESSION_TOKEN=token, HTTP_HOST="127.0.0.1")
    path = f"/api/v1/articles/{loaded.article_id}/"
    app.get(path)  # warm: the first request loads URL conf and the like
    with CaptureQueriesContext(connection) as queries:
        response = app.get(path)
    answer: dict[str, Any] = response.json()
    if response.status_code != 200 or not answer["access"]["granted"] or "body" not in answer:
        fail(f"{loaded.scale.label}: gated read answered {response.status_code}: {answer}")
    return [q["sql"] for q in queries.captured_queries]


def decision_inputs(loaded: Loaded) -> tuple[Any, Any]:
    from accounts.models import User
    from membership.access import AccessReason, article_access
    from membership.selectors import article_get

    reader = User.objects.get(pk=loaded.reader_id)
    article = article_get(article_id=loaded.article_id)
    decision = article_access(reader=reader, article=article)
    if decision.reason != AccessReason.GIFT:
        fail(f"{loaded.scale.label}: expected access by the gift, got {decision}")
    return reader, article


def decision_times(reader: Any, article: Any, calls: int) -> list[float]:
    """Call ``article_access`` ``calls`` times; return each call's time in microseconds."""
    from membership.access import article_access

    for _ in range(200):
        article_access(reader=reader, article=article)
    times = []
    clock = time.perf_counter_ns
    for _ in range(calls):
        start = clock()
        article_access(reader=reader, article=article)
        times.append((clock() - start) / 1000)
    return times


def decision_explain(loaded: Loaded) -> str:
    """Return EXPLAIN (ANALYZE, BUFFERS) of the decision's query as it is sent."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from membership.access import article_access

    reader, article = decision_inputs(loaded)
    with CaptureQueriesContext(connection) as queries:
        article_access(reader=reader, article=article)
    (sql,) = [q["sql"] for q in queries.captured_queries]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return f"{sql}\n{plan}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2000, help="timed calls per round")
    parser.add_argument("--small-only", action="store_true", help="skip the 1M load (a try)")
    args = parser.parse_args()

    machine_print()
    scales = SCALES[:1] if args.small_only else SCALES
    loaded = []
    for scale in scales:
        print(f"loading {scale.database}: {scale.titles} titles, {scale.readers} readers ...")
        result = load(scale)
        loaded.append(result)
        print(
            f"  {scale.entitlements} entitlements, {result.through_rows} title links, "
            f"{scale.titles} articles: {result.seconds:.1f} s (migrate + COPY + VACUUM ANALYZE)"
        )

    django_start(loaded[0])
    counts = {}
    for item in loaded:
        database_use(item)
        sql = gated_read_queries(item)
        counts[item.scale.label] = len(sql)
        print(f"gated read at {item.scale.label}: {len(sql)} SQL queries")
        for statement in sql:
            print(f"    {statement[:110]}")

    inputs = {}
    times: dict[str, list[float]] = {item.scale.label: [] for item in loaded}
    for item in loaded:
        database_use(item)
        inputs[item.scale.label] = decision_inputs(item)
    for n in range(args.rounds):
        for item in loaded if n % 2 == 0 else reversed(loaded):
            database_use(item)
            times[item.scale.label] += decision_times(*inputs[item.scale.label], args.calls)

    print(
        f"article_access, {args.rounds} alternating rounds x {args.calls} timed calls per scale "
        "(after 200 warm-up calls each round; DEBUG off, one connection, same process):"
    )
    for label, values in times.items():
        print(
            f"  {label:>3}: median {median(values):7.1f} us  p99 {percentile(values, 99):7.1f} us"
        )
    if len(loaded) == 2:
        small, big = (times[item.scale.label] for item in loaded)
        ratio = median(big) / median(small)
        verdict = "met" if ratio <= TIME_GOAL else "MISSED"
        print(f"ratio 1M/1k, median: {ratio:.3f} (goal <= {TIME_GOAL}: {verdict})")
        print(f"ratio 1M/1k, p99:    {percentile(big, 99) / percentile(small, 99):.3f}")
    worst = max(counts.values())
    verdict = "met" if worst <= QUERY_GOAL else "MISSED"
    print(
        "queries per gated read: "
        + ", ".join(f"{label} {count}" for label, count in counts.items())
        + f" (goal <= {QUERY_GOAL} at every scale: {verdict})"
    )

    biggest = loaded[-1]
    database_use(biggest)
    plan = decision_explain(biggest)
    print(f"EXPLAIN (ANALYZE, BUFFERS) of the decision at {biggest.scale.label}:")
    for line in plan.splitlines():
        print(f"    {line}")
    seq_scan = "Seq Scan on membership_entitlement" in plan
    print(
        "the decision "
        + ("SCANS the whole entitlement table" if seq_scan else "is answered from indexes")
    )


if __name__ == "__main__":
    main()
