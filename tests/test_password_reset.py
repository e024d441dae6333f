"""忘记密码 end to end through a real SMTP server (aiosmtpd): the test reads the mailed code."""

import asyncio
import dataclasses
import re

import pytest
import sqlalchemy as sa

from app.auth import reset
from app.db import Database
from app.state import CLOCK
from app.tables import password_resets, rate_hits, sessions
from tests.conftest import count, field_error, form_error
from tests.factories import PASSWORD
from tests.mailbox import body_text, code_in


@pytest.fixture
def settings(settings, mailbox):
    return dataclasses.replace(settings, smtp_host=mailbox.host, smtp_port=mailbox.port)


async def start(client, account, **extra):
    resp = await client.post("/password/forgot", {"account": account, **extra})
    assert resp.status == 303, await resp.text()
    return resp.headers["Location"].rsplit("/", 1)[0]  # /password/forgot/<token>


async def request_code(client, flow, email):
    resp = await client.post(f"{flow}/code", {"email": email})
    assert resp.status == 200, await resp.text()
    assert "验证码已发送到该邮箱" in await resp.text()


async def test_full_reset_ends_other_sessions(make_client, world, mailbox, settings):
    s = world.active_student()
    other_device = await make_client()
    await other_device.login("student", s.email, PASSWORD)
    c = await make_client()
    page = await c.get("/password/forgot")
    assert ">下一步<" in await page.text()
    flow = await start(c, s.student_no, school_id=str(s.school_id))
    page = await (await c.get(f"{flow}/verify")).text()
    assert "完整邮箱" in page and "邮箱验证码" in page
    assert "@test.example.cn" not in page  # no hint of the account's address
    await request_code(c, flow, s.email)
    [mail] = await mailbox.wait_for(s.email)
    assert "找回密码验证码" in mail["Subject"] and "10分钟内有效" in body_text(mail)
    code = code_in(mail)
    resp = await c.post(f"{flow}/verify", {"email": s.email, "code": code})
    assert resp.status == 303 and resp.headers["Location"] == f"{flow}/new"
    resp = await c.post(f"{flow}/new", {"password": "newpass123", "password2": "newpass123"})
    assert resp.status == 303 and resp.headers["Location"] == "/login/student?reset=1"
    assert await count(settings.database_url, sessions) == 0
    assert (await other_device.get("/student")).status == 303  # logged out everywhere
    assert (await c.post("/login/student", {"account": s.email, "password": PASSWORD})).status == 400
    await c.login("student", s.email, "newpass123")
    # the flow and the code are single use
    assert (await c.get(f"{flow}/new")).status == 303
    assert (await c.post(f"{flow}/verify", {"email": s.email, "code": code})).status == 303


async def test_a_wrong_email_gets_the_same_answer_and_no_mail(client, world, mailbox, settings):
    flow = await start(client, "employer")
    resp = await client.post(f"{flow}/code", {"email": "someone@else.cn"})
    assert resp.status == 200
    html = await resp.text()
    assert "验证码已发送到该邮箱" in html and field_error(html, "email") is None
    assert 'value="someone@else.cn"' in html
    # the code it pretends to have sent counts down like a real one and never matches
    for left in (4, 3):
        resp = await client.post(f"{flow}/verify", {"email": "someone@else.cn", "code": "123456"})
        assert field_error(await resp.text(), "code") == f"验证码不正确，还可以再试{left}次"
    # the right address, a second later, is still in the cooldown of that press
    resp = await client.post(f"{flow}/code", {"email": "hr@test.example.cn"})
    assert resp.status == 400 and "秒后再重新获取" in field_error(await resp.text(), "code")
    assert mailbox.messages == []


async def test_unknown_account_goes_on_like_a_known_one(client, world):
    resp = await client.post("/password/forgot", {"account": "nobody"})
    assert resp.status == 303 and resp.headers["Location"].endswith("/verify")


async def test_wrong_codes_count_and_void_the_code_after_five(client, world, mailbox, settings):
    flow = await start(client, "platform")
    await request_code(client, flow, "platform@test.example.cn")
    code = code_in((await mailbox.wait_for("platform@test.example.cn"))[0])
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    messages = []
    for _ in range(settings.code_max_tries):
        resp = await client.post(f"{flow}/verify", {"email": "platform@test.example.cn", "code": wrong})
        assert resp.status == 400
        messages.append(field_error(await resp.text(), "code"))
    assert messages == ["验证码不正确，还可以再试4次", "验证码不正确，还可以再试3次",
                        "验证码不正确，还可以再试2次", "验证码不正确，还可以再试1次",
                        "验证码错误次数过多，请重新获取"]
    resp = await client.post(f"{flow}/verify", {"email": "platform@test.example.cn", "code": code})
    assert field_error(await resp.text(), "code") == "验证码错误次数过多，请重新获取"


async def test_code_expires_after_ten_minutes(client, world, mailbox, settings):
    from app.state import CLOCK
    flow = await start(client, "platform")
    await request_code(client, flow, "platform@test.example.cn")
    code = code_in((await mailbox.wait_for("platform@test.example.cn"))[0])
    client.app[CLOCK].advance(seconds=settings.code_ttl_seconds + 1)
    resp = await client.post(f"{flow}/verify", {"email": "platform@test.example.cn", "code": code})
    assert field_error(await resp.text(), "code") == "验证码已失效，请重新获取"


async def test_resend_cooldown_and_only_the_newest_code_counts(client, world, mailbox, settings):
    from app.state import CLOCK
    flow = await start(client, "platform")
    await request_code(client, flow, "platform@test.example.cn")
    resp = await client.post(f"{flow}/code", {"email": "platform@test.example.cn"})
    assert resp.status == 400
    assert "秒后再重新获取" in field_error(await resp.text(), "code")
    assert 'data-cooldown' in await resp.text()
    client.app[CLOCK].advance(seconds=settings.code_resend_seconds)
    await request_code(client, flow, "platform@test.example.cn")
    first, second = await mailbox.wait_for("platform@test.example.cn", count=2)
    if code_in(first) != code_in(second):
        resp = await client.post(f"{flow}/verify", {"email": "platform@test.example.cn",
                                                    "code": code_in(first)})
        assert resp.status == 400
    resp = await client.post(f"{flow}/verify", {"email": "platform@test.example.cn",
                                                "code": code_in(second)})
    assert resp.status == 303
    assert await count(settings.database_url, password_resets,
                       password_resets.c.code_hash.is_not(None)) == 0  # the code is spent


async def test_sending_codes_is_rate_limited(client, world, mailbox, settings):
    from app.state import CLOCK
    flow = await start(client, "platform")
    for _ in range(settings.code_send_limit):
        await request_code(client, flow, "platform@test.example.cn")
        client.app[CLOCK].advance(seconds=settings.code_resend_seconds)
    resp = await client.post(f"{flow}/code", {"email": "platform@test.example.cn"})
    assert resp.status == 429
    assert "过于频繁" in field_error(await resp.text(), "code")


async def test_new_password_needs_the_verified_code(client, world):
    flow = await start(client, "platform")
    assert (await client.get(f"{flow}/new")).headers["Location"] == f"{flow}/verify"
    resp = await client.post(f"{flow}/new", {"password": "abc12345", "password2": "abc12345"})
    assert resp.status == 400 and form_error(await resp.text()) == "请先完成邮箱验证"


async def test_a_bad_or_stale_flow_token_starts_over(client, world):
    resp = await client.get("/password/forgot/not-a-token/verify")
    assert resp.status == 303 and resp.headers["Location"] == "/password/forgot?expired=1"


async def test_concurrent_wrong_codes_are_checked_at_most_max_tries(client, world, mailbox,
                                                                    settings):
    """The try is counted before the comparison, by one conditional UPDATE: on PostgreSQL
    (READ COMMITTED) a read-then-write let 38 of 40 guesses through and lost updates."""
    flow = await start(client, "platform")
    await request_code(client, flow, "platform@test.example.cn")
    code = code_in((await mailbox.wait_for("platform@test.example.cn"))[0])
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    resps = await asyncio.gather(*(client.post(f"{flow}/verify", {
        "email": "platform@test.example.cn", "code": wrong}) for _ in range(40)))
    messages = [field_error(await r.text(), "code") for r in resps]
    lefts = sorted(int(m.group(1)) for m in (re.search(r"还可以再试(\d+)次", x) for x in messages)
                   if m)
    assert lefts == list(range(1, settings.code_max_tries))  # each count seen once: 1, 2, 3, 4
    # the rest: the fifth wrong try, the guesses after it, and beyond the per-address limit
    beyond = max(0, 40 - settings.login_limit_per_address)  # the per-address limit on code checks
    assert messages.count("验证码错误次数过多，请重新获取") == 40 - len(lefts) - beyond
    assert messages.count("尝试次数过多，请稍后再试") == beyond
    db = Database(settings.database_url)
    async with db.read() as conn:
        tries = (await conn.execute(sa.select(password_resets.c.code_tries))).scalar_one()
    await db.dispose()
    assert tries == settings.code_max_tries


def _same_page(html: str, flow: str) -> str:
    """A page with the attempt's own token taken out: all that may differ between two."""
    return html.replace(flow.rsplit("/", 1)[1], "TOKEN")


async def test_unknown_and_known_accounts_get_the_same_answers(client, world, mailbox, settings):
    seen = {}
    for account in ("employer", "no-such-user"):
        resp = await client.post("/password/forgot", {"account": account})
        flow = resp.headers["Location"].rsplit("/", 1)[0]
        steps = [resp.status]
        page = await client.get(f"{flow}/verify")
        steps += [page.status, _same_page(await page.text(), flow)]
        for email in ("guess@test.example.cn", "hr@test.example.cn"):  # a wrong guess, the real one
            resp = await client.post(f"{flow}/code", {"email": email})
            steps += [resp.status, _same_page(await resp.text(), flow)]
            client.app[CLOCK].advance(seconds=settings.code_resend_seconds)
        resp = await client.post(f"{flow}/verify", {"email": "hr@test.example.cn", "code": "00000a"})
        steps += [resp.status, _same_page(await resp.text(), flow)]
        seen[account] = steps
    assert seen["employer"] == seen["no-such-user"]
    assert seen["employer"][0] == 303
    assert not any("***" in str(step) for step in seen["employer"])  # no masked address
    assert "验证码不正确，还可以再试4次" in seen["employer"][-1]
    # only the real account with its real address got mail (await it: the outbox sends it
    # in the background, so the list may still be empty at this line)
    await mailbox.wait_for("hr@test.example.cn")
    assert [m["To"] for m in mailbox.messages] == ["hr@test.example.cn"]


async def test_account_lookups_are_rate_limited(client, world, settings):
    for i in range(settings.login_limit):  # known or not, each lookup counts
        resp = await client.post("/password/forgot", {"account": "employer" if i % 2 else "Employer "})
        assert resp.status == 303
    resp = await client.post("/password/forgot", {"account": "employer"})
    assert resp.status == 429
    html = await resp.text()
    assert form_error(html) == "尝试次数过多，请稍后再试" and 'value="employer"' in html
    # the address has its own, larger allowance: another 账号 from it still goes on
    assert settings.login_limit_per_address > settings.login_limit
    resp = await client.post("/password/forgot", {"account": "x1"})
    assert resp.status == 303
    # per 账号: the same 账号 however typed is counted under one key
    db = Database(settings.database_url)
    async with db.read() as conn:
        keys = dict((await conn.execute(sa.select(rate_hits.c.key, rate_hits.c.count))).all())
    await db.dispose()
    assert keys["forgot:ip:127.0.0.1"] == settings.login_limit + 1
    who = reset.lookup_key(settings.secret_key, "EMPLOYER ")
    assert keys[f"forgot:who:{who}"] == settings.login_limit
