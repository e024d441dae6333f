"""Every byte a user can make the server keep: counted against one quota, taken back when
the transaction that wrote it does not commit, and swept by housekeeping when a process died
between the bytes and their row. The storage folder and the files table agree."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app import files
from app.db import Database
from app.ops.housekeeping import ORPHAN_AGE, sweep_orphans
from app.tables import files as files_table
from app.uploads import FileStore
from app.workflow import NotAllowed
from tests.registration_helpers import PDF_BYTES


def on_disk(store: FileStore) -> set[str]:
    return {p.name for p in store.folder.iterdir()} if store.folder.is_dir() else set()


async def rows(db: Database) -> set[str]:
    async with db.read() as conn:
        return set((await conn.execute(sa.select(files_table.c.id))).scalars())


async def test_a_refused_step_takes_its_bytes_back(world, settings, clock):
    db, store = Database(settings.database_url), FileStore(settings.data_dir)
    owner = world.active_student().account_id
    try:
        with pytest.raises(NotAllowed):
            async with db.write() as conn:
                for kind in (files.FileKind.AGREEMENT_SCAN, files.FileKind.TERMINATION):
                    await files.save(conn, store, owner_id=owner, kind=kind, display_name="a.pdf",
                                     content_type="application/pdf", data=PDF_BYTES, now=clock.now())
                assert len(on_disk(store)) == 2  # written, then the workflow says no
                raise NotAllowed("状态已变化")
        assert on_disk(store) == set() and await rows(db) == set()
        async with db.write() as conn:  # a committed save keeps its bytes
            kept = await files.save(conn, store, owner_id=owner, kind=files.FileKind.REGISTRATION,
                                    display_name="b.pdf", content_type="application/pdf",
                                    data=PDF_BYTES, now=clock.now())
        assert on_disk(store) == {kept} == await rows(db)
    finally:
        await db.dispose()


@pytest.mark.parametrize("kind", [files.FileKind.AGREEMENT_SCAN, files.FileKind.REGISTRATION,
                                  files.FileKind.TERMINATION])
async def test_workflow_uploads_count_against_the_quota(world, settings, clock, kind):
    db = Database(settings.database_url)
    store = FileStore(settings.data_dir, quota_bytes=len(PDF_BYTES) * 2)
    owner = world.active_student().account_id
    try:
        for _ in range(2):
            async with db.write() as conn:
                await files.save(conn, store, owner_id=owner, kind=kind, display_name="a.pdf",
                                 content_type="application/pdf", data=PDF_BYTES, now=clock.now())
        with pytest.raises(files.StorageFull) as refused:
            async with db.write() as conn:
                await files.save(conn, store, owner_id=owner, kind=kind, display_name="c.pdf",
                                 content_type="application/pdf", data=PDF_BYTES, now=clock.now())
        assert "存储空间不足" in str(refused.value) and refused.value.field == "_form"
        assert len(on_disk(store)) == 2 == len(await rows(db))
    finally:
        await db.dispose()


async def test_housekeeping_sweeps_bytes_without_a_row(world, settings, clock):
    db, store = Database(settings.database_url), FileStore(settings.data_dir)
    owner = world.active_student().account_id
    try:
        async with db.write() as conn:
            kept = await files.save(conn, store, owner_id=owner, kind=files.FileKind.RESUME,
                                    display_name="a.pdf", content_type="application/pdf",
                                    data=PDF_BYTES, now=clock.now())
        # a process killed after writing the bytes, before its row committed
        orphan = store.new_id()
        store.write(orphan, PDF_BYTES)
        now = dt.datetime.now(dt.timezone.utc)
        assert await sweep_orphans(db, store, now) == 0  # too new: its row may still come
        assert await sweep_orphans(db, store, now + ORPHAN_AGE + dt.timedelta(minutes=1)) == 1
        assert on_disk(store) == {kept} == await rows(db)
    finally:
        await db.dispose()
