"""Counselor and school-admin review of agreements: the queue (a staff list, ../listing.py),
batch 通过 / 退回 through the one batch handler, and one agreement's review page with
【下一条】 in the same filtered queue."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ... import files
from ...forms import Form
from ...lists import batch_views
from ...lists.batch_views import BatchAction, BatchList
from ...lists.spec import fetch
from ...middleware import require_identity
from ...reviewing import submit_review
from ...roles import Role, allow
from ...state import CLOCK, DB
from .. import fields, listing, review, service
from ..flows import ACTION_LABELS, STATE_LABELS, flow_of
from .common import int_param, sheet_context

REVIEWERS = (Role.COUNSELOR, Role.SCHOOL_ADMIN)
REVIEW_PAGE = "signing/review.html"
# One set for both reviewers: the flow decides which agreements each may approve or return
# (a counselor 待学院审核, a school admin 待学校审核 and the stamped copies); the report names
# the rest with the reason.
BATCH_ACTIONS = (BatchAction("approve", "通过"), BatchAction("return", "退回", reason_required=True))


@allow(*REVIEWERS)
async def queue(request: web.Request) -> web.Response:
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        resolved = await listing.read(conn, ident, request.query)
        page = await fetch(conn, resolved, listing.rows(ident))
        counts = await listing.state_counts(conn, ident)
    # 待我审核, each state that waits for this reviewer, every other state that holds any, 全部
    chosen = resolved.values.get("status", "")
    shown = [(listing.WAITING_VALUE, "待我审核"),
             *((s, STATE_LABELS[s]) for s in review.STAFF_VISIBLE
               if s in listing.waiting(ident) or counts.get(s) or chosen == s), ("", "全部")]
    return aiohttp_jinja2.render_template("signing/queue.html", request, {
        "r": resolved, "page": page, "counts": counts, "tabs": shown, "labels": STATE_LABELS,
        "actions": BATCH_ACTIONS},
        status=400 if resolved.form.errors else 200)


@allow(*REVIEWERS)
async def batch(request: web.Request) -> web.Response:
    """批量通过 / 批量退回 on the ticked agreements or on all that match the list's filters."""
    ident = require_identity(request)

    return await batch_views.handle(request, BatchList(
        title="就业协议书", noun="份", actions=BATCH_ACTIONS, read=batch_views.reader(listing, ident),
        act=listing.decide(ident, request.app[CLOCK].now())))


async def _context(request: web.Request, agreement_id: int) -> dict[str, Any]:
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        row = await service.item(conn, ident, agreement_id)
        if row is None or row.status not in review.STAFF_VISIBLE:
            raise web.HTTPNotFound()
        history = await service.history(conn, row)
        scans = await files.listed(conn, row.scans or [])
        nav = await batch_views.review_nav(
            request, conn, listing, ident, "agreement_review", "agreement_id", agreement_id,
            {a: ACTION_LABELS[a] for a in ("approve", "return")})
    flow = flow_of(row.channel)
    can = [a for a in flow.actions_for(row.status, ident.role) if a in ("approve", "return")]
    return {**sheet_context(request, row, changed=fields.changed(row.previous_data, row.data)),
            "history": history, "scans": scans, "can": can, "actions": ACTION_LABELS,
            "review_url": str(request.app.router["agreement_decide"].url_for(agreement_id=str(row.id))
                              .with_query(nav["list_query"])), **nav}


@allow(*REVIEWERS)
async def review_page(request: web.Request) -> web.Response:
    context = await _context(request, int_param(request, "agreement_id"))
    return aiohttp_jinja2.render_template(REVIEW_PAGE, request, {**context, "form": Form()})


@allow(*REVIEWERS)
async def decide(request: web.Request) -> web.Response:
    """通过 or 退回 (the pressed button); back to the agreement saying what was done, the
    queue's filters riding along for 【下一条】."""
    agreement_id = int_param(request, "agreement_id")
    post = await request.post()
    action = post.get("action")

    async def run(conn, action: str, reason: str | None) -> bool:  # noqa: ANN001
        return await review.decide(conn, require_identity(request), agreement_id, action,
                                   reason=reason, now=request.app[CLOCK].now()) is not None

    async def page(request: web.Request, form: Form, status: int) -> web.Response:
        return aiohttp_jinja2.render_template(REVIEW_PAGE, request,
                                              {**await _context(request, agreement_id), "form": form},
                                              status=status)
    query = {k: v for k, v in request.query.items() if k != "done"}
    if isinstance(action, str) and action in ("approve", "return"):
        query["done"] = action
    done = str(request.app.router["agreement_review"].url_for(agreement_id=str(agreement_id))
               .with_query(query))
    return await submit_review(request, run, page, done)
