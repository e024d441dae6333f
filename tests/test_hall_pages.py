"""What the hall's pages give their scripts: the one quality table of rtc/quality.py (no
copies of its thresholds or words in the scripts), a quality line whose live part is the
verdict alone, and socket errors that go through one Chinese-speaking helper."""

import json
import re
from pathlib import Path

import lxml.html

from rtc.quality import browser_table
from tests.factories import PASSWORD
from tests.hall_kit import build_hall

JS = Path(__file__).resolve().parent.parent / "static/js"


def scripts(doc) -> list[str]:  # noqa: ANN001
    return [Path(s.get("src")).name for s in doc.xpath("//script[@src]")]


async def test_every_quality_judging_page_gets_the_one_table(make_client, world, settings, clock):
    hall = await build_hall(world, settings, clock, students=1)
    student, employer = await make_client(), await make_client()
    await student.login("student", hall["students"][0].email, PASSWORD)
    await employer.login("employer", "employer", PASSWORD)
    pages = {"check": (student, "/hall/check", "device-check"),
             "hall": (student, f"/hall/interviews/{hall['interview_ids'][0]}", "call-quality"),
             "booth": (employer, f"/hall/booths/{hall['session_id']}", "call-quality")}
    for name, (client, path, holder) in pages.items():
        resp = await client.get(path)
        assert resp.status == 200, name
        doc = lxml.html.fromstring(await resp.text())
        el = doc.get_element_by_id(holder)
        assert json.loads(el.get("data-quality")) == browser_table(), name
        order = scripts(doc)
        users = [s for s in order if s in ("probe.js", "hall-call.js")]
        assert users and all(order.index("quality.js") < order.index(s) for s in users), name
        if holder == "call-quality":
            # the verdict is the live region; the figures that change every 2 s are not
            assert el.get("aria-live") == "polite" and el.text_content() == "连接中"
            figures = doc.get_element_by_id("call-quality-figures")
            assert figures.get("aria-live") is None and figures.get("role") is None
            assert "socket-talk.js" in order


def test_scripts_hold_no_copy_of_the_quality_table():
    for name in ("probe.js", "hall-call.js", "monitor.js"):
        source = (JS / name).read_text()
        for word in ("良好", "一般", "可用", "较差"):
            assert word not in source, f"{name} names quality itself: {word}"
        assert not re.search(r"\b(150|400)\b", source), f"{name} has its own thresholds"


def test_socket_errors_and_acks_go_through_the_chinese_helper():
    for name in ("hall-student.js", "hall-employer.js", "monitor.js"):
        source = (JS / name).read_text()
        assert "emitWithAck" not in source, f"{name}: an ack timeout would surface in English"
        assert "err.message" not in source, f"{name}: socket.io's own message is English"
        assert "SocketTalk.connectErrorText" in source and "SocketTalk.ask" in source
