"""A school admin's 就业协议书 queue on a phone (390×844): 待我审核 with its count, the tab of
the stamped copies, the filter bar opened from behind 筛选 to one unit's agreements, one
approved from its review page by the announced shortcuts (A, Enter), the confirmation and
【下一条】 (N) in the same filtered queue, then the rest returned at once with one reason
through "select all N that match". No page scrolls sideways."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import expect

from tests.e2e.phone import no_sideways, staff_on_a_phone
from tests.agreement_queue_kit import BASE, UNITS, make


async def test_a_school_admin_works_through_a_filtered_agreement_queue_on_a_phone(
        browser, live_server, world, settings):
    made = await make(settings, world, [
        {"status": "school", "unit": UNITS[1] if i % 2 else UNITS[2],
         "updated_at": BASE + dt.timedelta(hours=i)} for i in range(46)]
        + [{"status": "scan_review", "channel": "offline"} for _ in range(3)]
        + [{"status": "effective"} for _ in range(2)])
    chengdu = [a for a in made if a.unit == UNITS[1]]   # 23, oldest first: more than a page
    async with staff_on_a_phone(browser, live_server, world.staff["school_admin0"][0]) as page:
        await page.get_by_text("工作菜单").click()
        await page.locator("#staff-nav").get_by_role("link", name="协议书").click()
        await expect(page.locator("#list-count strong")).to_have_text("49")   # 待我审核
        await no_sideways(page)
        await page.locator(".state-tabs a", has_text="盖章协议书待学校审核").click()
        await expect(page.locator("#list-count strong")).to_have_text("3")
        await page.locator(".state-tabs a", has_text="待学校审核").first.click()
        await expect(page.locator("#list-count strong")).to_have_text("46")
        # the filter bar is folded on a phone: open it, one unit's agreements
        await expect(page.get_by_label("用人单位", exact=True)).to_be_hidden()   # folded once the page script ran
        await page.locator("summary", has_text="筛选").click()
        await page.get_by_label("用人单位", exact=True).fill("成都")
        await page.get_by_role("button", name="筛选", exact=True).click()
        await expect(page.locator("#list-count strong")).to_have_text("23")
        await expect(page.locator("#agreement-queue tbody tr")).to_have_count(20)
        await no_sideways(page)
        # the oldest first; its review page: the document, then the decision box
        await page.get_by_role("row", name=chengdu[0].name).get_by_role("link", name="查看").click()
        await expect(page.get_by_role("heading", name=f"就业协议书审核：{chengdu[0].name}")).to_be_visible()
        await expect(page.locator("#review-keys")).to_contain_text("A 选中【通过】")
        await no_sideways(page)
        await page.keyboard.press("a")
        await expect(page.locator("#approve-button")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.locator("#review-done")).to_contain_text(f"已通过：{chengdu[0].name}")
        await expect(page.locator("#review-state")).to_have_text("已生效")
        await no_sideways(page)
        await page.keyboard.press("n")
        await expect(page.get_by_role("heading", name=f"就业协议书审核：{chengdu[1].name}")).to_be_visible()
        await expect(page.locator("#review-done")).to_have_count(0)
        await page.get_by_role("link", name="返回列表").click()
        await expect(page.locator("#list-count strong")).to_have_text("22")
        await expect(page.locator("#list-count")).to_contain_text("用人单位：成都")
        # the other 22 at once, with one reason
        await page.get_by_label("全选本页").check()
        await page.get_by_label("选择全部 22 条符合条件的记录").check()
        await page.get_by_role("button", name="批量退回").click()
        await expect(page.locator("#batch-count")).to_have_text("22")
        await page.get_by_label("退回理由").fill("请单位补充岗位说明")
        await no_sideways(page)
        await page.get_by_role("button", name="确认退回 22 份").click()
        await expect(page.locator("#batch-done")).to_have_text("已退回 22 份就业协议书。")
        await no_sideways(page)
        await page.get_by_role("link", name="返回列表").click()
        await expect(page.locator("#list-count strong")).to_have_text("0")
        await page.locator(".state-tabs a", has_text="已退回单位修改").click()
        await expect(page.locator("#list-count strong")).to_have_text("22")
