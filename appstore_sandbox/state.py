"""The sandbox's memory: Apple subscriptions and Google purchases, kept in one JSON file."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any


def now_ms() -> int:
    return int(time.time() * 1000)


class State:
    """A dict of dicts saved to ``state.json`` after every change (under one lock)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "state.json"
        self.lock = threading.RLock()
        self.data: dict[str, Any] = {"apple": {}, "google": {}, "deliveries": [], "counter": 0}
        if self.path.exists():
            self.data.update(json.loads(self.path.read_text()))

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        os.replace(tmp, self.path)

    def next_number(self) -> int:
        self.data["counter"] += 1
        return int(self.data["counter"])

    def delivery_record(self, **fields: Any) -> None:
        self.data["deliveries"].append({"at": now_ms(), **fields})
        del self.data["deliveries"][:-500]
