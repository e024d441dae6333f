"""The outbox keeps every mail: without SMTP for the admin page, with SMTP down until it is back."""

import dataclasses

import sqlalchemy as sa

from app.db import Database
from app.notify import emails
from app.notify.outbox import OutboxWorker, backoff_seconds
from app.tables import email_outbox
from tests.factories import PASSWORD
from tests.mailbox import code_in, free_port


async def outbox_rows(db):
    async with db.read() as conn:
        return list(await conn.execute(sa.select(email_outbox).order_by(email_outbox.c.id)))


async def test_without_smtp_mail_is_kept_and_readable_by_platform_admin(make_client, world, settings):
    assert not settings.smtp_host
    student = await make_client()
    resp = await student.post("/password/forgot", {"account": "employer"})
    flow = resp.headers["Location"].rsplit("/", 1)[0]
    assert (await student.post(f"{flow}/code", {"email": "hr@test.example.cn"})).status == 200
    admin = await make_client()
    await admin.login("staff", "platform", PASSWORD)
    html = await (await admin.get("/platform/outbox")).text()
    assert "未配置 SMTP 服务器" in html and "hr@test.example.cn" in html and "待发送" in html
    import re
    mail_url = re.search(r'href="(/platform/outbox/\d+)"', html).group(1)
    body = await (await admin.get(mail_url)).text()
    assert re.search(r"\b\d{6}\b", body)
    # nobody else reads the outbox
    assert (await student.get(mail_url)).status == 303


async def test_smtp_down_retries_with_backoff_and_never_drops(settings, clock, mailbox, world):
    db = Database(settings.database_url)
    dead = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=free_port())
    async with db.write() as conn:
        await emails.enqueue(conn, to="x@test.example.cn", template="reset_code",
                             context={"code": "123456", "minutes": 10}, at=clock.now())
    worker = OutboxWorker(db, dead, clock)
    waits = []
    for attempt in range(1, 8):  # a long outage: every try fails, the mail stays
        assert await worker.send_due() == 0
        [row] = await outbox_rows(db)
        assert (row.status, row.attempts) == ("pending", attempt)
        assert row.last_error
        waits.append((row.next_attempt_at - clock.now()).total_seconds())
        assert await worker.send_due() == 0  # not due yet: no extra try
        assert (await outbox_rows(db))[0].attempts == attempt
        clock.advance(seconds=waits[-1])
    assert waits == [backoff_seconds(a, settings.outbox_max_backoff_seconds) for a in range(1, 8)]
    assert waits[:3] == [10, 20, 40] and waits[-1] <= settings.outbox_max_backoff_seconds
    # a server that answers "try later" is retried too
    mailbox.refuse = True
    worker = OutboxWorker(db, dataclasses.replace(settings, smtp_host=mailbox.host,
                                                  smtp_port=mailbox.port), clock)
    assert await worker.send_due() == 0
    [row] = await outbox_rows(db)
    assert row.attempts == 8 and "451" in row.last_error
    # the server comes back: the mail goes out once
    mailbox.refuse = False
    clock.advance(seconds=settings.outbox_max_backoff_seconds)
    assert await worker.send_due() == 1
    [msg] = await mailbox.wait_for("x@test.example.cn")
    assert code_in(msg) == "123456"
    [row] = await outbox_rows(db)
    assert row.status == "sent" and row.sent_at is not None
    assert await worker.send_due() == 0
    await db.dispose()


async def test_two_workers_send_a_mail_once(settings, clock, mailbox, world):
    db = Database(settings.database_url)
    live = dataclasses.replace(settings, smtp_host=mailbox.host, smtp_port=mailbox.port)
    async with db.write() as conn:
        for i in range(6):
            await emails.enqueue(conn, to=f"m{i}@test.example.cn", template="reset_code",
                                 context={"code": f"00000{i}", "minutes": 10}, at=clock.now())
    import asyncio
    a, b = OutboxWorker(db, live, clock), OutboxWorker(db, live, clock)
    sent = await asyncio.gather(a.send_due(), b.send_due())
    assert sum(sent) == 6
    for i in range(6):
        await mailbox.wait_for(f"m{i}@test.example.cn")
    assert len(mailbox.messages) == 6
    await db.dispose()
