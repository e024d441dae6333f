"""Call set-up benchmark: from the employer's click on 【呼叫下一位】 to video on both screens.

    python bench/call_setup.py [--calls 10] [--db sqlite|postgres]

A fresh database (as bench/hall_load.py makes it: one booth, one invited student per call,
a login session per account) and the real server as a separate process (`python -m app
serve`, real clock). Two Chromium pages on loopback with Chromium's fake camera and
microphone, in two browser contexts: the employer's 面试间, open for the whole run, and for
each call a new student's hall page, which runs the device check, clicks 开始排队 and
waits. The employer's page clicks 【呼叫下一位】; the student's page answers the moment its
【接听】 button shows (a script in the page clicks it: a person's reaction time is not the
system's); each side then polls its call's getStats every 20 ms in the page until the
inbound video has framesDecoded > 0. After each call the employer ends it with 待定.

Timestamps are taken in the pages (performance.timeOrigin + performance.now(), one
machine, one clock), so the Playwright round trips are not in the figures. Each call's
set-up time is the later of the two sides' first decoded frame; the phases on the way
(the call reaching the student, the answer, call_started, camera, ICE servers, the offer
and answer, ICE connected) are printed as medians from the click, to show what is slow.
Exits non-zero when a call does not reach video on both sides.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# run as a script, this folder comes first on the path, and bench/statistics.py would stand
# in for the standard library's statistics (which rtc/quality.py imports)
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import statistics  # noqa: E402

from playwright.async_api import async_playwright, expect  # noqa: E402

from app.migrate import upgrade  # noqa: E402
from bench.hall_load import (BenchFailure, drop_postgres, free_port, fresh_postgres, seed,  # noqa: E402
                             start_server, stop_server, wait_listening)
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

STEP_TIMEOUT_MS = 60_000  # the device check on a busy machine, one call's set-up

# Runs in both pages before their own scripts: marks the first time of each step after
# benchReset() (epoch ms), and polls the call's getStats for the first decoded frame.
INSTRUMENT = r"""
(() => {
  const now = () => performance.timeOrigin + performance.now();
  const marks = {};
  const mark = (k) => { if (!(k in marks)) marks[k] = now(); };
  window.benchMarks = marks;
  window.benchReset = () => { for (const k of Object.keys(marks)) delete marks[k]; };
  let io;
  Object.defineProperty(window, "io", { configurable: true, get: () => io, set: (real) => {
    io = function (...args) {
      const socket = real(...args);
      socket.onAny((event, data) => {
        const p = event === "signal" && data && data.payload;
        mark(p ? (p.description ? "got " + p.description.type : "got candidate") : "event " + event);
      });
      const emit = socket.emit.bind(socket);
      socket.emit = (event, data, ...rest) => {
        const p = event === "signal" && data && data.payload;
        mark(p ? (p.description ? "sent " + p.description.type : "sent candidate") : "emit " + event);
        return emit(event, data, ...rest);
      };
      return socket;
    };
    Object.assign(io, real);
  } });
  const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (c) => {
    mark("getUserMedia start");
    const s = await gum(c);
    mark("getUserMedia done");
    return s;
  };
  const realFetch = window.fetch.bind(window);
  window.fetch = async (url, ...rest) => {
    const ice = String(url).endsWith("/hall/ice");
    if (ice) mark("ICE servers asked");
    const r = await realFetch(url, ...rest);
    if (ice) mark("ICE servers got");
    return r;
  };
  const RealPC = window.RTCPeerConnection;
  window.RTCPeerConnection = function (...args) {
    const pc = new RealPC(...args);
    mark("peer connection made");
    pc.addEventListener("iceconnectionstatechange", () => mark("ICE " + pc.iceConnectionState));
    pc.addEventListener("track", () => mark("remote track"));
    return pc;
  };
  window.RTCPeerConnection.prototype = RealPC.prototype;
  document.addEventListener("click", (e) => {
    const b = e.target.closest && e.target.closest("button");
    if (b && b.id) mark("click " + b.id);
  }, true);
  let busy = false;
  setInterval(async () => {
    const call = window.hallCall;
    if (busy || "first frame" in marks || !call || !call.pc) return;
    busy = true;
    try {
      const stats = await call.pc.getStats();
      stats.forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "video" && s.framesDecoded > 0) mark("first frame");
      });
    } finally { busy = false; }
  }, 20);
})();
"""

# The student's page only: answer as soon as the call shows.
AUTO_ANSWER = r"""
(() => {
  const look = () => {
    const stage = document.getElementById("stage-called");
    if (stage && !stage.hidden) document.getElementById("answer-button").click();
  };
  new MutationObserver(look).observe(document, { subtree: true, attributes: true,
                                                 attributeFilter: ["hidden"] });
})();
"""

PHASES = [  # (side, mark) in the order a call goes
    ("employer", "emit call_next"), ("student", "event called"), ("student", "emit answer"),
    ("student", "event call_started"), ("employer", "event call_started"),
    ("employer", "getUserMedia done"), ("student", "getUserMedia done"),
    ("employer", "ICE servers got"), ("student", "ICE servers got"),
    ("employer", "peer connection made"), ("student", "peer connection made"),
    ("employer", "sent offer"), ("student", "got offer"), ("student", "sent answer"),
    ("employer", "got answer"), ("student", "ICE connected"), ("employer", "ICE connected"),
    ("student", "remote track"), ("employer", "remote track"),
    ("student", "first frame"), ("employer", "first frame"),
]


async def new_page(browser, base: str, cookie: str, scripts: list[str]):  # noqa: ANN001
    context = await browser.new_context(base_url=base, locale="zh-CN")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    await context.grant_permissions(["notifications"], origin=base)
    await context.add_cookies([{"name": "sid", "value": cookie.split("=", 1)[1], "url": base}])
    for script in scripts:
        await context.add_init_script(script)
    page = await context.new_page()
    page.on("pageerror", lambda exc: _problem(f"page error: {exc}"))
    page.on("console", lambda msg: msg.type == "error" and _problem(f"console error: {msg.text}"))
    page.on("console", lambda msg: msg.type == "warning"
            and print(f"console warning: {msg.text}", file=sys.stderr))
    return context, page


PAGE_PROBLEMS: list[str] = []  # a page error or a failed request fails the run (a 500 did)


def _problem(text: str) -> None:
    PAGE_PROBLEMS.append(text)
    print(text, file=sys.stderr)


async def one_call(browser, base: str, employer, student_cookie: str, interview_id: int):  # noqa: ANN001
    """One student queues and is called; returns both pages' marks, ms after the click."""
    context, student = await new_page(browser, base, student_cookie, [INSTRUMENT, AUTO_ANSWER])
    try:
        await student.goto(f"/hall/interviews/{interview_id}")
        await student.get_by_role("button", name="开始检测").click()
        await expect(student.get_by_role("button", name="开始排队")).to_be_enabled()
        await student.get_by_role("button", name="开始排队").click()
        await expect(student.locator("#queue-position")).to_have_text("1")
        await expect(employer.get_by_role("button", name="呼叫下一位")).to_be_enabled()
        for page in (student, employer):
            await page.evaluate("() => window.benchReset()")
        await employer.get_by_role("button", name="呼叫下一位").click()
        done = "() => 'first frame' in window.benchMarks"
        await asyncio.gather(student.wait_for_function(done, polling=100),
                             employer.wait_for_function(done, polling=100))
        marks = {side: await page.evaluate("() => window.benchMarks")
                 for side, page in (("student", student), ("employer", employer))}
        await employer.get_by_label("待定", exact=True).check()
        await employer.get_by_role("button", name="结束面试").click()
        await expect(employer.locator("#call-panel")).to_be_hidden()
    finally:
        await context.close()
    click = marks["employer"]["click call-next"]
    return {side: {k: v - click for k, v in m.items()} for side, m in marks.items()}


def report(calls: list[dict[str, dict[str, float]]]) -> None:
    both = [max(c["student"]["first frame"], c["employer"]["first frame"]) for c in calls]
    print(f"calls measured: {len(calls)}")
    for side in ("student", "employer"):
        got = [c[side]["first frame"] for c in calls]
        print(f"click -> first frame ({side:<8}) median={statistics.median(got):7.0f} ms  "
              f"max={max(got):7.0f} ms")
    print(f"click -> video on both sides   median={statistics.median(both):7.0f} ms  "
          f"max={max(both):7.0f} ms")
    print("phases (median ms after the click, calls that had the step):")
    for side, name in PHASES:
        got = [c[side][name] for c in calls if name in c[side]]
        if got:
            print(f"  {side:<8} {name:<24} {statistics.median(got):7.0f} ms  (n={len(got)})")
    print(f"ratio median / 1000 ms goal: {statistics.median(both) / 1000:.2f}")


async def bench(args: argparse.Namespace, tmp: Path) -> int:
    pg_name = None
    if args.db == "postgres":
        url, pg_name = await fresh_postgres()
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    proc = None
    code = 1
    try:
        await asyncio.to_thread(upgrade, url)
        booths, _ = await seed(url, max(args.calls, 2), 1, dt.datetime.now(dt.timezone.utc))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(url, tmp / "data", port, tmp / "server.log")
        await wait_listening(proc, port)
        print(f"database: {args.db}; server: pid {proc.pid} on {base}", flush=True)
        booth = booths[0]
        calls = []
        expect.set_options(timeout=STEP_TIMEOUT_MS)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                _, employer = await new_page(browser, base, booth.cookie, [INSTRUMENT])
                await employer.goto(f"/hall/booths/{booth.session_id}")
                await expect(employer.locator("#booth-status")).to_have_text("已连接")
                for n, s in enumerate(booth.students[:args.calls], start=1):
                    t = time.perf_counter()
                    calls.append(await one_call(browser, base, employer, s.cookie, s.interview_id))
                    frames = [calls[-1][side]["first frame"] for side in ("student", "employer")]
                    print(f"call {n}: student {frames[0]:.0f} ms, employer {frames[1]:.0f} ms "
                          f"(whole round {time.perf_counter() - t:.1f} s)", flush=True)
            finally:
                await browser.close()
        report(calls)
        if PAGE_PROBLEMS:
            raise BenchFailure(f"{len(PAGE_PROBLEMS)} page or console errors, first: {PAGE_PROBLEMS[0]}")
        code = 0
        return code
    except (BenchFailure, AssertionError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if proc is not None:
            stop_server(proc)
            if code != 0 and (tmp / "server.log").exists():
                print("server log (tail):\n" + (tmp / "server.log").read_text()[-3000:], file=sys.stderr)
        if pg_name:
            await drop_postgres(pg_name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10, help="measured calls, one student each")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--timeout", type=float, default=900, help="the whole run, seconds")
    args = parser.parse_args(argv)
    if args.calls < 1:
        parser.error("--calls must be at least 1")
    tmp = Path(tempfile.mkdtemp(prefix="call-bench-"))
    try:
        return asyncio.run(asyncio.wait_for(bench(args, tmp), args.timeout))
    except asyncio.TimeoutError:
        print(f"FAILED: the run took longer than {args.timeout:.0f} s", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
