"""The admin: every screen opens, and complimentary access is granted and revoked from the
member's page through the services, by staff only."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from membership.access import AccessDecision, AccessReason, article_access
from membership.models import Entitlement, EntitlementEvent, Plan
from membership.services import comp_grant, trial_start
from tests.factories import ArticleFactory, PlanFactory, StaffFactory, TitleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    """Argon2 costs ~90 ms a password; the promise under test is not the hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def editor(client: Client):  # type: ignore[no-untyped-def]
    staff = StaffFactory()
    client.force_login(staff)
    return staff


def grant_url(member) -> str:  # type: ignore[no-untyped-def]
    return reverse("admin:accounts_user_comp_grant", args=[member.pk])


def revoke_url(entitlement: Entitlement) -> str:
    return reverse(
        "admin:accounts_user_entitlement_revoke", args=[entitlement.user_id, entitlement.pk]
    )


def member_url(member) -> str:  # type: ignore[no-untyped-def]
    return reverse("admin:accounts_user_change", args=[member.pk])


def days_ahead(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def comp_for(member, actor) -> Entitlement:  # type: ignore[no-untyped-def]
    return comp_grant(
        user=member, ends_at=timezone.now() + timedelta(days=30), note="Press pass", actor=actor
    )


class TestCompGrant:
    def test_staff_grant_lets_the_reader_read_and_records_who_granted_it(
        self, client, editor, reader
    ) -> None:
        article = ArticleFactory()

        response = client.post(
            grant_url(reader), {"scope": "all", "ends_on": days_ahead(30), "note": "Press pass"}
        )

        assert response.status_code == 302 and response.url == member_url(reader)
        assert article_access(reader=reader, article=article) == AccessDecision(
            True, AccessReason.COMP
        )
        event = EntitlementEvent.objects.get(entitlement__user=reader)
        assert event.kind == EntitlementEvent.Kind.GRANTED
        assert event.actor == editor and event.note == "Press pass"
        assert "Granted complimentary access" in client.get(response.url).content.decode()

    def test_chosen_titles_open_those_titles_only_until_the_end_of_the_chosen_day(
        self, client, editor, reader
    ) -> None:
        chosen, other = ArticleFactory(), ArticleFactory()

        client.post(
            grant_url(reader),
            {"scope": "chosen", "titles": [chosen.title_id], "ends_on": days_ahead(2), "note": "x"},
        )

        midnight = Entitlement.objects.get(user=reader).ends_at
        assert midnight.astimezone(timezone.get_current_timezone()).time().isoformat() == "00:00:00"
        assert article_access(reader=reader, article=chosen).granted
        assert not article_access(reader=reader, article=chosen, at=midnight).granted
        assert not article_access(reader=reader, article=other).granted

    @pytest.mark.parametrize(
        ("data", "field", "message"),
        [
            ({"scope": "all", "ends_on": days_ahead(-1), "note": "x"}, "ends_on", "in the past"),
            ({"scope": "all", "ends_on": days_ahead(5), "note": ""}, "note", "required"),
            ({"scope": "chosen", "ends_on": days_ahead(5), "note": "x"}, "titles", "at least one"),
            ({"scope": "all", "ends_on": "not a date", "note": "x"}, "ends_on", "valid date"),
        ],
    )
    def test_bad_input_is_shown_again_with_the_error_and_writes_nothing(
        self, client, editor, reader, data, field, message
    ) -> None:
        response = client.post(grant_url(reader), data)

        assert response.status_code == 200
        assert message in " ".join(response.context["form"].errors[field])
        assert "errornote" in response.content.decode()
        assert not Entitlement.objects.exists()

    def test_the_form_is_reached_from_the_member_page_and_carries_a_csrf_token(
        self, client, editor, reader
    ) -> None:
        assert grant_url(reader) in client.get(member_url(reader)).content.decode()
        page = client.get(grant_url(reader))
        assert page.status_code == 200 and "csrfmiddlewaretoken" in page.content.decode()

    def test_a_post_without_the_csrf_token_is_refused(self, editor, reader) -> None:
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(editor)

        response = browser.post(
            grant_url(reader), {"scope": "all", "ends_on": days_ahead(3), "note": "x"}
        )

        assert response.status_code == 403 and not Entitlement.objects.exists()

    def test_a_reader_is_sent_to_the_admin_sign_in_and_nothing_is_granted(
        self, client, reader
    ) -> None:
        client.force_login(reader)

        response = client.post(
            grant_url(reader), {"scope": "all", "ends_on": days_ahead(3), "note": "x"}
        )

        assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
        assert not Entitlement.objects.exists()

    def test_staff_without_the_entitlement_permission_are_forbidden(self, client, reader) -> None:
        client.force_login(UserFactory(is_staff=True))

        response = client.post(
            grant_url(reader), {"scope": "all", "ends_on": days_ahead(3), "note": "x"}
        )

        assert response.status_code == 403 and not Entitlement.objects.exists()

    def test_staff_given_the_permission_may_grant(self, client, reader) -> None:
        staff = UserFactory(is_staff=True)
        staff.user_permissions.add(Permission.objects.get(codename="add_entitlement"))
        client.force_login(staff)

        client.post(grant_url(reader), {"scope": "all", "ends_on": days_ahead(3), "note": "x"})

        assert Entitlement.objects.get(user=reader).source == "comp"


class TestCompRevoke:
    def test_revoking_from_the_member_page_ends_access_and_records_who(
        self, client, editor, reader
    ) -> None:
        article = ArticleFactory()
        comp = comp_for(reader, editor)
        assert revoke_url(comp) in client.get(member_url(reader)).content.decode()
        assert "Yes, revoke it" in client.get(revoke_url(comp)).content.decode()

        response = client.post(revoke_url(comp), {"note": "Left the paper"})

        assert response.status_code == 302 and response.url == member_url(reader)
        assert not article_access(reader=reader, article=article).granted
        event = comp.events.get(kind=EntitlementEvent.Kind.REVOKED)
        assert event.actor == editor and event.note == "Left the paper"

    def test_an_ended_entitlement_offers_no_revoke_and_is_left_alone(
        self, client, editor, reader
    ) -> None:
        comp = comp_for(reader, editor)
        client.post(revoke_url(comp))

        assert revoke_url(comp) not in client.get(member_url(reader)).content.decode()
        client.post(revoke_url(comp))
        assert comp.events.filter(kind=EntitlementEvent.Kind.REVOKED).count() == 1

    def test_a_reader_cannot_revoke(self, client, reader) -> None:
        comp = comp_for(reader, StaffFactory())
        client.force_login(UserFactory())

        response = client.post(revoke_url(comp))

        assert response.status_code == 302
        comp.refresh_from_db()
        assert comp.revoked_at is None

    def test_the_changelist_action_revokes_through_the_service(
        self, client, editor, reader
    ) -> None:
        comp = comp_for(reader, editor)

        client.post(
            reverse("admin:membership_entitlement_changelist"),
            {"action": "revoke_selected", "_selected_action": [comp.pk]},
        )

        assert comp.events.get(kind=EntitlementEvent.Kind.REVOKED).actor == editor


class TestScreens:
    @pytest.fixture
    def rows(self, editor, reader):  # type: ignore[no-untyped-def]
        """One row of every membership model, written the way the app writes them."""
        PlanFactory(all_titles=False).titles.add(TitleFactory())
        ArticleFactory()
        trial_start(user=reader)
        comp_for(reader, editor)

    @pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label_lower)
    def test_every_changelist_add_and_change_page_opens(
        self, client, rf, editor, rows, model
    ) -> None:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        request = rf.get("/")
        request.user = editor

        assert client.get(reverse(f"{name}_changelist")).status_code == 200
        if admin.site._registry[model].has_add_permission(request):
            assert client.get(reverse(f"{name}_add")).status_code == 200
        first = model.objects.first()
        if first is not None:
            assert client.get(reverse(f"{name}_change", args=[first.pk])).status_code == 200

    def test_plans_show_prices_as_money_and_take_them_in_pounds(self, client, editor) -> None:
        PlanFactory(name="Everything", monthly_amount=1299, yearly_amount=11999)
        listing = client.get(reverse("admin:membership_plan_changelist")).content.decode()
        assert "£12.99" in listing and "£119.99" in listing

        client.post(
            reverse("admin:membership_plan_add"),
            {
                "name": "Students",
                "slug": "students",
                "monthly_amount": "4.99",
                "yearly_amount": "49.50",
                "currency": "gbp",
                "trial_days": "14",
                "all_titles": "on",
                "is_active": "on",
                "display_order": "0",
            },
        )

        plan = Plan.objects.get(slug="students")
        assert (plan.monthly_amount, plan.yearly_amount) == (499, 4950)

    def test_a_plan_for_chosen_titles_needs_titles(self, client, editor) -> None:
        response = client.post(
            reverse("admin:membership_plan_add"),
            {
                "name": "None",
                "slug": "none",
                "monthly_amount": "1",
                "yearly_amount": "10",
                "currency": "gbp",
                "trial_days": "14",
                "display_order": "0",
            },
        )

        assert "Choose the titles" in response.content.decode()
        assert not Plan.objects.filter(slug="none").exists()

    def test_the_entitlement_list_filters_live_from_ended(self, client, editor, reader) -> None:
        live, ended = comp_for(reader, editor), comp_for(reader, editor)
        client.post(revoke_url(ended))
        url = reverse("admin:membership_entitlement_changelist")

        shown = client.get(url, {"access": "live"}).context["cl"].result_list

        assert list(shown) == [live]

    def test_entitlements_cannot_be_added_edited_or_deleted_in_the_admin(
        self, client, editor, reader
    ) -> None:
        comp = comp_for(reader, editor)

        assert client.get(reverse("admin:membership_entitlement_add")).status_code == 403
        client.post(reverse("admin:membership_entitlement_change", args=[comp.pk]), {"note": "z"})
        client.post(reverse("admin:membership_entitlement_delete", args=[comp.pk]), {"post": "yes"})

        comp.refresh_from_db()
        assert comp.note == "Press pass"
