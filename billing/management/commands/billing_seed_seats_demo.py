"""``manage.py billing_seed_seats_demo``: the demo's family plan with a family group, and
the credit packs, at Stripe (or the sandbox); prints the logins."""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from billing import stripe_gateway
from billing.credit_packs import credit_pack_push
from billing.models import LIVE_STATUSES, CreditPack, PlanPrices, Subscription
from billing.plans import plan_push
from billing.services import customer_ensure, subscription_sync
from groups.models import GroupMember, MemberStatus
from groups.selectors import group_owned_get
from groups.services import group_member_accept, group_member_invite
from membership.management.commands.seed_demo import READER_PASSWORD, user_seed
from membership.models import Plan, SeatKind

FAMILY_OWNER = "family.owner@masthead.localhost"
FAMILY_MEMBER = "family.member@masthead.localhost"
FAMILY_INVITED = "family.invited@masthead.localhost"
SEATS = 4
PACKS = (("five-articles", "5 articles", 5, 499), ("twenty-articles", "20 articles", 20, 1499))


class Command(BaseCommand):
    help = (
        "Put the demo's family plan (2 to 6 seats) and two credit packs on sale at Stripe, "
        "subscribe the family owner with 4 seats (Stripe's test card), and fill one seat with "
        "a member and one with an invitation. Safe to run again: what exists is kept. Needs "
        "Stripe or the sandbox to answer (run after billing_push_plans)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        plan, _ = Plan.objects.get_or_create(
            slug="family",
            defaults={
                "name": "Family",
                "description": "Every premium title for up to six readers of one household.",
                "monthly_amount": 499,
                "yearly_amount": 4999,
                "seat_kind": SeatKind.FAMILY,
                "min_seats": 2,
                "max_seats": 6,
                "display_order": 9,
            },
        )
        plan_push(plan_id=plan.pk)
        for slug, name, credits, amount in PACKS:
            pack, _ = CreditPack.objects.get_or_create(
                slug=slug, defaults={"name": name, "credits": credits, "amount": amount}
            )
            credit_pack_push(pack_id=pack.pk)
        owner = user_seed(
            email=FAMILY_OWNER, password=READER_PASSWORD, name="Fran Family", staff=False
        )
        member = user_seed(
            email=FAMILY_MEMBER, password=READER_PASSWORD, name="Max Member", staff=False
        )
        if not Subscription.objects.filter(user=owner, status__in=LIVE_STATUSES).exists():
            created = stripe_gateway.subscription_create_with_test_card(
                customer_id=customer_ensure(user=owner).stripe_id,
                price_id=PlanPrices.objects.get(plan=plan).monthly_price_id,
                quantity=SEATS,
                user_id=owner.pk,
            )
            subscription_sync(subscription_id=created.id)
        self._seats_fill(owner, member)
        group = group_owned_get(user=owner)
        self.stdout.write(f"Family group (every login below: password {READER_PASSWORD}):")
        self.stdout.write(f"  owner    {FAMILY_OWNER}")
        if group is not None:
            self.stdout.write(f"  seats    {group.seats_taken} of {group.seats} taken")
            for seat in group.members:
                self.stdout.write(f"  {seat.status:<8} {seat.email}")
        packs = ", ".join(f"{p.name} ({p.price_id})" for p in CreditPack.objects.all())
        self.stdout.write(f"Credit packs on sale: {packs}")

    @transaction.atomic
    def _seats_fill(self, owner: Any, member: Any) -> None:
        held = GroupMember.objects.filter(group__owner=owner, status__in=["invited", "active"])
        if not held.filter(email=FAMILY_MEMBER).exists():
            invited = group_member_invite(owner=owner, email=FAMILY_MEMBER)
            group_member_accept(user=member, token=invited.token)
        if not held.filter(email=FAMILY_INVITED, status=MemberStatus.INVITED).exists():
            group_member_invite(owner=owner, email=FAMILY_INVITED)
