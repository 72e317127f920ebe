"""Gift codes: 80 random bits written as ``GIFT-XXXX-XXXX-XXXX-XXXX``.

The code is derived from a random salt with the site's secret (HMAC), so Masthead stores
only the salt and the code's hash: the hash finds a gift by its code, and the salt lets a
later email (to the recipient, at ``send_at``) carry the code again.
"""

import hashlib
import hmac
import re
import secrets

from django.conf import settings

ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ0123456789"  # 32 symbols, none easily confused
GROUPS, GROUP_SIZE = 4, 4


def salt_new() -> str:
    return secrets.token_hex(16)


def code_of(salt: str) -> str:
    """The gift code a salt stands for."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"masthead-gift:{salt}".encode(), hashlib.sha256
    ).digest()
    number = int.from_bytes(digest[:10], "big")
    chars = []
    for _ in range(GROUPS * GROUP_SIZE):
        number, index = divmod(number, 32)
        chars.append(ALPHABET[index])
    body = "".join(chars)
    return "GIFT-" + "-".join(body[i : i + GROUP_SIZE] for i in range(0, len(body), GROUP_SIZE))


def code_normal(code: str) -> str:
    """The code as typed, reduced to its 16 symbols (case, spaces, dashes and the GIFT
    prefix do not matter); "" when it cannot be a gift code."""
    cleaned = re.sub(r"[^A-Z0-9]", "", code.upper())
    if cleaned.startswith("GIFT") and len(cleaned) == 4 + GROUPS * GROUP_SIZE:
        cleaned = cleaned[4:]
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(cleaned) != GROUPS * GROUP_SIZE or any(c not in ALPHABET for c in cleaned):
        return ""
    return cleaned


def code_hash(code: str) -> str:
    """The stored hash of a code (as typed); "" for something that is not a code."""
    normal = code_normal(code)
    return hashlib.sha256(normal.encode()).hexdigest() if normal else ""
