"""Pages of the hall. Live behaviour runs over /hall (rtc/hall.py); these pages give the
browser what it needs to start: which interview or booth, and the labels."""

from __future__ import annotations

import json

import aiohttp_jinja2
from aiohttp import web

from ..interviews import rules, service as interviews
from ..middleware import require_identity
from ..roles import Role, allow
from ..school_settings import service as school_settings
from ..state import CLOCK, DB, SETTINGS
from rtc import quality, tickets


def _room_rules(times: school_settings.HallTimes) -> dict[str, object]:
    """What the student's hall page states and checks with: the answer time and how long a
    place is kept after leaving the page (their school's), the quality table."""
    grace = times.waiter_grace_seconds
    return {"answer_seconds": times.answer_grace_seconds,
            "waiter_grace": f"{grace // 60} 分钟" if grace % 60 == 0 else f"{grace} 秒",
            "quality_table": json.dumps(quality.browser_table(), ensure_ascii=False)}


@allow(Role.STUDENT)
async def student_room(request: web.Request) -> web.Response:
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        row = await interviews.for_student(conn, ident.account_id,
                                           int(request.match_info["interview_id"]))
        times = await school_settings.hall_times(conn, ident.school_id, request.app[SETTINGS])
    if row is None:
        raise web.HTTPNotFound()
    opens_at = rules.hall_opens_at(row.starts_at, times.open_minutes)
    is_open = row.status in interviews.ACTIVE and rules.hall_is_open(
        request.app[CLOCK].now(), starts_at=row.starts_at, session_ends_at=row.session_ends_at,
        session_status=row.session_status, open_minutes=times.open_minutes)
    return aiohttp_jinja2.render_template("hall/student.html", request, {
        "row": row, "is_open": is_open, "opens_at": opens_at,
        "closed_text": _closed_text(row, is_open, opens_at <= request.app[CLOCK].now()),
        **_room_rules(times)})


def _closed_text(row, is_open: bool, opening_past: bool) -> str | None:  # noqa: ANN001
    """Why the hall is closed to this interview when it will not open any more: its state
    (未到, 已面试, 已取消 …) or the booth's end, instead of an opening time in the past."""
    if is_open:
        return None
    if row.status not in interviews.ACTIVE:
        state = interviews.INTERVIEW_FLOW.state_labels.get(row.status, row.status)
        return f"该面试{state}，面试大厅不再开放。可在【我的面试】中查看。"
    if row.session_status == "closed":
        return "该面试间已被管理员关闭。"
    if row.session_status == "ended":
        return "单位已结束今天的视频面试。如需改期，请留意【我的面试】中的新邀请。"
    return "该场面试的面试大厅已关闭。" if opening_past else None


@allow(Role.STUDENT)
async def walk_in_room(request: web.Request) -> web.Response:
    """随到随面: the hall page for a booth that takes walk-ins from its applicants."""
    session_id = int(request.match_info["session_id"])
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        times = await school_settings.hall_times(conn, ident.school_id, request.app[SETTINGS])
        booths = await tickets.walk_in_booths(conn, ident.account_id, request.app[CLOCK].now(),
                                              times.open_minutes)
    booth = next((b for b in booths if b.id == session_id), None)
    if booth is None:
        raise web.HTTPNotFound()
    return aiohttp_jinja2.render_template("hall/student.html", request, {
        "row": None, "walk_in": booth, "is_open": True, "opens_at": None, **_room_rules(times)})


@allow(Role.EMPLOYER)
async def booth_room(request: web.Request) -> web.Response:
    session_id = int(request.match_info["session_id"])
    async with request.app[DB].read() as conn:
        if not await tickets.employer_session(conn, session_id, require_identity(request).employer_id or 0):
            raise web.HTTPNotFound()
        booth = await tickets.load_booth(conn, session_id)
    return aiohttp_jinja2.render_template("hall/booth.html", request, {
        "booth": booth,
        "quality_table": json.dumps(quality.browser_table(), ensure_ascii=False)})


@allow(Role.EMPLOYER)
async def resume_fragment(request: web.Request) -> web.Response:
    """The resume as sent, for the panel beside the video (an employer's own applicant only)."""
    from ..applications import service as applications
    from ..resumes.schema import SECTIONS
    async with request.app[DB].read() as conn:
        row = await applications.employers_application(
            conn, int(request.match_info["application_id"]), require_identity(request).employer_id or 0)
    if row is None:
        raise web.HTTPNotFound()
    return aiohttp_jinja2.render_template("hall/resume_fragment.html", request, {
        "resume": row.snapshot["resume"], "student": row.snapshot["student"], "sections": SECTIONS})
