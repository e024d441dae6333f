"""Exports as background jobs (app/exports/): the click answers at once, the same export
asked twice is one job, each user has a bound, only the owner downloads, the work runs on
the CPU pool's threads, a killed process leaves no stuck job, expired files go; and every
workbook is ready for Excel (frozen header, autofilter, numbers and dates typed, Chinese
labels, no formula)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import os
import signal
import subprocess
import sys

import openpyxl
import pytest
import sqlalchemy as sa

from app.applications.service import APPLICATION_FLOW
from app.db import Database
from app.exports import runner as export_runner
from app.exports import service
from app.exports.runner import EXPORTS
from app.exports.tables import export_jobs
from app.ops import housekeeping
from app.reviews.flows import ORIGIN_FLOW
from app.signing.flows import AgreementState
from app.web import create_app
from app.xlsx import StreamedBook
from tests import exports_kit
from tests.conftest import FormClient
from tests.factories import PASSWORD
from tests.statistics_kit import populate
from tests.test_cli import cli_env
from tests.test_import_jobs import free_port


async def _staff(make_client, name: str = "school_admin0") -> FormClient:  # noqa: ANN001
    c = await make_client()
    await c.login("staff", name, PASSWORD)
    return c


async def _jobs(database_url: str) -> list[sa.Row]:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return list(await conn.execute(sa.select(export_jobs).order_by(export_jobs.c.id)))
    finally:
        await db.dispose()


async def _populated(settings, world, clock, n: int, school: int = 0) -> None:  # noqa: ANN001
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            sd = world.schools[school]
            await populate(conn, sd.id, list(zip(sd.college_ids, sd.major_ids)), n, seed=3,
                           now=clock.now(), prefix="E", years=(2026,))
    finally:
        await db.dispose()


async def test_the_click_answers_at_once_and_the_job_writes_in_the_background(
        make_client, world, settings, clock):
    """The POST returns the progress page before a single row is written; the job is then
    written by a worker process of its own (not the server's), counting its rows."""
    await _populated(settings, world, clock, 2500)
    admin = await _staff(make_client)
    runner = admin.app[EXPORTS]
    gate = asyncio.Event()  # the job waits for the test: its state at the click is seen
    original_run = runner.run

    async def held(job_id: int) -> None:
        await gate.wait()
        await original_run(job_id)
    runner.run = held
    resp = await exports_kit.ask(admin, "graduates", year="2026")
    assert resp.status == 303
    url = resp.headers["Location"]
    (job,) = await _jobs(settings.database_url)
    assert (job.status, job.processed_rows) == ("queued", 0)
    page = await (await admin.get(url)).text()
    assert 'id="export-progress"' in page and "排队中" in page
    gate.set()
    status = await exports_kit.finished(admin, url)
    assert status["status"] == "done" and status["total"] == status["processed"] > 2500
    assert runner.writers and os.getpid() not in runner.writers
    book = openpyxl.load_workbook(io.BytesIO(await (await admin.get(status["download"])).read()))
    assert book.sheetnames == ["说明", "毕业生去向"]


async def test_the_same_export_twice_is_one_job_and_each_user_has_a_bound(
        make_client, world, settings, clock):
    admin = await _staff(make_client)
    runner = admin.app[EXPORTS]
    runner.start = lambda job_id: None  # nothing runs: every job stays queued
    first = await exports_kit.job_url(admin, "graduates", year="2026")
    resp = await exports_kit.ask(admin, "graduates", year="2026")
    assert resp.status == 303 and resp.headers["Location"] == first + "?again=1"
    assert "同样的导出正在进行" in await (await admin.get(resp.headers["Location"])).text()
    assert len(await _jobs(settings.database_url)) == 1
    # another user asking the same is another job (each owns their file)
    other = await _staff(make_client, "counselor0")
    await exports_kit.job_url(other, "graduates", year="2026")
    assert len(await _jobs(settings.database_url)) == 2
    # the bound: EXPORT_JOBS_PER_USER queued or running per user
    await exports_kit.job_url(admin, "records", year="2026")
    await exports_kit.job_url(admin, "origin", year="2026")
    resp = await exports_kit.ask(admin, "tables", year="2026")
    assert resp.status == 429 and "3 个导出正在进行" in await resp.text()
    assert len(await _jobs(settings.database_url)) == 4


async def test_concurrent_clicks_never_pass_the_bound(make_client, world, settings, clock):
    """Eight different exports asked at once by one user: exactly the bound is taken, on
    both databases (the count is made under a lock on the user's account row)."""
    await _populated(settings, world, clock, 10)
    await _populated(settings, world, clock, 10, school=1)
    admin = await _staff(make_client, "platform")
    admin.app[EXPORTS].start = lambda job_id: None
    asked = [(kind, str(school.id)) for kind in ("graduates", "tables", "records", "origin")
             for school in world.schools]
    resps = await asyncio.gather(*(exports_kit.ask(admin, kind, year="2026", school=school)
                                   for kind, school in asked))
    assert sorted(r.status for r in resps) == [303] * 3 + [429] * 5
    taken = [r.status for r in resps if r.status == 303]
    assert len(await _jobs(settings.database_url)) == len(taken) == settings.export_jobs_per_user


async def test_only_the_owner_downloads_and_expired_files_are_removed(
        make_client, world, settings, clock):
    admin = await _staff(make_client)
    url = await exports_kit.job_url(admin, "records", year="2026")
    status = await exports_kit.finished(admin, url)
    assert status["status"] == "done"
    other = await _staff(make_client, "counselor0")
    for path in (url, url + "/status", status["download"]):
        assert (await other.get(path)).status == 404, path
    assert "学生信息（" not in await (await other.get("/exports")).text()
    assert "学生信息（" in await (await admin.get("/exports")).text()
    (job,) = await _jobs(settings.database_url)
    stored = settings.data_dir / "exports" / job.stored_name
    assert stored.is_file()
    # past EXPORT_KEEP_HOURS housekeeping removes the file; the page says so
    db = Database(settings.database_url)
    try:
        later = clock.now() + dt.timedelta(hours=settings.export_keep_hours, minutes=1)
        assert (await housekeeping.sweep(db, settings, later)).export_files == 1
    finally:
        await db.dispose()
    assert not stored.exists()
    assert (await admin.get(status["download"])).status == 404
    assert "文件已过期" in await (await admin.get(url)).text()


async def test_a_file_no_job_names_is_swept_after_an_hour(settings, clock):
    folder = settings.data_dir / "exports"
    folder.mkdir(parents=True)
    left = folder / "partial.xlsx"
    left.write_bytes(b"half a workbook")
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            assert await service.remove_expired(conn, folder, clock.now()) == 0
            assert left.exists()  # it may still be being written
            assert await service.remove_expired(conn, folder, clock.now() + dt.timedelta(hours=2)) == 1
    finally:
        await db.dispose()
    assert not left.exists()


async def test_a_killed_process_leaves_no_stuck_job(world, settings, clock, aiohttp_client):
    """kill -9 of the process writing an export: the job is written again by the next
    process once the lease runs out (and, interrupted twice, marked failed, never stuck)."""
    await _populated(settings, world, clock, 30_000)
    params = {"year": 2026, "school_id": world.schools[0].id, "college_id": None,
              "every_school": False, "about": []}
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            job_id = (await conn.execute(export_jobs.insert().values(
                account_id=world.staff["school_admin0"][1], kind="graduates", params=params,
                same_as="x", title="毕业生去向（测试）", status="queued", created_at=clock.now())
                .returning(export_jobs.c.id))).scalar_one()
    finally:
        await db.dispose()
    env = cli_env(settings.database_url, settings.data_dir.parent, DATA_DIR=str(settings.data_dir),
                  CPU_WORKERS="1")
    # its own session: the kill takes the server and its export worker, as a crash does
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(free_port())],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        for _ in range(1200):
            (job,) = await _jobs(settings.database_url)
            if job.status == "running" and job.processed_rows > 0:
                break
            assert proc.poll() is None, proc.stdout.read()
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the server never started writing the export")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    (job,) = await _jobs(settings.database_url)
    assert job.status == "running" and job.processed_rows < job.total_rows  # killed mid-way
    partial = settings.data_dir / "exports" / job.stored_name
    # the dead process's lease ends (it renewed it with each batch, by the real clock)
    clock.advance(seconds=(job.lease_until - clock.now()).total_seconds() + 1)
    app = create_app(settings, clock=clock)
    await aiohttp_client(app)  # starts the app: its runner looks for unfinished jobs
    await app[EXPORTS].drain()
    (job,) = await _jobs(settings.database_url)
    assert (job.status, job.runs) == ("done", 2)
    assert job.processed_rows == job.total_rows > 30_000
    assert (settings.data_dir / "exports" / job.stored_name).is_file()
    assert job.stored_name != partial.name  # the half-written file is another, swept later

    # interrupted a second time (its one resume used): failed, with a message, not stuck
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            await conn.execute(export_jobs.update().where(export_jobs.c.id == job_id).values(
                status="running", claimed_by="dead:1:0", runs=2,
                lease_until=clock.now() - dt.timedelta(seconds=1)))
    finally:
        await db.dispose()
    await app[EXPORTS].resume_unfinished()
    (job,) = await _jobs(settings.database_url)
    assert (job.status, job.message) == ("failed", export_runner.INTERRUPTED)


ENGLISH_STATES = {*(s.value for s in AgreementState), *ORIGIN_FLOW.state_labels,
                  *APPLICATION_FLOW.state_labels} - {""}


@pytest.mark.parametrize("kind", ["graduates", "tables", "records", "origin", "applicants"])
async def test_every_export_is_ready_for_excel(make_client, world, settings, clock, kind):
    """Frozen header, autofilter over the rows, numbers as numbers, dates as dates, no
    English state code, no formula (text that looks like one is marked as text)."""
    await _populated(settings, world, clock, 120)
    if kind == "applicants":
        user = await make_client()
        await user.login("employer", "employer", PASSWORD)
    else:
        user = await _staff(make_client)
    book = await exports_kit.exported(user, kind, year="2026") if kind != "applicants" else \
        await exports_kit.exported(user, kind)
    about = dict(r for r in book["说明"].iter_rows(min_row=3, max_col=2, values_only=True) if r[0])
    assert about["导出时间"] and "行数" in about
    for sheet in book.worksheets[1:]:
        assert sheet.freeze_panes == "A2", sheet.title
        rows = list(sheet.iter_rows(values_only=True))
        assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(rows[0]))}{len(rows)}"
        widths = [sheet.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width
                  for i in range(len(rows[0]))]
        assert all(w and w >= 6 for w in widths), widths
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                assert cell.data_type != "f"
                if isinstance(cell.value, str):
                    assert cell.value not in ENGLISH_STATES, (sheet.title, cell.value)
                    assert not cell.value.isdigit() or rows[0][cell.column - 1].endswith("代码") \
                        or rows[0][cell.column - 1] in ("学号", "身份证号", "邮编", "手机"), \
                        (sheet.title, rows[0][cell.column - 1], cell.value)
    if kind == "graduates":
        sheet = book["毕业生去向"]
        header = [c.value for c in sheet[1]]
        year = sheet.cell(row=2, column=header.index("毕业年份") + 1)
        assert year.data_type == "n" and year.value == 2026
        effective = [r[header.index("去向生效时间")] for r in sheet.iter_rows(min_row=2, values_only=True)]
        assert any(isinstance(v, dt.datetime) for v in effective)


def test_a_workbook_marks_formula_looking_text_as_text(tmp_path):
    path = tmp_path / "t.xlsx"
    book = StreamedBook(path)
    book.sheet("数据", ["姓名", "班级"])
    book.append([["=HYPERLINK(\"http://x\")", "+1班"], ["@SUM(A1)", "-2班"], ["张三", "1班"]])
    book.close()
    sheet = openpyxl.load_workbook(path)["数据"]
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type == "s"
            assert cell.quotePrefix == (cell.value[:1] in "=+-@"), cell.value



async def test_the_files_a_user_keeps_are_bounded_by_the_storage_quota(aiohttp_client, world,
                                                                       settings, clock):
    """An export is bytes kept for a day: while a user's unexpired files hold the quota, the
    next export is refused with the reason; once they expire, exports go on."""
    from app.web import create_app
    small = dataclasses.replace(settings, storage_quota_bytes=1000)  # under one workbook
    admin = FormClient(await aiohttp_client(create_app(small, clock=clock)))
    await admin.login("staff", "school_admin0", PASSWORD)
    url = await exports_kit.job_url(admin, "records", year="2026")
    assert (await exports_kit.finished(admin, url))["status"] == "done"
    resp = await exports_kit.ask(admin, "origin", year="2026")
    assert resp.status == 429 and "导出文件已占用" in await resp.text()
    assert len(await _jobs(settings.database_url)) == 1
    clock.advance(hours=settings.export_keep_hours, minutes=1)  # the first file has expired
    resp = await exports_kit.ask(admin, "origin", year="2026")
    assert resp.status == 303
