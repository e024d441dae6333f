"""Staff on a phone in the browser tests: a phone-sized context logged in as one of the
staff, and the check that a page does not scroll sideways."""

from __future__ import annotations

import contextlib
from typing import AsyncIterator

from playwright.async_api import Page

from tests.factories import PASSWORD

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
SMALL_PHONE = {**PHONE, "viewport": {"width": 375, "height": 667}}


async def no_sideways(page: Page) -> None:
    over = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert over <= 0, f"{page.url} scrolls {over} px sideways"


@contextlib.asynccontextmanager
async def staff_on_a_phone(browser, live_server, username: str,  # noqa: ANN001
                           device: dict = PHONE) -> AsyncIterator[Page]:
    """A page on a phone, logged in at 管理人员登录 as `username`."""
    context = await browser.new_context(base_url=str(live_server.make_url("/")), locale="zh-CN",
                                        **device)
    context.set_default_timeout(15_000)
    page = await context.new_page()
    try:
        await page.goto("/login/staff")
        await page.get_by_label("用户名", exact=True).fill(username)
        await page.get_by_label("密码", exact=True).fill(PASSWORD)
        await page.get_by_role("button", name="登录").click()
        await page.wait_for_url(lambda url: "/login/" not in url)   # signed in: a staff page
        yield page
    finally:
        await context.close()
