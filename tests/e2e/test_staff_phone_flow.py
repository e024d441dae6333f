"""A counselor's morning on a phone (390×844): the staff navigation to 生源审核, the filter bar
opened from behind 筛选, their college's 待审核 生源 of one 学历, 全选 and "select all N that
match" across pages, 批量通过 with the count confirmed, then one student's 学生档案 from
学生信息. No page scrolls sideways."""

from playwright.async_api import expect

from tests.e2e.phone import no_sideways, staff_on_a_phone
from tests.review_helpers import submitted_origins


async def test_a_counselor_approves_a_filtered_queue_and_opens_a_file_on_a_phone(
        browser, live_server, world, settings, clock):
    made = await submitted_origins(settings.database_url, world, clock.now(), 66)
    undergrads = [oid for oid, edu in made if edu == "本科生"]   # 22: more than a page of 20
    await submitted_origins(settings.database_url, world, clock.now(), 3, school=1)
    async with staff_on_a_phone(browser, live_server, world.staff["counselor0"][0]) as page:
        # the staff navigation is folded behind 工作菜单 on a phone
        await expect(page.locator("#staff-nav")).to_be_hidden()   # folded once the page script ran
        await page.get_by_text("工作菜单").click()
        await page.locator("#staff-nav").get_by_role("link", name="生源审核").click()
        await expect(page.locator("#list-count strong")).to_have_text("66")
        await no_sideways(page)
        # the filter bar is folded on a phone: open it, pick 本科生
        await expect(page.get_by_label("学历", exact=True)).to_be_hidden()   # folded once the page script ran
        await page.locator("summary", has_text="筛选").click()
        await page.get_by_label("学历", exact=True).select_option("本科生")
        await page.get_by_role("button", name="筛选", exact=True).click()
        await expect(page.locator("#list-count strong")).to_have_text("22")
        await expect(page.locator("#origin-queue tbody tr")).to_have_count(20)
        await no_sideways(page)
        await page.get_by_label("全选本页").check()
        await expect(page.locator("input[name=id]:checked")).to_have_count(20)
        await page.get_by_label("选择全部 22 条符合条件的记录").check()
        await page.get_by_role("button", name="批量通过").click()
        await expect(page.locator("#batch-count")).to_have_text("22")
        await no_sideways(page)
        await page.get_by_role("button", name="确认通过 22 条").click()
        await expect(page.locator("#batch-done")).to_have_text("已通过 22 条生源信息。")
        await no_sideways(page)
        await page.get_by_role("link", name="返回列表").click()
        await expect(page.locator("#list-count strong")).to_have_text("0")
        # 学生信息 → one of them → 学生档案
        await page.get_by_text("工作菜单").click()
        await page.locator("#staff-nav").get_by_role("link", name="学生信息").click()
        await no_sideways(page)
        await page.get_by_role("link", name="批量0", exact=True).click()
        await expect(page.get_by_role("heading", name="学生档案：批量0（B00000）")).to_be_visible()
        await expect(page.locator("#file-states")).to_contain_text("已通过")
        await expect(page.locator("#file-timeline")).to_contain_text("生源信息·通过")
        await no_sideways(page)
    assert len(undergrads) == 22
