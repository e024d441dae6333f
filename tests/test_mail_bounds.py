"""Mail a user can cause to go to an address they typed (发给单位确认) is bounded per student
and per address, opens with the site's own words, and waits behind codes in the outbox:
a reset code asked for after 1,500 such mails is still the first mail to leave."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
import sqlalchemy as sa

from app.db import Database
from app.notify import emails
from app.notify.outbox import BATCH, SENDERS, OutboxWorker
from app.signing.offline import CONFIRM_MAILS_PER_ADDRESS
from app.tables import email_outbox
from tests.conftest import count
from tests.signing_kit import AGREEMENT, agreement_row
from tests.test_signing import offline_generated


async def test_confirmation_mails_are_bounded_and_open_with_the_sites_words(make_client, world,
                                                                           settings, clock):
    s, aid, _ = await offline_generated(make_client, world, settings, clock)
    to_unit = email_outbox.c.to_addr == AGREEMENT["email"]
    for _ in range(CONFIRM_MAILS_PER_ADDRESS - 1):
        assert (await s.post(f"/student/signing/offline/{aid}/send")).status == 303
    assert await count(settings.database_url, email_outbox, to_unit) == CONFIRM_MAILS_PER_ADDRESS
    before = await agreement_row(settings.database_url, aid)
    resp = await s.post(f"/student/signing/offline/{aid}/send")
    assert resp.status == 409 and "发送过于频繁" in await resp.text()
    # refused: nothing written, the link mailed last still the one that works
    assert await count(settings.database_url, email_outbox, to_unit) == CONFIRM_MAILS_PER_ADDRESS
    assert (await agreement_row(settings.database_url, aid)).confirm_token_hash == before.confirm_token_hash
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            mail = (await conn.execute(sa.select(email_outbox).where(to_unit)
                                       .order_by(email_outbox.c.id.desc()))).first()
    finally:
        await db.dispose()
    # the student's typing (the unit's name) never comes before the site's own words
    assert mail.body_text.startswith("高校毕业生就业信息网 · 就业协议书确认\n")
    assert mail.body_text.index(AGREEMENT["unit_name"]) > mail.body_text.index("单位名称（学生填写）")
    assert mail.priority == emails.PRIORITY_TYPED_ADDRESS


@pytest.fixture
def smtp_settings(settings, mailbox):  # noqa: ANN001, ANN201
    return dataclasses.replace(settings, smtp_host=mailbox.host, smtp_port=mailbox.port)


async def test_a_reset_code_leaves_before_1500_queued_mails(smtp_settings, mailbox, clock):
    db = Database(smtp_settings.database_url)
    now = clock.now()
    try:
        async with db.write() as conn:
            for i in range(1500):
                await emails.enqueue(conn, to=f"unit{i}@test.example.cn", template="agreement_confirm",
                                     at=now, context={"unit_name": "某单位", "student_name": "学生",
                                                      "school_name": "第一测试大学", "link": "x",
                                                      "days": 7})
        async with db.write() as conn:
            await emails.enqueue(conn, to="waiting@test.example.cn", template="reset_code", at=now,
                                 context={"code": "123456", "minutes": 10})
        worker = OutboxWorker(db, smtp_settings, clock)
        claimed = await worker._claim()
        # the code is the first of the first batch the outbox takes, ahead of all queued before
        assert claimed[0].to_addr == "waiting@test.example.cn" and len(claimed) == BATCH
        senders = asyncio.Semaphore(SENDERS)
        assert sum(await asyncio.gather(*(worker._send_one(r, senders) for r in claimed))) == BATCH
        assert [m["To"] for m in await mailbox.wait_for("waiting@")] == ["waiting@test.example.cn"]
        assert len(mailbox.messages) == BATCH  # one batch sent, of 1,501 queued
    finally:
        await db.dispose()
