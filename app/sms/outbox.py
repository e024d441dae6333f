"""The SMS outbox: messages are queued in the caller's transaction and sent by a worker.

Same guarantees as the mail outbox: rows are claimed with a conditional UPDATE (see
app/outbox_claim.py), so several processes never send one message twice; a temporary
failure is retried after 10 s, 20 s, 40 s … up to OUTBOX_MAX_BACKOFF_SECONDS, forever; a
permanent refusal marks that message failed, with its error, and the others go on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from ..clock import Clock
from ..config import Settings
from ..db import Database
from ..outbox_claim import backoff_seconds, claim_due
from .gateway import PermanentSmsError, SmsGateway, keeps_messages
from .tables import sms_outbox
from ..errorlog import TracebackBudget

log = logging.getLogger(__name__)

BATCH = 10
SEND_TIMEOUT = 20.0
# A claim must outlast the sends of its whole batch: a claim that ran out mid-batch would
# let another worker take, and send again, the messages this one has not reached yet.
CLAIM_SECONDS = BATCH * SEND_TIMEOUT + 60


async def enqueue(conn: AsyncConnection, *, to: str, text: str, purpose: str,
                  at: dt.datetime) -> int:
    """Queue a message inside the caller's transaction: it exists only if that commits.
    The worker wakes after the commit by itself (SmsOutboxWorker.watch)."""
    return (await conn.execute(sms_outbox.insert().values(
        to_phone=to, text=text, purpose=purpose, status="pending", attempts=0,
        next_attempt_at=at, created_at=at).returning(sms_outbox.c.id))).scalar_one()


async def message(conn: AsyncConnection, sms_id: int) -> sa.Row | None:
    return (await conn.execute(sa.select(sms_outbox).where(sms_outbox.c.id == sms_id))).first()


class SmsOutboxWorker:
    def __init__(self, db: Database, settings: Settings, clock: Clock,
                 gateway: SmsGateway) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.gateway = gateway
        self._wake = asyncio.Event()
        self._stopping = False
        self.errors = TracebackBudget()  # an outage fails every pass alike: told once a minute

    @property
    def can_send(self) -> bool:
        """False with SMS_GATEWAY=outbox: messages are kept, not sent."""
        return not keeps_messages(self.gateway)

    def wake(self) -> None:
        """Send now, not at the next poll: called after every committed write to the outbox
        (watch()), and at stop."""
        self._wake.set()

    def watch(self, db: Database) -> None:
        """Wake after each commit that wrote the outbox, whoever queued the message."""
        async def woken() -> None:
            self.wake()
        db.on_commit(("sms_outbox",), woken)

    def stop(self) -> None:
        """End run() at its next turn. Cancelling alone is not enough: on Python 3.11 a cancel
        that lands while asyncio.wait_for is timing out comes out as TimeoutError (CPython
        gh-86296), the loop would go on, and the app's shutdown would wait for it forever."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            try:
                await self.send_due()
            except Exception as exc:  # the worker must outlive a bad row or a database hiccup
                self.errors.log(log, "SMS outbox pass failed", exc)
            try:
                await asyncio.wait_for(self._wake.wait(), self.settings.outbox_poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    async def send_due(self) -> int:
        """Hand every due message to the gateway once; return how many it took (sent or kept)."""
        done = 0
        while True:
            async with self.db.write() as conn:
                rows = await claim_due(conn, sms_outbox, self.clock.now(),
                                       claim_seconds=CLAIM_SECONDS, limit=BATCH)
            if not rows:
                return done
            for row in rows:
                done += await self._send_one(row)

    async def _send_one(self, row: sa.Row) -> int:
        attempts = row.attempts + 1
        try:
            await asyncio.wait_for(self.gateway.send(row.to_phone, row.text), SEND_TIMEOUT)
        except PermanentSmsError as exc:
            log.warning("SMS %s to %s refused for good: %s", row.id, row.to_phone, exc)
            await self._finish(row.id, status="failed", attempts=attempts,
                               last_error=_error_text(exc))
            return 0
        except Exception as exc:  # temporary by contract, and anything unexpected too
            retry_at = self.clock.now() + dt.timedelta(
                seconds=backoff_seconds(attempts, self.settings.outbox_max_backoff_seconds))
            log.warning("SMS %s to %s failed (try %d), retry at %s: %s",
                        row.id, row.to_phone, attempts, retry_at, exc)
            await self._finish(row.id, status="pending", attempts=attempts,
                               next_attempt_at=retry_at, last_error=_error_text(exc))
            return 0
        kept = keeps_messages(self.gateway)
        await self._finish(row.id, status="kept" if kept else "sent", attempts=attempts,
                           sent_at=None if kept else self.clock.now(), last_error=None)
        return 1

    async def _finish(self, row_id: int, **values: object) -> None:
        async with self.db.write() as conn:
            await conn.execute(sms_outbox.update().where(sms_outbox.c.id == row_id)
                               .values(claimed_until=None, **values))


def _error_text(exc: BaseException) -> str:
    return (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[:1000]


SMS_OUTBOX = web.AppKey("sms_outbox", SmsOutboxWorker)
