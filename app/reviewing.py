"""The web side of a review decision: run it, show the reason next to its field on refusal."""

from __future__ import annotations

from typing import Awaitable, Callable

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from .workflow import TransitionError
from .forms import Form
from .state import DB

Decide = Callable[[AsyncConnection, str, str | None], Awaitable[None]]
Page = Callable[[web.Request, Form, int], Awaitable[web.Response]]


async def submit_review(request: web.Request, decide: Decide, page: Page, done_url: str) -> web.Response:
    """POSTed `action` and `reason` → decide(conn, action, reason) in one transaction."""
    form = Form(await request.post())
    try:
        async with request.app[DB].write() as conn:
            await decide(conn, form.get("action"), form.get("reason").strip() or None)
    except TransitionError as exc:
        form.error(exc.field, str(exc))
        return await page(request, form, 400)
    raise web.HTTPSeeOther(done_url)
