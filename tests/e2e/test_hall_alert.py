"""A student whose hall tab is in the background is still reached when called: a real
Chromium student page, hidden (Page Visibility emulated), is called by the employer's page
and shows a desktop notification, flashes its title, rings and counts the answer time down;
the call is announced once, and an unchanged place is not announced again."""

import pytest
from playwright.async_api import expect

from tests.e2e.test_hall_flow import booth_and_student
from tests.hall_kit import build_hall

# browser-side behaviour: the SQLite run covers it (tests/conftest.py)
pytestmark = pytest.mark.engine_independent

FLASH = "【请入场】"

# Before the page's own scripts: visibility and focus under the test's control, and a record
# of what the page does with notifications, tones and socket events.
STUDENT_PAGE = r"""
(() => {
  let hidden = false;
  window.setPageHidden = (h) => {
    hidden = h;
    document.dispatchEvent(new Event("visibilitychange"));
  };
  Object.defineProperty(document, "visibilityState", { get: () => (hidden ? "hidden" : "visible") });
  Object.defineProperty(document, "hidden", { get: () => hidden });
  document.hasFocus = () => !hidden;

  const seen = window.seen = { shown: [], asked: [], closed: 0, tones: 0, events: {} };
  const Real = window.Notification;
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      seen.shown.push({ title: title, body: options && options.body, hidden: hidden });
    }
    close() { seen.closed += 1; super.close(); }
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Recorded.requestPermission = () => {
    const hint = document.getElementById("notify-hint");
    seen.asked.push({ hint: hint && hint.offsetParent !== null ? hint.textContent : null });
    return Real.requestPermission();
  };
  window.Notification = Recorded;

  const oscillator = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    seen.tones += 1;
    return oscillator.call(this);
  };

  let io;
  Object.defineProperty(window, "io", { get: () => io, set: (real) => {
    io = function (...args) {
      const socket = real(...args);
      socket.onAny((event) => { seen.events[event] = (seen.events[event] || 0) + 1; });
      return socket;
    };
    Object.assign(io, real);
  } });
})();
"""

# Counts writes to the two live regions from now on.
COUNT_WRITES = """() => {
  window.writes = { status: 0, alert: 0 };
  for (const [key, id] of [["status", "hall-status"], ["alert", "call-alert"]]) {
    new MutationObserver(() => { window.writes[key] += 1; }).observe(
      document.getElementById(id), { childList: true, characterData: true, subtree: true });
  }
}"""


async def same_state_again(context, page, hall_url: str) -> None:  # noqa: ANN001
    """Make the server send `page` its unchanged place once more. The hall sends a room
    nothing it already holds (rtc/coalesce.py), except when someone enters the room: a
    second tab of the same student does, and every tab of the student then gets the place."""
    queued = await page.evaluate("() => window.seen.events.queue || 0")
    other = await context.new_page()
    await other.goto(hall_url)
    await page.wait_for_function(f"() => (window.seen.events.queue || 0) > {queued}")
    await other.close()


async def test_hidden_student_page_is_alerted_when_called(browser, live_server, world, settings, clock):
    hall = await build_hall(world, settings, clock, students=1)
    base = str(live_server.make_url("/"))

    async def watched(context) -> None:  # noqa: ANN001
        await context.grant_permissions(["notifications"], origin=base.rstrip("/"))
        await context.add_init_script(STUDENT_PAGE)
    contexts, student, employer, errors = await booth_and_student(browser, live_server, hall,
                                                                  watched)
    hall_url = f"/hall/interviews/{hall['interview_ids'][0]}"
    await student.goto(hall_url)
    normal_title = await student.title()
    # why the browser will ask, said before it asks
    await expect(student.locator("#notify-hint")).to_contain_text("允许")
    await student.get_by_role("button", name="开始检测").click()
    await expect(student.get_by_role("button", name="开始排队")).to_be_enabled(timeout=30_000)
    await student.get_by_role("button", name="开始排队").click()
    await expect(student.locator("#queue-position")).to_have_text("1")
    asked = await student.evaluate("() => window.seen.asked")
    assert len(asked) == 1 and "允许" in asked[0]["hint"]
    await expect(student.locator("#notify-state")).to_contain_text("已开启桌面提醒")
    # the waiting page states the rules the server keeps (defaults: 60 s, 2 minutes)
    wait_text = await student.locator("#stage-wait").inner_text()
    assert f"{settings.hall_answer_grace_seconds} 秒内点击“接听”" in wait_text
    assert f"位置保留 {settings.hall_waiter_grace_seconds // 60} 分钟" in wait_text

    # the place does not change: the polite region is not written again
    await student.evaluate(COUNT_WRITES)
    await same_state_again(contexts[0], student, hall_url)
    assert await student.evaluate("() => window.writes.status") == 0

    await student.evaluate("() => window.setPageHidden(true)")
    await employer.get_by_role("button", name="呼叫下一位").click()

    await student.wait_for_function("() => window.seen.shown.length === 1")
    shown = (await student.evaluate("() => window.seen.shown"))[0]
    assert "单位正在呼叫你" in shown["title"] and "接听" in shown["body"] and shown["hidden"]
    # the title alternates while the page is out of sight
    await student.wait_for_function(f"() => document.title.startsWith('{FLASH}')")
    await student.wait_for_function(f"() => document.title === {normal_title!r}")
    await student.wait_for_function(f"() => document.title.startsWith('{FLASH}')")
    # the answer time the server gave, counting down
    await expect(student.locator("#stage-called")).to_be_visible()
    first = int(await student.locator("#answer-countdown").inner_text())
    assert 0 < first <= settings.hall_answer_grace_seconds
    await student.wait_for_function(
        f"() => parseInt(document.getElementById('answer-countdown').textContent, 10) < {first}")
    assert await student.evaluate("() => window.seen.tones") > 0
    # announced once, assertively, though the booth's updates keep coming
    await expect(student.get_by_role("alert")).to_contain_text("单位正在呼叫你")
    await same_state_again(contexts[0], student, hall_url)
    assert await student.evaluate("() => window.writes.alert") == 1

    # back on the page: the title is plain again; answering stops every signal
    await student.evaluate("() => window.setPageHidden(false)")
    await student.wait_for_function(f"() => document.title === {normal_title!r}")
    await student.get_by_role("button", name="接听").click()
    await expect(student.locator("#stage-call")).to_be_visible()
    await expect(student.locator("#call-alert")).to_have_text("")
    assert await student.evaluate("() => window.seen.closed") == 1
    assert await student.title() == normal_title
    assert errors == []
    for c in contexts:
        await c.close()
