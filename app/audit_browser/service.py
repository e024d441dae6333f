"""操作日志 as a staff list (app/lists): which audit rows an admin sees, the filters read from
the URL, and one page of rows.

Scope: a school admin reads the rows whose school_id is their school (the school of the
item, or of the account that acted: app/audit.py), a platform admin every row or one
school's. The filter is an equality on an indexed column, so a page costs one range scan of
ix_audit_school_at (or ix_audit_at) however large the log grows; the count uses the same
conditions.

Three filters are exact, not substring searches, and are turned into SQL here rather than
by the list component: 操作人 (a username, a name or an account number), 对象编号, and 学生
(a 学号 or 姓名: every row about that student's record and items, the items gathered by the
学生档案, app/roster/student_file.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..auth.sessions import Identity
from ..auth.service import school_choices
from ..lists.spec import Choice, Column, DateRange, ListSpec, Resolved, Text, resolve
from ..roles import Role
from ..roster import student_file
from ..roster.filters import scope_of
from ..tables import accounts, audit_log, schools, student_records as sr
from .labels import ENTITY_LABELS, FLOWS, action_options

a = audit_log
MAX_CHARS = 50          # a text filter's longest value (the box's maxlength)
STUDENTS_MAX = 20       # students one 学生 value may name (a common 姓名): more is a typo
FLOW_NAMES = frozenset(f.name for f in FLOWS)
NO_SCHOOL = "none"      # the platform's own rows (employers, jobs, mail)

# entity → (the staff page of one item, its URL part). A row links there only for a viewer
# whose role that page allows (views.py asks the route itself).
ITEM_PAGES: dict[str, tuple[str, str]] = {
    **student_file.ITEM_PAGES,
    "student_record": ("student_file", "record_id"),
    "employer": ("admin_employer", "employer_id"),
    "job": ("admin_job", "job_id"),
    "email_outbox": ("outbox_mail", "mail_id"),
    "school_settings": ("school_settings", "school_id"),
}


@dataclass(frozen=True)
class Exact(Text):
    """A text box whose value this module turns into SQL (an equality, a lookup), not the
    component's substring search: `AuditList.where` leaves it out of the component's part."""


@dataclass(frozen=True)
class Days(DateRange):
    """Days, China time, both ends included, under the log's own parameter names."""

    @property
    def names(self) -> tuple[str, str]:
        return "from", "to"


def _action(value: str) -> Any:
    if value in FLOW_NAMES:   # a flow's every row: its steps and the item's creation
        return a.c.entity == value
    # "login" finds login and login.failed; "hall" every hall action
    return sa.or_(a.c.action == value, a.c.action.startswith(value + ".", autoescape=True))


def spec(ident: Identity) -> ListSpec:
    platform = ident.role == Role.PLATFORM_ADMIN
    return ListSpec(
        route="audit_log",
        filters=(
            *((Choice("school", "学校", lambda v: a.c.school_id.is_(None) if v == NO_SCHOOL
                      else a.c.school_id == int(v), placeholder="全部（含平台）"),) if platform else ()),
            Exact("student", "学生（学号或姓名）", ()),
            Exact("actor", "操作人", ()),
            Choice("action", "操作", _action, options=action_options()),
            Choice("entity", "对象", lambda v: a.c.entity == v,
                   options=sorted(ENTITY_LABELS.items(), key=lambda kv: kv[1])),
            Exact("entity_id", "对象编号", ()),
            Days("at", "日期", a.c.at),
        ),
        columns=(Column("at", "时间", a.c.at),),
        default_sort="-at", tiebreak=a.c.id, sizes=(50, 100, 200))


@dataclass
class AuditList(Resolved):
    """The resolved list, with the scope and the exact filters as SQL (`more`)."""
    more: list[Any] = field(default_factory=list)

    def where(self) -> list[Any]:
        component = dataclasses.replace(self.spec, filters=tuple(
            f for f in self.spec.filters if not isinstance(f, Exact)))
        return [*Resolved.where(dataclasses.replace(self, spec=component)), *self.more]

    def order_by(self) -> list[Any]:
        # `at` is never NULL: sorted as it is (and the id the same way round), so the newest
        # page reads the end of the (school_id, at) index
        if self.descending:
            return [a.c.at.desc(), a.c.id.desc()]
        return [a.c.at.asc(), a.c.id.asc()]


async def read(conn: AsyncConnection, ident: Identity, query: Mapping[str, str]) -> AuditList:
    """The URL's filters → an AuditList; each wrong value gets its message next to its field
    (the page then lists nothing rather than rows the admin did not ask for)."""
    options = {}
    if ident.role == Role.PLATFORM_ADMIN:
        options["school"] = [*((str(r.id), r.name) for r in await school_choices(conn)),
                             (NO_SCHOOL, "平台（不属于学校）")]
    resolved = resolve(spec(ident), query, options)
    out = AuditList(**{f.name: getattr(resolved, f.name) for f in dataclasses.fields(Resolved)})
    for f in out.spec.filters:
        if isinstance(f, Exact) and len(query.get(f.name, "")) > MAX_CHARS:
            out.form.error(f.name, "内容过长")   # cut to fit, it would find something else
            out.values.pop(f.name, None)
    if ident.role != Role.PLATFORM_ADMIN:   # their school only, whatever the URL says
        out.more.append(a.c.school_id == ident.school_id)
    actor = out.values.get("actor")
    if actor:
        if actor.isascii() and actor.isdigit() and len(actor) <= 9:
            out.more.append(a.c.actor_id == int(actor))
        else:
            out.more.append(a.c.actor_id.in_(sa.select(accounts.c.id).where(sa.or_(
                accounts.c.username == actor,
                accounts.c.display_name.contains(actor, autoescape=True)))))
    if out.values.get("entity_id"):
        out.more.append(a.c.entity_id == out.values["entity_id"])
    if out.values.get("student"):
        about = await _about_student(conn, ident, out.values["student"])
        if isinstance(about, str):
            out.form.error("student", about)
        else:
            out.more.append(about)
    return out


async def _about_student(conn: AsyncConnection, ident: Identity, value: str) -> Any:
    """Rows about the students (in the viewer's scope) whose 学号 or 姓名 is `value`: their
    record and every item of theirs, as the 学生档案 gathers them. A str: why there are none."""
    scope = scope_of(ident)
    ids = list((await conn.execute(
        sa.select(sr.c.id).where(sa.or_(sr.c.student_no == value, sr.c.name == value),
                                 *scope.where())
        .order_by(sr.c.id).limit(STUDENTS_MAX + 1))).scalars())
    if not ids:
        return f"没有学号或姓名为“{value}”的学生"
    if len(ids) > STUDENTS_MAX:
        return "同名的学生太多，请输入学号"
    items: dict[str, set[str]] = {}
    for record_id in ids:
        found = await student_file.build(conn, scope, record_id, with_timeline=False)
        if found is None:
            continue
        for entity, item_ids in student_file.items_of(found).items():
            items.setdefault(entity, set()).update(str(i) for i in item_ids)
    return sa.or_(sa.false(), *(sa.and_(a.c.entity == entity, a.c.entity_id.in_(sorted(item_ids)))
                                for entity, item_ids in items.items() if item_ids))


def rows() -> sa.Select:
    who = accounts.alias("who")
    return (sa.select(a, who.c.display_name.label("actor_name"),
                      who.c.username.label("actor_username"), who.c.role.label("actor_role"),
                      schools.c.name.label("school_name"))
            .outerjoin(who, who.c.id == a.c.actor_id)
            .outerjoin(schools, schools.c.id == a.c.school_id))
