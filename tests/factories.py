"""factory-boy factories for Masthead's models."""

from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User
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
