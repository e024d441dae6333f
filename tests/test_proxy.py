"""Behind a reverse proxy: the client address comes from X-Forwarded-For only through
TRUSTED_PROXIES, and limits per address are separate from (and larger than) limits per
account, so one student guessing from a campus NAT never locks the others out."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from app.db import Database
from app.proxy import client_address, forwarded_scheme, networks
from app.tables import rate_hits
from app.web import create_app
from tests.conftest import FormClient, form_error
from tests.factories import PASSWORD

OURS = networks(["10.0.0.0/24", "127.0.0.1"])


@pytest.mark.parametrize("peer,header,expected", [
    ("198.51.100.7", ["203.0.113.9"], "198.51.100.7"),          # not our proxy: header ignored
    ("127.0.0.1", [], "127.0.0.1"),                              # our proxy, nothing forwarded
    ("127.0.0.1", ["203.0.113.9"], "203.0.113.9"),
    ("127.0.0.1", ["1.2.3.4, 203.0.113.9"], "203.0.113.9"),      # the forged left part skipped
    ("127.0.0.1", ["1.2.3.4", "203.0.113.9, 10.0.0.3"], "203.0.113.9"),  # two of ours
    ("127.0.0.1", ["10.0.0.3, 10.0.0.4"], "10.0.0.3"),           # all ours: the farthest
    ("127.0.0.1", ["1.2.3.4, not-an-ip"], "127.0.0.1"),          # garbage from our proxy
    ("::ffff:127.0.0.1", ["2001:db8::5"], "2001:db8::5"),
])
def test_client_address_walks_from_the_right(peer, header, expected):
    assert client_address(peer, header, OURS) == expected


def test_forwarded_proto_only_from_our_proxy():
    assert forwarded_scheme("127.0.0.1", ["https"], OURS) == "https"
    assert forwarded_scheme("198.51.100.7", ["https"], OURS) is None
    assert forwarded_scheme("127.0.0.1", ["gopher"], OURS) is None
    with pytest.raises(ValueError, match="not an address"):
        networks(["10.0.0.0/33"])


async def _ip_keys(database_url: str) -> set[str]:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            keys = (await conn.execute(sa.select(rate_hits.c.key))).scalars().all()
    finally:
        await db.dispose()
    return {k for k in keys if k.startswith("login:ip:")}


async def _client(aiohttp_client, settings, clock, **changes) -> FormClient:  # noqa: ANN001
    app = create_app(dataclasses.replace(settings, **changes), clock=clock)
    return FormClient(await aiohttp_client(app))


async def _wrong_login(client: FormClient, forwarded: str, account: str = "platform",
                       kind: str = "staff") -> int:
    resp = await client.post(f"/login/{kind}", {"account": account, "password": "wrong1234"},
                             headers={"X-Forwarded-For": forwarded})
    return resp.status


@pytest.mark.parametrize("trusted", [(), ("10.0.0.0/8",)])
async def test_forged_forwarded_for_from_an_untrusted_client_is_ignored(
        aiohttp_client, settings, clock, world, trusted):
    client = await _client(aiohttp_client, settings, clock, trusted_proxies=trusted)
    assert await _wrong_login(client, "203.0.113.9") == 400
    assert await _ip_keys(settings.database_url) == {"login:ip:127.0.0.1"}


async def test_trusted_proxy_gives_the_client_behind_it(aiohttp_client, settings, clock, world):
    # the test client connects from 127.0.0.1: here it plays the proxy
    client = await _client(aiohttp_client, settings, clock, trusted_proxies=("127.0.0.1",))
    assert await _wrong_login(client, "1.2.3.4, 203.0.113.9") == 400
    assert await _ip_keys(settings.database_url) == {"login:ip:203.0.113.9"}


async def test_a_burst_behind_the_proxy_locks_that_account_not_the_other_students(
        aiohttp_client, settings, clock, world):
    client = await _client(aiohttp_client, settings, clock, trusted_proxies=("127.0.0.1",))
    campus = "203.0.113.9"
    guessed, other = world.active_student(0), world.active_student(1)
    for _ in range(settings.login_limit):
        assert await _wrong_login(client, campus, guessed.email, "student") == 400
    # the guessed account is locked, even with its right password
    resp = await client.post("/login/student", {"account": guessed.email, "password": PASSWORD},
                             headers={"X-Forwarded-For": campus})
    assert resp.status == 429 and "登录失败次数过多" in form_error(await resp.text())
    # another student behind the same campus address still logs in
    resp = await client.post("/login/student", {"account": other.email, "password": PASSWORD},
                             headers={"X-Forwarded-For": campus})
    assert resp.status == 303, form_error(await resp.text())


async def test_the_per_address_limit_holds_for_its_address_only(
        aiohttp_client, settings, clock, world):
    client = await _client(aiohttp_client, settings, clock, trusted_proxies=("127.0.0.1",),
                           login_limit_per_address=3)
    for n in range(3):
        assert await _wrong_login(client, "203.0.113.9", f"nobody{n}") == 400
    assert await _wrong_login(client, "203.0.113.9", "nobody9") == 429
    # a student elsewhere, through the same proxy, is not behind that address
    resp = await client.post("/login/student",
                             {"account": world.active_student(0).email, "password": PASSWORD},
                             headers={"X-Forwarded-For": "198.51.100.20"})
    assert resp.status == 303
