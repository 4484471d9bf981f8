"""API key format and hashing.

A key reads ``s321_<prefix>_<secret>``. The prefix finds the row; the secret is stored
only as HMAC-SHA256 under the service's pepper. Secrets carry 256 bits of entropy, so a
fast keyed hash is enough: there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

KEY_TAG = "s321"


@dataclass(frozen=True)
class NewKey:
    prefix: str
    secret: str

    @property
    def token(self) -> str:
        return f"{KEY_TAG}_{self.prefix}_{self.secret}"


def generate() -> NewKey:
    return NewKey(prefix=secrets.token_hex(6), secret=secrets.token_urlsafe(32))


def split(token: str) -> tuple[str, str] | None:
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_TAG or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def hash_secret(secret: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


def matches(secret: str, stored_hash: str, pepper: str) -> bool:
    return hmac.compare_digest(hash_secret(secret, pepper), stored_hash)
