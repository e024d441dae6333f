"""Which audit rows an admin sees, the filters read from the URL, and one page of rows.

Scope: a school admin reads the rows whose school_id is their school (the school of the
item, or of the account that acted: app/audit.py), a platform admin every row or one
school's. The filter is an equality on an indexed column, so a page costs one range scan of
ix_audit_school_at (or ix_audit_at) however large the log grows; the count for the page
links uses the same conditions.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Collection, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..auth.sessions import Identity
from ..clock import CHINA
from ..forms import Form
from ..roles import Role
from ..school_settings.form import DATE_MESSAGE, day_or_none
from ..tables import accounts, audit_log, schools
from .labels import ENTITY_LABELS

PER_PAGE = 50
FILTERS = ("actor", "entity", "entity_id", "action", "from", "to", "school")
MAX_CHARS = 64


@dataclass
class Query:
    """The filters as typed (form, kept on the page and in the links) and as conditions."""
    form: Form
    conditions: list[Any] = field(default_factory=list)
    page: int = 1

    def params(self, page: int | None = None) -> dict[str, str]:
        """The URL parameters of these filters (and a page): the page links keep them."""
        out = {k: self.form.get(k).strip() for k in FILTERS if self.form.get(k).strip()}
        if page is not None and page > 1:
            out["page"] = str(page)
        return out


def read_filters(ident: Identity, query: Mapping[str, str],
                 school_ids: Collection[int]) -> Query:
    """The URL's filters → conditions, each wrong one with its message next to its field
    (the page then lists nothing rather than rows the admin did not ask for)."""
    form = Form(query)
    q = Query(form)
    a = audit_log
    for name in FILTERS:
        if len(form.get(name)) > MAX_CHARS:
            form.error(name, "内容过长")
    if ident.role == Role.PLATFORM_ADMIN:
        school = form.get("school").strip()
        if school:
            if school.isdigit() and int(school) in school_ids:
                q.conditions.append(a.c.school_id == int(school))
            else:
                form.error("school", "请选择列表中的学校")
    else:  # a school admin: their school only, whatever the URL says
        q.conditions.append(a.c.school_id == ident.school_id)
    actor = form.get("actor").strip()
    if actor and "actor" not in form.errors:
        if actor.isdigit():
            q.conditions.append(a.c.actor_id == int(actor))
        else:
            q.conditions.append(a.c.actor_id.in_(sa.select(accounts.c.id).where(sa.or_(
                accounts.c.username == actor,
                accounts.c.display_name.contains(actor, autoescape=True)))))
    entity = form.get("entity").strip()
    if entity:
        if entity in ENTITY_LABELS:
            q.conditions.append(a.c.entity == entity)
        else:
            form.error("entity", "请选择列表中的对象")
    entity_id = form.get("entity_id").strip()
    if entity_id and "entity_id" not in form.errors:
        q.conditions.append(a.c.entity_id == entity_id)
    action = form.get("action").strip()
    if action and "action" not in form.errors:
        # "origin" finds origin.submit, origin.approve …; "login" finds login and login.failed
        q.conditions.append(sa.or_(a.c.action == action,
                                   a.c.action.startswith(action + ".", autoescape=True)))
    days = {}
    for name in ("from", "to"):
        try:
            days[name] = day_or_none(form.get(name)) if name not in form.errors else None
        except ValueError:
            form.error(name, DATE_MESSAGE)
    if days.get("from") and days.get("to") and days["from"] > days["to"]:
        form.error("to", "结束日期不能早于开始日期")
    elif not form.errors:
        if days.get("from"):
            q.conditions.append(a.c.at >= _china_midnight(days["from"]))
        if days.get("to"):
            q.conditions.append(a.c.at < _china_midnight(days["to"] + dt.timedelta(days=1)))
    raw_page = query.get("page", "1")
    q.page = int(raw_page) if raw_page.isdigit() and 0 < len(raw_page) <= 6 and int(raw_page) > 0 else 1
    return q


def _china_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), CHINA).astimezone(dt.timezone.utc)


@dataclass(frozen=True)
class Page:
    rows: list[sa.Row]
    total: int
    number: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PER_PAGE))


async def page_of(conn: AsyncConnection, q: Query) -> Page:
    a, who = audit_log, accounts.alias("who")
    where = sa.and_(sa.true(), *q.conditions)
    total = (await conn.execute(sa.select(sa.func.count()).select_from(a).where(where))).scalar_one()
    number = min(q.page, max(1, -(-total // PER_PAGE)))
    rows = list(await conn.execute(
        sa.select(a, who.c.display_name.label("actor_name"), who.c.username.label("actor_username"),
                  who.c.role.label("actor_role"), schools.c.name.label("school_name"))
        .outerjoin(who, who.c.id == a.c.actor_id)
        .outerjoin(schools, schools.c.id == a.c.school_id)
        .where(where).order_by(a.c.at.desc(), a.c.id.desc())
        .limit(PER_PAGE).offset((number - 1) * PER_PAGE)))
    return Page(rows, total, number)


def describe(detail: Any) -> str:
    """The row's detail, short and readable (Chinese kept as is)."""
    if not detail:
        return ""
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 300 else text[:300] + "…"


def page_numbers(current: int, last: int, around: int = 2) -> list[int | None]:
    """The page links to show: first, last, and a few around the current one; None marks a
    gap. (Kept small and separate: a shared pagination helper is due to replace it.)"""
    keep = sorted({1, last, *range(max(1, current - around), min(last, current + around) + 1)})
    shown: list[int | None] = []
    for n in keep:
        if shown and n - (shown[-1] or 0) > 1:
            shown.append(None)
        shown.append(n)
    return shown
