"""create_app(settings) → the aiohttp application: state, middlewares and the route table."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import AsyncIterator

import aiohttp_jinja2
import jinja2
import sqlalchemy as sa
from aiohttp import web

from rtc.routes import probe_registry_ctx, setup_rtc_routes
from rtc.setup import setup_hall

from .admin.routes import setup_admin_routes
from .audit_browser.routes import setup_audit_routes
from .applications.routes import setup_application_routes
from .auth.routes import setup_auth_routes
from .bodies import bounded_bodies
from .clock import Clock
from .config import Settings
from .db import Database
from .errorlog import TracebackBudget
from .employers.routes import setup_employer_routes
from .exports.routes import setup_export_routes
from .hall.routes import setup_hall_routes
from .interviews.routes import setup_interview_routes
from .jobs.routes import setup_job_routes
from .logs import configure_logging, request_id_middleware, send_request_id
from .looplag import LoopLagProbe
from .middleware import access_middleware, csrf_middleware, session_middleware, set_security_headers
from .monitor.routes import setup_monitor_routes
from .notify.outbox import OutboxWorker
from .outbox_claim import wind_down
from .accountcache import account_cache_ctx
from .pagecache import page_cache_ctx
from .offload import CpuPool
from .ops.metrics import request_timing
from .ops.routes import setup_ops
from .pages import views as pages
from .pages.routes import setup_page_routes
from .phone.routes import setup_phone_routes
from .proxy import forwarded_middleware, setup_proxy
from .registration.routes import setup_registration_routes
from .security import configure_passwords
from .resumes.routes import setup_resume_routes
from .school_settings.routes import setup_school_settings_routes
from .reviews.routes import setup_review_routes
from .signing.routes import setup_signing_routes
from .sms.routes import setup_sms_routes
from .statistics.routes import setup_statistics_routes
from .state import CLOCK, CPU, DB, ERRORS, FILES, IMPORTS, LOOP_LAG, OUTBOX, SETTINGS
from .students.imports import ImportRunner
from .roster.routes import setup_roster_routes
from .students.routes import setup_student_routes
from .templating import FILTERS
from .termination.routes import setup_termination_routes
from .uploads import FileStore

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def setup_routes(app: web.Application) -> None:
    """Each domain registers its own routes (<domain>/routes.py); only static is added here."""
    setup_page_routes(app)  # home, healthz, role centres, 站内通知
    setup_auth_routes(app)  # 学生激活, login/logout, 忘记密码
    setup_student_routes(app)  # student records and their import
    setup_roster_routes(app)  # 学生信息 and 学生档案
    setup_employer_routes(app)  # 单位注册 and review
    setup_resume_routes(app)  # 简历管理
    setup_job_routes(app)  # jobs: board, postings, review
    setup_application_routes(app)  # 投递, applicants, file downloads
    setup_interview_routes(app)  # 视频面试邀请
    setup_hall_routes(app)  # 洽谈面试大厅 pages
    setup_admin_routes(app)  # 邮件发件箱
    setup_review_routes(app)  # 生源信息核对, 推荐表
    setup_signing_routes(app)  # 签约中心
    setup_monitor_routes(app)  # 大厅监控, hall reports
    setup_registration_routes(app)  # 就业信息登记
    setup_sms_routes(app)  # 短信发件箱
    setup_phone_routes(app)  # 手机认证
    setup_termination_routes(app)  # 解约中心
    setup_statistics_routes(app)  # 就业统计
    setup_export_routes(app)  # 导出: every workbook, as a background job
    setup_school_settings_routes(app)  # 学校设置
    setup_audit_routes(app)  # 操作日志
    setup_rtc_routes(app)  # 设备与网络检测
    app.router.add_static("/static", ROOT / "static", name="static", append_version=False)


@web.middleware
async def error_pages(request: web.Request, handler):  # noqa: ANN001
    try:
        return await handler(request)
    except web.HTTPException as exc:
        # Its traceback holds this frame, whose request holds a router's 404 in its
        # match_info: a reference cycle per request, for the cycle collector. Not logged:
        # an answer, not an error.
        exc.__traceback__ = None
        # Only aiohttp's bare default bodies are replaced; a handler's own page is kept.
        # A body over client_max_size (aiohttp's English one-liner, or app/bodies.py past
        # its bounds) always gets the Chinese page.
        if exc.status == 413 or (
                exc.status in (403, 404) and exc.text == f"{exc.status}: {exc.reason}"):
            context = {"status": exc.status,
                       "max_mb": f"{request.app[SETTINGS].upload_max_bytes / (1024 * 1024):g}",
                       **pages.template_context(request)}
            response = aiohttp_jinja2.render_template("error.html", request, context,
                                                      status=exc.status)
            for cookie in exc.cookies.values():  # keep a CSRF cookie set on the way out
                response.cookies[cookie.key] = cookie
            return response
        return plain_response(exc)
    except Exception as exc:  # noqa: BLE001  (anything else: the Chinese page, a bounded log)
        outage = is_outage(exc)
        request.app[ERRORS].log(log, "服务不可用（数据库或网络）" if outage else "请求处理出错", exc)
        exc.__traceback__ = None  # the frames hold the request: no cycle left behind
        return error_page(request, 503 if outage else 500)


def is_outage(exc: BaseException) -> bool:
    """The database (or the network to it) is away, as opposed to a bug: the page says to
    try again later, and the status is 503 so a balancer and monitoring tell the two apart."""
    return isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError,
                            ConnectionError, TimeoutError)) \
        or (isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated) \
        or isinstance(exc, OSError) and exc.errno is not None


def error_page(request: web.Request, status: int) -> web.Response:
    """The error page without anything that could need the database; plain Chinese text
    if even that cannot be rendered."""
    try:
        return aiohttp_jinja2.render_template("error.html", request, {
            "status": status, "request": request, "identity": None, "unread_notices": 0,
            "centre_url": None, "staff_nav": None, "csrf_token": ""}, status=status)
    except Exception:  # noqa: BLE001
        return web.Response(status=status, text="服务暂时不可用，请稍后再试。",
                            content_type="text/plain", charset="utf-8")


def plain_response(exc: web.HTTPException) -> web.Response:
    """The response a raised HTTPException stands for, as a plain Response. aiohttp keeps
    an exception that reaches it in a local of the frame its traceback holds (`resp = exc`),
    a reference cycle: each redirect after a form (a login, a 【保存】) left its whole
    middleware chain, request included, to the cycle collector, and 20 logins a second
    made young collections of 200 ms at 5,000 sockets. Answered here, the exception dies
    with this block's `exc`."""
    response = web.Response(status=exc.status, reason=exc.reason, body=exc.body,
                            headers=exc.headers)
    for cookie in exc.cookies.values():
        response.cookies[cookie.key] = cookie
    return response


def create_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    configure_logging(settings)
    configure_passwords(settings.argon2_time_cost, settings.argon2_memory_kib)
    # forwarded_middleware early: every later part sees the client behind the proxy (the
    # request id before it, to tell whether the peer is a proxy whose id to keep)
    middlewares = [forwarded_middleware, request_timing, error_pages, session_middleware,
                   bounded_bodies, csrf_middleware, access_middleware, pages.page_context]
    if settings.log_format == "json":  # no per-request work for a log that cannot show it
        middlewares.insert(0, request_id_middleware)
    app = web.Application(middlewares=middlewares,
                          client_max_size=settings.upload_max_bytes + 1024 * 1024)
    app[SETTINGS] = settings
    setup_proxy(app)
    app[CLOCK] = clock or Clock()
    app[ERRORS] = TracebackBudget()
    app[FILES] = FileStore(settings.data_dir, settings.storage_quota_bytes)
    aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(ROOT / "templates"), autoescape=True,
        # templates change with a deployment, not while serving: no stat() per render
        auto_reload=False,
        undefined=jinja2.StrictUndefined,
        filters=FILTERS)
    app[aiohttp_jinja2.static_root_key] = "/static"
    app.on_response_prepare.append(set_security_headers)
    if settings.log_format == "json":
        app.on_response_prepare.append(send_request_id)
    app.cleanup_ctx.append(_cpu_and_probe)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(page_cache_ctx)
    app.cleanup_ctx.append(account_cache_ctx)
    app.cleanup_ctx.append(_workers)
    app.cleanup_ctx.append(probe_registry_ctx)
    setup_routes(app)
    setup_hall(app)
    setup_ops(app)  # /readyz, /metrics
    return app


async def _cpu_and_probe(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    app[CPU] = CpuPool(settings.cpu_workers, settings.cpu_queue_limit)
    probe = None
    if settings.loop_lag_probe_seconds > 0:
        probe = app[LOOP_LAG] = LoopLagProbe(settings.loop_lag_probe_seconds)
        probe.start()
    yield
    if probe is not None:
        await probe.stop()
    app[CPU].close()


async def _database(app: web.Application) -> AsyncIterator[None]:
    db = Database(app[SETTINGS].database_url)
    app[DB] = db
    yield
    await db.dispose()


async def _workers(app: web.Application) -> AsyncIterator[None]:
    outbox = OutboxWorker(app[DB], app[SETTINGS], app[CLOCK])
    imports = ImportRunner(app[DB], app[SETTINGS], app[CLOCK], app[CPU])
    app[OUTBOX] = outbox
    outbox.watch(app[DB])
    app[IMPORTS] = imports
    sending = asyncio.create_task(outbox.run(), name="outbox")
    await imports.open()
    yield
    await imports.close()
    await wind_down(outbox, sending)
