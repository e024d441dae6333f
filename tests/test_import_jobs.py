"""Import jobs as operators meet them: 【取消导入】, several processes on one database, an
interrupted job resumed once, and SIGTERM while a bomb is being read."""

import asyncio
import dataclasses
import datetime as dt
import signal
import subprocess
import sys
import threading
import time

import aiohttp
import pytest
import sqlalchemy as sa

from app.db import Database
from app.offload import CpuPool
from app.state import CPU, IMPORTS
from app.students.imports import ImportRunner
from app.students.job_lease import INTERRUPTED
from app.tables import import_jobs, student_records
from app.web import create_app
from tests.conftest import FormClient, count
from tests.factories import PASSWORD
from tests.mailbox import free_port
from tests.sheet_bombs import shared_strings_bomb
from tests.test_import_bombs import until_status
from tests.test_cli import cli_env
from tests.test_imports import HEADER, admin, good_row, rows_csv, upload  # noqa: F401 (fixture)


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, cpu_workers=1)


async def job_row(database_url, job_id):
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return (await conn.execute(sa.select(import_jobs).where(import_jobs.c.id == job_id))).one()
    finally:
        await db.dispose()


async def set_job(database_url, job_id, **values):
    db = Database(database_url)
    try:
        async with db.write() as conn:
            await conn.execute(import_jobs.update().where(import_jobs.c.id == job_id).values(**values))
    finally:
        await db.dispose()


async def test_cancel_from_the_import_page_stops_a_running_job(admin, world, settings, aiohttp_client):
    # Logins check passwords in the CPU pool too: the other school's admin logs in first.
    other = FormClient(await aiohttp_client(admin.client.server))  # another school's admin
    await other.login("staff", "school_admin1", PASSWORD)
    # The one CPU thread is busy (a PDF, say): the job is claimed and waits for it.
    gate = threading.Event()
    busy = asyncio.ensure_future(admin.app[CPU].run(gate.wait, 30))
    try:
        resp = await upload(admin, "名单.csv", rows_csv([good_row("C001"), good_row("C002", seq=23)]))
        location = resp.headers["Location"]
        await until_status(admin, location, "running")
        page = await (await admin.get(location)).text()
        assert "正在导入" in page and "取消导入" in page

        assert (await other.post(location + "/cancel")).status == 404

        resp = await admin.post(location + "/cancel")
        assert resp.status == 303 and resp.headers["Location"] == location
    finally:
        gate.set()
        await busy
    await admin.app[IMPORTS].drain()  # its read starts now, sees the cancel at its first row
    status = await (await admin.get(location + "/status")).json()
    assert (status["status"], status["created"], status["updated"]) == ("cancelled", 0, 0)
    page = await (await admin.get(location)).text()
    assert "导入已取消：未导入任何数据。" in page and "取消导入</button>" not in page
    assert await count(settings.database_url, student_records,
                       student_records.c.student_no.in_(["C001", "C002"])) == 0
    # An ended job stays as it ended.
    assert (await admin.post(location + "/cancel")).status == 303
    assert (await job_row(settings.database_url, int(location.rsplit("/", 1)[1]))).status == "cancelled"


async def test_two_processes_resume_an_interrupted_job_once_without_doubling_rows(
        world, settings, clock, aiohttp_client):
    school = world.schools[0].id
    rows = [good_row(f"R{i:04}", seq=21) for i in range(700)]  # two chunks
    db = Database(settings.database_url)
    cpu = CpuPool(1)
    try:
        runner = ImportRunner(db, settings, clock, cpu)
        # A first process imported 300 rows, then died in a second job of all 700 (its
        # counts say so) while holding the job; its lease ran out a second ago.
        first = await runner.create(school_id=school, account_id=None, filename="a.csv",
                                    data=rows_csv(rows[:300]))
        await runner.run(first)
        job_id = await runner.create(school_id=school, account_id=None, filename="b.csv",
                                     data=rows_csv(rows))
    finally:
        cpu.close()
        await db.dispose()
    await set_job(settings.database_url, job_id, status="running", claimed_by="dead:1:0", runs=1,
                  created_rows=300, lease_until=clock.now() - dt.timedelta(seconds=1))
    before = await count(settings.database_url, student_records)

    apps = [create_app(settings, clock=clock), create_app(settings, clock=clock)]
    for app in apps:  # both start and look for unfinished jobs at once
        await aiohttp_client(app)
    await asyncio.gather(*(app[IMPORTS].drain() for app in apps))

    job = await job_row(settings.database_url, job_id)
    assert (job.status, job.runs, job.total_rows, job.created_rows, job.updated_rows) == (
        "done", 2, 700, 700, 0)
    assert job.claimed_by in {app[IMPORTS].owner for app in apps}
    assert await count(settings.database_url, student_records) == before + 400


async def test_a_job_interrupted_again_after_its_resume_is_given_up(
        world, settings, clock, aiohttp_client):
    db = Database(settings.database_url)
    try:
        runner = ImportRunner(db, settings, clock, CpuPool(1))
        job_id = await runner.create(school_id=world.schools[0].id, account_id=None,
                                     filename="a.csv", data=rows_csv([good_row("G001")]))
    finally:
        await db.dispose()
    await set_job(settings.database_url, job_id, status="running", claimed_by="dead:2:0", runs=2,
                  lease_until=clock.now() - dt.timedelta(seconds=1))
    app = create_app(settings, clock=clock)
    client = FormClient(await aiohttp_client(app))
    await app[IMPORTS].drain()
    job = await job_row(settings.database_url, job_id)
    assert (job.status, job.runs, job.message) == ("failed", 2, INTERRUPTED)
    assert await count(settings.database_url, student_records,
                       student_records.c.student_no == "G001") == 0
    await client.login("staff", "school_admin0", PASSWORD)
    assert f"导入失败：{INTERRUPTED}" in await (await client.get(f"/school/imports/{job_id}")).text()


async def test_sigterm_stops_the_server_promptly_while_a_bomb_is_being_read(
        world, settings, clock, tmp_path):
    # 2 million shared strings: openpyxl spends many seconds loading them in one call that
    # no cancel flag reaches; the sheet also declares A1:XFD1048576, the padding that kept
    # the old reader busy for 46 minutes.
    bomb = shared_strings_bomb(HEADER.split(","), 2_000_000)
    db = Database(settings.database_url)
    try:
        job_id = await ImportRunner(db, settings, clock, CpuPool(1)).create(
            school_id=world.schools[0].id, account_id=None, filename="炸弹.xlsx", data=bomb)
    finally:
        await db.dispose()
    env = cli_env(settings.database_url, tmp_path, IMPORT_MAX_UNZIPPED_BYTES=str(200 * 2**20),
                  IMPORT_MAX_SECONDS="3600", CPU_WORKERS="1")
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(free_port())],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(600):  # it claims the job as it starts
            if (await job_row(settings.database_url, job_id)).status == "running":
                break
            assert proc.poll() is None, proc.stdout.read()
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the server never started the job")
        proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        # A bound for "promptly" (the old server did not stop at all), not a timing figure.
        proc.wait(timeout=15)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, proc.stdout.read()
    job = await job_row(settings.database_url, job_id)
    # Handed back for the next start, which may run it once more (its caps still apply).
    assert (job.status, job.runs, job.claimed_by) == ("queued", 1, None), took



async def test_cancel_a_origin_import_from_its_page(admin, world, settings):
    """The 生源 import runs on the same runner and page: 【取消导入】 works there too."""
    from app.reviews.origin.import_views import ORIGIN_IMPORTS
    from app.reviews.tables import origin_records
    from tests.test_origin_review import origin_csv
    s0 = world.students[0]
    gate = threading.Event()
    busy = asyncio.ensure_future(admin.app[CPU].run(gate.wait, 30))
    try:
        form = aiohttp.FormData()
        form.add_field("_csrf", admin.csrf())
        form.add_field("file", origin_csv(f"{s0.student_no},{s0.name},,01,03,500103,1,0,2,"
                                          "13800001111,a@b.cn,x,0,1"),
                       filename="生源.csv", content_type="text/csv")
        resp = await admin.client.post("/school/origins/import", data=form, allow_redirects=False)
        location = resp.headers["Location"]
        await until_status(admin, location, "running")
        assert (await admin.post(location + "/cancel")).status == 303
    finally:
        gate.set()
        await busy
    await admin.app[ORIGIN_IMPORTS].drain()
    assert (await (await admin.get(location + "/status")).json())["status"] == "cancelled"
    assert "导入已取消：未导入任何数据。" in await (await admin.get(location)).text()
    assert await count(settings.database_url, origin_records) == 0
