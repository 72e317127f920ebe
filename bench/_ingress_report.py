"""Figures of the webhook ingress benchmark: query counts, merged sender reports, rates."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from _common import percentile


def query_counts(path: Path, ok: str) -> list[int]:
    """Counts logged for answered requests (status ``ok``) or finished tasks."""
    if not path.exists():
        return []
    counts = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts[0] == ok or (len(parts) == 3 and parts[1] == ok):
            counts.append(int(parts[-1]))
    return counts


def merged(posts: list[dict[str, Any]]) -> dict[str, Any]:
    """One sender report from the rounds' reports."""
    statuses: Counter[str] = Counter()
    for post in posts:
        statuses.update(post["statuses"])
    return {
        "wall": sum(p["wall"] for p in posts),
        "latencies_ms": [ms for p in posts for ms in p["latencies_ms"]],
        "statuses": dict(statuses),
    }


def rate_line(name: str, post: dict[str, Any], n: int) -> float:
    lat = post["latencies_ms"]
    rate = n / post["wall"]
    print(
        f"{name:<34} {rate:8.1f} events/s   p50 {percentile(lat, 50):6.1f} ms   "
        f"p99 {percentile(lat, 99):6.1f} ms   answers {post['statuses']}"
    )
    return rate


def per_event(values: list[int]) -> str:
    if not values:
        return "n/a"
    return f"{sum(values) / len(values):.1f} (min {min(values)}, max {max(values)})"
