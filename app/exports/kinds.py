"""What can be exported, by whom, and how each asks and writes.

A kind resolves what its user may export when the click arrives (`ask`: the scope and
filters, checked against who asks, kept in the job's params) and writes it later, in the
job (`sheets`), from those params alone: a job never widens what was allowed at the click.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..applications import listing as job_applicants
from ..audit_browser import labels as audit_labels, service as audit_service
from ..auth.sessions import Identity
from ..employers import listing as employer_listing
from ..jobs import listing as job_listing
from ..registration import listing as registration_listing
from ..reviews.origin import listing as origin_listing
from ..reviews.recommendation import listing as recommendation_listing
from ..signing import listing as agreement_listing
from ..termination import listing as termination_listing
from ..clock import china_time
from ..jobs.service import own as own_job
from ..monitor import report as hall_reports
from ..roles import Role
from ..roster import listing as student_listing
from ..roster.filters import OutOfScope as OutOfRoster, scope_of as roster_scope
from ..statistics import exports as tables_of
from ..statistics.filters import OutOfScope, resolve
from ..statistics.service import Scope, build
from ..tables import colleges, employers, schools
from ..workflow import NotAllowed
from ..xlsx import Sheet

STATISTICS_STAFF = frozenset({Role.COUNSELOR, Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN})


@dataclass(frozen=True)
class Asked:
    params: dict[str, Any]            # all the job needs, resolved at the click
    title: str                        # the list's line and the file's name
    about: list[tuple[str, str]]      # the 说明 sheet: scope and filters


@dataclass(frozen=True)
class Kind:
    label: str
    roles: frozenset[Role]
    ask: Callable[[AsyncConnection, Identity, Mapping[str, str]], Awaitable[Asked]]
    sheets: Callable[[AsyncConnection, dict[str, Any], bool], Awaitable[list[Sheet]]]


async def _scope_label(conn: AsyncConnection, scope: Scope) -> str:
    if scope.school_id is None:
        return "全部学校"
    name = (await conn.execute(sa.select(schools.c.name).where(
        schools.c.id == scope.school_id))).scalar() or ""
    if scope.college_id is not None:
        name += " · " + ((await conn.execute(sa.select(colleges.c.name).where(
            colleges.c.id == scope.college_id))).scalar() or "")
    return name


def _statistics_ask(label: str) -> Callable[..., Awaitable[Asked]]:
    async def ask(conn: AsyncConnection, ident: Identity, query: Mapping[str, str]) -> Asked:
        try:
            view = await resolve(conn, ident, query)
        except OutOfScope:
            raise NotAllowed("无权导出该范围的数据") from None
        if view.form.errors:
            raise NotAllowed("；".join(view.form.errors.values()))
        where = await _scope_label(conn, view.scope)
        year = f"{view.year}届" if view.year is not None else "全部届别"
        return Asked({"year": view.year, "school_id": view.scope.school_id,
                      "college_id": view.scope.college_id, "every_school": view.every_school},
                     f"{label}（{year} · {where}）", [("范围", where), ("毕业年份", year)])
    return ask


def _scope(params: dict[str, Any]) -> Scope:
    return Scope(params["school_id"], params["college_id"])


def _streamed(kind: str) -> Callable[..., Awaitable[list[Sheet]]]:
    async def sheets(conn: AsyncConnection, params: dict[str, Any], is_sqlite: bool) -> list[Sheet]:
        return [tables_of.export_for(kind, params["year"], _scope(params))]
    return sheets


async def _tables(conn: AsyncConnection, params: dict[str, Any], is_sqlite: bool) -> list[Sheet]:
    stats = await build(conn, params["year"], _scope(params), is_sqlite=is_sqlite,
                        with_schools=params["every_school"])
    return tables_of.tables_exports(stats)


async def _applicants_ask(conn: AsyncConnection, ident: Identity, query: Mapping[str, str]) -> Asked:
    if ident.employer_id is None:
        raise NotAllowed("无权导出")
    name = (await conn.execute(sa.select(employers.c.name).where(
        employers.c.id == ident.employer_id))).scalar() or ""
    return Asked({"employer_id": ident.employer_id}, f"投递简历（{name}）", [("单位", name)])


async def _applicants(conn: AsyncConnection, params: dict[str, Any], is_sqlite: bool) -> list[Sheet]:
    return [tables_of.applicants_export(params["employer_id"])]


async def _job_applicants_ask(conn: AsyncConnection, ident: Identity,
                              query: Mapping[str, str]) -> Asked:
    raw = query.get("job", "")
    job = await own_job(conn, ident.employer_id or 0, int(raw)) \
        if raw.isdigit() and len(raw) < 12 else None
    if job is None:
        raise NotAllowed("无权导出")
    resolved = await job_applicants.read(conn, job.id, query)
    if resolved.form.errors:
        raise NotAllowed("；".join(resolved.form.errors.values()))
    shown = "，".join(f"{k}：{v}" for k, v in resolved.chosen()) or "全部"
    return Asked({"job_id": job.id, "query": resolved.export_query()},
                 f"应聘者（{job.title}）", [("岗位", job.title), ("筛选条件", shown)])


async def _job_applicants(conn: AsyncConnection, params: dict[str, Any], is_sqlite: bool) -> list[Sheet]:
    resolved = await job_applicants.read(conn, params["job_id"], params["query"])
    return [Sheet("应聘者", tables_of.APPLICANT_HEADER,
                  job_applicants.filtered(params["job_id"], resolved), tables_of.applicant_row)]


AUDIT_HEADER = ["时间", "操作人", "用户名", "操作", "对象", "对象编号", "状态变化", "理由", "详情", "学校"]


async def _audit_ask(conn: AsyncConnection, ident: Identity, query: Mapping[str, str]) -> Asked:
    found = await audit_service.read(conn, ident, query)
    if found.form.errors:
        raise NotAllowed("；".join(found.form.errors.values()))
    shown = "，".join(f"{k}：{v}" for k, v in found.chosen()) or "全部"
    return Asked({"role": ident.role.value, "school_id": ident.school_id, "college_id": None,
                  "account_id": ident.account_id, "query": found.export_query()},
                 "操作日志", [("范围", "全平台" if ident.role == Role.PLATFORM_ADMIN else "本校"),
                             ("筛选条件", shown)])


async def _audit(conn: AsyncConnection, params: dict[str, Any], is_sqlite: bool) -> list[Sheet]:
    found = await audit_service.read(conn, _asker(params), params["query"])

    def row(r: Any) -> list[Any]:
        return [china_time(r.at), r.actor_name or "系统/未登录", r.actor_username or "",
                audit_labels.action_label(r.action), audit_labels.entity_label(r.entity),
                r.entity_id, audit_labels.state_change(r.entity, r.from_state, r.to_state),
                r.reason or "", audit_labels.describe(r.detail), r.school_name or ""]
    return [Sheet("操作日志", AUDIT_HEADER,
                  audit_service.rows().where(*found.where()).order_by(*found.order_by()), row)]


def _asker(params: dict[str, Any]) -> Identity:
    """The asker as they were at the click: a job never widens what they were shown."""
    return Identity(account_id=params["account_id"], role=Role(params["role"]), display_name="",
                    school_id=params["school_id"], college_id=params["college_id"],
                    employer_id=None, session_hash="")


def _queue(title: str, listing: Any) -> tuple[Callable[..., Awaitable[Asked]],
                                               Callable[..., Awaitable[list[Sheet]]]]:
    """ask and sheets of a queue's 导出筛选结果: its listing module's `read`, `rows` and
    `EXPORT` columns, the list filtered and sorted as on the screen."""
    async def ask(conn: AsyncConnection, ident: Identity, query: Mapping[str, str]) -> Asked:
        resolved = await listing.read(conn, ident, query)
        if resolved.form.errors:
            raise NotAllowed("；".join(resolved.form.errors.values()))
        shown = "，".join(f"{k}：{v}" for k, v in resolved.chosen()) or "全部"
        return Asked({"role": ident.role.value, "school_id": ident.school_id,
                      "college_id": ident.college_id, "account_id": ident.account_id,
                      "query": resolved.export_query()},
                     title, [("导出人", ident.display_name), ("筛选条件", shown)])

    async def sheets(conn: AsyncConnection, params: dict[str, Any], is_sqlite: bool) -> list[Sheet]:
        ident = _asker(params)
        resolved = await listing.read(conn, ident, params["query"])
        stmt = listing.rows(ident).where(*resolved.where()).order_by(*resolved.order_by())
        return [Sheet(title, [h for h, _ in listing.EXPORT], stmt,
                      lambda r: [cell(r) for _, cell in listing.EXPORT])]
    return ask, sheets


REVIEWERS = frozenset({Role.COUNSELOR, Role.SCHOOL_ADMIN})
PLATFORM = frozenset({Role.PLATFORM_ADMIN})
QUEUES: dict[str, tuple[str, frozenset[Role], Any]] = {
    "origin_queue": ("生源信息", REVIEWERS, origin_listing),
    "recommendation_queue": ("推荐表", frozenset({Role.SCHOOL_ADMIN}), recommendation_listing),
    "agreement_queue": ("就业协议书", REVIEWERS, agreement_listing),
    "registration_queue": ("就业信息登记", REVIEWERS, registration_listing),
    "termination_queue": ("解约申请", REVIEWERS, termination_listing),
    "employer_review": ("单位审核", PLATFORM, employer_listing),
    "job_review": ("岗位审核", PLATFORM, job_listing),
}


HALL_ADMINS = frozenset({Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN})


def _hall_scope(ident: Identity) -> hall_reports.Scope:
    if ident.role == Role.PLATFORM_ADMIN:
        return hall_reports.Scope(None)
    if ident.school_id is None:
        raise NotAllowed("无权导出")
    return hall_reports.Scope(ident.school_id)


async def _hall_report_ask(conn: AsyncConnection, ident: Identity, query: Mapping[str, str]) -> Asked:
    raw = query.get("session", "")
    scope = _hall_scope(ident)
    if not (raw.isdigit() and len(raw) < 12) or not await hall_reports.may_see(conn, int(raw), scope):
        raise NotAllowed("无权导出该面试大厅报告")
    found = await hall_reports.build(conn, int(raw), scope)
    day = found.session.day.isoformat()
    return Asked({"session_id": int(raw), "school_id": scope.school_id},
                 f"面试大厅报告（{found.employer} · {day}）",
                 [("单位", found.employer), ("日期", day)])


async def _hall_report(conn: AsyncConnection, params: dict[str, Any], is_sqlite: bool) -> list[Sheet]:
    found = await hall_reports.build(conn, params["session_id"], hall_reports.Scope(params["school_id"]))
    return found.sheets() if found is not None else []


async def _student_list_ask(conn: AsyncConnection, ident: Identity,
                            query: Mapping[str, str]) -> Asked:
    try:
        scope = roster_scope(ident)
    except OutOfRoster:
        raise NotAllowed("无权导出") from None
    resolved = await student_listing.read(conn, scope, query)
    if resolved.form.errors:
        raise NotAllowed("；".join(resolved.form.errors.values()))
    where = await _scope_label(conn, scope)
    chosen = resolved.chosen()
    shown = "，".join(f"{k}：{v}" for k, v in chosen) or "全部"
    return Asked({"school_id": scope.school_id, "college_id": scope.college_id,
                  "query": resolved.export_query()},
                 f"学生信息（{where}）", [("范围", where), ("筛选条件", shown)])


async def _student_list(conn: AsyncConnection, params: dict[str, Any], is_sqlite: bool) -> list[Sheet]:
    scope = Scope(params["school_id"], params["college_id"])
    resolved = await student_listing.read(conn, scope, params["query"])
    return [Sheet("学生信息", student_listing.EXPORT_HEADER,
                  student_listing.filtered(scope, resolved), student_listing.export_row)]


KINDS: dict[str, Kind] = {
    "graduates": Kind("毕业生去向", STATISTICS_STAFF, _statistics_ask("毕业生去向"),
                      _streamed("graduates")),
    "tables": Kind("就业统计表", STATISTICS_STAFF, _statistics_ask("就业统计表"), _tables),
    "records": Kind("学生信息", STATISTICS_STAFF, _statistics_ask("学生信息"), _streamed("records")),
    "origin": Kind("生源审核状态", STATISTICS_STAFF, _statistics_ask("生源审核状态"),
                   _streamed("origin")),
    "student_list": Kind("学生信息（筛选结果）", STATISTICS_STAFF, _student_list_ask, _student_list),
    "applicants": Kind("投递简历", frozenset({Role.EMPLOYER}), _applicants_ask, _applicants),
    "job_applicants": Kind("应聘者（筛选结果）", frozenset({Role.EMPLOYER}), _job_applicants_ask,
                           _job_applicants),
    "audit_log": Kind("操作日志（筛选结果）", frozenset({Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN}),
                      _audit_ask, _audit),
    **{name: Kind(f"{title}（筛选结果）", roles, *_queue(title, listing))
       for name, (title, roles, listing) in QUEUES.items()},
    "hall_report": Kind("面试大厅报告", HALL_ADMINS, _hall_report_ask, _hall_report),
}
