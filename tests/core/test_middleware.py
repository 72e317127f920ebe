"""No shared cache may keep a reader's page or API answer."""

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/", "/pricing/", "/accounts/password/reset/", "/no-such-page/", "/api/v1/titles/"],
)
def test_reader_pages_are_private_and_vary_by_identity(client, path) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path)

    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    assert {"Cookie", "X-Session-Token"} <= {v.strip() for v in response["Vary"].split(",")}


@pytest.mark.django_db
def test_the_api_schema_is_the_same_for_everyone_and_stays_cacheable(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/schema/")
    assert "private" not in response.get("Cache-Control", "")
