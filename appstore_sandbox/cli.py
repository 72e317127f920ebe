"""Act as a reader's phone or as the stores, against a running sandbox.

    python -m appstore_sandbox.cli apple subscribe masthead.digital.monthly --token <uuid>
    python -m appstore_sandbox.cli apple renew|fail|grace|expire|refund|revoke <original id>
    python -m appstore_sandbox.cli apple change_pref <originalTransactionId> --product <id>
    python -m appstore_sandbox.cli google purchase masthead.digital.monthly --token <uuid>
    python -m appstore_sandbox.cli google renew|fail|grace|cancel|expire|refund|recover <token>
    python -m appstore_sandbox.cli list

Each change sends the store's notification to Masthead, as Apple and Google would.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from typing import Any


def call(base: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - the sandbox's own address
        base.rstrip("/") + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"{exc.code}: {exc.read().decode(errors='replace')}") from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="appstore_sandbox.cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", default="http://127.0.0.1:12112", help="The sandbox.")
    parser.add_argument("store", choices=["apple", "google", "list"])
    parser.add_argument("action", nargs="?", default="")
    parser.add_argument("target", nargs="?", default="", help="A product id or a subscription.")
    parser.add_argument("--token", default="", help="The reader's app_account_token.")
    parser.add_argument("--product", default="", help="The product to renew into.")
    args = parser.parse_args(argv)
    if args.store == "list":
        answer = call(args.url, "GET", "/_sandbox/deliveries")
    elif args.store == "apple" and args.action == "subscribe":
        answer = call(
            args.url,
            "POST",
            "/_sandbox/apple/subscriptions",
            {"product_id": args.target, "app_account_token": args.token or None},
        )
    elif args.store == "apple":
        path = f"/_sandbox/apple/subscriptions/{args.target}/{args.action}"
        answer = call(args.url, "POST", path, {"product_id": args.product})
    elif args.action == "purchase":
        answer = call(
            args.url,
            "POST",
            "/_sandbox/google/purchases",
            {"product_id": args.target, "account_id": args.token},
        )
    else:
        answer = call(
            args.url, "POST", f"/_sandbox/google/purchases/{args.target}/{args.action}", {}
        )
    for key in ("signed_payload", "signed_transaction", "push", "authorization"):
        if isinstance(answer, dict) and key in answer:
            answer[key] = "…"
    print(json.dumps(answer, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
