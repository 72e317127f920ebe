"""Email addresses as Masthead stores them: one spelling per mailbox, nothing hidden in it.

One person, one free trial: the trial remembers a hash of the address, so two spellings of
one mailbox (``"name"@gmail.com`` and ``name@gmail.com``, ``xn--...`` and its Unicode form)
must become one stored address, and an address that only imitates another (a domain
spelled with Cyrillic or accented look-alike letters) or that hides control characters is
refused with a clear message rather than stored.
"""

import re
import unicodedata

import idna
from django.core.exceptions import ValidationError

# RFC 5322 ``atext``: what a local part may hold without quotes.
DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
# Unicode categories never part of a real address: controls, format characters (zero-width
# and bidi marks), line and paragraph separators, surrogates, private use, unassigned.
HIDDEN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}
# Scripts a single domain label may mix (CJK writing systems combine them).
MIXABLE = ({"CJK", "HIRAGANA", "KATAKANA"}, {"CJK", "HANGUL"}, {"CJK", "BOPOMOFO"})
# Cyrillic and Greek letters that look like Latin ones, as the Latin letter they imitate.
LATIN_LOOKALIKES = str.maketrans(
    "авезіјкмнорстухѕԁӏһԛԝѡүьɡαβεικνορτυχωϲ",
    "abe3ijkmhopctyxsdlhqwwybgabeikvoptuxwc",
)


class EmailRefusal:
    """Stable codes of a refused address (the API's ``code``, the form error's ``code``)."""

    CONTROL_CHARACTERS = "email_control_characters"
    QUOTED = "email_quoted"
    INVALID = "email_invalid"
    LOOKALIKE_DOMAIN = "email_lookalike_domain"


MESSAGES = {
    EmailRefusal.CONTROL_CHARACTERS: "This address contains invisible or control characters.",
    EmailRefusal.QUOTED: "Enter the address without quotation marks or spaces.",
    EmailRefusal.INVALID: "Enter a valid email address.",
    EmailRefusal.LOOKALIKE_DOMAIN: (
        "This address's domain mixes alphabets or imitates plain letters with accented or "
        "look-alike ones. Enter another address."
    ),
}


def _refuse(code: str) -> ValidationError:
    return ValidationError(MESSAGES[code], code=code)


def _unquote(local: str) -> str:
    """``"name"`` -> ``name``: quotes around a plain local part name the same mailbox."""
    if len(local) >= 2 and local[0] == local[-1] == '"':
        local = re.sub(r"\\(.)", r"\1", local[1:-1])
    if not DOT_ATOM.fullmatch(local):
        raise _refuse(EmailRefusal.QUOTED if '"' in local or " " in local else EmailRefusal.INVALID)
    return local


def _scripts(label: str) -> set[str]:
    """The scripts of the label's letters, from their Unicode names (LATIN, CYRILLIC, ...)."""
    return {unicodedata.name(c, "UNKNOWN").split()[0] for c in label if c.isalpha()}


def _imitates_plain_letters(label: str) -> bool:
    """A non-ASCII label that reads as plain Latin once accents and look-alikes are taken
    off: ``gmaúil``, or "apple" spelled with a Cyrillic "a"."""
    if label.isascii():
        return False
    bare = "".join(c for c in unicodedata.normalize("NFKD", label) if not unicodedata.combining(c))
    return bare.translate(LATIN_LOOKALIKES).isascii()


def _domain(domain: str) -> str:
    """The domain in its one Unicode spelling (IDNA 2008 with UTS 46 mapping); refuses one
    that is not a domain or that imitates another."""
    domain = domain.removesuffix(".")
    try:
        unicode_domain = idna.decode(idna.encode(domain, uts46=True))
    except (idna.IDNAError, UnicodeError):
        raise _refuse(EmailRefusal.INVALID) from None
    labels = unicode_domain.split(".")
    if len(labels) < 2:
        raise _refuse(EmailRefusal.INVALID)
    for label in labels:
        scripts = _scripts(label)
        mixed = len(scripts) > 1 and not any(scripts <= group for group in MIXABLE)
        if mixed or _imitates_plain_letters(label):
            raise _refuse(EmailRefusal.LOOKALIKE_DOMAIN)
    return unicode_domain


def email_normalize(email: str) -> str:
    """Return the address as stored: trimmed, lower-cased, the local part unquoted and the
    domain in its one Unicode spelling.

    Raises ``ValidationError`` (with an ``EmailRefusal`` code) for an address with control
    or invisible characters, one whose quoted local part needs its quotes, one that is not
    an address, and one whose domain mixes alphabets or imitates a plain-letter domain.
    """
    email = email.strip()
    if any(unicodedata.category(c) in HIDDEN_CATEGORIES for c in email):
        raise _refuse(EmailRefusal.CONTROL_CHARACTERS)
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        raise _refuse(EmailRefusal.INVALID)
    return f"{_unquote(local)}@{_domain(domain)}".lower()
