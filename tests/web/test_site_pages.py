"""allauth's pages and the error pages in Masthead's look; the sign-up round trip."""

import re

import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import User
from core.views import server_error
from tests.accounts.signing_up import confirmation_key
from tests.factories import PASSWORD, UserFactory
from tests.web.html import assert_heading_order

pytestmark = pytest.mark.django_db

STYLESHEET = 'href="/static/web/masthead.css"'


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/accounts/signup/", "Sign up"),
        ("/accounts/login/", "Sign in"),
        ("/accounts/password/reset/", "Password Reset"),
    ],
)
def test_allauth_pages_wear_masthead_look_with_labelled_fields(client, path, heading) -> None:
    response = client.get(path)

    page = response.content.decode()
    assert response.status_code == 200
    assert STYLESHEET in page and 'name="viewport"' in page
    assert re.search(rf"<h1>\s*{heading}\s*</h1>", page)
    assert '<label for="id_email">' in page or '<label for="id_login">' in page
    assert_heading_order(response)


def test_a_sign_up_error_is_shown_next_to_its_field(client) -> None:
    response = client.post("/accounts/signup/", {"email": "not-an-address", "password1": PASSWORD})

    page = response.content.decode()
    email_field = page[page.index('<label for="id_email">') :]
    email_field = email_field[: email_field.index("</div>")]
    assert 'aria-invalid="true"' in email_field
    assert 'class="errors"' in email_field
    assert "Enter a valid email address." in email_field


def test_sign_up_asks_for_the_emailed_link_which_brings_the_reader_back_to_the_article(
    client, premium_article
) -> None:
    article_path = reverse("web:article", kwargs={"pk": premium_article.pk})

    response = client.post(
        f"/accounts/signup/?next={article_path}",
        {"email": "new@example.com", "password1": PASSWORD, "next": article_path},
    )
    waiting = client.get(response["Location"])
    signed_in_before = "_auth_user_id" in client.session
    confirmed = client.post(f"/accounts/confirm-email/{confirmation_key('new@example.com')}/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert not signed_in_before
    assert waiting.status_code == 200 and "new@example.com" in waiting.content.decode()
    assert confirmed.status_code == 302 and confirmed["Location"] == article_path
    assert client.session["_auth_user_id"] == str(User.objects.get(email="new@example.com").pk)


def test_sign_in_from_the_paywall_brings_a_member_back_to_the_article(
    client, premium_article
) -> None:
    reader = UserFactory()
    article_path = reverse("web:article", kwargs={"pk": premium_article.pk})

    response = client.post(
        "/accounts/login/", {"login": reader.email, "password": PASSWORD, "next": article_path}
    )

    assert response["Location"] == article_path


def test_the_404_page_wears_masthead_look(client) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "We couldn't find that page" in page and STYLESHEET in page
    assert_heading_order(response)


def test_the_500_page_wears_masthead_look_without_a_request_context() -> None:
    response = server_error(RequestFactory().get("/articles/1/"))

    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page and STYLESHEET in page
