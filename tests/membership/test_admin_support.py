"""The admin as a support desk uses it: branded, members by email with whether they can
read now, access explained from the member's page, and deletion refused with a reason."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from membership.models import Entitlement
from membership.services import comp_grant, entitlement_revoke, trial_start
from tests.factories import ArticleFactory, StaffFactory, TitleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def editor(client: Client) -> User:
    staff = StaffFactory(email="desk@example.com")
    client.force_login(staff)
    return staff


def explain_url(member: User, **query: object) -> str:
    url = reverse("admin:accounts_user_access_explain", args=[member.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_admin_is_branded_masthead(client: Client, editor: User) -> None:
    page = client.get(reverse("admin:index")).content.decode()

    assert "<title>Members, titles and billing | Masthead admin</title>" in page
    assert ">Masthead admin</a>" in page
    assert "Django administration" not in page


def test_the_member_list_says_who_can_read_now_and_with_what(client: Client, editor: User) -> None:
    trialling = UserFactory(email="trialling@example.com")
    trial_start(user=trialling)
    UserFactory(email="nothing@example.com")
    lapsed = UserFactory(email="lapsed@example.com")
    with time_machine.travel(timezone.now() - timedelta(days=30)):
        trial_start(user=lapsed)

    response = client.get(reverse("admin:accounts_user_changelist"))

    rows = {
        row.split("</th>")[0].rsplit(">", 2)[-2].split("<")[0]: row
        for row in response.content.decode().split("<tr")[1:]
        if "field-can_read_now" in row
    }
    assert "Free trial, every title, to " in rows["trialling@example.com"]
    assert 'field-can_read_now">no<' in rows["nothing@example.com"]
    assert 'field-can_read_now">no<' in rows["lapsed@example.com"]


class TestExplainAccess:
    def test_a_trialling_member_is_granted_by_the_trial_entitlement_with_its_history(
        self, client: Client, editor: User
    ) -> None:
        member = UserFactory(email="reads@example.com")
        trial_start(user=member)
        article = ArticleFactory(title=TitleFactory(name="The Harbour Gazette"))

        response = client.get(explain_url(member, article=article.pk))

        page = response.content.decode()
        assert response.status_code == 200
        assert "Decision: can read · Free trial (<code>trial</code>)" in page
        trial_row = Entitlement.objects.get(user=member)
        assert f"Granted by free trial entitlement #{trial_row.pk}" in page
        assert "covering The Harbour Gazette" in page
        assert "Free trial entitlement #" in page and "Granted" in page
        assert f"Trial #{member.trial.pk}" in page and "Started" in page

    def test_a_comp_for_another_title_is_considered_but_does_not_count(
        self, client: Client, editor: User
    ) -> None:
        member = UserFactory(trial_used_at=timezone.now() - timedelta(days=40))
        other = TitleFactory(name="The Valley Post")
        asked = TitleFactory(name="The Harbour Gazette")
        comp_grant(
            user=member,
            ends_at=timezone.now() + timedelta(days=10),
            note="Press pass",
            actor=editor,
            titles=[other],
        )

        page = client.get(explain_url(member, title=asked.pk)).content.decode()

        assert "Decision: cannot read · Subscribe to read" in page
        assert "Denied: no live entitlement covers The Harbour Gazette" in page
        assert "the free trial was used" in page
        entitlements = page.split('id="access-entitlements"')[1].split('id="access-timeline"')[0]
        assert "Complimentary" in entitlements and "The Valley Post" in entitlements
        assert "<td>live</td>" in entitlements
        assert "<td>no</td>\n        <td>no</td>" in entitlements
        timeline = page.split('id="access-timeline"')[1]
        assert "desk@example.com" in timeline and "Press pass" in timeline

    def test_a_revoked_entitlement_shows_revoked_and_the_revocation_in_the_timeline(
        self, client: Client, editor: User
    ) -> None:
        member = UserFactory(trial_used_at=timezone.now() - timedelta(days=40))
        comp = comp_grant(
            user=member, ends_at=timezone.now() + timedelta(days=10), note="Pass", actor=editor
        )
        entitlement_revoke(entitlement=comp, actor=editor, note="Left the paper")

        page = client.get(explain_url(member, article=ArticleFactory().pk)).content.decode()

        assert "Decision: cannot read" in page
        assert "<td>revoked (" in page
        assert "Revoked" in page and "Left the paper" in page

    def test_a_free_article_is_open_whatever_the_member_holds(
        self, client: Client, editor: User
    ) -> None:
        article = ArticleFactory(is_free=True)

        page = client.get(explain_url(UserFactory(), article=article.pk)).content.decode()

        assert "Decision: can read · Free to read" in page
        assert "Open to everyone: the article is marked free." in page

    @pytest.mark.parametrize(
        ("query", "error"),
        [
            ({}, None),
            ({"article": 999999}, "There is no article with this number."),
            ({"article": "abc"}, "Enter a whole number."),
            ({"article": 1, "title": 1}, "Give an article number or choose a title, not both."),
        ],
    )
    def test_the_form_explains_nothing_until_it_is_right(
        self, client: Client, editor: User, query: dict[str, object], error: str | None
    ) -> None:
        TitleFactory(pk=1)
        ArticleFactory(pk=1)

        response = client.get(explain_url(UserFactory(), **query))

        page = response.content.decode()
        assert response.status_code == 200
        assert "Decision:" not in page
        if error:
            assert error in page

    def test_the_member_page_links_to_it(self, client: Client, editor: User) -> None:
        member = UserFactory()

        page = client.get(reverse("admin:accounts_user_change", args=[member.pk]))

        assert explain_url(member) in page.content.decode()

    def test_a_reader_is_sent_to_the_admin_sign_in(self, client: Client) -> None:
        client.force_login(UserFactory())

        response = client.get(explain_url(UserFactory(), article=ArticleFactory().pk))

        assert response.status_code == 302 and "/admin/login/" in response.url


class TestDeletingAMember:
    """A member is erased through the privacy flow (tests/privacy), never deleted outright."""

    def test_the_delete_page_is_refused(self, client: Client, editor: User) -> None:
        member = UserFactory()
        trial_start(user=member)

        response = client.get(reverse("admin:accounts_user_delete", args=[member.pk]))

        assert response.status_code == 403
        assert User.objects.filter(pk=member.pk).exists()

    def test_a_post_to_the_delete_page_deletes_nothing(self, client: Client, editor: User) -> None:
        member = UserFactory()

        client.post(reverse("admin:accounts_user_delete", args=[member.pk]), {"post": "yes"})

        assert User.objects.filter(pk=member.pk).exists()

    def test_the_members_list_offers_erasure_not_deletion(
        self, client: Client, editor: User
    ) -> None:
        page = client.get(reverse("admin:accounts_user_changelist")).content.decode()

        assert 'value="members_erase"' in page
        assert 'value="delete_selected"' not in page
