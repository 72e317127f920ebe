"""factory-boy factories for Masthead's models."""

from datetime import UTC, datetime, timedelta
from typing import Any

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User
from billing.models import Customer, Subscription, SubscriptionStatus, WebhookEvent
from membership.models import Article, Entitlement, EntitlementSource, Plan, Title

# Hashing with argon2 costs ~90 ms; readers made by factories use a fast, known password.
PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"reader{n}@example.com")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def email_verified(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        """The address is verified (allauth's ``EmailAddress``), as a trial needs, unless
        ``email_verified=False``."""
        if create:
            EmailAddress.objects.create(
                user=self, email=self.email, primary=True, verified=extracted is not False
            )


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"editor{n}@example.com")
    is_staff = True
    is_superuser = True


class TitleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Title
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"The Daily Example {n}")
    slug = factory.Sequence(lambda n: f"daily-example-{n}")
    publisher = "Example Media"
    is_premium = True


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    title = factory.SubFactory(TitleFactory)
    headline = factory.Sequence(lambda n: f"Council approves harbour plan number {n}")
    standfirst = "Residents are split over the scheme."
    body = factory.LazyAttribute(
        lambda o: (
            "The opening paragraph sets the scene.\n\n"
            "PREMIUM-BODY-MARKER The rest of the story is for members only.\n\n"
            "A closing paragraph."
        )
    )
    author = "Sam Writer"
    section = "News"
    published_at = factory.LazyFunction(timezone.now)


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"plan-{n}")
    name = factory.Sequence(lambda n: f"Plan {n}")
    monthly_amount = 999
    yearly_amount = 9999
    currency = "gbp"


class EntitlementFactory(factory.django.DjangoModelFactory):
    """A raw entitlement row for reads in tests; services are the only writers in the app."""

    class Meta:
        model = Entitlement

    user = factory.SubFactory(UserFactory)
    source = EntitlementSource.COMP
    all_titles = True
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))


# Billing ---------------------------------------------------------------------------------


def stripe_subscription_data(
    *,
    id: str = "sub_test",
    customer: str = "cus_test",
    status: str = "active",
    user_id: int | None = None,
    plan_id: int | None = None,
    price_id: str = "price_test",
    interval: str = "month",
    period_end: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A subscription as Stripe sends it, reduced to the keys Masthead reads; ``extra``
    keys are set as given (``cancel_at_period_end=True``, ``trial_end=<unix>``...)."""
    end = period_end or timezone.now() + timedelta(days=30)
    price: dict[str, Any] = {"id": price_id, "recurring": {"interval": interval}, "metadata": {}}
    if plan_id is not None:
        price["metadata"]["plan_id"] = str(plan_id)
    return {
        "id": id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "metadata": {"user_id": str(user_id)} if user_id is not None else {},
        "items": {
            "data": [{"id": f"si_{id}", "current_period_end": int(end.timestamp()), "price": price}]
        },
        **extra,
    }


class CustomerFactory(factory.django.DjangoModelFactory):
    """A reader's Stripe customer as Masthead stores it (nothing is made at Stripe)."""

    class Meta:
        model = Customer

    user = factory.SubFactory(UserFactory)
    stripe_id = factory.Sequence(lambda n: f"cus_factory{n}")


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """A stored subscription row (as the sync service leaves one, without the access it
    gives); ``data`` is the matching Stripe object."""

    class Meta:
        model = Subscription

    stripe_id = factory.Sequence(lambda n: f"sub_factory{n}")
    user = factory.SubFactory(UserFactory)
    customer_stripe_id = factory.Sequence(lambda n: f"cus_factory_sub{n}")
    price_id = "price_test"
    interval = "month"
    status = SubscriptionStatus.ACTIVE
    current_period_end = factory.LazyFunction(
        lambda: (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    )
    synced_at = factory.LazyFunction(lambda: datetime(2026, 1, 1, tzinfo=UTC))
    data = factory.LazyAttribute(
        lambda o: stripe_subscription_data(
            id=o.stripe_id,
            customer=o.customer_stripe_id,
            status=o.status,
            user_id=o.user.pk if o.user else None,
            price_id=o.price_id,
            interval=o.interval,
            period_end=o.current_period_end,
        )
    )


class WebhookEventFactory(factory.django.DjangoModelFactory):
    """A stored Stripe webhook event (received, not yet applied) about the object
    ``object_id``, its payload as Stripe sends it."""

    class Meta:
        model = WebhookEvent

    class Params:
        object_id = "sub_factory"

    stripe_id = factory.Sequence(lambda n: f"evt_factory{n}")
    type = "customer.subscription.updated"
    api_version = "2026-10-28.endive"
    payload = factory.LazyAttribute(
        lambda o: {
            "id": o.stripe_id,
            "object": "event",
            "api_version": o.api_version,
            "created": int(timezone.now().timestamp()),
            "data": {"object": {"id": o.object_id}},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": o.type,
        }
    )
