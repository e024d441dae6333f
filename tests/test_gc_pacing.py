"""The cycle collector: requests leave no reference cycles behind, the young generation is
collected on a clock as well as by count, and every pause reaches the metrics."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import subprocess
import sys
from pathlib import Path

import aiohttp
from aiohttp import web

from app.gcpacing import GC_PACER, NEVER, UNPACED, YOUNG_THRESHOLD, GcPacer, GcPauses
from app.middleware import SESSION_COOKIE
from tests.factories import PASSWORD
from tests.test_ops_metrics import sample

ROOT = Path(__file__).resolve().parent.parent


def server_objects_in_cycles(garbage: list[object]) -> list[str]:
    """The server side's request objects among what only the cycle collector could free. A
    router's 404 keeps a small cycle inside aiohttp (its route's handler is a method of the
    route, which holds the exception): a few objects, no request, left alone."""
    return sorted({type(o).__qualname__ for o in garbage
                   if isinstance(o, web.BaseRequest) or (
                       isinstance(o, web.HTTPException) and not isinstance(o, web.HTTPNotFound))})


async def test_requests_leave_no_reference_cycles(make_client, world):
    """A redirect after a form (raised as aiohttp's HTTPException), a rendered page and a 404:
    each request's objects are freed by reference counting when it is answered. Before, the
    exception held its traceback, whose frame held the exception (`resp = exc` in aiohttp),
    and the template context held the request that held it: every request was a cycle."""
    s = world.active_student()
    warm = await make_client()  # the first login fills module caches, not garbage
    await warm.login("student", s.student_no, PASSWORD)
    base = str(warm.client.make_url("/"))[:-1]
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        # a fresh client per login, as a browser's: its connection closes afterwards
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.get(f"{base}/") as r:
                assert r.status == 200
            csrf = jar.filter_cookies(aiohttp.client.URL(base))["csrftoken"].value
            async with http.post(f"{base}/login/student", allow_redirects=False, data={
                    "account": s.student_no, "password": PASSWORD, "_csrf": csrf}) as r:
                assert r.status == 303 and r.headers["Location"] == "/student"
            async with http.get(f"{base}/student") as r:
                assert r.status == 200 and s.name in await r.text()
            async with http.get(f"{base}/no-such-page") as r:
                assert r.status == 404 and "页面不存在" in await r.text()
        await asyncio.sleep(0.05)  # the server's side of the closed connections ends
        gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert server_objects_in_cycles(garbage) == []


async def test_a_raised_answer_keeps_its_status_headers_and_cookies(client, world):
    """The raised HTTPException becomes a plain response with all of it: a login's redirect
    sets its session cookie, a wrong method says what is allowed."""
    resp = await client.client.request("PROPFIND", "/jobs")
    assert resp.status == 405 and "GET" in resp.headers["Allow"]
    s = world.active_student()
    resp = await client.login("student", s.student_no, PASSWORD)
    assert resp.status == 303 and resp.headers["Location"] == "/student"
    assert SESSION_COOKIE in resp.cookies and resp.cookies[SESSION_COOKIE]["httponly"]


async def test_the_pacer_collects_when_the_count_does_not(settings, aiohttp_client, clock):
    """With nothing allocating, CPython's count never asks for a collection; the pacer makes
    one every GC_YOUNG_SECONDS, and the metrics show each pause by generation."""
    from app.web import create_app
    app = create_app(dataclasses.replace(settings, gc_young_seconds=0.05), clock=clock)
    client = await aiohttp_client(app)
    pacer = app[GC_PACER]
    start = pacer.paced[0]
    for _ in range(200):
        if pacer.paced[0] >= start + 3:
            break
        await asyncio.sleep(0.02)
    assert pacer.paced[0] >= start + 3
    text = await (await client.get("/metrics")).text()
    assert sample(text, "python_gc_pause_seconds_count", generation="0") >= 3


async def test_the_pacer_waits_while_collections_come_by_themselves():
    """A collection by count resets the pacer's clock: it only fills silences."""
    pauses = GcPauses()
    pauses.install()
    pacer = GcPacer(pauses, interval=1.0)
    try:
        pacer.start()
        for _ in range(40):  # 2 s of collections every 50 ms: the pacer is never due
            gc.collect(0)
            await asyncio.sleep(0.05)
        assert pacer.paced == [0, 0, 0]
        assert pauses.worst[0] > 0
    finally:
        await pacer.stop()
        pauses.remove()
    assert pauses not in gc.callbacks


async def test_the_older_generations_come_in_their_own_periods():
    """The middle and full collections are the pacer's, by time (CPython's count no longer
    escalates to them in a paced process)."""
    pauses = GcPauses()
    pauses.install()
    pacer = GcPacer(pauses, interval=0.02, middle=0.2, full=0.5)
    try:
        pacer.start()
        for _ in range(100):
            if pacer.paced[2] >= 1 and pacer.paced[1] >= 2:
                break
            await asyncio.sleep(0.05)
        assert pacer.paced[0] > pacer.paced[1] >= 2 and pacer.paced[2] >= 1
        assert pauses.worst.keys() >= {0, 1, 2}
    finally:
        await pacer.stop()
        pauses.remove()
    # what is due at a given moment: the oldest generation whose period is up
    now = pauses.ended[0]
    pauses.ended = [now, now, now]
    assert pacer.due(now + 0.01) is None
    assert pacer.due(now + 0.03) == 0
    assert pacer.due(now + 0.3) == 1
    assert pacer.due(now + 0.6) == 2


async def test_off_when_set_to_zero(settings, aiohttp_client, clock):
    from app.web import create_app
    app = create_app(dataclasses.replace(settings, gc_young_seconds=0), clock=clock)
    await aiohttp_client(app)
    await asyncio.sleep(0.1)
    assert app[GC_PACER].paced == [0, 0, 0] and app[GC_PACER]._task is None


def test_a_serving_process_is_tuned():
    """`serve` freezes its start-up objects and sets the thresholds (in a process of its own:
    the test process keeps CPython's): paced, the count only starts young collections."""
    code = ("import gc; from app.gcpacing import tune; tune({}); "
            "print(gc.get_threshold(), gc.get_freeze_count() > 1000)")
    for paced, thresholds in ((True, (YOUNG_THRESHOLD, NEVER, NEVER)), (False, UNPACED)):
        out = subprocess.run([sys.executable, "-c", code.format(paced)], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.strip()
        assert out == f"{thresholds} True"
