"""单位审核 as a staff list (app/lists): employers by state (待审核 first), 单位性质, 行业,
注册日期 and text; sortable, paged, counted."""

from __future__ import annotations

from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..clock import china_time
from ..lists.spec import Choice, Column, DateRange, ListSpec, Resolved, Text, resolve
from ..tables import employers as e
from .codes import INDUSTRY, NATURE
from .service import EMPLOYER_FLOW, EmployerState

SPEC = ListSpec(
    route="admin_employers",
    filters=(
        Choice("state", "状态", lambda v: e.c.status == v, options=list(EMPLOYER_FLOW.state_labels.items()),
               default=EmployerState.PENDING.value),
        Choice("nature", "单位性质", lambda v: e.c.nature == v, options=list(NATURE.items())),
        Choice("industry", "单位行业", lambda v: e.c.industry == v, options=list(INDUSTRY.items())),
        DateRange("registered", "注册日期", e.c.created_at),
        Text("q", "单位名称、信用代码或邮箱", (e.c.name, e.c.credit_code, e.c.contact_email)),
    ),
    columns=(
        Column("name", "单位名称", e.c.name), Column("credit_code", "统一社会信用代码", e.c.credit_code),
        Column("nature", "单位性质", e.c.nature), Column("registered", "注册时间", e.c.created_at),
        Column("state", "状态", e.c.status),
    ),
    default_sort="-registered", tiebreak=e.c.id)


async def read(conn: AsyncConnection, ident: Any, query: Mapping[str, str]) -> Resolved:
    """(The platform admin sees every employer: `ident` is the queue's shape, not a scope.)"""
    return resolve(SPEC, query)


def ids(ident: Any, resolved: Resolved) -> sa.Select:
    return sa.select(e.c.id).where(*resolved.where()).order_by(*resolved.order_by())


def rows(ident: Any = None) -> sa.Select:
    return sa.select(e)


EXPORT = (("单位名称", lambda r: r.name), ("统一社会信用代码", lambda r: r.credit_code),
          ("单位性质", lambda r: NATURE.get(r.nature, r.nature)),
          ("单位行业", lambda r: INDUSTRY.get(r.industry, r.industry)), ("所在地", lambda r: r.location),
          ("联系人", lambda r: r.contact_name), ("联系电话", lambda r: r.contact_phone),
          ("联系邮箱", lambda r: r.contact_email), ("注册时间", lambda r: china_time(r.created_at)),
          ("状态", lambda r: EMPLOYER_FLOW.state_label(r.status)))
