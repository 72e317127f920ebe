"""POST /api/v1/me/export/, GET /api/v1/me/export/ and POST /api/v1/me/delete/."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from membership.models import OutboxMessage
from privacy.models import DataExport, ErasureRequest, ExportStatus
from tests.api.conftest import session_token_for
from tests.factories import PASSWORD, UserFactory

EXPORT = "/api/v1/me/export/"
DELETE = "/api/v1/me/delete/"

# Committed for real, so the tasks queued after commit run (eagerly) as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def test_an_export_is_accepted_built_and_emailed(reader, reader_client):
    response = reader_client.post(EXPORT, {}, format="json")

    assert response.status_code == 202, response.content
    assert "no-store" in response["Cache-Control"]
    export = DataExport.objects.get(user=reader)
    assert export.status == ExportStatus.READY  # the task ran (eagerly) after commit
    assert response.json()["id"] == export.pk
    email = OutboxMessage.objects.get(kind="data_export_ready")
    assert email.to == reader.email
    assert f"/account/data/{export.pk}/download/" in email.body
    assert any(f"/account/data/{export.pk}/download/" in m.body for m in mail.outbox)


def test_the_latest_export_shows_where_to_download_it(reader, reader_client):
    reader_client.post(EXPORT, {}, format="json")

    body = reader_client.get(EXPORT).json()

    assert body["status"] == "ready"
    assert body["download_url"].endswith(f"/account/data/{body['id']}/download/")


def test_a_second_export_the_same_day_is_refused_with_a_code(reader, reader_client):
    assert reader_client.post(EXPORT, {}, format="json").status_code == 202

    again = reader_client.post(EXPORT, {}, format="json")

    assert again.status_code == 429
    assert again.json()["error"]["code"] == "export_limit"
    assert DataExport.objects.filter(user=reader).count() == 1
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        assert reader_client.post(EXPORT, {}, format="json").status_code == 202


def test_export_is_refused_to_an_anonymous_client(api_client):
    response = api_client.post(EXPORT, {}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not DataExport.objects.exists()


def test_export_refuses_a_body_that_is_not_an_object(reader_client):
    response = reader_client.post(EXPORT, "[1, 2]", content_type="application/json")

    assert response.status_code == 400
    assert not DataExport.objects.exists()


def test_the_latest_export_is_404_before_any(reader_client):
    response = reader_client.get(EXPORT)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_delete_with_the_password_signs_the_reader_out_and_erases_them(reader):
    client = APIClient(HTTP_X_SESSION_TOKEN=session_token_for(reader))
    email = reader.email

    response = client.post(DELETE, {"password": PASSWORD}, format="json")

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "erasing"
    assert ErasureRequest.objects.get(user=reader).status == "done"
    reader.refresh_from_db()
    assert reader.email != email and not reader.is_active
    assert client.get("/api/v1/me/").status_code == 401  # the token is gone


def test_delete_with_a_wrong_password_is_refused_and_changes_nothing(reader, reader_client):
    response = reader_client.post(DELETE, {"password": "not-my-password"}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "password_incorrect"
    assert not ErasureRequest.objects.exists()
    assert User.objects.get(pk=reader.pk).is_active
    assert reader_client.get("/api/v1/me/").status_code == 200


def test_delete_without_a_password_needs_a_fresh_sign_in(reader):
    client = APIClient(HTTP_X_SESSION_TOKEN=session_token_for(reader))
    User.objects.filter(pk=reader.pk).update(last_login=timezone.now() - timedelta(hours=1))

    stale = client.post(DELETE, {}, format="json")

    assert stale.status_code == 400
    assert stale.json()["error"]["code"] == "password_required"
    User.objects.filter(pk=reader.pk).update(last_login=timezone.now())
    assert client.post(DELETE, {}, format="json").status_code == 202


@pytest.mark.parametrize(
    "body", [{"password": ["x"]}, {"password": {"a": 1}}, {"password": None}, "not json"]
)
def test_delete_refuses_bad_input(reader_client, body):
    if isinstance(body, str):
        response = reader_client.post(DELETE, body, content_type="application/json")
    else:
        response = reader_client.post(DELETE, body, format="json")

    assert response.status_code == 400
    assert not ErasureRequest.objects.exists()


def test_delete_is_refused_to_an_anonymous_client(api_client):
    response = api_client.post(DELETE, {"password": PASSWORD}, format="json")

    assert response.status_code == 401
    assert not ErasureRequest.objects.exists()


def test_the_download_is_for_its_reader_only(reader, reader_client):
    reader_client.post(EXPORT, {}, format="json")
    export = DataExport.objects.get(user=reader)
    url = f"/account/data/{export.pk}/download/"
    other = APIClient()
    other.force_login(UserFactory())

    assert other.get(url).status_code == 404
    assert APIClient().get(url).status_code == 302  # to the sign-in page
    response = reader_client.get(url)
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    account = json.loads(archive.read("account.json"))
    assert account[0]["email"] == reader.email
