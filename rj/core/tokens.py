"""One-time link tokens: random, and stored only as a hash, so a copy of the database cannot be
used to open anyone's consent, survey, find-a-time, status or set-password link."""
from __future__ import annotations

import hashlib
import secrets


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh URL-safe token (256 bits) and the hash to store in its place."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)
