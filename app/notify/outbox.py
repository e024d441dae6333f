"""The outbox worker: sends pending mail, retries with backoff, never drops a mail.

Rows are claimed with a conditional UPDATE (claimed_until in the past), so several
processes can run workers against one database without sending a mail twice. Without
SMTP settings nothing is sent and the mail stays in the outbox for 邮件发件箱.
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

from ..clock import Clock
from ..config import Settings
from ..db import Database
from ..tables import email_outbox

log = logging.getLogger(__name__)

CLAIM_SECONDS = 120
BATCH = 20


def backoff_seconds(attempts: int, ceiling: float) -> float:
    """Wait before try number attempts+1: 10 s, 20 s, 40 s … up to the ceiling."""
    return min(ceiling, 10.0 * 2 ** max(0, attempts - 1))


def build_message(row: sa.Row, mail_from: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = mail_from
    msg["To"] = row.to_addr
    msg["Subject"] = row.subject
    msg["Message-ID"] = make_msgid(idstring=f"outbox{row.id}")
    msg.set_content(row.body_text)
    if row.body_html:
        msg.add_alternative(row.body_html, subtype="html")
    for att in row.attachments or ():
        maintype, _, subtype = att["content_type"].partition("/")
        msg.add_attachment(base64.b64decode(att["data"]), maintype=maintype,
                           subtype=subtype.split(";")[0], filename=att["filename"])
    return msg


class OutboxWorker:
    def __init__(self, db: Database, settings: Settings, clock: Clock) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self._wake = asyncio.Event()

    @property
    def can_send(self) -> bool:
        return bool(self.settings.smtp_host)

    def wake(self) -> None:
        """Called after a transaction that queued mail commits: send now, not at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                await self.send_due()
            except Exception:  # the worker must outlive a bad row or a database hiccup
                log.exception("outbox pass failed")
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
        while True:
            rows = await self._claim()
            if not rows:
                return sent
            for row in rows:
                sent += await self._send_one(row)

    async def _claim(self) -> list[sa.Row]:
        now = self.clock.now()
        t = email_outbox
        async with self.db.write() as conn:
            due = (await conn.execute(
                sa.select(t.c.id).where(
                    t.c.status == "pending", t.c.next_attempt_at <= now,
                    sa.or_(t.c.claimed_until.is_(None), t.c.claimed_until < now))
                .order_by(t.c.next_attempt_at, t.c.id).limit(BATCH))).scalars().all()
            if not due:
                return []
            # Re-checked in the UPDATE: on PostgreSQL another worker may have claimed some
            # of these since the SELECT; RETURNING gives exactly the rows this one won.
            claimed = await conn.execute(
                t.update().where(t.c.id.in_(due),
                                 sa.or_(t.c.claimed_until.is_(None), t.c.claimed_until < now))
                .values(claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS))
                .returning(*t.c))
            return sorted(claimed, key=lambda r: r.id)

    async def _send_one(self, row: sa.Row) -> int:
        s = self.settings
        try:
            await aiosmtplib.send(
                build_message(row, s.mail_from), hostname=s.smtp_host, port=s.smtp_port,
                username=s.smtp_username or None, password=s.smtp_password or None,
                start_tls=s.smtp_starttls, timeout=30)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            attempts = row.attempts + 1
            retry_at = self.clock.now() + dt.timedelta(
                seconds=backoff_seconds(attempts, s.outbox_max_backoff_seconds))
            log.warning("mail %s to %s failed (try %d), retry at %s: %s",
                        row.id, row.to_addr, attempts, retry_at, exc)
            async with self.db.write() as conn:
                await conn.execute(email_outbox.update().where(email_outbox.c.id == row.id).values(
                    attempts=attempts, next_attempt_at=retry_at, claimed_until=None,
                    last_error=str(exc)[:1000]))
            return 0
        async with self.db.write() as conn:
            await conn.execute(email_outbox.update().where(email_outbox.c.id == row.id).values(
                status="sent", attempts=row.attempts + 1, sent_at=self.clock.now(),
                claimed_until=None, last_error=None))
        return 1
