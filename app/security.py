"""Passwords, tokens, signatures and the security headers every response carries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# A valid hash of a random password: verifying against it when an account does not
# exist costs the same time as a real check, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self' ws: wss:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_hash(secret_key: str, value: str) -> str:
    return hmac.new(secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def sign(secret_key: str, purpose: str, payload: dict[str, Any], ttl_seconds: int) -> str:
    """A tamper-proof, expiring token carrying a small payload (e.g. between form steps)."""
    body = json.dumps({"p": purpose, "d": payload, "e": int(time.time()) + ttl_seconds},
                      separators=(",", ":"), ensure_ascii=False).encode()
    b64 = base64.urlsafe_b64encode(body).decode().rstrip("=")
    return f"{b64}.{keyed_hash(secret_key, b64)}"


def unsign(secret_key: str, purpose: str, token: str) -> dict[str, Any] | None:
    b64, _, mac = token.partition(".")
    if not mac or not hmac.compare_digest(mac, keyed_hash(secret_key, b64)):
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)))
    except ValueError:
        return None
    if body.get("p") != purpose or body.get("e", 0) < time.time():
        return None
    return body["d"]
