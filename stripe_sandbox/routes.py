"""The route table: method, path pattern, handler and the SDK params class it checks."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import params as params_mod

if TYPE_CHECKING:
    from .app import Sandbox

Handler = Callable[..., Any]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    params_class: str
    _schema: params_mod.Schema | None = field(default=None, repr=False)

    @property
    def schema(self) -> params_mod.Schema:
        if self._schema is None:
            self._schema = params_mod.load(self.params_class)
        return self._schema


ROUTES: list[Route] = []


def route(method: str, path: str, params_class: str) -> Callable[[Handler], Handler]:
    """Register ``handler(sb, params, *path_ids)`` for ``METHOD /v1/path/{id}``."""
    regex = re.compile("^" + re.sub(r"\{\w+\}", r"([^/]+)", path) + "$")

    def deco(fn: Handler) -> Handler:
        ROUTES.append(Route(method, regex, fn, params_class))
        return fn

    return deco


def match(method: str, path: str) -> tuple[Route | None, tuple[str, ...], bool]:
    """Return the route, its path ids, and whether the path exists under another method."""
    other = False
    for r in ROUTES:
        m = r.pattern.match(path)
        if m:
            if r.method == method:
                return r, m.groups(), True
            other = True
    return None, (), other


def load_all(*, background: bool = True) -> None:
    """Import every resource module (they register routes) and load every schema.

    The schemas load in a background thread so the server answers at once; a request
    that needs one first simply builds it itself.
    """
    import threading

    from . import api  # noqa: F401

    def warm() -> None:
        for r in ROUTES:
            _ = r.schema

    if background:
        threading.Thread(target=warm, name="schemas", daemon=True).start()
    else:
        warm()


def call(sb: Sandbox, r: Route, params: dict[str, Any], ids: tuple[str, ...]) -> Any:
    return r.handler(sb, params, *ids)
