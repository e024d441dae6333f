"""Pages of 视频面试: the employer invites and keeps a day schedule; the student answers
in 【我的面试】 / 【查看面试邀请】 and finds the 【洽谈面试大厅】 button there."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from .. import workflow
from ..clock import china_date
from ..workflow import TransitionError
from ..forms import Form
from ..middleware import require_identity
from ..roles import Role, allow
from ..school_settings import service as school_settings
from ..state import CLOCK, DB, SETTINGS
from rtc import tickets
from rtc.queue import TICKET_LABELS

from . import rules, service
from .service import INTERVIEW_FLOW


def parse_when(form: Form) -> tuple[dt.datetime, int] | None:
    """面试日期 + 开始时间 (China time) and 时长 → (UTC start, minutes)."""
    day = time = None
    try:
        day = dt.date.fromisoformat(form.required("day", "面试日期") or "x")
    except ValueError:
        form.error("day", "请按“年-月-日”填写日期")
    try:
        time = dt.time.fromisoformat(form.required("start", "开始时间") or "x")
    except ValueError:
        form.error("start", "请按“时:分”填写时间，如 14:30")
    raw = form.required("minutes", "面试时长")
    if raw and not (raw.isdigit() and rules.MIN_MINUTES <= int(raw) <= rules.MAX_MINUTES):
        form.error("minutes", f"面试时长应为{rules.MIN_MINUTES}到{rules.MAX_MINUTES}分钟")
    if len(form.get("note")) > 500:
        form.error("note", "说明不能超过500字")
    if not form.ok or day is None or time is None:
        return None
    return rules.china_datetime(day, time), int(raw)


def _schedule_url(request: web.Request, day: dt.date, invited: list[int] | None = None) -> str:
    query = {"day": day.isoformat()}
    if invited:
        query["invited"] = ",".join(map(str, invited))
    return str(request.app.router["interview_schedule"].url_for().with_query(query))


def _invited_ids(request: web.Request) -> set[int]:
    """The interviews made by the invite that led here. They only pick among our own rows,
    so a hand-written list shows nothing the schedule does not already show."""
    return {int(v) for v in request.query.get("invited", "").split(",") if v.isdigit()}


@allow(Role.EMPLOYER)
async def invite(request: web.Request) -> web.Response:
    """One applicant (from its page) or several (from the list) in consecutive slots."""
    post = await request.post()
    form = Form({k: v for k, v in post.items() if isinstance(v, str)})
    ids = [int(v) for v in post.getall("application_ids", []) if isinstance(v, str) and v.isdigit()]
    when = parse_when(form)
    back = form.get("back") if form.get("back").startswith("/employer/") else "/employer/jobs"
    if when is not None:
        ident = require_identity(request)
        try:
            async with request.app[DB].write() as conn:
                created = await service.invite(
                    conn, employer_id=ident.employer_id or 0, application_ids=ids, first=when[0],
                    minutes=when[1], note=form.get("note").strip(), actor_id=ident.account_id,
                    now=request.app[CLOCK].now(), base_url=request.app[SETTINGS].public_base_url)
        except TransitionError as exc:
            form.error(exc.field, str(exc))
        else:
            # the schedule names those just invited who are busy elsewhere at that time
            raise web.HTTPSeeOther(_schedule_url(request, when[0].astimezone(rules.CHINA).date(),
                                                 invited=created))
    return aiohttp_jinja2.render_template("interviews/invite_failed.html", request,
                                          {"form": form, "back": back, "form_ids": ids}, status=400)


@allow(Role.EMPLOYER)
@aiohttp_jinja2.template("interviews/schedule.html")
async def schedule(request: web.Request) -> dict[str, Any]:
    ident = require_identity(request)
    today = china_date(request.app[CLOCK].now())
    try:
        day = dt.date.fromisoformat(request.query.get("day", ""))
    except ValueError:
        day = today
    async with request.app[DB].read() as conn:
        rows = await service.employer_day(conn, ident.employer_id or 0, day)
        days = await service.employer_days(conn, ident.employer_id or 0)
        clashes = await service.clashes_elsewhere(conn, ident.employer_id or 0, rows)
    invited = _invited_ids(request)
    return {"rows": rows, "day": day, "days": days, "states": INTERVIEW_FLOW.state_labels,
            "clashes": clashes,
            "invited_clashes": [r for r in rows if r.id in invited and r.id in clashes],
            "session_id": rows[0].session_id if rows else None,
            "prev_day": day - dt.timedelta(days=1), "next_day": day + dt.timedelta(days=1)}


async def _employer_row(request: web.Request):  # noqa: ANN202
    async with request.app[DB].read() as conn:
        row = await service.for_employer(conn, require_identity(request).employer_id or 0,
                                         int(request.match_info["interview_id"]))
    if row is None:
        raise web.HTTPNotFound()
    return row


def _reschedule_page(request: web.Request, row, form: Form, status: int = 200) -> web.Response:  # noqa: ANN001
    return aiohttp_jinja2.render_template("interviews/reschedule.html", request, {
        "row": row, "form": form, "states": INTERVIEW_FLOW.state_labels,
        "can": INTERVIEW_FLOW.actions_for(row.status, Role.EMPLOYER)}, status=status)


@allow(Role.EMPLOYER)
async def reschedule_form(request: web.Request) -> web.Response:
    row = await _employer_row(request)
    local = row.starts_at.astimezone(rules.CHINA)
    return _reschedule_page(request, row, Form({"day": local.date().isoformat(),
                                                "start": local.strftime("%H:%M"),
                                                "minutes": str(row.minutes)}))


@allow(Role.EMPLOYER)
async def reschedule_submit(request: web.Request) -> web.Response:
    row = await _employer_row(request)
    form = Form(await request.post())
    when = parse_when(form)
    if when is not None:
        try:
            async with request.app[DB].write() as conn:
                await service.reschedule(conn, row, first=when[0], minutes=when[1],
                                         actor_id=require_identity(request).account_id,
                                         now=request.app[CLOCK].now(),
                                         base_url=request.app[SETTINGS].public_base_url)
        except TransitionError as exc:
            form.error(exc.field, str(exc))
        else:
            raise web.HTTPSeeOther(_schedule_url(request, when[0].astimezone(rules.CHINA).date()))
    return _reschedule_page(request, row, form, 400)


@allow(Role.EMPLOYER)
async def cancel(request: web.Request) -> web.Response:
    row = await _employer_row(request)
    form = Form(await request.post())
    try:
        async with request.app[DB].write() as conn:
            await service.cancel(conn, row, actor_id=require_identity(request).account_id,
                                 reason=form.get("reason").strip() or None,
                                 now=request.app[CLOCK].now(),
                                 base_url=request.app[SETTINGS].public_base_url)
    except TransitionError as exc:
        form.error("_form", str(exc))
        return _reschedule_page(request, row, form, 400)
    raise web.HTTPSeeOther(_schedule_url(request, row.starts_at.astimezone(rules.CHINA).date()))


# ---- student ---------------------------------------------------------------------------

@allow(Role.STUDENT)
@aiohttp_jinja2.template("interviews/mine.html")
async def my_interviews(request: web.Request) -> dict[str, Any]:
    now = request.app[CLOCK].now()
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        rows = await service.student_list(conn, ident.account_id)
        times = await school_settings.hall_times(conn, ident.school_id, request.app[SETTINGS])
        walk_ins = await tickets.walk_in_booths(conn, ident.account_id, now, times.open_minutes)
        today = await tickets.places_today(conn, ident.account_id, now,
                                           dt.timedelta(seconds=times.waiter_grace_seconds))
    upcoming = [r for r in rows if r.starts_at + dt.timedelta(minutes=r.minutes) >= now
                and r.status in service.ACTIVE]
    past = [r for r in rows if r not in upcoming]
    return {"upcoming": sorted(upcoming, key=lambda r: r.starts_at), "past": past,
            "states": INTERVIEW_FLOW.state_labels, "walk_ins": walk_ins, "today": today,
            "place_states": TICKET_LABELS}


async def _student_row(request: web.Request):  # noqa: ANN202
    async with request.app[DB].read() as conn:
        row = await service.for_student(conn, require_identity(request).account_id,
                                        int(request.match_info["interview_id"]))
        history = await workflow.history(conn, INTERVIEW_FLOW, row.id) if row else []
    if row is None:
        raise web.HTTPNotFound()
    return row, history


@allow(Role.STUDENT)
async def invitation(request: web.Request) -> web.Response:
    row, history = await _student_row(request)
    return await _invitation_page(request, row, history, Form())


async def _invitation_page(request: web.Request, row, history, form: Form,  # noqa: ANN001
                           status: int = 200) -> web.Response:
    now = request.app[CLOCK].now()
    async with request.app[DB].read() as conn:  # the hall opens by the student's school's time
        open_minutes = (await school_settings.hall_times(
            conn, require_identity(request).school_id, request.app[SETTINGS])).open_minutes
        overlaps = (await service.accepted_overlaps(conn, row)
                    if row.status in service.ACTIVE else [])
    return aiohttp_jinja2.render_template("interviews/invitation.html", request, {
        "row": row, "form": form, "history": history, "states": INTERVIEW_FLOW.state_labels,
        "actions": INTERVIEW_FLOW.action_labels,
        "can": INTERVIEW_FLOW.actions_for(row.status, Role.STUDENT),
        "hall_open": row.status in service.ACTIVE and rules.hall_is_open(
            now, starts_at=row.starts_at, session_ends_at=row.session_ends_at,
            session_status=row.session_status, open_minutes=open_minutes),
        "hall_opens_at": rules.hall_opens_at(row.starts_at, open_minutes), "open_minutes": open_minutes,
        "hall_url": _hall_url(request, row.id), "overlaps": overlaps,
        "answered": request.query.get("answered", "") if status == 200 else ""}, status=status)


def _hall_url(request: web.Request, interview_id: int) -> str:
    """Where 【洽谈面试大厅】 leads: the device and network check, then the queue."""
    return str(request.app.router["hall_student"].url_for(interview_id=str(interview_id)))


@allow(Role.STUDENT)
async def answer(request: web.Request) -> web.Response:
    row, history = await _student_row(request)
    form = Form(await request.post())
    try:
        async with request.app[DB].write() as conn:
            await service.answer(conn, row, form.get("action"),
                                 account_id=require_identity(request).account_id,
                                 now=request.app[CLOCK].now())
    except TransitionError as exc:
        form.error("_form", str(exc))
        return await _invitation_page(request, row, history, form, 400)
    # the page after the redirect confirms what was done (shown while the state agrees)
    raise web.HTTPSeeOther(str(request.app.router["interview_invitation"].url_for(
        interview_id=str(row.id)).with_query(answered=form.get("action"))))


@allow(Role.EMPLOYER)
async def release(request: web.Request) -> web.Response:
    """Release an outcome kept back at the end of the call: the student is told now."""
    row = await _employer_row(request)
    async with request.app[DB].write() as conn:
        await tickets.release_outcome(conn, row.id, row.employer_id, request.app[CLOCK].now())
    raise web.HTTPSeeOther(str(request.app.router["application"].url_for(
        application_id=str(row.application_id))))
