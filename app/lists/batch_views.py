"""The pages of a batch decision on a staff list (app/lists/batch.py): the confirmation that
names the count (and asks the one reason a 退回 needs), then the report of what was done and
what was not, with why. One handler serves every queue; each gives its list, its actions
and how one item is decided."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping

import aiohttp_jinja2
import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from ..forms import Form
from ..state import DB
from . import batch
from .spec import Resolved

REASON_MAX = 500


@dataclass(frozen=True)
class BatchAction:
    name: str               # the flow's action ("approve")
    label: str              # its button ("通过")
    reason_required: bool = False


@dataclass(frozen=True)
class BatchList:
    title: str              # "生源信息"
    noun: str               # what one item is called in the messages ("条")
    actions: tuple[BatchAction, ...]
    # the list as the form's filters give it, and a select of the matching items' ids
    read: Callable[[AsyncConnection, Any], Awaitable[tuple[Resolved, sa.Select]]]
    # the decision on one item: act(action, reason) → batch.Act
    act: Callable[[str, str | None], batch.Act]

    def action(self, name: str) -> BatchAction | None:
        return next((a for a in self.actions if a.name == name), None)


async def handle(request: web.Request, spec: BatchList) -> web.Response:
    post = await request.post()
    form = Form(post)
    action = spec.action(form.get("action"))
    if action is None:
        raise web.HTTPBadRequest(text="未知的操作")
    picked = batch.picked(post)
    reason = form.get("reason").strip()[:REASON_MAX] or None
    async with request.app[DB].read() as conn:
        resolved, ids = await spec.read(conn, post)
        found = await batch.matching_ids(conn, ids) if picked.every else list(picked.ids)
    context = {"spec": spec, "action": action, "r": resolved, "form": form,
               "count": len(found), "every": picked.every, "ids": list(picked.ids)}
    if not found:
        form.error("_form", "请先勾选要处理的记录")
        return _page("lists/batch_confirm.html", request, context, 400)
    if len(found) > batch.MAX_BATCH:
        form.error("_form", f"一次最多处理 {batch.MAX_BATCH:,} 条，请先筛选缩小范围")
        return _page("lists/batch_confirm.html", request, context, 400)
    if form.get("confirmed") != "1":
        return _page("lists/batch_confirm.html", request, context, 200)
    if picked.every and len(found) != picked.expected:
        form.error("_form", f"符合条件的记录已变为 {len(found):,} {spec.noun}（确认时为 "
                            f"{picked.expected or 0:,} {spec.noun}），请核对后再次确认")
        return _page("lists/batch_confirm.html", request, context, 409)
    if action.reason_required and reason is None:
        form.error("reason", f"请填写{action.label}理由")
        return _page("lists/batch_confirm.html", request, context, 400)
    report = await batch.apply(request.app[DB], found, spec.act(action.name, reason))
    return _page("lists/batch_report.html", request, {**context, "report": report}, 200)


def _page(template: str, request: web.Request, context: dict[str, Any], status: int) -> web.Response:
    return aiohttp_jinja2.render_template(template, request, context, status=status)


Reader = Callable[[AsyncConnection, Any], Awaitable[tuple[Resolved, sa.Select]]]


def reader(listing: Any, ident: Any) -> Reader:
    """BatchList.read for a queue's listing module: its `read(conn, ident, query)` and the
    select of matching ids `ids(ident, resolved)`, both for this reviewer."""
    async def read(conn: AsyncConnection, query: Any) -> tuple[Resolved, sa.Select]:
        resolved = await listing.read(conn, ident, query)
        return resolved, listing.ids(ident, resolved)
    return read


async def review_nav(request: web.Request, conn: AsyncConnection, listing: Any, ident: Any,
                     route: str, part: str, current: int,
                     done_labels: Mapping[str, str]) -> dict[str, Any]:
    """What a review page shows around its item, from the queue it was opened from (the
    list's query rides in the page's URL): 返回列表 to that list, 【下一条】 in it, and what
    was just done (`?done=<action>` after a decision)."""
    query = {k: v for k, v in request.query.items() if k not in ("done", "msg")}
    resolved = await listing.read(conn, ident, query)
    next_id = await batch.next_in(conn, listing.ids(ident, resolved), current)
    return {"list_query": query, "r": resolved,
            "next_url": str(request.app.router[route].url_for(**{part: str(next_id)})
                            .with_query(query)) if next_id else None,
            "done": done_labels.get(request.query.get("done", ""), "")}
