"""Housekeeping runs once per cluster and period (a lease row), and removes what has
outlived its use: expired sessions, codes and 找回密码 steps, the files of finished imports
(only under DATA_DIR), and sent mail past MAIL_RETENTION_DAYS; nothing else."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import sqlalchemy as sa

from app.db import Database
from app.ops import housekeeping
from app.reviews.tables import origin_import_jobs
from app.tables import email_outbox, import_jobs, password_resets, sessions, verification_codes


async def _seed(db: Database, world, settings, now: dt.datetime, tmp_path):  # noqa: ANN001
    past, later = now - dt.timedelta(seconds=1), now + dt.timedelta(hours=1)
    account = world.staff["platform"][1]
    folder = settings.data_dir / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    files = {name: folder / f"{name}.csv" for name in ("done", "failed", "cancelled", "running",
                                                        "origin_done")}
    for path in files.values():
        path.write_text("学号,姓名,身份证号\n")
    outside = tmp_path / "not-ours.csv"
    outside.write_text("keep me")
    async with db.write() as conn:
        for token, expires in (("old", past), ("live", later)):
            await conn.execute(sessions.insert().values(
                token_hash=token, account_id=account, created_at=past, last_seen_at=past,
                expires_at=expires))
            await conn.execute(verification_codes.insert().values(
                account_id=account, purpose=token, code_hash="x", created_at=past,
                expires_at=expires))
            await conn.execute(password_resets.insert().values(
                token_hash=token, created_at=past, expires_at=expires))
        days = settings.mail_retention_days
        for status, sent_days_ago in (("sent", days + 1), ("sent", days - 1), ("pending", None)):
            created = now - dt.timedelta(days=days + 2)
            await conn.execute(email_outbox.insert().values(
                to_addr="a@test.example.cn", subject=f"{status}{sent_days_ago}", body_text="",
                template="t", attachments=[], status=status, next_attempt_at=created,
                created_at=created,
                sent_at=now - dt.timedelta(days=sent_days_ago) if sent_days_ago else None))
        school = world.schools[0].id
        for status in ("done", "failed", "cancelled", "running"):
            await conn.execute(import_jobs.insert().values(
                school_id=school, filename="x.csv", stored_path=str(files[status]), status=status,
                errors=[], created_at=past))
        await conn.execute(import_jobs.insert().values(
            school_id=school, filename="x.csv", stored_path=str(outside), status="done",
            errors=[], created_at=past))
        await conn.execute(origin_import_jobs.insert().values(
            school_id=school, filename="x.csv", stored_path=str(files["origin_done"]),
            status="done", errors=[], created_at=past))
    return files, outside


async def _left(db: Database, table: sa.Table, column: sa.Column) -> list:
    async with db.read() as conn:
        return sorted((await conn.execute(sa.select(column))).scalars().all())


async def test_housekeeping_runs_once_per_period_and_removes_only_the_expired(
        world, settings, clock, tmp_path):
    db = Database(settings.database_url)
    try:
        files, outside = await _seed(db, world, settings, clock.now(), tmp_path)
        # two processes wake at once: one sweeps, the other sees the period taken
        runs = await asyncio.gather(*(housekeeping.run_once(db, settings, clock, owner)
                                      for owner in ("process-a", "process-b")))
        done = [r for r in runs if r is not None]
        assert len(done) == 1
        swept = done[0]
        assert (swept.sessions, swept.codes, swept.password_resets, swept.mails) == (1, 1, 1, 1)
        assert sorted(swept.import_files) == sorted(
            str(files[k]) for k in ("done", "failed", "cancelled", "origin_done"))
        assert [p.exists() for p in files.values()] == [False, False, False, True, False]
        assert outside.read_text() == "keep me"  # a row pointing outside DATA_DIR deletes nothing
        assert await _left(db, sessions, sessions.c.token_hash) == ["live"]
        assert await _left(db, verification_codes, verification_codes.c.purpose) == ["live"]
        assert await _left(db, password_resets, password_resets.c.token_hash) == ["live"]
        days = settings.mail_retention_days
        assert await _left(db, email_outbox, email_outbox.c.subject) == sorted(
            [f"sent{days - 1}", "pendingNone"])
        # the same period again: nobody runs it
        assert await housekeeping.run_once(db, settings, clock, "process-a") is None
        clock.advance(seconds=settings.housekeeping_seconds)
        again = await housekeeping.run_once(db, settings, clock, "process-b")
        # the next period: the files are gone already; the "live" rows (an hour) expired now
        assert again is not None and again.import_files == []
        assert (again.sessions, again.codes, again.password_resets) == (1, 1, 1)
    finally:
        await db.dispose()


async def test_mail_retention_zero_keeps_sent_mail(world, settings, clock, tmp_path):
    db = Database(settings.database_url)
    try:
        await _seed(db, world, settings, clock.now(), tmp_path)
        keep = dataclasses.replace(settings, mail_retention_days=0)
        swept = await housekeeping.run_once(db, keep, clock, "process-a")
        assert swept is not None and swept.mails == 0
        assert len(await _left(db, email_outbox, email_outbox.c.id)) == 3
    finally:
        await db.dispose()
