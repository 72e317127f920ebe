"""The support page's question: why does the paywall let this reader read this article, or
not? Every live entitlement considered, and the reader's access history."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch
from django.utils import timezone

from accounts.models import User
from membership.access import AccessDecision, AccessReason, article_access
from membership.models import Article, Entitlement, EntitlementEvent, Title, TrialEvent


@dataclass(frozen=True)
class EntitlementConsidered:
    """One of the reader's entitlements as the access decision saw it."""

    entitlement: Entitlement
    source: str
    starts_at: datetime
    ends_at: datetime
    revoked_at: datetime | None
    titles: tuple[str, ...]
    state: str
    covers: bool
    counts: bool


@dataclass(frozen=True)
class TimelineEntry:
    """One event of the reader's trial or entitlements, in the order it happened."""

    at: datetime
    subject: str
    kind: str
    actor: str
    note: str
    data: dict[str, object]


@dataclass(frozen=True)
class AccessExplanation:
    """Why the reader may or may not read the article (or any premium article of the
    title) at ``at``: the decision itself, the rows it looked at and how they came to be."""

    reader: User
    title: Title
    article: Article | None
    at: datetime
    decision: AccessDecision
    entitlements: tuple[EntitlementConsidered, ...]
    timeline: tuple[TimelineEntry, ...]

    @property
    def counted(self) -> tuple[EntitlementConsidered, ...]:
        """The entitlements that are live at ``at`` and cover the title."""
        return tuple(row for row in self.entitlements if row.counts)

    @property
    def summary(self) -> str:
        """Say in one sentence why the decision came out as it did."""
        reason = self.decision.reason
        if reason == AccessReason.FREE_ARTICLE:
            marked_free = self.article is not None and self.article.is_free
            what = "the article is marked free" if marked_free else "the title is not premium"
            return f"Open to everyone: {what}."
        if self.decision.granted:
            deciding = next(row for row in self.counted if row.source == reason.value)
            return (
                f"Granted by {deciding.entitlement.get_source_display().lower()} entitlement "
                f"#{deciding.entitlement.pk}, live until {deciding.ends_at:%Y-%m-%d %H:%M} and "
                f"covering {self.title.name}."
            )
        if reason == AccessReason.SIGN_UP:
            return "Denied: not signed in."
        return f"Denied: no live entitlement covers {self.title.name}; {_denial_why(self)}."


def _denial_why(explanation: AccessExplanation) -> str:
    """Say which fact about the reader chose the denial's reason."""
    reader, reason = explanation.reader, explanation.decision.reason
    if reason == AccessReason.PAYMENT_FAILED and reader.payment_issue_since:
        return f"the payment has been failing since {reader.payment_issue_since:%Y-%m-%d %H:%M}"
    if reason == AccessReason.START_TRIAL:
        return "the member has not had the free trial yet, so it is offered"
    if reason == AccessReason.SUBSCRIBE and reader.trial_used_at:
        return f"the free trial was used (begun {reader.trial_used_at:%Y-%m-%d}); plans are offered"
    return f"the paywall says: {reason.label}"


def _entitlement_state(entitlement: Entitlement, at: datetime) -> str:
    if entitlement.revoked_at is not None and entitlement.revoked_at <= at:
        return "revoked"
    if entitlement.starts_at > at:
        return "not begun"
    return "live" if entitlement.ends_at > at else "ended"


def _considered(entitlement: Entitlement, *, title: Title, at: datetime) -> EntitlementConsidered:
    titles = [t for t in entitlement.titles.all()]
    covers = entitlement.all_titles or any(t.pk == title.pk for t in titles)
    state = _entitlement_state(entitlement, at)
    return EntitlementConsidered(
        entitlement=entitlement,
        source=entitlement.source,
        starts_at=entitlement.starts_at,
        ends_at=entitlement.ends_at,
        revoked_at=entitlement.revoked_at,
        titles=("every title",) if entitlement.all_titles else tuple(t.name for t in titles),
        state=state,
        covers=covers,
        counts=covers and entitlement.is_live(at),
    )


def _timeline(*, reader: User, at: datetime) -> tuple[TimelineEntry, ...]:
    entries = [
        TimelineEntry(
            at=event.at,
            subject=f"{event.entitlement.get_source_display()} entitlement #{event.entitlement_id}",
            kind=event.get_kind_display(),
            actor=event.actor.email if event.actor else "",
            note=event.note,
            data=event.data,
        )
        for event in EntitlementEvent.objects.filter(entitlement__user=reader, at__lte=at)
        .select_related("entitlement", "actor")
        .order_by("at", "pk")
    ]
    entries += [
        TimelineEntry(
            at=event.at,
            subject=f"Trial #{event.trial_id}",
            kind=event.get_kind_display(),
            actor="",
            note="",
            data=event.data,
        )
        for event in TrialEvent.objects.filter(trial__user=reader, at__lte=at).order_by("at", "pk")
    ]
    return tuple(sorted(entries, key=lambda entry: entry.at))


def access_explain(
    *,
    reader: User,
    article: Article | None = None,
    title: Title | None = None,
    at: datetime | None = None,
) -> AccessExplanation:
    """Explain the paywall's decision for ``reader`` on ``article``, or on a premium article
    of ``title``: the decision is ``article_access``'s own, beside every entitlement of the
    reader (whether it is live and covers the title) and the events that led there."""
    if article is None and title is None:
        raise ValueError("Give an article or a title.")
    moment = at or timezone.now()
    asked = article if article is not None else Article(title=title, is_free=False)
    decision = article_access(reader=reader, article=asked, at=moment)
    entitlements = (
        Entitlement.objects.filter(user=reader)
        .prefetch_related(Prefetch("titles", queryset=Title.objects.only("slug", "name")))
        .order_by("-starts_at", "-pk")
    )
    return AccessExplanation(
        reader=reader,
        title=asked.title,
        article=article,
        at=moment,
        decision=decision,
        entitlements=tuple(_considered(e, title=asked.title, at=moment) for e in entitlements),
        timeline=_timeline(reader=reader, at=moment),
    )
