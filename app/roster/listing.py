"""学生信息: every student in the viewer's scope, one row each with the state of each of
their procedures, filtered by anything a school year is run by (and by every figure of
就业统计, which links here with the same filters, so a number and its list always agree)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import codes
from ..clock import china_date
from ..destinations.codes import DESTINATIONS, label as destination_label
from ..destinations.tables import graduate_destinations as gd
from ..lists.spec import Choice, Column, DateRange, ListSpec, Resolved, resolve
from ..registration.flows import REGISTRATION_FLOW
from ..registration.tables import registrations as reg
from ..reviews.flows import ORIGIN_FLOW, RECOMMENDATION_FLOW
from ..reviews.tables import origin_records as o, recommendations as rec
from ..signing.flows import STATE_LABELS as AGREEMENT_LABELS
from ..signing.tables import agreements as ag
from ..statistics.groups import GROUPS, NOT_EMPLOYED
from ..statistics.service import CODE, PROVINCE  # counted as 就业统计 counts them
from ..tables import colleges, majors, schools, student_records as sr
from .filters import Scope, options, student_filters

NONE = "none"   # the option "no such record" of a procedure's state filter

LATEST_AGREEMENT = (sa.select(ag.c.status).where(ag.c.student_record_id == sr.c.id)
                    .order_by(ag.c.id.desc()).limit(1).scalar_subquery())


def _state(column: Any, present: Any) -> Any:
    return lambda v: present.is_(None) if v == NONE else column == v


def _agreement(v: str) -> Any:
    mine = ag.c.student_record_id == sr.c.id
    return ~sa.exists().where(mine) if v == NONE else sa.exists().where(mine, ag.c.status == v)


def _province(v: str) -> Any:
    return PROVINCE == ("" if v == "-" else v)


@functools.cache
def province_options() -> tuple[tuple[str, str], ...]:
    return (*((code[:2], name) for code, name in codes.areas().items() if code.endswith("0000")),
            ("-", "未填写"))


def _with_none(labels: Mapping[str, str], none: str) -> list[tuple[str, str]]:
    return [*labels.items(), (NONE, none)]


def spec(platform: bool) -> ListSpec:
    return ListSpec(
        route="student_records",
        filters=(
            *student_filters(platform=platform, text_label="学号、姓名或班级",
                             text=(sr.c.student_no, sr.c.name, sr.c.class_name)),
            Choice("gender", "性别", lambda v: sr.c.gender == v, options=list(codes.GENDER.items())),
            Choice("active", "账号", lambda v: sr.c.account_id.is_not(None) if v == "1"
                   else sr.c.account_id.is_(None), options=[("1", "已激活"), ("0", "未激活")]),
            Choice("origin", "生源信息", _state(o.c.status, o.c.id),
                   options=_with_none(ORIGIN_FLOW.state_labels, "未导入")),
            Choice("recommendation", "推荐表", _state(rec.c.status, rec.c.id),
                   options=_with_none(RECOMMENDATION_FLOW.state_labels, "未填写")),
            Choice("agreement", "协议书", _agreement,
                   options=_with_none(AGREEMENT_LABELS, "没有协议书")),
            Choice("registration", "就业信息登记", _state(reg.c.status, reg.c.id),
                   options=_with_none(REGISTRATION_FLOW.state_labels, "未登记")),
            Choice("group", "落实率分组", lambda v: CODE.in_(GROUPS[v]),
                   options=[(g, g) for g in GROUPS]),
            Choice("employed", "是否就业", lambda v: CODE.not_in(NOT_EMPLOYED) if v == "1"
                   else CODE.in_(NOT_EMPLOYED), options=[("1", "已就业"), ("0", "未就业")]),
            Choice("dest", "毕业去向", lambda v: CODE == v,
                   options=[(c, f"{c} {d.label}") for c, d in DESTINATIONS.items()]),
            Choice("province", "生源地（省）", _province, options=province_options()),
            DateRange("placed", "去向落实日期", gd.c.effective_at),
        ),
        columns=(
            Column("student_no", "学号", sr.c.student_no),
            Column("name", "姓名", sr.c.name),
            *((Column("school", "学校", schools.c.code),) if platform else ()),
            Column("college", "学院", colleges.c.code),
            Column("major", "专业", majors.c.code),
            Column("education", "学历", sr.c.education),
            Column("year", "毕业年份", sr.c.graduation_year),
            Column("active", "账号", sr.c.account_id.is_(None)),
            Column("origin", "生源信息", o.c.status),
            Column("recommendation", "推荐表", rec.c.status),
            Column("agreement", "最新协议书"),
            Column("registration", "就业信息登记", reg.c.status),
            Column("dest", "毕业去向", CODE),
            Column("placed", "落实日期", gd.c.effective_at),
        ),
        default_sort="student_no", tiebreak=sr.c.id, sizes=(50, 100, 200))


def rows(scope: Scope) -> sa.Select:
    """Every student in scope with what the list shows (not yet filtered or sorted)."""
    return (sa.select(sr.c.id, sr.c.student_no, sr.c.name, sr.c.gender, sr.c.education,
                      sr.c.graduation_year, sr.c.class_name, sr.c.account_id,
                      schools.c.name.label("school_name"), colleges.c.name.label("college_name"),
                      majors.c.name.label("major_name"), o.c.status.label("origin_status"),
                      rec.c.status.label("rec_status"), LATEST_AGREEMENT.label("agreement_status"),
                      reg.c.status.label("reg_status"), CODE.label("dest_code"),
                      gd.c.effective_at.label("placed_at"))
            .select_from(sr)
            .join(schools, schools.c.id == sr.c.school_id)
            .join(colleges, colleges.c.id == sr.c.college_id)
            .join(majors, majors.c.id == sr.c.major_id)
            .outerjoin(o, o.c.student_record_id == sr.c.id)
            .outerjoin(rec, rec.c.student_record_id == sr.c.id)
            .outerjoin(reg, reg.c.student_record_id == sr.c.id)
            .outerjoin(gd, gd.c.student_record_id == sr.c.id)
            .where(*scope.where()))


async def read(conn: AsyncConnection, scope: Scope, query: Mapping[str, str]) -> Resolved:
    return resolve(spec(scope.school_id is None), query, await options(conn, scope, query))


def filtered(scope: Scope, resolved: Resolved) -> sa.Select:
    """What the screen, the export and "select all" share: the rows matching, in order."""
    return rows(scope).where(*resolved.where()).order_by(*resolved.order_by())


def labels(row: Any) -> dict[str, str]:
    """A row's states as people read them."""
    return {
        "gender": codes.GENDER.get(row.gender, row.gender),
        "active": "已激活" if row.account_id else "未激活",
        "origin": ORIGIN_FLOW.state_label(row.origin_status) if row.origin_status else "未导入",
        "recommendation": RECOMMENDATION_FLOW.state_label(row.rec_status) if row.rec_status else "未填写",
        "agreement": AGREEMENT_LABELS.get(row.agreement_status, "") if row.agreement_status else "没有协议书",
        "registration": REGISTRATION_FLOW.state_label(row.reg_status) if row.reg_status else "未登记",
        "dest": f"{row.dest_code} {destination_label(row.dest_code)}",
    }


def placed_day(row: Any) -> dt.date | None:
    return china_date(row.placed_at) if row.placed_at else None


EXPORT_HEADER = ["学号", "姓名", "性别", "学校", "学院", "专业", "学历", "毕业年份", "班级", "账号",
                 "生源信息", "推荐表", "最新协议书", "就业信息登记", "毕业去向代码", "毕业去向",
                 "落实日期"]


def export_row(row: Any) -> list[Any]:
    """One exported row: the list's columns, and what a row's card shows besides."""
    shown = labels(row)
    return [row.student_no, row.name, shown["gender"], row.school_name, row.college_name,
            row.major_name, row.education, row.graduation_year, row.class_name, shown["active"],
            shown["origin"], shown["recommendation"], shown["agreement"], shown["registration"],
            row.dest_code, destination_label(row.dest_code), placed_day(row)]
