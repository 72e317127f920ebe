"""Small readers of rendered pages: JSON-LD, heading levels, cache headers."""

import json
import re
from html.parser import HTMLParser
from itertools import pairwise
from typing import Any

from django.http import HttpResponse

LD_JSON = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def ld_json(response: HttpResponse) -> dict[str, Any]:
    """Return the page's one JSON-LD object."""
    found = LD_JSON.findall(response.content.decode())
    assert len(found) == 1, f"expected one JSON-LD script, found {len(found)}"
    return json.loads(found[0])


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.levels: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self.levels.append(int(tag[1]))


def heading_levels(response: HttpResponse) -> list[int]:
    parser = _Headings()
    parser.feed(response.content.decode())
    return parser.levels


def assert_heading_order(response: HttpResponse) -> None:
    """One h1 first, and no level skipped on the way down."""
    levels = heading_levels(response)
    assert levels[:1] == [1] and levels.count(1) == 1, levels
    for before, after in pairwise(levels):
        assert after <= before + 1, levels


def assert_private(response: HttpResponse) -> None:
    """The page is kept out of shared caches and varies by the reader's cookie."""
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control
    vary = {part.strip().lower() for part in response["Vary"].split(",")}
    assert "cookie" in vary
