"""Who sees which graduates, and the page's filters (year, school, college) read from the
URL so a view can be shared: a counselor their college, a school admin their school, a
platform admin every school or the one picked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from sqlalchemy.ext.asyncio import AsyncConnection

from ..auth.sessions import Identity
from ..forms import Form
from ..roles import Role
from .service import Scope, all_schools, colleges_of, years


class OutOfScope(Exception):
    """The URL names a school or college the viewer may not see."""


@dataclass
class View:
    scope: Scope
    form: Form
    year: int | None
    years: list[int]
    platform: bool                      # a platform admin (sees the school table)
    can_pick_college: bool
    schools: list[tuple[int, str]] = field(default_factory=list)
    colleges: list[tuple[int, str]] = field(default_factory=list)

    @property
    def every_school(self) -> bool:
        return self.platform and self.scope.school_id is None

    def query(self) -> dict[str, str]:
        """The filters as URL parameters, for the export links."""
        out = {}
        if self.year is not None:
            out["year"] = str(self.year)
        if self.platform and self.scope.school_id is not None:
            out["school"] = str(self.scope.school_id)
        if self.scope.college_id is not None:
            out["college"] = str(self.scope.college_id)
        return out


def _choice(form: Form, name: str, choices: list[tuple[int, str]], message: str) -> int | None:
    raw = form.get(name).strip()
    if not raw:
        return None
    if raw.isdigit() and int(raw) in {c for c, _ in choices}:
        return int(raw)
    form.error(name, message)
    return None


async def resolve(conn: AsyncConnection, ident: Identity, query: Mapping[str, str]) -> View:
    form = Form(query)
    platform = ident.role == Role.PLATFORM_ADMIN
    school_choices: list[tuple[int, str]] = []
    if platform:
        school_choices = await all_schools(conn)
        school_id = _choice(form, "school", school_choices, "请选择列表中的学校")
    else:
        if ident.school_id is None:
            raise OutOfScope()
        if form.get("school").strip() not in ("", str(ident.school_id)):
            raise OutOfScope()
        school_id = ident.school_id
    college_choices = await colleges_of(conn, school_id) if school_id is not None else []
    if ident.role == Role.COUNSELOR:
        if ident.college_id is None or form.get("college").strip() not in ("", str(ident.college_id)):
            raise OutOfScope()
        college_id = ident.college_id
    else:
        college_id = _choice(form, "college", college_choices, "请选择列表中的学院")
    scope = Scope(school_id, college_id)
    year_list = await years(conn, scope)
    year = year_list[0] if year_list else None
    raw = form.get("year").strip()
    if raw:
        if raw.isdigit() and int(raw) in year_list:
            year = int(raw)
        else:
            form.error("year", "请选择列表中的毕业年份")
    return View(scope=scope, form=form, year=year, years=year_list, platform=platform,
                can_pick_college=ident.role != Role.COUNSELOR, schools=school_choices,
                colleges=college_choices)
