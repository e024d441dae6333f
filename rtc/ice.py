"""ICE servers (STUN, TURN) from the settings, for browsers and for aiortc peers.

TURN logins are short-lived in coturn's shared-secret REST form (coturn `use-auth-secret`):
the username carries its own expiry and the password is an HMAC of it, so the TURN server
checks a login with the secret alone and we never store a TURN password per user.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer

from app.config import Settings


def turn_credential(secret: str, username: str) -> str:
    """coturn's REST password: base64(HMAC-SHA1(secret, username))."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def ice_servers(settings: Settings, user_id: int | str, now: dt.datetime) -> list[dict[str, Any]]:
    """RTCIceServer dictionaries, as a browser's RTCPeerConnection takes them."""
    servers: list[dict[str, Any]] = []
    if settings.stun_urls:
        servers.append({"urls": list(settings.stun_urls)})
    # TURN without a secret could only be an open relay; we never hand one out.
    if settings.turn_urls and settings.turn_secret:
        expiry = int(now.timestamp()) + settings.turn_ttl_seconds
        username = f"{expiry}:{user_id}"
        servers.append({"urls": list(settings.turn_urls), "username": username,
                        "credential": turn_credential(settings.turn_secret, username)})
    return servers


def rtc_configuration(servers: list[dict[str, Any]]) -> RTCConfiguration:
    """The same servers for an aiortc peer."""
    return RTCConfiguration(iceServers=[
        RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
        for s in servers])
