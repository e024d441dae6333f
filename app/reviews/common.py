"""Small helpers the review views share."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

import aiohttp_jinja2
from aiohttp import web

from ..forms import Form
from ..middleware import require_identity
from ..reviewing import submit_review
from ..state import CLOCK


def int_param(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit() or len(raw) > 12:
        raise web.HTTPNotFound()
    return int(raw)


def school_id(request: web.Request) -> int:
    found = require_identity(request).school_id
    if found is None:
        raise web.HTTPForbidden()
    return found


def see_other(request: web.Request, name: str, query: dict | None = None, **parts: object) -> web.HTTPSeeOther:
    url = request.app.router[name].url_for(**{k: str(v) for k, v in parts.items()})
    if query:
        url = url.with_query(query)
    return web.HTTPSeeOther(str(url))


async def decide_item(request: web.Request, action: str, param: str, done_route: str, *,
                      review: Callable[..., Awaitable[Any]],
                      context: Callable[[web.Request, int], Awaitable[dict[str, Any]]],
                      template: str) -> web.Response:
    """A reviewer's decision on the item named by the URL's `param` (生源 or 推荐表): the
    flow's `review` runs in app/reviewing.submit_review; a refusal shows the review page
    again with the message, a decision goes back to that page."""
    item_id = int_param(request, param)

    async def decide(conn, action: str, reason: str | None) -> bool:  # noqa: ANN001
        return await review(conn, require_identity(request), item_id, action,
                            reason=reason, now=request.app[CLOCK].now()) is not None

    async def page(request: web.Request, form: Form, status: int) -> web.Response:
        return aiohttp_jinja2.render_template(
            template, request, {**await context(request, item_id), "form": form}, status=status)
    # back to the item, saying what was done; the queue's filters ride along for 【下一条】
    done = str(request.app.router[done_route].url_for(**{param: str(item_id)})
               .with_query({**request.query, "done": action}))
    return await submit_review(request, decide, page, done, action=action)
