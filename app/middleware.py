"""Session, CSRF and access middlewares, and the headers every response carries."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web

from .auth import sessions
from .auth.sessions import Identity
from .roles import ACCESS_ATTR, PUBLIC, Role
from .security import RESOURCE_CSP, SECURITY_HEADERS, csrf_token_valid, new_csrf_token
from .state import ACCOUNT_CACHE, CLOCK, DB, SETTINGS

SESSION_COOKIE = "sid"
CSRF_COOKIE = "csrftoken"
CSRF_FIELD = "_csrf"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
SOCKETIO_PATH = "/socket.io/"

IDENTITY = web.RequestKey("identity", Identity)  # None when anonymous
UNREAD_NOTICES = web.RequestKey("unread_notices", int)  # read with the session, for the header
CSRF_TOKEN = web.RequestKey("csrf_token", str)
# the generations (by table group) the session was checked under (app/accountcache.py)
ACCOUNT_EPOCH = web.RequestKey("account_epoch", dict)
_NEW_CSRF = web.RequestKey("csrf_new", bool)


def identity(request: web.Request) -> Identity | None:
    return request.get(IDENTITY)


def require_identity(request: web.Request) -> Identity:
    ident = request.get(IDENTITY)
    if ident is None:  # the access middleware lets no anonymous request reach here
        raise web.HTTPForbidden()
    return ident


def _needs_session(request: web.Request) -> bool:
    """Static files are the same for everyone; socket.io checks the session itself in its
    connect handler (rtc/namespace.py), and its polling requests must not pay for it."""
    if request.path.startswith(SOCKETIO_PATH):
        return False
    route = request.match_info.route
    return not isinstance(getattr(route, "resource", None), web.StaticResource)


@web.middleware
async def session_middleware(request: web.Request, handler):  # noqa: ANN001
    request[IDENTITY] = None
    request[UNREAD_NOTICES] = 0
    token = request.cookies.get(SESSION_COOKIE)
    if token and _needs_session(request):
        app = request.app
        now = app[CLOCK].now()

        async def load() -> sessions.Loaded | None:
            async with app[DB].read() as conn:
                return await sessions.load_for_page(conn, token, now)
        found = await app[ACCOUNT_CACHE].session(token, now, load)
        if found:
            request[IDENTITY] = found.identity
            request[UNREAD_NOTICES] = found.unread_notices
            if found.touch_due:  # a write to the session: what was read is then older than it
                async with app[DB].write() as conn:
                    await sessions.touch(conn, found.identity, now, app[SETTINGS].session_days)
            elif found.epoch is not None:
                request[ACCOUNT_EPOCH] = found.epoch
    return await handler(request)


def allowed_origins(request: web.Request) -> set[str]:
    """The site's public origin, and this request's own (same-origin) one."""
    base = urlsplit(request.app[SETTINGS].public_base_url)
    return {f"{base.scheme}://{base.netloc}", f"{request.scheme}://{request.host}"}


@web.middleware
async def csrf_middleware(request: web.Request, handler):  # noqa: ANN001
    cookie = request.cookies.get(CSRF_COOKIE, "")
    secret = request.app[SETTINGS].secret_key
    # only a token this server made and signed is used: a client-chosen value would be
    # echoed into pages and split cached pages on itself (app/pagecache.py)
    if not csrf_token_valid(secret, cookie):
        cookie = new_csrf_token(secret)
        request[_NEW_CSRF] = True
    request[CSRF_TOKEN] = cookie
    # socket.io checks the cookie and the Origin itself in its connect handler (rtc/hall.py)
    if request.method in UNSAFE and not request.path.startswith(SOCKETIO_PATH):
        origin = request.headers.get("Origin")
        if origin and origin not in allowed_origins(request):
            raise _csrf_refused(request)
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.content_type in (
                "application/x-www-form-urlencoded", "multipart/form-data"):
            sent = (await request.post()).get(CSRF_FIELD)
        if request.get(_NEW_CSRF) or not isinstance(sent, str) \
                or not hmac.compare_digest(sent, cookie):
            raise _with_csrf_cookie(request, _csrf_refused(request))
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        raise _with_csrf_cookie(request, exc)
    return _with_csrf_cookie(request, response)


def _with_csrf_cookie(request: web.Request, response):  # noqa: ANN001, ANN202
    """Set the CSRF cookie when this request made a new token (first visit, login, logout)."""
    if request.get(_NEW_CSRF):
        response.set_cookie(CSRF_COOKIE, request[CSRF_TOKEN], httponly=True, samesite="Lax",
                            secure=request.app[SETTINGS].secure_cookies, path="/")
    return response


def _csrf_refused(request: web.Request) -> web.HTTPForbidden:
    body = aiohttp_jinja2.render_string("error.html", request, {
        "request": request, "status": 403, "csrf": True, "identity": None,
        "csrf_token": request[CSRF_TOKEN], "unread_notices": 0, "centre_url": None,
        "staff_nav": None})
    return web.HTTPForbidden(text=body, content_type="text/html")


def rotate_csrf(request: web.Request) -> None:
    """A new CSRF token at login, so a token seen before login is useless after."""
    request[CSRF_TOKEN] = new_csrf_token(request.app[SETTINGS].secret_key)
    request[_NEW_CSRF] = True


def login_url_for(roles: frozenset[Role], request: web.Request) -> str:
    if Role.STUDENT in roles:
        name = "login_student"
    elif Role.EMPLOYER in roles:
        name = "login_employer"
    else:
        name = "login_staff"
    return str(request.app.router[name].url_for().with_query(next=request.path_qs))


@web.middleware
async def access_middleware(request: web.Request, handler):  # noqa: ANN001
    match = request.match_info
    if match.http_exception is not None:
        return await handler(request)
    if isinstance(match.route.resource, web.StaticResource) or request.path.startswith(SOCKETIO_PATH):
        return await handler(request)  # socket.io authenticates in its connect handler
    allowed = getattr(match.handler, ACCESS_ATTR, None)
    if allowed == PUBLIC:
        return await handler(request)
    if not allowed:  # undeclared: fail closed
        raise web.HTTPForbidden()
    ident = identity(request)
    if ident is None:
        raise web.HTTPSeeOther(login_url_for(allowed, request))
    if ident.role not in allowed:
        raise web.HTTPForbidden()
    return await handler(request)


async def set_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    if response.content_type.startswith(("image/", "application/pdf")):
        response.headers.setdefault("Content-Security-Policy", RESOURCE_CSP)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if IDENTITY in request and request[IDENTITY] is not None:
        response.headers.setdefault("Cache-Control", "no-store")
