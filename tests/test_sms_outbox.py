"""The SMS outbox keeps every message: kept for 短信发件箱 without a provider; with one, sent
once however many workers run, retried with backoff while it fails for now, marked failed
(without holding up the others) when it is refused for good."""

import asyncio
import dataclasses
import re

import pytest
import sqlalchemy as sa

from app.db import Database
from app.outbox_claim import backoff_seconds
from app.sms.gateway import KeepInOutbox, load_gateway
from app.sms.outbox import SmsOutboxWorker, enqueue
from app.sms.tables import sms_outbox
from app.web import create_app
from tests.sms_fake import SPEC, FakeGateway


@pytest.fixture
def fake(settings):
    FakeGateway.reset()
    return dataclasses.replace(settings, sms_gateway=SPEC)


@pytest.fixture
async def db(settings):
    database = Database(settings.database_url)
    yield database
    await database.dispose()


async def rows(db):
    async with db.read() as conn:
        return list(await conn.execute(sa.select(sms_outbox).order_by(sms_outbox.c.id)))


async def queue(db, clock, *numbers):
    async with db.write() as conn:
        for n in numbers:
            await enqueue(conn, to=n, text=f"短信给{n}", purpose="test", at=clock.now())


PHONE_CELL = r'<td data-label="手机号" class="nowrap phone">(139\d{8})</td>'


def worker(db, settings, clock):
    return SmsOutboxWorker(db, settings, clock, load_gateway(settings.sms_gateway))


async def test_default_gateway_keeps_messages_for_the_admin_page(db, settings, clock, world):
    assert settings.sms_gateway == "outbox"
    assert isinstance(load_gateway(settings.sms_gateway), KeepInOutbox)
    await queue(db, clock, "13800000001", "13800000002")
    w = worker(db, settings, clock)
    assert not w.can_send
    assert await w.send_due() == 2
    assert [(r.status, r.attempts, r.sent_at, r.last_error) for r in await rows(db)] == \
        [("kept", 1, None, None)] * 2
    assert await w.send_due() == 0  # kept is final: nothing is handed over again


async def test_a_provider_gets_each_message(db, fake, clock, world):
    await queue(db, clock, "13800000001")
    w = worker(db, fake, clock)
    assert w.can_send
    assert await w.send_due() == 1
    assert FakeGateway.delivered == [("13800000001", "短信给13800000001")]
    [row] = await rows(db)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, clock.now())
    assert await w.send_due() == 0 and len(FakeGateway.delivered) == 1


async def test_temporary_failures_are_retried_with_backoff_never_dropped(db, fake, clock, world):
    FakeGateway.temporary["13800000001"] = 7
    await queue(db, clock, "13800000001")
    w = worker(db, fake, clock)
    waits = []
    for attempt in range(1, 8):
        assert await w.send_due() == 0
        [row] = await rows(db)
        assert (row.status, row.attempts) == ("pending", attempt)
        assert "网关繁忙" in row.last_error and row.claimed_until is None
        waits.append((row.next_attempt_at - clock.now()).total_seconds())
        assert await w.send_due() == 0  # not due yet: no extra try
        assert (await rows(db))[0].attempts == attempt
        clock.advance(seconds=waits[-1])
    ceiling = fake.outbox_max_backoff_seconds
    assert waits == [backoff_seconds(a, ceiling) for a in range(1, 8)]
    assert waits[:3] == [10, 20, 40] and max(waits) <= ceiling
    assert FakeGateway.delivered == []
    # the provider is back: the message goes out once
    assert await w.send_due() == 1
    assert FakeGateway.delivered == [("13800000001", "短信给13800000001")]
    [row] = await rows(db)
    assert (row.status, row.attempts, row.last_error) == ("sent", 8, None)


async def test_a_permanent_refusal_fails_that_message_only(db, fake, clock, world):
    FakeGateway.permanent.add("13800000002")
    await queue(db, clock, "13800000002", "13800000003", "13800000004")
    w = worker(db, fake, clock)
    assert await w.send_due() == 2
    first, *others = await rows(db)
    assert (first.status, first.attempts) == ("failed", 1)
    assert "PermanentSmsError" in first.last_error and "号码不存在" in first.last_error
    assert [r.status for r in others] == ["sent", "sent"]
    assert [to for to, _ in FakeGateway.delivered] == ["13800000003", "13800000004"]
    clock.advance(seconds=fake.outbox_max_backoff_seconds * 2)
    assert await w.send_due() == 0  # failed is final: never tried again
    assert (await rows(db))[0].attempts == 1


async def test_workers_never_send_a_message_twice(db, fake, clock, world):
    numbers = [f"13800000{i:03d}" for i in range(60)]
    await queue(db, clock, *numbers)
    # four processes, each with its own engine, connected before they race
    engines = [db] + [Database(fake.database_url) for _ in range(3)]
    try:
        for e in engines:
            async with e.read() as conn:
                await conn.execute(sa.text("SELECT 1"))
        done = await asyncio.gather(*(worker(e, fake, clock).send_due() for e in engines))
    finally:
        for e in engines[1:]:
            await e.dispose()
    assert sum(done) == 60
    assert sorted(to for to, _ in FakeGateway.delivered) == numbers
    assert {r.status for r in await rows(db)} == {"sent"}


async def test_queued_messages_go_out_when_the_transaction_commits(db, fake, clock, world):
    w = worker(db, fake, clock)
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await enqueue(conn, to="13800000001", text="回滚", purpose="test", at=clock.now())
            raise RuntimeError("the change that queued it failed")
    assert await rows(db) == [] and await w.send_due() == 0
    await queue(db, clock, "13800000001")
    assert await w.send_due() == 1 and FakeGateway.delivered == [("13800000001", "短信给13800000001")]


@pytest.mark.parametrize("spec", ["nonsense", "tests.sms_fake:Missing", "no_such_module:Gateway"])
def test_a_wrong_gateway_setting_stops_start_up(settings, clock, spec):
    with pytest.raises(ValueError, match="SMS_GATEWAY"):
        create_app(dataclasses.replace(settings, sms_gateway=spec), clock=clock)


async def test_the_admin_list_is_newest_first_and_pages_through_every_message(make_client, db, clock,
                                                                               world):
    from tests.factories import PASSWORD
    await queue(db, clock, *(f"139{i:08d}" for i in range(201)))
    admin = await make_client()
    await admin.login("staff", "platform", PASSWORD)
    html = await (await admin.get("/platform/sms")).text()
    assert "第 1 / 11 页，共 201 条" in html
    shown = re.findall(PHONE_CELL, html)
    assert len(shown) == 20 and shown[0] == "13900000200" and "13900000000" not in shown
    last = await (await admin.get("/platform/sms?page=11")).text()
    assert re.findall(PHONE_CELL, last) == ["13900000000"]
    found = await (await admin.get("/platform/sms?q=13900000007")).text()
    assert re.findall(PHONE_CELL, found) == ["13900000007"]