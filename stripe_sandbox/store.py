"""SQLite-backed document store: every Stripe object is one JSON row."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    seq INTEGER NOT NULL,
    real_ts REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS objects_type_seq ON objects(type, seq);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    real_ts REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    status TEXT NOT NULL,
    next_attempt_at REAL NOT NULL,
    attempts TEXT NOT NULL DEFAULT '[]',
    duplicate INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(status, next_attempt_at);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Store:
    """Hold the sandbox's state in ``<data_dir>/sandbox.sqlite3``; callers hold ``lock``."""

    def __init__(self, data_dir: Path, *, reset: bool = False) -> None:
        if reset and data_dir.exists():
            shutil.rmtree(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "sandbox.sqlite3"
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)
        row = self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM objects").fetchone()
        self._seq = int(row[0])
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block under the lock in one SQLite transaction (nested blocks join it)."""
        with self.lock:
            self._depth += 1
            if self._depth == 1:
                self.conn.execute("BEGIN")
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self.conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self.conn.execute("COMMIT")

    # objects -----------------------------------------------------------------
    def get(self, obj_id: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT data FROM objects WHERE id = ?", (obj_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, obj: dict[str, Any], type_: str | None = None) -> dict[str, Any]:
        """Insert or replace ``obj`` (keeping its place in list order)."""
        data = json.dumps(obj, separators=(",", ":"))
        cur = self.conn.execute("UPDATE objects SET data = ? WHERE id = ?", (data, obj["id"]))
        if cur.rowcount == 0:
            self._seq += 1
            self.conn.execute(
                "INSERT INTO objects (id, type, seq, real_ts, data) VALUES (?, ?, ?, ?, ?)",
                (obj["id"], type_ or obj["object"], self._seq, time.time(), data),
            )
        return obj

    def delete(self, obj_id: str) -> None:
        self.conn.execute("DELETE FROM objects WHERE id = ?", (obj_id,))

    def all(self, type_: str) -> list[dict[str, Any]]:
        """Return every object of a type, newest first."""
        rows = self.conn.execute(
            "SELECT data FROM objects WHERE type = ? ORDER BY seq DESC", (type_,)
        )
        return [json.loads(r[0]) for r in rows]

    def iter_after(self, type_: str, cursor: str | None) -> Iterator[dict[str, Any]] | None:
        """Yield the objects of a type older than ``cursor`` (all if None), newest first,
        parsing only as many as the caller takes; None if ``cursor`` is not of that type."""
        bound = self._seq + 1
        if cursor is not None:
            row = self.conn.execute(
                "SELECT seq FROM objects WHERE id = ? AND type = ?", (cursor, type_)
            ).fetchone()
            if row is None:
                return None
            bound = int(row[0])
        rows = self.conn.execute(
            "SELECT data FROM objects WHERE type = ? AND seq < ? ORDER BY seq DESC",
            (type_, bound),
        ).fetchall()
        return (json.loads(r[0]) for r in rows)

    def purge_older_than(self, type_: str, real_ts: float) -> int:
        cur = self.conn.execute(
            "DELETE FROM objects WHERE type = ? AND real_ts < ?", (type_, real_ts)
        )
        return cur.rowcount

    # idempotency ---------------------------------------------------------------
    def idem_get(self, key: str) -> tuple[str, int, str] | None:
        row = self.conn.execute(
            "SELECT fingerprint, status, body FROM idempotency WHERE key = ?", (key,)
        ).fetchone()
        return (row[0], int(row[1]), row[2]) if row else None

    def idem_put(self, key: str, fingerprint: str, status: int, body: str) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?, ?)",
            (key, fingerprint, status, body, time.time()),
        )

    # meta ------------------------------------------------------------------------
    def meta_get(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def meta_put(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
