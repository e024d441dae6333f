"""大厅监控: the live monitor page, the admins' actions on a hall, and the hall reports.

The live part runs over /monitor (rtc/monitor_feed.py). The actions are plain form posts
(the page's script sends them with fetch and shows the answer next to the field); each
calls one service function in rtc/monitor_store.py, which writes the audit row, and then
tells the hall's sockets.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from rtc import monitor_store
from rtc.monitor import SESSION_LABELS
from rtc.monitor_store import Scope
from rtc.setup import HALL, MONITOR

from ..clock import CHINA
from ..forms import Form
from ..lists.spec import fetch, resolve
from ..middleware import require_identity
from ..roles import Role, allow
from ..state import CLOCK, DB
from ..workflow import TransitionError
from . import charts, report as reports

ADMINS = (Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN)


def scope_of(request: web.Request) -> Scope:
    ident = require_identity(request)
    if ident.role == Role.PLATFORM_ADMIN:
        return Scope(None)
    if ident.school_id is None:
        raise web.HTTPForbidden()
    return Scope(ident.school_id)


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


async def _page(request: web.Request, form: Form, status: int = 200) -> web.Response:
    scope = scope_of(request)
    snapshot = await request.app[MONITOR].snapshot(scope)
    return aiohttp_jinja2.render_template("monitor/live.html", request, {
        "form": form, "booths": snapshot["booths"],
        "notices": [{**n, "time": dt.datetime.fromisoformat(n["created_at"]).astimezone(CHINA)
                     .strftime("%H:%M")} for n in snapshot["notices"]],
        "booth_options": [(b["session_id"], f'{b["employer"]}（{b["status_label"]}）')
                          for b in snapshot["booths"]],
        "day": snapshot["day"], "school_scope": scope.school_id is not None}, status=status)


@allow(*ADMINS)
async def monitor_page(request: web.Request) -> web.Response:
    return await _page(request, Form())


async def _act(request: web.Request, form: Form, act: Any) -> web.Response:
    """Run one action; answer JSON to the page's script, or the page itself without it."""
    try:
        async with request.app[DB].write() as conn:
            result = await act(conn)
    except TransitionError as exc:
        if _wants_json(request):
            return web.json_response({"ok": False, "field": exc.field, "error": str(exc)}, status=400)
        form.error(exc.field, str(exc))
        return await _page(request, form, 400)
    await result()
    if _wants_json(request):
        return web.json_response({"ok": True})
    raise web.HTTPSeeOther(str(request.app.router["monitor"].url_for()))


@allow(*ADMINS)
async def post_notice(request: web.Request) -> web.Response:
    form = Form(await request.post())
    scope, ident = scope_of(request), require_identity(request)
    target = form.get("session_id").strip()

    async def act(conn):  # noqa: ANN001, ANN202
        if target and not (target.isdigit() and len(target) <= 9):
            raise TransitionError("请选择面试间", field="session_id")
        posted = await monitor_store.post_notice(
            conn, scope=scope, author_id=ident.account_id, body=form.get("body"),
            session_id=int(target) if target else None, now=request.app[CLOCK].now())

        async def tell() -> None:
            await request.app[HALL].tell_notice(posted)
            await request.app[MONITOR].notice_posted(scope, posted.notice)
        return tell
    return await _act(request, form, act)


@allow(*ADMINS)
async def close_booth(request: web.Request) -> web.Response:
    form = Form(await request.post())
    session_id = int(request.match_info["session_id"])

    async def act(conn):  # noqa: ANN001, ANN202
        closed = await monitor_store.close_booth(
            conn, scope=scope_of(request), session_id=session_id, reason=form.get("reason"),
            actor_id=require_identity(request).account_id, now=request.app[CLOCK].now())

        async def tell() -> None:
            hall = request.app[HALL]
            await hall.tell_taken_out(closed.tickets, form.get("reason").strip(), "closed")
            if closed.whole_booth:  # a school admin's close leaves the booth open for others
                await hall.tell_closed(session_id, form.get("reason").strip())
        return tell
    return await _act(request, form, act)


@allow(*ADMINS)
async def remove_ticket(request: web.Request) -> web.Response:
    form = Form(await request.post())

    async def act(conn):  # noqa: ANN001, ANN202
        row = await monitor_store.remove_ticket(
            conn, scope=scope_of(request), ticket_id=int(request.match_info["ticket_id"]),
            reason=form.get("reason"), actor_id=require_identity(request).account_id,
            now=request.app[CLOCK].now())

        async def tell() -> None:
            await request.app[HALL].tell_taken_out([row], form.get("reason").strip(), "removed")
        return tell
    return await _act(request, form, act)


@allow(*ADMINS)
async def report_list(request: web.Request) -> web.Response:
    resolved = resolve(reports.sessions_spec(SESSION_LABELS), request.query)
    async with request.app[DB].read() as conn:
        page = await fetch(conn, resolved, reports.sessions_for(scope_of(request)))
    return aiohttp_jinja2.render_template("monitor/reports.html", request, {
        "r": resolved, "page": page, "session_labels": SESSION_LABELS},
        status=400 if resolved.form.errors else 200)


async def _report(request: web.Request) -> reports.Report:
    async with request.app[DB].read() as conn:
        found = await reports.build(conn, int(request.match_info["session_id"]), scope_of(request))
    if found is None:
        raise web.HTTPNotFound()
    return found


@allow(*ADMINS)
@aiohttp_jinja2.template("monitor/report.html")
async def report_page(request: web.Request) -> dict[str, Any]:
    r = await _report(request)
    waits = reports.histogram(r.waits, reports.WAIT_BUCKETS)
    lengths = reports.histogram(r.lengths, reports.LENGTH_BUCKETS)
    calls = [(v.name, v.quality[side], side) for v in r.visits for side in ("student", "employer")
             if side in v.quality]
    quality_bars = [(f"{name}（{'学生' if side == 'student' else '单位'}）", q["avg_rtt_ms"] or 0,
                     q["verdict"]) for name, q, side in calls]
    return {
        "report": r, "figures": r.figures(), "counts": r.counts(), "waits": waits,
        "lengths": lengths, "calls": calls, "status_labels": reports.TICKET_LABELS,
        "charts": {
            "waits": charts.bar_chart("等待时长分布", [(label, n, "normal") for label, n in waits], " 人"),
            "lengths": charts.bar_chart("面试时长分布", [(label, n, "normal") for label, n in lengths], " 场"),
            "counts": charts.bar_chart("到场与未到", [(label, n, "poor" if label == "未到" else "normal")
                                                 for label, n in r.counts() if n], " 人"),
            "quality": charts.bar_chart("各通话平均往返时延", quality_bars, " ms",
                                        marks=[(150, "良好 150ms"), (400, "可用 400ms")])
            if quality_bars else None,
        },
    }
