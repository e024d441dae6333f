"""Imports people can fix, in a real Chromium: a school admin downloads the .xlsx template,
fills it below its example (with a synonym and rows wrong in two ways), uploads it, reads
the grouped report, downloads the error rows; the test fixes them in that very file and
the admin uploads it back, and every row imports."""

import datetime as dt

import openpyxl
from playwright.async_api import expect

from app.validators import make_id_number
from tests.factories import PASSWORD

HEADER = ["学号", "姓名", "身份证号", "性别", "学院", "专业", "学历", "毕业年份", "班级"]


def row(i: int, **change: str) -> list[str]:
    values = dict(zip(HEADER, [f"FIX{i:03d}", f"改正{i}", make_id_number(
        "500103", dt.date(2003, 3, 1) + dt.timedelta(days=i), 11), "男", "信息学院", "软件工程",
        "本科生", "2026", "2班"]))
    values.update(change)
    return list(values.values())


async def test_template_report_error_rows_fixed_and_imported(page, world, tmp_path):
    await page.goto("/login/staff")
    await page.get_by_label("用户名", exact=True).fill("school_admin0")
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("heading", name="管理中心")).to_be_visible()
    await page.get_by_role("link", name="导入学生信息").click()

    async with page.expect_download() as info:
        await page.get_by_role("link", name="下载模板（.xlsx）").click()
    template = tmp_path / "模板.xlsx"
    await (await info.value).save_as(template)
    book = openpyxl.load_workbook(template)
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == HEADER
    assert sheet["A2"].value == "示例" and sheet["E2"].value == "信息学院"
    assert "下拉选项" in book.sheetnames and "填写说明" in book.sheetnames
    rows = [row(1, 学历="硕士研究生"), row(2), row(3, 学历="中学生"), row(4, 学历="小学生"),
            row(5, 毕业年份="26")]
    for values in rows:
        sheet.append(values)
    book.save(template)

    await page.get_by_label("导入文件").set_input_files(str(template))
    await page.get_by_role("button", name="开始导入").click()
    await expect(page.get_by_text("导入完成：共 5 行，新增 2 条，更新 0 条，失败 3 行")).to_be_visible()
    await expect(page.locator("#import-changes")).to_contain_text("学历：硕士研究生 → 硕士生 — 1 行")
    groups = page.locator("#import-errors > li")
    await expect(groups).to_have_count(2)
    await expect(groups.nth(0)).to_contain_text(
        "学历：应为博士生、硕士生、本科生、专科生、二学位之一 — 2 行")
    await expect(groups.nth(0)).to_contain_text("第 5 行；第 6 行")
    await expect(groups.nth(1)).to_contain_text("毕业年份：应为四位年份，如2026 — 1 行")

    async with page.expect_download() as info:
        await page.get_by_role("link", name="下载错误行").click()
    fixed = tmp_path / "错误行.xlsx"
    await (await info.value).save_as(fixed)
    book = openpyxl.load_workbook(fixed)
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == HEADER + ["错误"]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        "FIX003", "FIX004", "FIX005"]
    for cells in sheet.iter_rows(min_row=2):  # fixed where the 错误 column points
        if cells[9].value.startswith("学历"):
            cells[6].value = "本科生"
        else:
            cells[7].value = "2026"
    book.save(fixed)

    await page.get_by_role("link", name="继续导入").click()
    await page.get_by_label("导入文件").set_input_files(str(fixed))
    await page.get_by_role("button", name="开始导入").click()
    await expect(page.get_by_text("导入完成：共 3 行，新增 3 条，更新 0 条，失败 0 行")).to_be_visible()
    await expect(page.locator("#import-errors")).to_have_count(0)
    await page.get_by_role("link", name="查看学生信息").click()
    await page.get_by_label("学号、姓名或班级").fill("FIX")
    await page.get_by_role("button", name="筛选", exact=True).click()
    await expect(page.locator("#list-count strong")).to_have_text("5")
    await expect(page.locator("tbody tr").filter(has_text="FIX001")).to_contain_text("硕士生")
