"""Hostile and odd spreadsheets through the import page (issue 14, items 5 and 12b): each is
refused promptly with a message in Chinese, nothing is written, the event loop stays free
and an ordinary import next to them still completes."""

import asyncio
import threading
import dataclasses
import re

import pytest

from app.students import sheets
from app.state import CPU, IMPORTS, LOOP_LAG
from app.tables import student_records
from tests.conftest import count
from tests.sheet_bombs import (declared_size_bomb, dimension_bomb, formulas_only,
                                shared_strings_bomb, workbook)
from tests.test_imports import HEADER, admin, good_row, rows_csv, upload  # noqa: F401 (fixture)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, loop_lag_probe_seconds=0.01, import_max_rows=200)


async def status_and_page(client, location):
    status = await (await client.get(location + "/status")).json()
    page = await (await client.get(location)).text()
    text = re.search(r'id="import-text">\s*(.*?)\s*</p>', page, re.S).group(1)
    return status, text


async def until_status(client, location, wanted):
    """The job's status once it is `wanted` (it changes in a task of the app under test)."""
    for _ in range(200):
        status = await (await client.get(location + "/status")).json()
        if status["status"] == wanted:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"job never became {wanted}: {status}")


async def test_bombs_are_refused_promptly_and_a_small_import_beside_them_completes(
        admin, world, settings):
    header = HEADER.split(",")
    plain = workbook([header, good_row("G001").split(",")])
    bombs = {
        "维度.xlsx": (dimension_bomb(header, {"XFD1048576": "x"}),
                      "导入失败：文件超过 100 列（第 1048576 行用到了第 XFD 列），请删除多余的列后再导入；"
                      "本次未导入任何数据"),
        "体积.xlsx": (declared_size_bomb(plain), "导入失败：xlsx 文件解压后超过 64 MB"),
        "行数.xlsx": (workbook([header, *[[f"M{i:04}", "某某"] for i in range(500)]]),
                      "导入失败：文件超过 200 行数据（不含表头），请拆分成几个文件分别导入；本次未导入任何数据"),
    }
    # Only the declared range is huge here: what the sheet really holds is imported.
    sparse_file = dimension_bomb(
        header, dict(zip([f"{chr(65 + i)}2" for i in range(9)], good_row("S002").split(","))),
        {"A1048576": "尾行"})
    before = await count(settings.database_url, student_records)
    probe = admin.app[LOOP_LAG]
    probe.reset()
    await asyncio.sleep(1.0)  # the probe's worst stall with nothing to do
    at_rest = probe.reset()
    readers: set[str] = set()  # the threads every row was read on
    check = sheets.ReadLimits.check

    def seen_check(self):  # noqa: ANN001, ANN202
        readers.add(threading.current_thread().name)
        return check(self)
    sheets.ReadLimits.check = seen_check

    locations = {}
    for name, (data, _) in bombs.items():
        resp = await upload(admin, name, data, XLSX)
        assert resp.status == 303, await resp.text()
        locations[name] = resp.headers["Location"]
    small = await upload(admin, "小名单.csv", rows_csv([good_row("S001")]))
    sparse = await upload(admin, "稀疏.xlsx", sparse_file, XLSX)
    # A bound on "promptly" (each 维度 file once ran for 46 minutes), not a timing figure.
    try:
        await asyncio.wait_for(admin.app[IMPORTS].drain(), 60)
    finally:
        sheets.ReadLimits.check = check
    busy = probe.reset()

    for name, (_, message) in bombs.items():
        status, text = await status_and_page(admin, locations[name])
        assert (status["status"], status["created"], status["updated"]) == ("failed", 0, 0), name
        assert text.startswith(message), (name, text)
    status, text = await status_and_page(admin, small.headers["Location"])
    assert (status["status"], status["created"]) == ("done", 1)
    status, text = await status_and_page(admin, sparse.headers["Location"])
    assert (status["status"], status["total"], status["created"], status["failed_rows"]) == (
        "done", 2, 1, 1), text
    assert await count(settings.database_url, student_records) == before + 2
    # Every row was read in the CPU pool, never on the loop; the loop's worst stall is shown.
    assert readers and all(name.startswith("cpu") for name in readers), readers
    print(f"loop stall while the bombs were read: {busy * 1000:.1f} ms (at rest {at_rest * 1000:.1f} ms)")


async def test_a_sheet_of_formulas_says_why_nothing_was_imported(admin, world, settings):
    before = await count(settings.database_url, student_records)
    resp = await upload(admin, "公式.xlsx", formulas_only(HEADER.split(","), 5), XLSX)
    await admin.app[IMPORTS].drain()
    status, text = await status_and_page(admin, resp.headers["Location"])
    assert (status["status"], status["total"], status["created"]) == ("failed", 0, 0)
    assert text == ("导入失败：表格中没有可读取的数据行：公式单元格不会被计算，"
                    "请在 Excel 中将公式另存为数值后再导入")
    assert await count(settings.database_url, student_records) == before


async def test_a_header_only_sheet_says_it_has_no_data_rows(admin, world):
    resp = await upload(admin, "空表.xlsx", workbook([HEADER.split(",")]), XLSX)
    await admin.app[IMPORTS].drain()
    status, text = await status_and_page(admin, resp.headers["Location"])
    assert status["status"] == "failed" and text == "导入失败：表格中除表头外没有数据行"


async def test_imports_leave_a_cpu_thread_for_other_work(admin, world, settings):
    """Two slow files at once take one of the two CPU threads between them: the other is
    free for a PDF or a login (six bombs once filled the pool and printing hung)."""
    assert admin.app[CPU].workers == 2
    bomb = shared_strings_bomb(HEADER.split(","), 500_000)  # seconds of loading each
    locations = []
    for name in ("甲.xlsx", "乙.xlsx"):
        resp = await upload(admin, name, bomb, "application/octet-stream")
        locations.append(resp.headers["Location"])
    for location in locations:
        await until_status(admin, location, "running")
    await asyncio.sleep(0.2)  # both have asked the pool for a thread by now
    assert await admin.app[CPU].run(sum, [1, 2]) == 3  # a thread was free at once
    statuses = [(await (await admin.get(loc + "/status")).json())["status"] for loc in locations]
    assert statuses == ["running", "running"]
    for location in locations:
        assert (await admin.post(location + "/cancel")).status == 303
    await admin.app[IMPORTS].drain()
    statuses = [(await (await admin.get(loc + "/status")).json())["status"] for loc in locations]
    assert statuses == ["cancelled", "cancelled"]
