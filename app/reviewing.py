"""The web side of a review decision: run it in one transaction, tell the mail worker,
and on refusal show the message next to its field (the reason, or the page top)."""

from __future__ import annotations

from typing import Awaitable, Callable

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from .forms import Form
from .state import DB
from .workflow import ReasonRequired, TransitionError

# decide(conn, action, reason) → False when the item is not the caller's to decide (404)
Decide = Callable[[AsyncConnection, str, str | None], Awaitable[bool | None]]
Page = Callable[[web.Request, Form, int], Awaitable[web.Response]]


async def submit_review(request: web.Request, decide: Decide, page: Page,
                        done_url: str | Callable[[str], str],
                        action: str | None = None) -> web.Response:
    """The action comes from the URL (`action`) or from the form's pressed button;
    `done_url` may be made from the action taken (a page that says what was done)."""
    form = Form(await request.post())
    action = action or form.get("action")
    try:
        async with request.app[DB].write() as conn:
            found = await decide(conn, action, form.get("reason").strip() or None)
    except TransitionError as exc:
        form.error(exc.field, str(exc))
        return await page(request, form, 400 if isinstance(exc, ReasonRequired) else 409)
    if found is False:
        raise web.HTTPNotFound()
    raise web.HTTPSeeOther(done_url(action) if callable(done_url) else done_url)
