"""Which audit rows an admin sees, the filters read from the URL, and one page of rows.

Scope: a school admin reads the rows whose school_id is their school (the school of the
item, or of the account that acted: app/audit.py), a platform admin every row or one
school's. The filter is an equality on an indexed column, so a page costs one range scan of
ix_audit_school_at (or ix_audit_at) however large the log grows; the count for the page
links uses the same conditions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Collection, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import paging
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
    wanted: paging.Params = paging.Params()  # ?page= (the list is searched by the filters)

    def params(self) -> dict[str, str]:
        """The URL parameters of these filters: the page links keep them."""
        return {k: self.form.get(k).strip() for k in FILTERS if self.form.get(k).strip()}


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
    q.wanted = paging.params(query)
    return q


def _china_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), CHINA).astimezone(dt.timezone.utc)


async def page_of(conn: AsyncConnection, q: Query) -> paging.Page:
    a, who = audit_log, accounts.alias("who")
    return await paging.fetch(conn, sa.select(
        a, who.c.display_name.label("actor_name"), who.c.username.label("actor_username"),
        who.c.role.label("actor_role"), schools.c.name.label("school_name"))
        .outerjoin(who, who.c.id == a.c.actor_id)
        .outerjoin(schools, schools.c.id == a.c.school_id)
        .where(*q.conditions).order_by(a.c.at.desc(), a.c.id.desc()), q.wanted, per_page=PER_PAGE)
