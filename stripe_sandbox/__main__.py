"""``python -m stripe_sandbox --port 12111 --data-dir var/stripe_sandbox``."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

from .api.clocks_api import ClockRunner
from .api.events_api import ensure_endpoint, purge_events
from .app import Sandbox
from .config import parse_args
from .server import make_server
from .webhooks import Deliverer


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    sb = Sandbox(settings)
    server = make_server(sb)
    with sb.store.transaction():
        purge_events(sb)
        if settings.webhook_endpoint:
            we = ensure_endpoint(sb, settings.webhook_endpoint, settings.webhook_secret)
            logging.getLogger("stripe_sandbox").info(
                "webhook endpoint %s -> %s (secret %s)", we["id"], we["url"], we["_secret"]
            )
    deliverer, clocks = Deliverer(sb), ClockRunner(sb)
    deliverer.start()
    clocks.start()

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    port = server.server_address[1]
    print(
        f"stripe_sandbox listening on http://{settings.host}:{port} (data in {settings.data_dir})",
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
        clocks.close()
        deliverer.close()
        with sb.store.lock:
            sb.store.conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
