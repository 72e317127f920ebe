"""Migration 0004 repairs readers who already have two windows for one subscription (granted
by two callers at once before the database held one window per subscription): the newest
is kept, the others end now, superseded and recorded; comps sharing a reference are left."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("membership", "0003_trial_ended_email_pending")]
AFTER = [("membership", "0004_entitlement_one_window_per_reference")]


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


@pytest.mark.django_db(transaction=True)
def test_a_second_window_already_stored_is_ended_and_superseded() -> None:
    apps = migrate(BEFORE).loader.project_state(BEFORE).apps
    User = apps.get_model("accounts", "User")
    Entitlement = apps.get_model("membership", "Entitlement")
    reader = User.objects.create(email="doubled@example.com")
    now = timezone.now()

    def window(source: str, reference: str, starts: timedelta, ends: timedelta) -> int:
        return Entitlement.objects.create(
            user=reader, source=source, reference=reference,
            starts_at=now + starts, ends_at=now + ends,
        ).pk  # fmt: skip

    older = window("subscription", "sub_doubled", -timedelta(days=2), timedelta(days=28))
    newest = window("subscription", "sub_doubled", -timedelta(days=2, seconds=-1), -timedelta(1))
    single = window("subscription", "sub_single", -timedelta(days=1), timedelta(days=5))
    comps = [window("comp", "comp:by-user:1", timedelta(0), timedelta(days=3)) for _ in "ab"]

    try:
        apps = migrate(AFTER).loader.project_state(AFTER).apps
        Entitlement = apps.get_model("membership", "Entitlement")
        EntitlementEvent = apps.get_model("membership", "EntitlementEvent")

        ended = Entitlement.objects.get(pk=older)
        assert ended.superseded_at is not None and ended.ends_at <= timezone.now()
        event = EntitlementEvent.objects.get(entitlement_id=older)
        assert event.kind == "changed" and event.data["ends_at"][1] == ended.ends_at.isoformat()
        kept = Entitlement.objects.filter(pk__in=[newest, single, *comps])
        assert list(kept.values_list("superseded_at", flat=True)) == [None] * 4
        assert Entitlement.objects.get(pk=single).ends_at == now + timedelta(days=5)
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())  # every app's newest
