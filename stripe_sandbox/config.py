"""Command-line settings of a sandbox run."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Chaos:
    """Webhook delivery disorder: duplicate share, shuffling and random extra delay."""

    dup: float = 0.0
    shuffle: bool = False
    delay: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Chaos:
        chaos = cls()
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, _, value = part.partition("=")
            if key == "dup":
                chaos.dup = float(value or 1)
            elif key == "shuffle":
                chaos.shuffle = value not in ("0", "false", "")
            elif key == "delay":
                chaos.delay = float(value or 1)
            else:
                raise argparse.ArgumentTypeError(f"unknown chaos setting: {key}")
        return chaos


@dataclass
class Faults:
    """API faults: a share of requests answered 500, a share stalled past the client's timeout.

    ``500=p``: answer a Stripe-shaped 500 ``api_error`` (``Stripe-Should-Retry: true``) before
    doing anything, as Stripe does when a retry is safe. ``timeout=p``: do the request (its
    idempotent answer is stored), then hold the answer ``stall`` seconds (default 30), so a
    client with a shorter timeout gives up and retries. ``seed=n`` makes the draws repeatable.
    """

    error: float = 0.0
    timeout: float = 0.0
    stall: float = 30.0
    seed: int | None = None

    @classmethod
    def parse(cls, text: str) -> Faults:
        faults = cls()
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, _, value = part.partition("=")
            try:
                if key == "500":
                    faults.error = float(value)
                elif key == "timeout":
                    faults.timeout = float(value)
                elif key == "stall":
                    faults.stall = float(value)
                elif key == "seed":
                    faults.seed = int(value)
                else:
                    raise argparse.ArgumentTypeError(f"unknown fault: {key}")
            except ValueError as exc:
                raise argparse.ArgumentTypeError(f"bad value for {key}: {value!r}") from exc
        if faults.error < 0 or faults.timeout < 0 or faults.error + faults.timeout > 1:
            raise argparse.ArgumentTypeError("fault shares must be >= 0 and add up to <= 1")
        return faults


@dataclass
class Settings:
    """Everything a run is configured with."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 12111
    reset: bool = False
    public_url: str = ""
    chaos: Chaos = field(default_factory=Chaos)
    faults: Faults = field(default_factory=Faults)
    webhook_retry_schedule: list[float] = field(
        default_factory=lambda: [60.0, 300.0, 1800.0, 7200.0, 21600.0, 43200.0, 86400.0]
    )
    webhook_timeout: float = 10.0
    payment_retry_days: list[int] = field(default_factory=lambda: [3, 5, 7])
    after_retries: str = "canceled"
    async_payment_seconds: float = 3.0
    quiet: bool = False
    webhook_endpoint: str = ""
    webhook_secret: str = ""

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse_args(argv: list[str] | None = None) -> Settings:
    """Return the settings given on the command line."""
    ap = argparse.ArgumentParser(prog="python -m stripe_sandbox", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    ap.add_argument("--data-dir", type=Path, default=Path("var/stripe_sandbox"))
    ap.add_argument("--reset", action="store_true", help="clear the data dir first")
    ap.add_argument("--public-url", default="", help="base URL of the hosted pages")
    ap.add_argument(
        "--chaos",
        type=Chaos.parse,
        default=Chaos(),
        help="webhook disorder, e.g. dup=0.2,shuffle=1,delay=0.5",
    )
    ap.add_argument(
        "--faults",
        type=Faults.parse,
        default=Faults(),
        help="API faults, e.g. 500=0.3,timeout=0.2,stall=15,seed=1",
    )
    ap.add_argument(
        "--webhook-retry-schedule",
        type=_floats,
        default=[60.0, 300.0, 1800.0, 7200.0, 21600.0, 43200.0, 86400.0],
        help="seconds between delivery retries, e.g. 1,2,4",
    )
    ap.add_argument("--webhook-timeout", type=float, default=10.0)
    ap.add_argument(
        "--payment-retry-days",
        type=_ints,
        default=[3, 5, 7],
        help="days after the first failed charge on which it is retried",
    )
    ap.add_argument(
        "--after-retries",
        choices=["canceled", "unpaid"],
        default="canceled",
        help="subscription status once every retry failed",
    )
    ap.add_argument(
        "--async-payment-seconds",
        type=float,
        default=3.0,
        help="how long a bank debit paid in Checkout stays processing before it settles",
    )
    ap.add_argument("--quiet", action="store_true", help="no per-request log lines")
    ap.add_argument(
        "--webhook-endpoint",
        default="",
        help="register this URL for every event at start-up (for `make run`)",
    )
    ap.add_argument(
        "--webhook-secret",
        default="",
        help="its signing secret, e.g. the app's STRIPE_WEBHOOK_SECRET",
    )
    a = ap.parse_args(argv)
    return Settings(
        data_dir=a.data_dir,
        host=a.host,
        port=a.port,
        reset=a.reset,
        public_url=a.public_url,
        chaos=a.chaos,
        faults=a.faults,
        webhook_retry_schedule=a.webhook_retry_schedule,
        webhook_timeout=a.webhook_timeout,
        payment_retry_days=a.payment_retry_days,
        after_retries=a.after_retries,
        async_payment_seconds=a.async_payment_seconds,
        quiet=a.quiet,
        webhook_endpoint=a.webhook_endpoint,
        webhook_secret=a.webhook_secret,
    )
