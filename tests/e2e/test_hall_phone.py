"""The hall on a phone: the student's context emulates a phone in portrait (390×844, touch,
a mobile user agent), the employer's a tablet (768×1024). The device check holds at
375×667 too; in the call the employer's picture fills the width, the controls sit at the
bottom of the screen, 切换摄像头 swaps the camera without breaking the call, and video is
decoded on both sides. On the tablet the resume folds away behind a toggle."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.factories import PASSWORD
from tests.hall_kit import build_hall

# browser-side behaviour: the SQLite run covers it (tests/conftest.py)
pytestmark = pytest.mark.engine_independent

FRAMES = "() => window.hallCall && window.hallCall.lastStats && window.hallCall.lastStats.framesDecoded > 0"
# Playwright's 'iPhone 12' descriptor less what only WebKit has (its Safari user agent):
# Chromium on a phone of the same size.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True,
         "has_touch": True,
         "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like "
                       "Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"}
TABLET = {"viewport": {"width": 768, "height": 1024}, "has_touch": True}
CALL_STATE = ("() => window.hallCall ? {ice: window.hallCall.pc && window.hallCall.pc.iceConnectionState,"
              " stats: window.hallCall.lastStats, counts: window.hallCall.counts} : 'no call'")
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


async def login(page, path, account, label):  # noqa: ANN001
    await page.goto(path)
    await page.get_by_label(label, exact=True).fill(account)
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="登录").tap()
    await expect(page).not_to_have_url(re.compile(f".*{path}"), timeout=20_000)


async def in_thumb_reach(page, selector: str) -> None:  # noqa: ANN001
    """Visible without scrolling, in the lower half of the screen, and tall enough to tap."""
    box = await page.evaluate("(s) => { const r = document.querySelector(s).getBoundingClientRect();"
                              " return {y: r.y, height: r.height, width: r.width}; }", selector)
    height = page.viewport_size["height"]
    assert height / 2 <= box["y"] and box["y"] + box["height"] <= height, (selector, box)
    assert box["height"] >= 44 and box["width"] >= 44, (selector, box)


async def test_call_from_a_phone_with_the_employer_on_a_tablet(browser, live_server, world,
                                                                settings, clock):
    hall = await build_hall(world, settings, clock, students=1)
    s = hall["students"][0]
    base = str(live_server.make_url("/"))
    phone = await browser.new_context(base_url=base, locale="zh-CN", **PHONE)
    tablet = await browser.new_context(base_url=base, locale="zh-CN", **TABLET)
    try:
        for c in (phone, tablet):
            c.set_default_timeout(20_000)
        student, employer = await phone.new_page(), await tablet.new_page()
        errors: list[str] = []
        for p in (student, employer):
            p.on("pageerror", lambda exc: errors.append(str(exc)))

        await login(employer, "/login/employer", "employer", "用户名/邮箱")
        await employer.goto(f"/hall/booths/{hall['session_id']}")
        await expect(employer.locator("#booth-status")).to_have_text("已连接")

        await login(student, "/login/student", s.email, "学号/邮箱/手机号")
        await student.goto(f"/hall/interviews/{hall['interview_ids'][0]}")
        # the device check on the smallest phone in use: nothing runs off the side
        await student.set_viewport_size({"width": 375, "height": 667})
        assert await student.evaluate(NO_SIDEWAYS_SCROLL)
        await student.get_by_role("button", name="开始检测").tap()
        await expect(student.get_by_role("button", name="开始排队")).to_be_enabled(timeout=30_000)
        assert await student.evaluate(NO_SIDEWAYS_SCROLL)
        await student.set_viewport_size(PHONE["viewport"])
        await student.get_by_role("button", name="开始排队").tap()
        await expect(student.locator("#queue-position")).to_have_text("1")

        await employer.get_by_role("button", name="呼叫下一位").tap()
        await student.get_by_role("button", name="接听").tap()
        await expect(student.locator("#stage-call")).to_be_visible(timeout=20_000)
        try:
            await student.wait_for_function(FRAMES, timeout=60_000)
            await employer.wait_for_function(FRAMES, timeout=60_000)
        except Exception:
            for p in (student, employer):
                print(await p.evaluate(CALL_STATE))
            print(errors)
            raise

        # the phone: the employer's picture fills the width, the controls are under the thumb
        await student.evaluate("() => window.scrollTo(0, 0)")
        assert await student.evaluate(NO_SIDEWAYS_SCROLL)
        video = await student.locator("#remote-video").bounding_box()
        main = await student.locator("main").bounding_box()
        assert video["width"] >= main["width"] - 2 * 16 - 2 * 16 - 2, (video, main)  # less paddings
        switch = student.get_by_role("button", name="切换摄像头")
        await expect(switch).to_be_visible()
        for control in ("#mute-button", "#hangup-button", "#switch-camera"):
            await in_thumb_reach(student, control)

        # 切换摄像头: the new camera's track replaces the old; the employer keeps decoding
        before = await employer.evaluate("() => window.hallCall.lastStats.framesDecoded")
        await switch.tap()
        await expect(student.locator("#hall-status")).to_have_text("已切换到后置摄像头")
        await employer.wait_for_function(
            f"() => window.hallCall.lastStats.framesDecoded > {before} + 10")
        live = await student.evaluate(
            "() => window.hallCall.pc.getSenders().filter(s => s.track && s.track.kind === 'video')"
            ".map(s => s.track.readyState)")
        assert live == ["live"]

        # the tablet: the resume starts folded, the toggle opens it
        toggle = employer.locator("#side-toggle")
        await expect(toggle).to_have_attribute("aria-expanded", "false")
        await expect(employer.locator("#call-resume")).to_be_hidden()
        remote = await employer.locator("#remote-video").bounding_box()
        assert remote["width"] >= 768 / 2, remote
        await toggle.tap()
        await expect(toggle).to_have_attribute("aria-expanded", "true")
        await expect(employer.locator("#call-resume")).to_contain_text(s.name)

        await employer.get_by_label("通过", exact=True).check()
        await employer.get_by_role("button", name="结束面试").tap()
        await expect(student.locator("#stage-ended")).to_be_visible()
        assert errors == []
    finally:
        await phone.close()
        await tablet.close()
