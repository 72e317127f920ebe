"""The demo catalogue: titles, and articles built from Masthead's own sentence templates.

Every title, person, place and country here is invented for the demo; no text is taken
from a publisher. Generation is deterministic, so ``seed_demo`` finds the same articles
(keyed by title and headline) on every run.
"""

import random
from dataclasses import dataclass
from datetime import timedelta

from membership.demo_sentences import CLOSINGS, FIRST_NAMES, GENERIC, PLACES, SECTIONS, SURNAMES


@dataclass(frozen=True)
class DemoTitle:
    slug: str
    name: str
    publisher: str
    description: str
    sections: tuple[str, ...]
    is_premium: bool = True
    weight: int = 2  # share of the generated articles


@dataclass(frozen=True)
class DemoArticle:
    title_slug: str
    headline: str
    standfirst: str
    body: str
    author: str
    section: str
    age: timedelta  # how long before the seed run it was published
    is_free: bool = False


TITLES = (
    DemoTitle(
        "evening-courier",
        "The Evening Courier",
        "Courier Media Group",
        "London's evening paper: politics, the city and the world after work.",
        ("Politics", "World", "Culture"),
        weight=4,
    ),
    DemoTitle(
        "daily-ledger",
        "The Daily Ledger",
        "Ledger Newspapers",
        "A national daily of record, from Westminster to the regions.",
        ("Politics", "World", "Business", "Opinion"),
        weight=4,
    ),
    DemoTitle(
        "sunday-chronicle",
        "The Sunday Chronicle",
        "Ledger Newspapers",
        "Long reads, investigations and the week's arguments, every Sunday.",
        ("Politics", "Culture", "Opinion"),
        weight=3,
    ),
    DemoTitle(
        "northern-herald",
        "The Northern Herald",
        "Pennine Press",
        "The North's daily paper, with the region's news, sport and business.",
        ("Politics", "Business", "Sport"),
        weight=3,
    ),
    DemoTitle(
        "harbour-street-journal",
        "Harbour Street Journal",
        "Harbour Street Publishing",
        "Markets, companies and the economy, for people who run things.",
        ("Business", "Technology"),
        weight=3,
    ),
    DemoTitle(
        "weekly-review",
        "The Weekly Review",
        "Review Press",
        "A weekly magazine of politics, books and ideas.",
        ("Politics", "Culture", "Opinion"),
        weight=2,
    ),
    DemoTitle(
        "frontier-science",
        "Frontier Science",
        "Lamplight Magazines",
        "Discoveries in space, climate, medicine and the living world.",
        ("Science", "Technology"),
        weight=2,
    ),
    DemoTitle(
        "circuit",
        "Circuit",
        "Lamplight Magazines",
        "Technology magazine: gadgets, software and the companies behind them.",
        ("Technology", "Business"),
        weight=2,
    ),
    DemoTitle(
        "back-page",
        "The Back Page",
        "Pennine Press",
        "Sport, with the results and the stories behind them.",
        ("Sport",),
        weight=2,
    ),
    DemoTitle(
        "atlas-traveller",
        "Atlas Traveller",
        "Review Press",
        "A travel magazine for slow journeys and long weekends.",
        ("Travel", "Food"),
        weight=1,
    ),
    DemoTitle(
        "kitchen-table",
        "The Kitchen Table",
        "Lamplight Magazines",
        "Cooking, growing and eating well at home.",
        ("Food",),
        weight=1,
    ),
    DemoTitle(
        "commons-bulletin",
        "The Commons Bulletin",
        "Masthead",
        "Masthead's own free briefing: the day's stories in short, open to everyone.",
        ("Politics", "World", "Business"),
        is_premium=False,
        weight=1,
    ),
)

POLITICS_PIECE = DemoArticle(
    title_slug="evening-courier",
    section="Politics",
    author="Eleanor Marsh",
    headline="Foreign volunteers struggle on Kastrovia's northern front as allies "
    "blame poor training and a language gap",
    standfirst="Western officials say newly arrived units have taken heavy losses and "
    "cannot yet fight alongside the regular army.",
    age=timedelta(hours=5),
    body="\n\n".join(
        (
            "Volunteer brigades sent to reinforce Kastrovia's northern front have suffered "
            "heavy casualties in their first weeks of fighting, according to officials in "
            "several allied capitals.",
            "The war, now in its third winter since Medrana's forces crossed the border, "
            "has already cost both armies tens of thousands of lives.",
            "Officials briefing reporters on Tuesday said the new arrivals had been held back "
            "for a month because their training was judged too thin for frontline duty.",
            "They have since been deployed around the river town of Vell, where Kastrovian "
            "units are trying to retake villages lost in the autumn.",
            "Commanders on the ground describe a force that is brave but badly connected: "
            "few of the volunteers speak the language of the officers directing them, and "
            "radio traffic has to pass through interpreters.",
            'One defence analyst in the capital said the gap was costing lives. "Orders '
            'arrive late or garbled, and units end up where nobody expects them," she said.',
            "Kastrovia's defence ministry confirmed an incident last week in which a volunteer "
            "unit fired on a column of allied vehicles at dusk, and said an inquiry was under way.",
            "The ministry gave no figures, but local officials spoke of several deaths.",
            "Medrana's government has dismissed the reports as invention, while its own "
            "announcements about the fighting are rarely borne out by independent evidence.",
            "Claims from both sides are difficult to verify, and journalists have been kept "
            "away from the stretch of front around Vell since the summer.",
            "Diplomats expect the question of training and equipment to dominate next "
            "month's meeting of Kastrovia's backers, where several governments are weighing "
            "new air-defence deliveries.",
            "For the families waiting in Vell and the villages beyond it, the arguments in "
            "distant capitals feel abstract; what matters is whether the line holds "
            "through the winter.",
        )
    ),
)


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"


def _fill(template: str, slots: dict[str, str]) -> str:
    text = template.format(**slots)
    return text[0].upper() + text[1:]


def _body(rng: random.Random, section: dict[str, tuple[str, ...]], slots: dict[str, str]) -> str:
    """Return five to eight paragraphs: an opening, sentences of the section, a quote, a close."""
    quote_by = f"{slots['person']}, who follows the story for {slots['org']}"
    paragraphs = [
        _fill(
            "The {thing} in {place} has moved to the centre of the conversation this week, "
            "and {person} has been watching it closely.",
            slots,
        ),
    ]
    pool = [*section["sentences"], *GENERIC]
    rng.shuffle(pool)
    for _ in range(rng.randint(3, 5)):
        k = rng.randint(2, 3)
        sentences, pool = pool[:k], pool[k:]
        slots["number"] = str(rng.randint(3, 900))
        paragraphs.append(" ".join(_fill(s, slots) for s in sentences))
    paragraphs.append(
        f'"It is too early to call it a turning point, but it matters for {slots["place"]}," '
        f"said {quote_by}."
    )
    paragraphs.append(_fill(rng.choice(CLOSINGS), slots))
    return "\n\n".join(paragraphs)


def demo_articles(*, count: int = 200, seed: int = 2025) -> list[DemoArticle]:
    """Return ``count`` articles (the politics piece first), the same on every call."""
    rng = random.Random(seed)
    slugs = [t.slug for t in TITLES for _ in range(t.weight)]
    sections_of = {t.slug: t.sections for t in TITLES}
    articles = [POLITICS_PIECE]
    seen = {POLITICS_PIECE.headline}
    while len(articles) < count:
        slug = rng.choice(slugs)
        name = rng.choice(sections_of[slug])
        section = SECTIONS[name]
        slots = {
            "place": rng.choice(PLACES),
            "thing": rng.choice(section["things"]),
            "org": rng.choice(section["orgs"]),
            "person": _person(rng),
            "number": str(rng.randint(3, 900)),
        }
        headline = _fill(rng.choice(section["headlines"]), slots)
        if headline in seen:
            continue
        seen.add(headline)
        articles.append(
            DemoArticle(
                title_slug=slug,
                headline=headline,
                standfirst=_fill(rng.choice(section["standfirsts"]), slots),
                body=_body(rng, section, slots),
                author=_person(rng),
                section=name,
                age=timedelta(hours=rng.randint(6, 24 * 42)),
                is_free=rng.random() < 0.08,
            )
        )
    return articles
