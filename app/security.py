"""Passwords, tokens, signatures and the security headers every response carries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import json
import secrets
import time
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP lists five argon2id configurations of equal strength, from 46 MiB × 1 pass to
# 7 MiB × 5; this is the 9 MiB × 4 passes one, with 1 lane: about 15 ms of one core here,
# and each check being made holds 9 MiB, not 19 (a hall process checks passwords beside
# 5,000 sockets: bench/hall_load.py's peak RSS with 20 logins a second). argon2-cffi's own
# default (64 MiB, 3 passes, 4 lanes) costs 250 ms of CPU spread over four threads per
# check: twenty logins a second would need five cores, and its lanes escape the CPU
# pool's bound. One lane keeps a check on one pool thread. Operators with more cores and
# memory raise the cost (ARGON2_MEMORY_KIB, ARGON2_TIME_COST); old hashes keep verifying
# and are re-hashed at the next login (needs_rehash).
DEFAULT_TIME_COST = 4
DEFAULT_MEMORY_KIB = 9 * 1024


class _Passwords:
    def __init__(self, time_cost: int, memory_kib: int) -> None:
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        # A valid hash of a random password: verifying against it when an account does not
        # exist costs the same time as a real check, so timing does not reveal accounts.
        self.dummy = self.hasher.hash(secrets.token_hex(16))


_passwords = _Passwords(DEFAULT_TIME_COST, DEFAULT_MEMORY_KIB)


def configure_passwords(time_cost: int, memory_kib: int) -> None:
    """The process's argon2 cost, from the settings (create_app and the command line)."""
    global _passwords
    h = _passwords.hasher
    if (h.time_cost, h.memory_cost) != (time_cost, memory_kib):
        _passwords = _Passwords(time_cost, memory_kib)

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

# For what is not a page (an image, a PDF, a download): the browser shows it in a viewer of
# its own, whose inline styles the page policy would block (a console error on every
# 【查看原图】); nothing in such a response may run or load anything else.
RESOURCE_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'none'"

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def hash_password(password: str) -> str:
    return _passwords.hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return (_passwords.hasher.verify(password_hash or _passwords.dummy, password)
                and password_hash is not None)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """The hash was made with other argon2 costs than the current settings'."""
    try:
        return _passwords.hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def new_token() -> str:
    return secrets.token_urlsafe(32)


CSRF_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}\.[0-9a-f]{32}")


def new_csrf_token(secret_key: str) -> str:
    """A random value and its keyed hash: the server can tell its own tokens from a value a
    client made up (such a value must never become part of a page or of a cache's work)."""
    value = secrets.token_urlsafe(32)
    return f"{value}.{keyed_hash(secret_key, 'csrf:' + value)[:32]}"


def csrf_token_valid(secret_key: str, token: str) -> bool:
    if not CSRF_TOKEN_RE.fullmatch(token):
        return False
    value, mac = token.split(".")
    return hmac.compare_digest(mac, keyed_hash(secret_key, "csrf:" + value)[:32])


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
