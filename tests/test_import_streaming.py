"""A large import streams (issue 26's 200,000-row benchmark): the job reads, checks and
reports a chunk of rows at a time, so its memory does not grow with the file, and it shows
its progress while it reads; nothing is written until the whole file has passed its caps."""

import asyncio
import dataclasses
import datetime as dt
import threading
import tracemalloc

import sqlalchemy as sa

from app.db import Database
from app.offload import CpuPool
from app.students.imports import ImportRunner
from app.students.parsing import read_rows
from app.tables import import_jobs, student_records
from app.validators import make_id_number
from tests.conftest import count
from tests.test_imports import rows_csv


def rows(n: int, prefix: str) -> list[str]:
    """n rows of new students; every tenth fails (学历), so error rows are written too."""
    born = dt.date(2003, 1, 1)
    out = []
    for i in range(n):
        seq = i % 999 + 1
        out.append(f"{prefix}{i:06d},学生{i},{make_id_number('500103', born + dt.timedelta(days=i), seq)},"
                   f"{'男' if seq % 2 else '女'},信息学院,软件工程,{'中学生' if i % 10 == 9 else '本科生'},"
                   f"2026,{i % 30 + 1}班")
    return out


async def job_row(db, job_id):
    async with db.read() as conn:
        return (await conn.execute(sa.select(import_jobs).where(import_jobs.c.id == job_id))).one()


async def test_an_import_four_times_the_size_takes_nowhere_near_four_times_the_memory(
        world, settings, clock):
    """What grows with the file is only what must span it (the 学号 seen, for repeats; the
    stored problems): a row more costs a small part of what holding the row would."""
    db = Database(settings.database_url)
    cpu = CpuPool(2)
    runner = ImportRunner(db, dataclasses.replace(settings, import_max_rows=20_000), clock, cpu)

    async def imported(n: int, prefix: str) -> int:
        """The traced peak while a job imports n rows (its file stored beforehand)."""
        job_id = await runner.create(school_id=world.schools[0].id, account_id=None,
                                     filename=f"{prefix}.csv", data=rows_csv(rows(n, prefix)))
        tracemalloc.start()
        try:
            await runner.run(job_id)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        job = await job_row(db, job_id)
        assert (job.status, job.total_rows, job.created_rows, job.report["failed_rows"]) == (
            "done", n, n - n // 10, n // 10)
        return peak

    try:
        await imported(600, "W")  # the first run loads modules and fills statement caches
        small = await imported(2_000, "M")
        large = await imported(8_000, "L")
        data = rows_csv(rows(8_000, "L"))
        tracemalloc.start()  # the rows of the large file held at once, as the job once did
        held = read_rows("L.csv", data)
        _, whole = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del held
    finally:
        cpu.close()
        await db.dispose()
    extra, held_row = (large - small) / 6_000, whole / 8_000
    print(f"peak {small / 2**20:.1f} MB for 2,000 rows, {large / 2**20:.1f} MB for 8,000: "
          f"{extra:.0f} B a row more; 8,000 rows held at once {whole / 2**20:.1f} MB, "
          f"{held_row:.0f} B a row")
    assert extra * 4 < held_row, (small, large, whole)
    assert large * 3 < whole, (large, whole)
    assert await count(settings.database_url, student_records,
                       student_records.c.student_no.like("L%")) == 7_200


async def test_progress_while_reading_and_nothing_written_before_the_caps_pass(
        world, settings, clock):
    """3,000 good rows over a cap of 2,500: while the job reads, its page shows the rows
    found so far; at row 2,501 the file is refused and none of the rows before it was
    written ("本次未导入任何数据" holds)."""
    db = Database(settings.database_url)
    cpu = CpuPool(2)
    loop = asyncio.get_running_loop()
    third_chunk = asyncio.Event()
    go_on = threading.Event()

    class Watched(ImportRunner):
        checked = 0

        def check(self, rows, catalogue, first_seen=None):  # noqa: ANN001, ANN201
            self.checked += 1
            if self.checked == 3:  # in a pool thread: the job waits here while the test looks
                loop.call_soon_threadsafe(third_chunk.set)
                go_on.wait(30)
            return super().check(rows, catalogue, first_seen)

    runner = Watched(db, dataclasses.replace(settings, import_max_rows=2_500), clock, cpu)
    try:
        before = await count(settings.database_url, student_records)
        good = [r for r in rows(3_400, "P") if "中学生" not in r][:3_000]
        job_id = await runner.create(school_id=world.schools[0].id, account_id=None,
                                     filename="名单.csv", data=rows_csv(good))
        running = asyncio.ensure_future(runner.run(job_id))
        waiting = asyncio.ensure_future(third_chunk.wait())
        try:
            done, _ = await asyncio.wait([running, waiting], return_when=asyncio.FIRST_COMPLETED)
            assert waiting in done, "the job never came to a third chunk of its own"
            job = await job_row(db, job_id)
            assert (job.status, job.total_rows, job.processed_rows, job.created_rows) == (
                "running", 1_000, 0, 0)
        finally:
            go_on.set()
            waiting.cancel()
            await running
        job = await job_row(db, job_id)
        assert (job.status, job.created_rows, job.updated_rows) == ("failed", 0, 0)
        assert job.message == ("文件超过 2500 行数据（不含表头），请拆分成几个文件分别导入；"
                               "本次未导入任何数据")
        assert await count(settings.database_url, student_records) == before
    finally:
        cpu.close()
        await db.dispose()
