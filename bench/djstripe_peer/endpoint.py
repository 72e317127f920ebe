"""Write the peer's ``WebhookEndpoint`` row straight to its database (no Stripe call).

    python -m djstripe_peer.endpoint <uuid> <secret> <url>

The row has a known secret and uuid, ``status`` enabled, signature verification and a
tolerance of 300 s, as ``STACK-NOTES.md`` describes.
"""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djstripe_peer.settings")

import django

django.setup()

from djstripe.models import WebhookEndpoint  # noqa: E402


def main() -> None:
    uuid, secret, url = sys.argv[1:4]
    WebhookEndpoint.objects.create(
        id="we_bench_ingress",
        livemode=False,
        api_version="",
        enabled_events=["*"],
        secret=secret,
        status="enabled",
        url=url,
        djstripe_uuid=uuid,
        djstripe_tolerance=300,
        djstripe_validation_method="verify_signature",
    )


if __name__ == "__main__":
    main()
