"""Job pages: the public board and search, the employer's posting, the platform's review."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from .. import paging, workflow
from ..applications import service as applications
from ..clock import china_date
from ..workflow import TransitionError
from ..forms import Form
from ..lists import batch_views
from ..lists.spec import fetch, resolve
from ..middleware import identity, require_identity
from ..pagecache import cached_for_visitors
from ..reviewing import submit_review
from ..roles import Role, allow, public
from ..state import CLOCK, DB
from . import listing, service
from .service import EDUCATIONS, JOB_FLOW, KINDS, JobInput


def _today(request: web.Request) -> dt.date:
    return china_date(request.app[CLOCK].now())


def _int(form: Form, name: str, label: str, low: int, high: int, required: bool) -> int | None:
    raw = form.get(name).strip()
    if not raw:
        if required:
            form.error(name, f"请填写{label}")
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        form.error(name, f"{label}应为{low}到{high}之间的整数")
        return None
    return int(raw)


def parse_job(form: Form, today: dt.date) -> JobInput | None:
    title = form.required("title", "岗位名称")
    kind = form.required("kind", "岗位类型")
    if kind and kind not in KINDS:
        form.error("kind", "请选择全职或实习")
    city = form.required("city", "工作城市")
    salary_min = _int(form, "salary_min", "最低月薪", 0, 1_000_000, False)
    salary_max = _int(form, "salary_max", "最高月薪", 0, 1_000_000, False)
    if salary_min is not None and salary_max is not None and salary_min > salary_max:
        form.error("salary_max", "最高月薪不能低于最低月薪")
    education = form.get("education") or "不限"
    if education not in EDUCATIONS:
        form.error("education", "请选择学历要求")
    headcount = _int(form, "headcount", "招聘人数", 1, 9999, True)
    description = form.required("description", "岗位描述")
    closing = None
    if form.get("closing_date"):
        try:
            closing = dt.date.fromisoformat(form.get("closing_date"))
        except ValueError:
            form.error("closing_date", "请按“年-月-日”填写日期")
        else:
            if closing < today:
                form.error("closing_date", "截止日期不能早于今天")
    for name, limit in (("title", 100), ("city", 50), ("majors", 300), ("description", 5000)):
        if len(form.get(name)) > limit:
            form.error(name, f"不能超过{limit}个字")
    if not form.ok:
        return None
    return JobInput(title=title, kind=kind, city=city, salary_min=salary_min,
                    salary_max=salary_max, education=education, majors=form.get("majors").strip(),
                    headcount=headcount or 1, description=description, closing_date=closing)


def _board_query(request: web.Request) -> dict[str, str]:
    return {k: request.query.get(k, "").strip()[:50] for k in ("city", "kind", "education")}


def _board_key(request: web.Request) -> tuple:
    """What the board's page depends on besides the jobs: the filters, the search, the page."""
    wanted = paging.params(request.query)
    return (*_board_query(request).values(), wanted.q, wanted.page)


def _detail_key(request: web.Request) -> tuple | None:
    # ?error= comes only to a student after a refused 投递: never cached
    return None if request.query else (request.match_info["job_id"],)


@public
@cached_for_visitors(_board_key)
@aiohttp_jinja2.template("jobs/list.html")
async def board(request: web.Request) -> dict[str, Any]:
    wanted = paging.params(request.query)
    q = _board_query(request)
    ident = identity(request)
    async with request.app[DB].read() as conn:
        result = await service.search(conn, today=_today(request), wanted=wanted, **q)
        cities = await service.cities(conn, _today(request))
        applied = (await applications.applied_job_ids(conn, ident.account_id)
                   if ident and ident.role == Role.STUDENT else set())
    return {"result": result, "query": {**q, "q": wanted.q}, "cities": cities, "kinds": KINDS,
            "educations": EDUCATIONS, "applied": applied}


@public
@cached_for_visitors(_detail_key)
@aiohttp_jinja2.template("jobs/detail.html")
async def detail(request: web.Request) -> dict[str, Any]:
    job_id = int(request.match_info["job_id"])
    ident = identity(request)
    async with request.app[DB].read() as conn:
        job = await service.detail(conn, job_id)
        applied = (job_id in await applications.applied_job_ids(conn, ident.account_id)
                   if job and ident and ident.role == Role.STUDENT else False)
    if job is None:
        raise web.HTTPNotFound()
    visible = service.is_open(job, _today(request)) or (ident is not None and (
        ident.role == Role.PLATFORM_ADMIN or ident.employer_id == job.employer_id))
    if not visible:
        raise web.HTTPNotFound()
    return {"job": job, "open": service.is_open(job, _today(request)), "applied": applied,
            "states": JOB_FLOW.state_labels, "error": request.query.get("error")}


# ---- employer ------------------------------------------------------------------------

@allow(Role.EMPLOYER)
@aiohttp_jinja2.template("jobs/mine.html")
async def my_jobs(request: web.Request) -> dict[str, Any]:
    async with request.app[DB].read() as conn:
        rows = await service.for_employer(conn, require_identity(request).employer_id or 0)
    return {"rows": rows, "states": JOB_FLOW.state_labels, "today": _today(request)}


def _job_form(request: web.Request, form: Form, job=None, status: int = 200) -> web.Response:  # noqa: ANN001
    return aiohttp_jinja2.render_template("jobs/form.html", request, {
        "form": form, "job": job, "kinds": KINDS, "educations": EDUCATIONS,
        "states": JOB_FLOW.state_labels}, status=status)


@allow(Role.EMPLOYER)
async def new_form(request: web.Request) -> web.Response:
    return _job_form(request, Form({"kind": "全职", "education": "本科", "headcount": "1"}))


@allow(Role.EMPLOYER)
async def new_submit(request: web.Request) -> web.Response:
    form = Form(await request.post())
    data = parse_job(form, _today(request))
    if data is not None:
        ident = require_identity(request)
        try:
            async with request.app[DB].write() as conn:
                await service.create(conn, ident.employer_id or 0, data,
                                     actor_id=ident.account_id, now=request.app[CLOCK].now())
        except TransitionError as exc:
            form.error("_form", str(exc))
        else:
            raise web.HTTPSeeOther(str(request.app.router["my_jobs"].url_for()))
    return _job_form(request, form, status=400)


async def _own_job(request: web.Request):  # noqa: ANN202
    async with request.app[DB].read() as conn:
        job = await service.own(conn, require_identity(request).employer_id or 0,
                                int(request.match_info["job_id"]))
    if job is None:
        raise web.HTTPNotFound()
    return job


@allow(Role.EMPLOYER)
async def edit_form(request: web.Request) -> web.Response:
    job = await _own_job(request)
    values = {k: ("" if v is None else str(v)) for k, v in job._mapping.items()}
    return _job_form(request, Form(values), job)


@allow(Role.EMPLOYER)
async def edit_submit(request: web.Request) -> web.Response:
    job = await _own_job(request)
    form = Form(await request.post())
    data = parse_job(form, _today(request))
    if data is not None:
        try:
            async with request.app[DB].write() as conn:
                await service.update(conn, job.id, data, actor_id=require_identity(request).account_id,
                                     now=request.app[CLOCK].now())
        except TransitionError as exc:
            form.error("_form", str(exc))
        else:
            raise web.HTTPSeeOther(str(request.app.router["my_jobs"].url_for()))
    return _job_form(request, form, job, status=400)


@allow(Role.EMPLOYER)
async def close(request: web.Request) -> web.Response:
    job = await _own_job(request)
    try:
        async with request.app[DB].write() as conn:
            await service.close(conn, job.id, actor_id=require_identity(request).account_id,
                                now=request.app[CLOCK].now())
    except TransitionError:
        pass  # already closed: the list shows the state
    raise web.HTTPSeeOther(str(request.app.router["my_jobs"].url_for()))


# ---- platform review ------------------------------------------------------------------

@allow(Role.PLATFORM_ADMIN)
async def admin_list(request: web.Request) -> web.Response:
    resolved = resolve(listing.SPEC, request.query)
    async with request.app[DB].read() as conn:
        page = await fetch(conn, resolved, listing.rows())
        counts = await service.state_counts(conn)
    return aiohttp_jinja2.render_template("jobs/admin_list.html", request, {
        "r": resolved, "page": page, "counts": counts, "states": JOB_FLOW.state_labels},
        status=400 if resolved.form.errors else 200)


async def _admin_page(request: web.Request, form: Form, status: int = 200) -> web.Response:
    job_id = int(request.match_info["job_id"])
    async with request.app[DB].read() as conn:
        job = await service.detail(conn, job_id)
        if job is None:
            raise web.HTTPNotFound()
        history = await workflow.history(conn, JOB_FLOW, job_id)
        nav = await batch_views.review_nav(request, conn, listing, None, "admin_job", "job_id",
                                           job_id, JOB_FLOW.action_labels)
    return aiohttp_jinja2.render_template("jobs/admin_detail.html", request, {**nav,
        "job": job, "form": form, "history": history, "states": JOB_FLOW.state_labels,
        "actions": JOB_FLOW.action_labels,
        "can": JOB_FLOW.actions_for(job.status, Role.PLATFORM_ADMIN)}, status=status)


@allow(Role.PLATFORM_ADMIN)
async def admin_detail(request: web.Request) -> web.Response:
    return await _admin_page(request, Form())


@allow(Role.PLATFORM_ADMIN)
async def admin_review(request: web.Request) -> web.Response:
    job_id = int(request.match_info["job_id"])
    ident = require_identity(request)

    async def decide(conn, action: str, reason: str | None) -> None:  # noqa: ANN001
        await service.review(conn, job_id, action, actor_id=ident.account_id, reason=reason,
                             now=request.app[CLOCK].now())
    # back to the job, saying what was done, with 【下一条】 of the same list
    page = request.app.router["admin_job"].url_for(job_id=str(job_id))
    return await submit_review(request, decide, _admin_page,
                               lambda action: str(page.with_query({**request.query, "done": action})))
