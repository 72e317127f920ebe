"""Sign-in limits that hold: the admin's door is allauth's rate-limited sign-in, the
per-account failure limit ignores the Host's port, and behind a proxy each reader counts
on their own address (TRUSTED_PROXY_COUNT) while a forged X-Forwarded-For buys nothing."""

import itertools

import pytest
from django.test import Client

from tests.factories import PASSWORD, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = "/admin/login/"
WEB_LOGIN = "/accounts/login/"
APP_LOGIN = "/_allauth/app/v1/auth/login"
PROXY = "10.0.0.5"


@pytest.fixture(autouse=True)
def _fast_hashes(settings):  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# The admin ------------------------------------------------------------------------------


def test_thirty_wrong_passwords_at_the_admin_sign_in_are_never_checked():  # type: ignore[no-untyped-def]
    staff = StaffFactory()
    client = Client()
    wrong = {"username": staff.email, "password": "not-the-password", "next": "/admin/"}

    answers = [client.post(ADMIN_LOGIN, wrong) for _ in range(30)]
    right = client.post(ADMIN_LOGIN, {**wrong, "password": PASSWORD})

    for answer in [*answers, right]:
        assert answer.status_code == 302
        assert answer["Location"] == f"{WEB_LOGIN}?next=%2Fadmin%2F"
    assert not _signed_in(client)


def test_the_admin_sign_in_is_refused_after_five_failures_even_with_the_password():  # type: ignore[no-untyped-def]
    staff = StaffFactory()
    client = Client()
    wrong = {"login": staff.email, "password": "not-the-password", "next": "/admin/"}

    failures = [client.post(WEB_LOGIN, wrong) for _ in range(5)]
    answer = client.post(WEB_LOGIN, {**wrong, "password": PASSWORD})

    assert all(f.status_code == 200 for f in failures)
    assert "Too many failed sign-in attempts" in answer.content.decode()
    assert not _signed_in(client)
    assert client.get("/admin/").status_code == 302


def test_staff_sign_in_through_the_reader_sign_in_and_land_in_the_admin():  # type: ignore[no-untyped-def]
    staff = StaffFactory()
    client = Client()

    start = client.get("/admin/", follow=True)
    answer = client.post(
        start.request["PATH_INFO"] + "?" + start.request["QUERY_STRING"],
        {"login": staff.email, "password": PASSWORD},
        follow=True,
    )

    assert start.redirect_chain[-1][0].startswith(WEB_LOGIN)
    assert answer.redirect_chain[-1][0] == "/admin/"
    assert answer.status_code == 200 and "Members, titles and billing" in answer.content.decode()


def test_a_signed_in_reader_is_refused_the_admin_sign_in():  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(UserFactory())

    assert client.get(ADMIN_LOGIN).status_code == 403


# The per-account failure limit ----------------------------------------------------------


def test_changing_the_hosts_port_buys_no_more_guesses_at_one_account(settings):  # type: ignore[no-untyped-def]
    settings.ALLOWED_HOSTS = ["news.example.com"]
    reader = UserFactory()
    wrong = {"email": reader.email, "password": "not-the-password"}

    def attempt(port: int, body: dict[str, str]):  # type: ignore[no-untyped-def]
        host, address = f"news.example.com:{port}", f"198.51.100.{port % 200}"
        client = Client(HTTP_HOST=host, REMOTE_ADDR=address)
        return client.post(APP_LOGIN, body, content_type="application/json")

    failures = [attempt(1000 + n, wrong).status_code for n in range(5)]
    answer = attempt(2000, {**wrong, "password": PASSWORD})

    assert failures == [400] * 5
    assert answer.json()["errors"][0]["code"] == "too_many_login_attempts"
    assert "session_token" not in answer.json().get("meta", {})


# Behind a proxy -------------------------------------------------------------------------


LIMITED = "too_many_login_attempts"
_accounts = itertools.count()


def _fail_signing_in(client: Client, forwarded_for: str, n: int) -> list[str]:
    """``n`` failed sign-ins, each for a different account (so only the IP limit counts):
    the code of each refusal (allauth answers its limit with a 400 too)."""
    codes = []
    for _ in range(n):
        response = client.post(
            APP_LOGIN,
            {"email": f"nobody{next(_accounts)}@example.com", "password": "wrong"},
            content_type="application/json",
            HTTP_X_FORWARDED_FOR=forwarded_for,
        )
        assert response.status_code == 400
        codes.append(response.json()["errors"][0]["code"])
    return codes


def test_behind_one_proxy_each_reader_has_their_own_sign_in_bucket(settings):  # type: ignore[no-untyped-def]
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    reader = UserFactory()
    client = Client(REMOTE_ADDR=PROXY)

    # A client forges the first entry; the proxy appends the address it really saw.
    attacker = _fail_signing_in(client, "192.0.2.1, 203.0.113.7", 10)
    again = _fail_signing_in(client, "192.0.2.99, 203.0.113.7", 1)
    other = client.post(
        APP_LOGIN,
        {"email": reader.email, "password": PASSWORD},
        content_type="application/json",
        HTTP_X_FORWARDED_FOR="203.0.113.8",
    )

    assert LIMITED not in attacker
    assert again == [LIMITED]
    assert other.status_code == 200 and other.json()["meta"]["session_token"]


def test_a_request_that_skipped_a_trusted_proxy_counts_on_its_peers_address(settings):  # type: ignore[no-untyped-def]
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2
    client = Client(REMOTE_ADDR="203.0.113.7")

    answers = [_fail_signing_in(client, f"192.0.2.{n}", 1)[0] for n in range(11)]

    assert LIMITED not in answers[:10] and answers[10] == LIMITED


def test_without_a_trusted_proxy_a_forged_forwarded_for_buys_no_fresh_bucket():  # type: ignore[no-untyped-def]
    client = Client(REMOTE_ADDR="203.0.113.7")

    answers = [_fail_signing_in(client, f"192.0.2.{n}", 1)[0] for n in range(11)]

    assert LIMITED not in answers[:10] and answers[10] == LIMITED


def _plans(client: Client, forwarded_for: str) -> int:
    return client.get("/api/v1/plans/", HTTP_X_FORWARDED_FOR=forwarded_for).status_code


def test_the_api_throttle_counts_the_address_the_proxy_saw(settings):  # type: ignore[no-untyped-def]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    client = Client(REMOTE_ADDR=PROXY)

    first = [_plans(client, f"192.0.2.{n % 250}, 203.0.113.7") for n in range(121)]

    assert first[:120] == [200] * 120 and first[120] == 429
    assert _plans(client, "203.0.113.8") == 200


def test_without_a_trusted_proxy_the_api_throttle_ignores_forwarded_for():  # type: ignore[no-untyped-def]
    client = Client(REMOTE_ADDR="203.0.113.7")

    answers = [_plans(client, f"192.0.2.{n % 250}") for n in range(121)]

    assert answers[:120] == [200] * 120 and answers[120] == 429
