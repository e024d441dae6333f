"""The real client behind a reverse proxy: `request.remote` and `request.scheme` as the
user's browser has them, believed from forwarded headers only through TRUSTED_PROXIES.

X-Forwarded-For is a list every proxy appends its peer to, so everything left of the
nearest untrusted hop may be forged by the client. The list is read from the right,
skipping our own proxies; the first address that is not one of them is the client. A
request whose peer is not a trusted proxy keeps its peer address, whatever it sends.
Every rate limit (login, activation, codes, 单位注册) keys on `request.remote`, so this
middleware runs first and hands the rest of the stack a request cloned with the real one.
"""

from __future__ import annotations

import ipaddress
from typing import Iterable

from aiohttp import web

from .state import SETTINGS

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(items: Iterable[str]) -> tuple[Network, ...]:
    """Addresses and CIDRs as networks; a bad entry is a configuration error, said at start."""
    found = []
    for item in items:
        try:
            found.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"not an address or network: {item!r}") from exc
    return tuple(found)


def address_in(address: str | None, nets: tuple[Network, ...]) -> bool:
    if not address or not nets:
        return False
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in nets)


def client_address(peer: str | None, forwarded_for: list[str],
                   trusted: tuple[Network, ...]) -> str | None:
    """The client as the nearest untrusted hop; the peer itself when it is not trusted."""
    if not address_in(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    nearest = peer
    for hop in reversed([h for h in hops if h]):
        try:
            ipaddress.ip_address(hop.strip("[]"))
        except ValueError:
            # our own proxy wrote something that is not an address: believe no further
            return nearest
        if not address_in(hop, trusted):
            return hop.strip("[]")
        nearest = hop
    return nearest  # every hop is ours (a health check from the proxy host itself)


def forwarded_scheme(peer: str | None, forwarded_proto: list[str],
                     trusted: tuple[Network, ...]) -> str | None:
    """http or https as the proxy received it; None when not to be believed."""
    if not forwarded_proto or not address_in(peer, trusted):
        return None
    last = forwarded_proto[-1].split(",")[-1].strip().lower()
    return last if last in ("http", "https") else None


TRUSTED = web.AppKey("trusted_proxies", tuple)


def setup_proxy(app: web.Application) -> None:
    app[TRUSTED] = networks(app[SETTINGS].trusted_proxies)


@web.middleware
async def forwarded_middleware(request: web.Request, handler):  # noqa: ANN001
    trusted = request.app[TRUSTED]
    if not trusted:
        return await handler(request)
    peer = request.remote
    remote = client_address(peer, request.headers.getall("X-Forwarded-For", []), trusted)
    scheme = forwarded_scheme(peer, request.headers.getall("X-Forwarded-Proto", []), trusted)
    changes: dict[str, str] = {}
    if remote != peer and remote is not None:
        changes["remote"] = remote
    if scheme is not None and scheme != request.scheme:
        changes["scheme"] = scheme
    if changes:
        request = request.clone(**changes)
    return await handler(request)
