"""8.1 手机认证: only the student; only with approved 生源信息; only the number of that record;
the SMS code rules (expiry, single use, tries, cooldown, hourly limit) hold under concurrency;
a changed number asks again; 短信发件箱 shows the messages to platform admins only."""

import asyncio
import dataclasses
import re

import sqlalchemy as sa

from app.db import Database
from app.reviews.tables import origin_records
from app.signing.tables import phone_verifications
from app.sms.tables import sms_outbox
from app.tables import verification_codes
from app.web import create_app
from tests.conftest import FormClient, count, field_error
from tests.factories import PASSWORD
from tests.review_helpers import approved_origin, import_origins
from tests.sms_fake import SPEC, FakeGateway

PAGE, CODE = "/student/signing/phone", "/student/signing/phone/code"
MOBILE = "13800001111"  # the mobile of the imported 生源 rows (tests/review_helpers.py)


async def login(make_client, kind, account):
    c = await make_client()
    await c.login(kind, account, PASSWORD)
    return c


async def student(make_client, world, school=0):
    return await login(make_client, "student", world.active_student(school).email)


async def last_code(settings, phone=MOBILE) -> str:
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            text = (await conn.execute(sa.select(sms_outbox.c.text).where(
                sms_outbox.c.to_phone == phone).order_by(sms_outbox.c.id.desc()).limit(1))).scalar_one()
    finally:
        await db.dispose()
    return re.search(r"验证码：(\d{6})", text).group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def send(c, phone=MOBILE):
    return await c.post(CODE, {"phone": phone, "code": ""})


async def verify(c, code, phone=MOBILE):
    return await c.post(PAGE, {"phone": phone, "code": code})


async def code_rows(settings):
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            return list(await conn.execute(sa.select(verification_codes)))
    finally:
        await db.dispose()


async def verified_phone(settings, account_id):
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            return (await conn.execute(sa.select(phone_verifications.c.phone).where(
                phone_verifications.c.account_id == account_id))).scalar()
    finally:
        await db.dispose()


async def test_only_students_reach_the_pages(make_client, world):
    client = await make_client()
    resp = await client.get(PAGE)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login/student")
    for path in (PAGE, CODE):
        resp = await client.post(path, {"phone": MOBILE, "code": "123456"})
        assert resp.status == 303 and resp.headers["Location"].startswith("/login/student")
    for kind, account in (("employer", "employer"), ("staff", "counselor0"),
                          ("staff", "school_admin0"), ("staff", "platform")):
        c = await login(make_client, kind, account)
        assert (await c.get(PAGE)).status == 403, account
        assert (await c.post(CODE, {"phone": MOBILE})).status == 403, account
        assert (await c.post(PAGE, {"phone": MOBILE, "code": "123456"})).status == 403, account


async def test_without_approved_origin_the_page_says_why_and_sends_nothing(make_client, world,
                                                                          settings, clock):
    s = await student(make_client, world)
    html = await (await s.get(PAGE)).text()
    assert "学校尚未导入您的生源信息" in html and 'href="/student/origin"' in html
    assert "获取验证码" not in html
    await import_origins(settings.database_url, world.schools[0].id,
                         [world.active_student().student_no], clock.now())
    html = await (await s.get(PAGE)).text()
    assert "当前状态为“待核对”" in html and "【生源信息核对】" in html
    resp = await send(s)
    assert resp.status == 400 and "生源信息审核通过后才能使用签约中心" in await resp.text()
    assert await count(settings.database_url, sms_outbox) == 0
    assert await count(settings.database_url, verification_codes) == 0


async def test_only_the_number_of_the_origin_record_gets_a_code(make_client, world, settings, clock):
    await approved_origin(settings.database_url, world, clock.now())
    s = await student(make_client, world)
    html = await (await s.get(PAGE)).text()
    assert '<label for="f-phone">手机</label>' in html and 'name="_csrf"' in html
    resp = await send(s, "13900009999")
    html = await resp.text()
    assert resp.status == 400
    assert field_error(html, "phone") == "手机号与生源信息核对时填报的手机不一致，请核对"
    assert 'value="13900009999"' in html  # what was typed stays
    resp = await send(s, "12345")
    assert field_error(await resp.text(), "phone") == "请输入11位手机号码"
    resp = await send(s, "")
    assert field_error(await resp.text(), "phone") == "请填写手机号"
    assert await count(settings.database_url, sms_outbox) == 0
    # without a CSRF token nothing happens
    assert (await s.post(CODE, {"phone": MOBILE}, csrf=False)).status == 403
    assert await count(settings.database_url, sms_outbox) == 0


async def test_code_confirms_the_number_and_opens_signing(make_client, world, settings, clock):
    await approved_origin(settings.database_url, world, clock.now())
    me = world.active_student()
    s = await student(make_client, world)
    resp = await send(s, "138 0000 1111")  # typed with spaces: the same number
    html = await resp.text()
    assert resp.status == 200
    assert "验证码已发送至 138****1111，10分钟内有效" in html
    assert "60秒后可重新获取验证码" in html and 'data-cooldown="60"' in html
    code = await last_code(settings)
    [stored] = await code_rows(settings)
    assert stored.purpose == "phone" and code not in stored.code_hash  # only a hash is kept

    resp = await verify(s, wrong(code))
    html = await resp.text()
    assert resp.status == 400 and field_error(html, "code") == "验证码不正确，还可以再试4次"
    assert 'value="13800001111"' in html
    resp = await verify(s, "12ab")
    assert field_error(await resp.text(), "code") == "验证码为6位数字"
    resp = await verify(s, code, phone="13900009999")  # the right code for another number
    assert field_error(await resp.text(), "phone") == "手机号与生源信息核对时填报的手机不一致，请核对"
    assert await verified_phone(settings, me.account_id) is None

    resp = await verify(s, code)
    assert resp.status == 303
    assert resp.headers["Location"] in ("/student/signing", "/student")
    assert await verified_phone(settings, me.account_id) == MOBILE
    assert (await s.get(PAGE)).status == 303  # done: the page sends the student on
    # single use
    resp = await verify(s, code)
    assert field_error(await resp.text(), "code") == "验证码已失效，请重新获取"


async def test_a_code_expires(make_client, world, settings, clock):
    await approved_origin(settings.database_url, world, clock.now())
    s = await student(make_client, world)
    await send(s)
    code = await last_code(settings)
    clock.advance(seconds=settings.code_ttl_seconds + 1)
    resp = await verify(s, code)
    assert field_error(await resp.text(), "code") == "验证码已失效，请重新获取"
    assert await verified_phone(settings, world.active_student().account_id) is None


async def test_five_wrong_entries_void_the_code(make_client, world, settings, clock):
    await approved_origin(settings.database_url, world, clock.now())
    s = await student(make_client, world)
    await send(s)
    code = await last_code(settings)
    messages = [field_error(await (await verify(s, wrong(code))).text(), "code") for _ in range(6)]
    assert messages == [f"验证码不正确，还可以再试{n}次" for n in (4, 3, 2, 1)] + \
        ["验证码错误次数过多，请重新获取"] * 2
    resp = await verify(s, code)
    assert field_error(await resp.text(), "code") == "验证码错误次数过多，请重新获取"
    assert await verified_phone(settings, world.active_student().account_id) is None


async def test_forty_concurrent_wrong_guesses_are_checked_at_most_five_times(
        make_client, world, settings, clock):
    await approved_origin(settings.database_url, world, clock.now())
    s = await student(make_client, world)
    await send(s)
    code = await last_code(settings)
    pages = await asyncio.gather(*(verify(s, wrong(code)) for _ in range(40)))
    messages = [field_error(await p.text(), "code") for p in pages]
    compared = sorted(m for m in messages if m.startswith("验证码不正确"))
    # each of the five counted tries saw its own count: no two were compared at once
    assert compared == [f"验证码不正确，还可以再试{n}次" for n in (1, 2, 3, 4)]
    assert messages.count("验证码错误次数过多，请重新获取") == 36
    assert [r.tries for r in await code_rows(settings)] == [5]
    resp = await verify(s, code)
    assert field_error(await resp.text(), "code") == "验证码错误次数过多，请重新获取"


async def test_resend_cooldown_and_hourly_limit(make_client, world, settings, clock):
    await approved_origin(settings.database_url, world, clock.now())
    s = await student(make_client, world)
    assert (await send(s)).status == 200
    first = await last_code(settings)
    clock.advance(seconds=30)
    resp = await send(s)
    html = await resp.text()
    assert resp.status == 400
    assert field_error(html, "code") == "验证码已发送，请30秒后再重新获取"
    assert "30秒后可重新获取验证码" in html  # shown without JavaScript too
    assert await count(settings.database_url, sms_outbox) == 1
    html = await (await s.get(PAGE)).text()
    assert 'data-cooldown="30"' in html
    clock.advance(seconds=30)
    assert (await send(s)).status == 200
    second = await last_code(settings)
    # a new code voids the older one
    if first != second:
        resp = await verify(s, first)
        assert field_error(await resp.text(), "code").startswith("验证码不正确")
    # CODE_SEND_LIMIT (5) per hour
    for _ in range(settings.code_send_limit - 2):
        clock.advance(seconds=settings.code_resend_seconds)
        assert (await send(s)).status == 200
    clock.advance(seconds=settings.code_resend_seconds)
    resp = await send(s)
    assert resp.status == 429
    assert field_error(await resp.text(), "code") == "获取验证码过于频繁，请一小时后再试"
    assert await count(settings.database_url, sms_outbox) == settings.code_send_limit
    clock.advance(hours=2)
    assert (await send(s)).status == 200


async def test_another_student_cannot_use_someone_elses_code(make_client, world, settings, clock):
    # both records carry the same mobile number: only the account the code was sent for counts
    await approved_origin(settings.database_url, world, clock.now(), school=0)
    await approved_origin(settings.database_url, world, clock.now(), school=1)
    a = await student(make_client, world, 0)
    b = await student(make_client, world, 1)
    await send(a)
    code_a = await last_code(settings)
    resp = await verify(b, code_a)
    assert field_error(await resp.text(), "code") == "验证码已失效，请重新获取"
    await send(b)
    code_b = await last_code(settings)
    if code_b != code_a:
        resp = await verify(b, code_a)
        assert field_error(await resp.text(), "code").startswith("验证码不正确")
    assert await verified_phone(settings, world.active_student(1).account_id) is None
    assert (await verify(a, code_a)).status == 303
    assert await verified_phone(settings, world.active_student(0).account_id) == MOBILE
    assert await verified_phone(settings, world.active_student(1).account_id) is None


async def test_a_changed_origin_mobile_asks_again(make_client, world, settings, clock):
    origin_id = await approved_origin(settings.database_url, world, clock.now())
    s = await student(make_client, world)
    await send(s)
    assert (await verify(s, await last_code(settings))).status == 303
    assert (await s.get(PAGE)).status == 303
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            data = (await conn.execute(sa.select(origin_records.c.data).where(
                origin_records.c.id == origin_id))).scalar_one()
            await conn.execute(origin_records.update().where(origin_records.c.id == origin_id)
                               .values(data={**data, "mobile": "13911112222"}))
    finally:
        await db.dispose()
    resp = await s.get(PAGE)
    assert resp.status == 200 and "需要进行手机认证" in await resp.text()
    clock.advance(seconds=settings.code_resend_seconds)
    resp = await send(s, MOBILE)  # the old number is no longer the record's
    assert field_error(await resp.text(), "phone") == "手机号与生源信息核对时填报的手机不一致，请核对"
    assert (await send(s, "13911112222")).status == 200
    assert (await verify(s, await last_code(settings, "13911112222"), "13911112222")).status == 303
    assert await verified_phone(settings, world.active_student().account_id) == "13911112222"


async def test_the_code_reaches_the_provider_once_the_request_commits(
        aiohttp_client, world, settings, clock):
    # A poll interval of an hour: only the wake after the commit can deliver it in time.
    FakeGateway.reset()
    app = create_app(dataclasses.replace(settings, sms_gateway=SPEC, outbox_poll_seconds=3600),
                     clock=clock)
    s = FormClient(await aiohttp_client(app))
    await approved_origin(settings.database_url, world, clock.now())
    await s.login("student", world.active_student().email, PASSWORD)
    assert (await send(s)).status == 200
    await asyncio.wait_for(FakeGateway.arrived.wait(), 10)
    [(to, text)] = FakeGateway.delivered
    assert to == MOBILE and await last_code(settings) in text


async def test_sms_outbox_page_is_for_platform_admins_and_shows_the_text(make_client, world,
                                                                         settings, clock):
    await approved_origin(settings.database_url, world, clock.now())
    s = await student(make_client, world)
    await send(s)
    code = await last_code(settings)
    admin = await login(make_client, "staff", "platform")
    assert 'href="/platform/sms"' in await (await admin.get("/platform")).text()
    html = await (await admin.get("/platform/sms")).text()
    assert "未配置短信网关" in html and MOBILE in html and code in html
    url = re.search(r'href="(/platform/sms/\d+)"', html).group(1)
    html = await (await admin.get(url)).text()
    assert code in html and MOBILE in html
    assert (await admin.get("/platform/sms/999999")).status == 404
    for c in (s, await login(make_client, "staff", "school_admin0"),
              await login(make_client, "employer", "employer")):
        assert (await c.get("/platform/sms")).status == 403
        assert (await c.get(url)).status == 403
