"""Secrets in one small module: password hashes, API token text and digests, the session cookie's signature.

Passwords are hashed with scrypt (stdlib ``hashlib.scrypt``: salted and memory-hard, so a stolen table is
slow to attack); the parameters are stored with the hash, so raising them later keeps old hashes valid.
Tokens are 32 random bytes: far beyond guessing, so a fast SHA-256 digest is enough to store them (and lets
a request find its token by an indexed lookup). Nothing here touches the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
TOKEN_PREFIX = "msp_"
SESSION_COOKIE = "ms_prcs_session"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """``scrypt$N$r$p$salt$hash`` for ``password`` with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=64 * 1024 * 1024)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored``; with no stored hash (unknown user) the same work is done
    against a dummy hash, so the answer's timing does not tell which user ids exist."""
    if stored is None:
        stored = _DUMMY_HASH
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = hashlib.scrypt(
            password.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=32,
            maxmem=64 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, _unb64(digest)) and stored is not _DUMMY_HASH


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def new_token() -> str:
    """A new API token's text, shown to its owner once and never stored."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret_key() -> str:
    return secrets.token_urlsafe(48)


@dataclass(frozen=True)
class SessionData:
    """What a session cookie says: who, and which password (its ``set_at``) they signed in with."""

    user_id: str
    password_set_at: str


class SessionSigner:
    """Signs and checks session cookies (itsdangerous, timestamped: older than ``max_age_s`` is refused)."""

    def __init__(self, secret_key: str, max_age_s: float) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="ms-prcs-session")
        self.max_age_s = max_age_s

    def sign(self, data: SessionData) -> str:
        return self._serializer.dumps({"u": data.user_id, "p": data.password_set_at})

    def unsign(self, cookie: str) -> SessionData | None:
        try:
            raw: Any = self._serializer.loads(cookie, max_age=int(self.max_age_s))
        except (BadSignature, SignatureExpired):
            return None
        if (
            not isinstance(raw, dict)
            or not isinstance(raw.get("u"), str)
            or not isinstance(raw.get("p"), str)
        ):
            return None
        return SessionData(raw["u"], raw["p"])
