"""The admin: the catalogue, read-only trials, entitlements and the email outbox, and the
member page with complimentary access. Those rows are written only through the services."""

from membership.admin import (  # noqa: F401 (registers the admins)
    catalogue,
    gift_links,
    members,
    meter,
    outbox,
    records,
)
