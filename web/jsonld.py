"""Structured data for article pages: schema.org ``NewsArticle`` that respects the paywall."""

from typing import Any

from membership.models import Article

# The element that holds the members-only part of a premium article: the body for a reader
# with access, the paywall box in its place for everyone else.
PAYWALLED_SELECTOR = ".paywalled-section"


def news_article_ld(*, article: Article, url: str, granted: bool) -> dict[str, Any]:
    """Return the article's ``NewsArticle`` JSON-LD; ``articleBody`` only when ``granted``."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.headline,
        "description": article.standfirst,
        "datePublished": article.published_at.isoformat(),
        "mainEntityOfPage": url,
        "publisher": {"@type": "Organization", "name": article.title.name},
        "isAccessibleForFree": article.is_open,
    }
    if article.author:
        data["author"] = {"@type": "Person", "name": article.author}
    if article.section:
        data["articleSection"] = article.section
    if not article.is_open:
        data["hasPart"] = {
            "@type": "WebPageElement",
            "isAccessibleForFree": False,
            "cssSelector": PAYWALLED_SELECTOR,
        }
    if granted:
        data["articleBody"] = article.body
    return data
