"""The admin: the catalogue, read-only trials and entitlements, and the member page with
complimentary access. Trials and entitlements are written only through the services."""

from membership.admin import catalogue, members, records  # noqa: F401 (registers the admins)
