"""设备与网络检测 in a real Chromium: fake camera and microphone, and a real WebRTC probe to
the server's aiortc peer over loopback."""

import asyncio

import pytest
from playwright.async_api import expect

from rtc.probe import PROBES
from rtc.quality import verdict
from tests.factories import PASSWORD

# browser-side behaviour: the SQLite run covers it (tests/conftest.py)
pytestmark = pytest.mark.engine_independent

WAIT_FOR_DONE = """() => new Promise(resolve => document.addEventListener(
    "probe-done", e => resolve(e.detail), {once: true}))"""


async def test_student_checks_camera_microphone_and_network(page, live_server, world):
    await page.goto("/")
    await page.get_by_role("link", name="我是学生").first.click()
    await page.get_by_label("学号/邮箱/手机号", exact=True).fill(world.active_student().email)
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("heading", name="学生中心")).to_be_visible()

    await page.goto("/hall/check")
    await expect(page.get_by_role("heading", name="设备与网络检测").first).to_be_visible()
    for label in ("摄像头", "麦克风", "网络"):
        await expect(page.get_by_role("heading", name=label, exact=True)).to_be_visible()
    done = asyncio.ensure_future(page.evaluate(WAIT_FOR_DONE))
    await page.get_by_role("button", name="开始检测").click()
    detail = await asyncio.wait_for(done, 30)

    result = await page.evaluate("window.hallProbeResult")
    live = ("microphone",)  # the peak level keeps following the microphone after the event
    assert {k: v for k, v in result.items() if k not in live} == \
        {k: v for k, v in detail.items() if k not in live}
    assert result["error"] is None
    assert isinstance(result["rttMs"], (int, float)) and result["rttMs"] >= 0
    assert (result["sent"], result["received"]) == (20, 20)
    assert result["label"] == {"good": "良好", "usable": "可用", "poor": "较差"}[result["verdict"]]
    # the browser judges exactly as rtc/quality.py does on the same figures
    assert verdict(result["samples"], result["sent"], result["received"])[0] == result["verdict"]
    await expect(page.locator("#check-network-verdict")).to_have_text(result["label"])
    await expect(page.locator("#check-network-figures")).to_contain_text("毫秒")

    assert result["camera"]["ok"] and result["camera"]["width"] > 0
    assert await page.locator("#check-video").evaluate("v => v.videoWidth") > 0
    await expect(page.locator("#check-camera-status")).to_contain_text("正常")
    # Chromium's fake microphone beeps; the meter follows it
    # a function, not an expression: Playwright evals expressions, which our CSP forbids
    await page.wait_for_function("() => document.getElementById('check-meter').value > 0")
    assert result["microphone"]["ok"]

    # the page closed its peer, so the server's closes too
    for peer in live_server.app[PROBES].peers():
        await asyncio.wait_for(peer.closed.wait(), 10)
    assert len(live_server.app[PROBES]) == 0
