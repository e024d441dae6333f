"""The outbox worker: sends pending mail, retries with backoff, never drops a mail.

Rows are claimed with a conditional UPDATE (claimed_until in the past), so several
processes can run workers against one database without sending a mail twice. Without
SMTP settings nothing is sent and the mail stays in the outbox for 邮件发件箱.

A mail that can never go out as it is (it cannot be built, or the server refuses it or
its recipient with a 5xx answer) is marked failed with its error instead of being retried
forever; a platform admin sees it in 邮件发件箱 and can queue it again (【重发】). Temporary
failures (connection refused, 4xx) are retried with backoff. The rows of a batch are sent
side by side, each on its own, so one slow or failing mail never holds back the others.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import audit
from ..clock import Clock
from ..config import Settings
from ..db import Database
from ..tables import email_outbox
from ..outbox_claim import backoff_seconds, claim_due
from .emails import header_text
from ..errorlog import TracebackBudget

log = logging.getLogger(__name__)

BATCH = 20
# SMTP connections open at once per worker: enough that a slow mail does not hold up a
# batch, few enough that a server's per-client connection limit is not reached.
SENDERS = 4
SMTP_TIMEOUT = 30
# A claim outlives its whole batch even when every send times out (BATCH / SENDERS rounds
# of SMTP_TIMEOUT), so no other worker takes a mail this one is still sending.
CLAIM_SECONDS = BATCH // SENDERS * SMTP_TIMEOUT + 60
PENDING, SENT, FAILED = "pending", "sent", "failed"


def build_message(row: sa.Row, mail_from: str) -> EmailMessage:
    msg = EmailMessage()
    # Rows queued before subjects were sanitised, or a MAIL_FROM typed with a line break,
    # must not make the message impossible to build.
    msg["From"] = header_text(mail_from, 998)
    msg["To"] = header_text(row.to_addr, 998)
    msg["Subject"] = header_text(row.subject, 998)
    msg["Message-ID"] = make_msgid(idstring=f"outbox{row.id}")
    msg.set_content(row.body_text)
    if row.body_html:
        msg.add_alternative(row.body_html, subtype="html")
    for att in row.attachments or ():
        maintype, _, rest = att["content_type"].partition("/")
        subtype, *raw_params = (p.strip() for p in rest.split(";"))
        # text/calendar's method=… tells mail clients what an .ics asks for (RFC 6047)
        params = dict(p.partition("=")[::2] for p in raw_params if "=" in p)
        msg.add_attachment(base64.b64decode(att["data"], validate=True), maintype=maintype,
                           subtype=subtype, filename=att["filename"], params=params)
    return msg


def is_permanent(exc: Exception) -> bool:
    """The server refused this mail or its recipient for good (5xx): trying again will not help.

    A refused sender or login is not the mail's fault but the settings': every mail would
    fail the same way, so those stay temporary and are retried once the settings are fixed.
    """
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= r.code < 600 for r in exc.recipients)
    if isinstance(exc, (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError)):
        return 500 <= exc.code < 600
    return False


STATUS_LABELS = {"pending": "待发送", "sent": "已发送", "failed": "发送失败"}


async def resend(conn: AsyncConnection, mail_id: int, *, actor_id: int, now: dt.datetime) -> bool:
    """【重发】: queue a failed mail again, now. False when it was not (or no longer) failed."""
    t = email_outbox
    requeued = (await conn.execute(
        t.update().where(t.c.id == mail_id, t.c.status == FAILED)
        .values(status=PENDING, next_attempt_at=now, claimed_until=None)
        .returning(t.c.last_error))).first()
    if requeued is None:
        return False
    await audit.record(conn, at=now, actor_id=actor_id, action="outbox.resend",
                       entity="email_outbox", entity_id=mail_id, from_state=FAILED,
                       to_state=PENDING, detail={"last_error": requeued.last_error})
    return True


class OutboxWorker:
    def __init__(self, db: Database, settings: Settings, clock: Clock) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self._wake = asyncio.Event()
        self._stopping = False
        self.errors = TracebackBudget()  # an outage fails every pass alike: told once a minute

    @property
    def can_send(self) -> bool:
        return bool(self.settings.smtp_host)

    def stop(self) -> None:
        """End run() at its next turn. Cancelling alone is not enough: on Python 3.11 a cancel
        that lands while asyncio.wait_for is timing out comes out as TimeoutError (CPython
        gh-86296), the loop would go on, and the app's shutdown would wait for it forever."""
        self._stopping = True
        self._wake.set()

    def wake(self) -> None:
        """Send now, not at the next poll: called after every committed write to the outbox
        (watch(), whoever queued the mail), and at stop."""
        self._wake.set()

    def watch(self, db: Database) -> None:
        """Wake after each commit that wrote the outbox: mail queued anywhere (a view, the
        hall's sweeper, a review) leaves at once, with no call to remember at each place.
        The worker's own writes wake it too: one more look, which finds nothing due."""
        async def woken() -> None:
            self.wake()
        db.on_commit(("email_outbox",), woken)

    async def run(self) -> None:
        while not self._stopping:
            try:
                await self.send_due()
            except Exception as exc:  # the worker must outlive a database hiccup
                self.errors.log(log, "outbox pass failed", exc)
            try:
                await asyncio.wait_for(self._wake.wait(), self.settings.outbox_poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    async def send_due(self) -> int:
        """Send every due mail once; return how many were sent."""
        if not self.can_send:
            return 0
        sent = 0
        senders = asyncio.Semaphore(SENDERS)
        while True:
            rows = await self._claim()
            if not rows:
                return sent
            sent += sum(await asyncio.gather(*(self._send_one(row, senders) for row in rows)))

    async def _claim(self) -> list[sa.Row]:
        async with self.db.write() as conn:
            return await claim_due(conn, email_outbox, self.clock.now(),
                                   claim_seconds=CLAIM_SECONDS, limit=BATCH)

    async def _send_one(self, row: sa.Row, senders: asyncio.Semaphore) -> int:
        s = self.settings
        try:
            message = build_message(row, s.mail_from)
        except Exception as exc:  # noqa: BLE001 — whatever it is, this row can never be sent
            await self._fail(row, f"邮件无法生成：{type(exc).__name__}: {exc}")
            return 0
        try:
            async with senders:
                await aiosmtplib.send(
                    message, hostname=s.smtp_host, port=s.smtp_port,
                    username=s.smtp_username or None, password=s.smtp_password or None,
                    start_tls=s.smtp_starttls, timeout=SMTP_TIMEOUT)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            if is_permanent(exc):
                await self._fail(row, f"服务器拒收：{exc}")
            else:
                await self._retry_later(row, exc)
            return 0
        except Exception as exc:  # noqa: BLE001 — something about this mail; it must not loop
            await self._fail(row, f"发送出错：{type(exc).__name__}: {exc}")
            return 0
        await self._finish(row, status=SENT, attempts=row.attempts + 1,
                           sent_at=self.clock.now(), last_error=None)
        return 1

    async def _retry_later(self, row: sa.Row, exc: Exception) -> None:
        attempts = row.attempts + 1
        retry_at = self.clock.now() + dt.timedelta(
            seconds=backoff_seconds(attempts, self.settings.outbox_max_backoff_seconds))
        log.warning("mail %s to %s failed (try %d), retry at %s: %s",
                    row.id, row.to_addr, attempts, retry_at, exc)
        await self._finish(row, attempts=attempts, next_attempt_at=retry_at,
                           last_error=str(exc)[:1000])

    async def _fail(self, row: sa.Row, error: str) -> None:
        log.error("mail %s to %s failed for good: %s", row.id, row.to_addr, error)
        await self._finish(row, status=FAILED, attempts=row.attempts + 1, last_error=error[:1000])

    async def _finish(self, row: sa.Row, **values: object) -> None:
        async with self.db.write() as conn:
            await conn.execute(email_outbox.update().where(email_outbox.c.id == row.id)
                               .values(claimed_until=None, **values))
