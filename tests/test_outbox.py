"""The outbox keeps every mail: without SMTP for the admin page, with SMTP down until it is back."""

import dataclasses
import re

import sqlalchemy as sa

from app.db import Database
from app.notify import emails
from app.notify.outbox import OutboxWorker, backoff_seconds
from app.tables import audit_log, email_outbox
from tests.conftest import count
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


INVITE = {"name": "张三", "job": "Java 开发", "when": "6月1日 09:00", "minutes": 15, "note": "",
          "link": "http://127.0.0.1/student"}


async def test_a_poisoned_mail_never_holds_back_the_others(make_client, settings, clock, mailbox,
                                                           world):
    """A line break in an employer's name reaching a subject once made the message
    impossible to build: the pass stopped there, the row stayed pending with no error and
    stalled every batch that claimed it. Now such text is sanitised where it is built, and
    a mail that can never go (unbuildable, refused with 550) is marked failed with its
    error, shown in 邮件发件箱, and 【重发】 queues it again."""
    db = Database(settings.database_url)
    live = dataclasses.replace(settings, smtp_host=mailbox.host, smtp_port=mailbox.port)
    mailbox.reject = {"gone@test.example.cn"}
    async with db.write() as conn:
        await emails.enqueue(conn, to="crlf@test.example.cn", template="interview_invited",
                             at=clock.now(), context={**INVITE, "org": "山城软件\r\nBcc: x@evil.cn"})
        # a row queued before subjects were sanitised
        await conn.execute(email_outbox.insert().values(
            to_addr="old@test.example.cn", subject="旧邮件\r\n主题", body_text="正文",
            template="reset_code", attachments=[], status="pending", attempts=0,
            next_attempt_at=clock.now(), created_at=clock.now()))
        # a row that can never become a message
        await conn.execute(email_outbox.insert().values(
            to_addr="broken@test.example.cn", subject="附件损坏", body_text="正文",
            template="interview_invited", status="pending", attempts=0,
            attachments=[{"filename": "a.ics", "content_type": "text/calendar", "data": "@@@"}],
            next_attempt_at=clock.now(), created_at=clock.now()))
        await emails.enqueue(conn, to="gone@test.example.cn", template="reset_code",
                             context={"code": "111111", "minutes": 10}, at=clock.now())
        for i in range(20):
            await emails.enqueue(conn, to=f"n{i}@test.example.cn", template="reset_code",
                                 context={"code": f"{i:06d}", "minutes": 10}, at=clock.now())
    worker = OutboxWorker(db, live, clock)
    assert await worker.send_due() == 22  # one pass: the 20, and the two sanitised ones
    for i in range(20):
        [msg] = await mailbox.wait_for(f"n{i}@test.example.cn")
        assert code_in(msg) == f"{i:06d}"
    [msg] = await mailbox.wait_for("crlf@test.example.cn")
    assert msg["Subject"] == "【视频面试邀请】山城软件 Bcc: x@evil.cn · Java 开发 · 6月1日 09:00"
    assert msg["Bcc"] is None
    [msg] = await mailbox.wait_for("old@test.example.cn")
    assert msg["Subject"] == "旧邮件 主题"
    rows = {r.to_addr: r for r in await outbox_rows(db)}
    assert (rows["gone@test.example.cn"].status, rows["broken@test.example.cn"].status) == (
        "failed", "failed")
    assert "550" in rows["gone@test.example.cn"].last_error
    assert "无法生成" in rows["broken@test.example.cn"].last_error
    assert "\n" not in rows["crlf@test.example.cn"].subject
    # failed is final: no retry in later passes, nothing claims them
    clock.advance(seconds=settings.outbox_max_backoff_seconds)
    assert await worker.send_due() == 0
    assert len(mailbox.messages) == 22
    # 邮件发件箱 shows them with their error and 【重发】 (24 mails: the failed ones are on
    # page 2 of the whole list, and on page 1 of its 发送失败 filter)
    admin = await make_client()
    await admin.login("staff", "platform", PASSWORD)
    html = await (await admin.get("/platform/outbox?page=2")).text()
    assert f'<tr id="mail-{rows["gone@test.example.cn"].id}">' in html
    html = await (await admin.get("/platform/outbox?status=failed")).text()
    assert html.count('<tr id="mail-') == 2
    gone = rows["gone@test.example.cn"].id
    row_html = re.search(rf'<tr id="mail-{gone}">(.*?)</tr>', html, re.S).group(1)
    assert "发送失败" in row_html and "550" in row_html and ">重发</button>" in row_html
    assert html.count(">重发</button>") == 2
    # the mailbox is fixed; the admin sends the mail again
    mailbox.reject = set()
    student = await make_client()
    await student.login("student", world.active_student().email, PASSWORD)
    assert (await student.post(f"/platform/outbox/{gone}/resend")).status == 403
    resp = await admin.post(f"/platform/outbox/{gone}/resend")
    assert resp.status == 303 and resp.headers["Location"] == "/platform/outbox"
    assert await worker.send_due() == 1
    [msg] = await mailbox.wait_for("gone@test.example.cn")
    assert code_in(msg) == "111111"
    rows = {r.to_addr: r for r in await outbox_rows(db)}
    assert rows["gone@test.example.cn"].status == "sent"
    async with db.read() as conn:
        trail = list(await conn.execute(sa.select(
            audit_log.c.action, audit_log.c.entity_id, audit_log.c.from_state,
            audit_log.c.to_state, audit_log.c.actor_id).where(audit_log.c.entity == "email_outbox")))
    assert trail == [("outbox.resend", str(gone), "failed", "pending",
                      world.staff["platform"][1])]
    # a second press on a mail no longer failed changes nothing
    assert (await admin.post(f"/platform/outbox/{gone}/resend")).status == 303
    assert await count(settings.database_url, audit_log,
                       audit_log.c.entity == "email_outbox") == 1
    await db.dispose()


async def test_any_commit_that_queues_mail_wakes_the_outbox(aiohttp_client, settings, clock,
                                                            mailbox, world):
    """Mail queued by any code through the app's database leaves at once: no view has to
    remember to wake the worker (the poll here is an hour, so only the wake can send it)."""
    from app.state import DB
    from app.web import create_app
    slow = dataclasses.replace(settings, smtp_host=mailbox.host, smtp_port=mailbox.port,
                               outbox_poll_seconds=3600)
    app = create_app(slow, clock=clock)
    await aiohttp_client(app)
    async with app[DB].write() as conn:  # written here, as a service would, with no wake()
        await emails.enqueue(conn, to="woken@test.example.cn", template="reset_code",
                             context={"code": "654321", "minutes": 10}, at=clock.now())
    [mail] = await mailbox.wait_for("woken@test.example.cn", timeout=60)
    assert code_in(mail) == "654321"
