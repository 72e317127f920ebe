"""``python -m appstore_sandbox --port 12112 --data-dir var/appstore_sandbox``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .apple import DAY_MS, AppleConfig, AppleStore
from .google import GoogleConfig, GooglePlay
from .keys import apple_chain_load, google_signer_load
from .server import Sandbox, make_server
from .state import State


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="appstore_sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12112)
    parser.add_argument("--data-dir", type=Path, default=Path("var/appstore_sandbox"))
    parser.add_argument("--apple-notify-url", default="", help="Masthead's Apple notification URL.")
    parser.add_argument("--apple-bundle-id", default="com.masthead.reader")
    parser.add_argument("--apple-app-id", type=int, default=1234567890)
    parser.add_argument("--apple-environment", default="Sandbox", choices=["Sandbox", "Production"])
    parser.add_argument("--google-push-url", default="", help="Masthead's Pub/Sub push URL.")
    parser.add_argument("--google-package", default="com.masthead.reader")
    parser.add_argument(
        "--google-service-account", default="play-rtdn@masthead-sandbox.iam.gserviceaccount.com"
    )
    parser.add_argument("--period-days", type=float, default=30.0, help="One billing period.")
    parser.add_argument("--grace-days", type=float, default=16.0, help="The grace period.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    args.data_dir.mkdir(parents=True, exist_ok=True)
    state = State(args.data_dir)
    period, grace = int(args.period_days * DAY_MS), int(args.grace_days * DAY_MS)
    apple = AppleStore(
        state,
        apple_chain_load(args.data_dir),
        AppleConfig(args.apple_bundle_id, args.apple_app_id, args.apple_environment, period, grace),
    )
    google = GooglePlay(
        state,
        google_signer_load(args.data_dir),
        GoogleConfig(
            args.google_package, args.google_push_url, args.google_service_account, period, grace
        ),
    )
    server = make_server(Sandbox(state, apple, google, args.apple_notify_url), args.host, args.port)

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    port = server.server_address[1]
    print(
        f"appstore_sandbox listening on http://{args.host}:{port} (data in {args.data_dir})",
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
