"""Every answer under /api/ is JSON, private and varied by reader; the schema is valid."""

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from membership.services import trial_start


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "path", ["/api/", "/api/nope", "/api/v1/nope/", "/api/v2/titles/", "/api/v1/titles"]
)
def test_an_unknown_path_under_api_is_a_json_404(api_client, db, debug, path):
    with override_settings(DEBUG=debug):
        response = api_client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


def test_a_post_to_an_unknown_path_is_a_json_404_not_a_csrf_page(reader):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(reader)

    response = client.post("/api/v1/me/trials/", {}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.fixture
def answers(reader, reader_client, api_client, premium_article):  # type: ignore[no-untyped-def]
    """One answer of every kind the API gives: successes and each sort of error."""
    trial_start(user=reader)
    article = reverse("membership:article-detail", kwargs={"pk": premium_article.pk})
    return {
        "titles": api_client.get("/api/v1/titles/"),
        "title": api_client.get(f"/api/v1/titles/{premium_article.title.slug}/"),
        "articles": reader_client.get("/api/v1/articles/"),
        "article granted": reader_client.get(article),
        "article denied": api_client.get(article),
        "plans": api_client.get("/api/v1/plans/"),
        "me": reader_client.get("/api/v1/me/"),
        "trial 409": reader_client.post("/api/v1/me/trial/"),
        "401": api_client.get("/api/v1/me/"),
        "400": api_client.get("/api/v1/articles/", {"title": "nope"}),
        "404": api_client.get("/api/v1/articles/nope/"),
        "405": api_client.delete(article),
        "unknown path": api_client.get("/api/elsewhere/"),
    }


def test_every_api_answer_is_private_no_store_and_varies_by_reader(answers):
    for name, response in answers.items():
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        vary = {part.strip() for part in response["Vary"].split(",")}
        assert {"private", "no-store"} <= cache_control, name
        assert {"Cookie", "X-Session-Token"} <= vary, name


def test_every_api_error_is_json_with_a_code_and_a_message(answers):
    for name, response in answers.items():
        if response.status_code >= 400:
            assert 400 <= response.status_code < 500, name
            assert set(response.json()["error"]) >= {"code", "message"}, name


def test_the_throttled_answer_is_json_and_private(reader_client):
    for _ in range(10):
        reader_client.post("/api/v1/me/trial/")

    response = reader_client.post("/api/v1/me/trial/")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert "no-store" in response["Cache-Control"]


def test_the_openapi_schema_and_its_docs_answer(api_client, db):
    schema = api_client.get("/api/schema/", {"format": "json"})
    docs = api_client.get("/api/docs/")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {
        "/api/v1/titles/",
        "/api/v1/titles/{slug}/",
        "/api/v1/articles/",
        "/api/v1/articles/{id}/",
        "/api/v1/plans/",
        "/api/v1/me/",
        "/api/v1/me/trial/",
    } <= set(paths)
    assert docs.status_code == 200


def test_the_openapi_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert "/api/v1/articles/{id}/" in target.read_text()
