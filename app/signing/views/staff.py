"""Counselor and school-admin review of agreements: the queue, batch approval, one item."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ... import files, paging
from ...forms import Form
from ...middleware import require_identity
from ...reviewing import submit_review
from ...roles import Role, allow
from ...state import CLOCK, DB
from .. import fields, review, service
from ..flows import ACTION_LABELS, STATE_LABELS, flow_of
from .common import int_param, see_other, sheet_context

REVIEWERS = (Role.COUNSELOR, Role.SCHOOL_ADMIN)


@allow(*REVIEWERS)
async def queue(request: web.Request) -> web.Response:
    ident = require_identity(request)
    status = request.query.get("status", "waiting")[:20]
    channel = request.query.get("channel", "")[:10]
    wanted = paging.params(request.query)
    async with request.app[DB].read() as conn:
        page = await review.queue(conn, ident, wanted, status=status, channel=channel)
    return aiohttp_jinja2.render_template("signing/queue.html", request, {
        "page": page, "rows": page.rows, "status": status, "channel": channel, "q": wanted.q,
        "labels": STATE_LABELS,
        "statuses": [(s, STATE_LABELS[s]) for s in review.STAFF_VISIBLE],
        "can_batch": ident.role == Role.COUNSELOR, "done": request.query.get("done", ""),
        "problems": request.query.getall("problem", [])[:20]})


@allow(Role.COUNSELOR)
async def approve_batch(request: web.Request) -> web.Response:
    post = await request.post()
    ids = [int(v) for v in post.getall("ids", []) if isinstance(v, str) and v.isdigit() and len(v) < 12]
    async with request.app[DB].write() as conn:
        done, problems = await review.approve_batch(conn, require_identity(request), ids,
                                                    now=request.app[CLOCK].now())
    raise see_other(request, "agreement_queue", {"done": str(done), "problem": problems[:20]})


async def _context(request: web.Request, agreement_id: int) -> dict[str, Any]:
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        row = await service.item(conn, ident, agreement_id)
        if row is None or row.status not in review.STAFF_VISIBLE:
            raise web.HTTPNotFound()
        history = await service.history(conn, row)
        scans = await files.listed(conn, row.scans or [])
    flow = flow_of(row.channel)
    can = [a for a in flow.actions_for(row.status, ident.role) if a in ("approve", "return")]
    return {**sheet_context(request, row, changed=fields.changed(row.previous_data, row.data)),
            "history": history, "scans": scans, "can": can, "actions": ACTION_LABELS,
            "review_url": str(request.app.router["agreement_decide"].url_for(agreement_id=str(row.id)))}


@allow(*REVIEWERS)
async def review_page(request: web.Request) -> web.Response:
    context = await _context(request, int_param(request, "agreement_id"))
    return aiohttp_jinja2.render_template("signing/review.html", request, {**context, "form": Form()})


@allow(*REVIEWERS)
async def decide(request: web.Request) -> web.Response:
    agreement_id = int_param(request, "agreement_id")

    async def run(conn, action: str, reason: str | None) -> bool:  # noqa: ANN001
        return await review.decide(conn, require_identity(request), agreement_id, action,
                                   reason=reason, now=request.app[CLOCK].now()) is not None

    async def page(request: web.Request, form: Form, status: int) -> web.Response:
        return aiohttp_jinja2.render_template("signing/review.html", request,
                                              {**await _context(request, agreement_id), "form": form},
                                              status=status)
    done = str(request.app.router["agreement_review"].url_for(agreement_id=str(agreement_id)))
    return await submit_review(request, run, page, done)
