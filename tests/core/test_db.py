"""Inserting a row unless one with its unique value is stored: one statement, no error."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import WebhookEvent
from core.db import row_insert_unless_stored, row_unique

pytestmark = pytest.mark.django_db


def event(stripe_id: str, event_type: str = "invoice.paid") -> WebhookEvent:
    return WebhookEvent(stripe_id=stripe_id, type=event_type, payload={"id": stripe_id})


def test_a_new_row_is_inserted_in_one_statement_with_its_primary_key_and_defaults() -> None:
    row = event("evt_new")

    with CaptureQueriesContext(connection) as captured:
        assert row_insert_unless_stored(row=row, unique="stripe_id") is True

    assert len(captured.captured_queries) == 1
    stored = WebhookEvent.objects.get(pk=row.pk)
    assert (stored.stripe_id, stored.payload) == ("evt_new", {"id": "evt_new"})
    assert stored.status == "received"
    assert stored.received_at == row.received_at
    assert not row._state.adding


def test_a_duplicate_is_not_inserted_and_leaves_the_transaction_usable() -> None:
    first = event("evt_twice")
    assert row_insert_unless_stored(row=first, unique="stripe_id")

    again = event("evt_twice", "charge.refunded")
    with CaptureQueriesContext(connection) as captured:
        assert row_insert_unless_stored(row=again, unique="stripe_id") is False

    assert [q["sql"] for q in captured.captured_queries if "SAVEPOINT" in q["sql"]] == []
    assert again.pk is None
    assert list(WebhookEvent.objects.values_list("type", flat=True)) == ["invoice.paid"]


def test_a_unique_lookup_returns_its_row_or_none_without_ordering() -> None:
    row = event("evt_one")
    row_insert_unless_stored(row=row, unique="stripe_id")

    with CaptureQueriesContext(connection) as captured:
        found = row_unique(WebhookEvent.objects.filter(stripe_id="evt_one"))
        missing = row_unique(WebhookEvent.objects.filter(stripe_id="evt_none"))
        pk = row_unique(
            WebhookEvent.objects.filter(stripe_id="evt_one").values_list("pk", flat=True)
        )

    assert found is not None and found.pk == row.pk
    assert missing is None
    assert pk == row.pk
    assert not any("ORDER BY" in query["sql"] for query in captured.captured_queries)
