"""create_app(settings) → the aiohttp application: state, middlewares and the route table."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import AsyncIterator

import aiohttp_jinja2
import jinja2
from aiohttp import web

from rtc.routes import probe_registry_ctx, setup_rtc_routes

from . import pages
from .admin import views as admin_views
from .applications import views as application_views
from .auth import views as auth_views
from .bodies import bounded_bodies
from .clock import Clock
from .config import Settings
from .db import Database
from .employers import views as employer_views
from .hall import views as hall_views
from .interviews import views as interview_views
from .jobs import views as job_views
from .middleware import access_middleware, csrf_middleware, session_middleware, set_security_headers
from .notify.outbox import OutboxWorker
from .resumes import views as resume_views
from .reviews.routes import setup_review_routes
from .signing.routes import setup_signing_routes
from .registration.routes import setup_registration_routes
from .termination.routes import setup_termination_routes
from .monitor.views import setup_monitor_routes
from .sms.routes import setup_sms_routes
from .statistics.routes import setup_statistics_routes
from .looplag import LoopLagProbe
from .offload import CpuPool
from .ops.metrics import request_timing
from .ops.routes import setup_ops
from .proxy import forwarded_middleware, setup_proxy
from .state import CLOCK, CPU, DB, FILES, IMPORTS, LOOP_LAG, OUTBOX, SETTINGS
from .students import views as student_views
from .students.imports import ImportRunner
from .templating import FILTERS
from .uploads import FileStore
from rtc.setup import setup_hall

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/", pages.home, name="home")
    r.add_get("/healthz", pages.healthz, name="healthz")
    # 学生激活
    r.add_get("/activate", auth_views.activate_form, name="activate")
    r.add_post("/activate", auth_views.activate_submit)
    r.add_get("/activate/profile", auth_views.profile_form, name="activate_profile")
    r.add_post("/activate/profile", auth_views.profile_submit)
    # 登录 / 退出
    r.add_get("/login/student", auth_views.login_form, name="login_student")
    r.add_post("/login/student", auth_views.login_submit)
    r.add_get("/login/employer", auth_views.login_form, name="login_employer")
    r.add_post("/login/employer", auth_views.login_submit)
    r.add_get("/login/staff", auth_views.login_form, name="login_staff")
    r.add_post("/login/staff", auth_views.login_submit)
    r.add_post("/logout", auth_views.logout, name="logout")
    # 忘记密码
    r.add_get("/password/forgot", auth_views.forgot_form, name="forgot")
    r.add_post("/password/forgot", auth_views.forgot_submit)
    r.add_get("/password/forgot/{token}/verify", auth_views.verify_form, name="forgot_verify")
    r.add_post("/password/forgot/{token}/code", auth_views.send_code, name="forgot_send_code")
    r.add_post("/password/forgot/{token}/verify", auth_views.verify_submit)
    r.add_get("/password/forgot/{token}/new", auth_views.new_password_form, name="forgot_new")
    r.add_post("/password/forgot/{token}/new", auth_views.new_password_submit)
    # Role centres
    r.add_get("/student", pages.student_centre, name="student_centre")
    r.add_get("/employer", pages.employer_centre, name="employer_centre")
    r.add_get("/counselor", pages.counselor_centre, name="counselor_centre")
    r.add_get("/school", pages.school_centre, name="school_centre")
    r.add_get("/platform", pages.platform_centre, name="platform_centre")
    r.add_get("/notices", pages.notices_page, name="notices")
    r.add_post("/notices/read", pages.notices_read, name="notices_read")
    # School admin: student records and imports
    r.add_get("/school/students", student_views.record_list, name="student_records")
    r.add_get("/school/imports", student_views.import_form, name="student_import")
    r.add_post("/school/imports", student_views.import_upload)
    r.add_get("/school/imports/template.csv", student_views.import_template,
              name="student_import_template")
    r.add_get("/school/imports/{job_id:\\d+}", student_views.import_job, name="student_import_job")
    r.add_get("/school/imports/{job_id:\\d+}/status", student_views.import_status,
              name="student_import_status")
    r.add_post("/school/imports/{job_id:\\d+}/cancel", student_views.import_cancel,
               name="student_import_cancel")
    # 单位注册 and review
    r.add_get("/employer/register", employer_views.register_form, name="employer_register")
    r.add_post("/employer/register", employer_views.register_submit)
    r.add_get("/employer/profile", employer_views.profile_form, name="employer_profile")
    r.add_post("/employer/profile", employer_views.profile_submit)
    r.add_get("/platform/employers", employer_views.admin_list, name="admin_employers")
    r.add_get("/platform/employers/{employer_id:\\d+}", employer_views.admin_detail,
              name="admin_employer")
    r.add_post("/platform/employers/{employer_id:\\d+}/review", employer_views.admin_review,
               name="admin_employer_review")
    # 简历管理
    r.add_get("/student/resumes", resume_views.index, name="resumes")
    r.add_get("/student/resumes/{kind:zh|en}/edit", resume_views.edit_form, name="resume_edit")
    r.add_post("/student/resumes/{kind:zh|en}/edit", resume_views.edit_submit)
    r.add_get("/student/resumes/{kind:zh|en}/preview", resume_views.preview, name="resume_preview")
    r.add_post("/student/resumes/attachments", resume_views.upload, name="resume_upload")
    r.add_post("/student/resumes/{resume_id:\\d+}/default", resume_views.make_default,
               name="resume_default")
    r.add_post("/student/resumes/{resume_id:\\d+}/delete", resume_views.delete,
               name="resume_delete")
    # Jobs and applications
    r.add_get("/jobs", job_views.board, name="jobs")
    r.add_get("/jobs/{job_id:\\d+}", job_views.detail, name="job")
    r.add_post("/jobs/{job_id:\\d+}/apply", application_views.apply, name="job_apply")
    r.add_get("/student/applications", application_views.my_applications, name="my_applications")
    r.add_post("/student/applications/{application_id:\\d+}/withdraw", application_views.withdraw,
               name="application_withdraw")
    r.add_get("/employer/jobs", job_views.my_jobs, name="my_jobs")
    r.add_get("/employer/jobs/new", job_views.new_form, name="job_new")
    r.add_post("/employer/jobs/new", job_views.new_submit)
    r.add_get("/employer/jobs/{job_id:\\d+}/edit", job_views.edit_form, name="job_edit")
    r.add_post("/employer/jobs/{job_id:\\d+}/edit", job_views.edit_submit)
    r.add_post("/employer/jobs/{job_id:\\d+}/close", job_views.close, name="job_close")
    r.add_get("/employer/jobs/{job_id:\\d+}/applicants", application_views.applicants,
              name="applicants")
    r.add_get("/employer/applications/{application_id:\\d+}", application_views.application,
              name="application")
    r.add_post("/employer/applications/{application_id:\\d+}/reject", application_views.reject,
               name="application_reject")
    r.add_get("/platform/jobs", job_views.admin_list, name="admin_jobs")
    r.add_get("/platform/jobs/{job_id:\\d+}", job_views.admin_detail, name="admin_job")
    r.add_post("/platform/jobs/{job_id:\\d+}/review", job_views.admin_review,
               name="admin_job_review")
    # 视频面试邀请
    r.add_post("/employer/interviews/invite", interview_views.invite, name="interview_invite")
    r.add_get("/employer/interviews", interview_views.schedule, name="interview_schedule")
    r.add_get("/employer/interviews/{interview_id:\\d+}", interview_views.reschedule_form,
              name="interview_reschedule")
    r.add_post("/employer/interviews/{interview_id:\\d+}", interview_views.reschedule_submit)
    r.add_post("/employer/interviews/{interview_id:\\d+}/cancel", interview_views.cancel,
               name="interview_cancel")
    r.add_post("/employer/interviews/{interview_id:\\d+}/release", interview_views.release,
               name="interview_release")
    r.add_get("/student/interviews", interview_views.my_interviews, name="my_interviews")
    r.add_get("/student/interviews/{interview_id:\\d+}", interview_views.invitation,
              name="interview_invitation")
    r.add_post("/student/interviews/{interview_id:\\d+}/answer", interview_views.answer,
               name="interview_answer")
    # 洽谈面试大厅
    r.add_get("/hall/interviews/{interview_id:\\d+}", hall_views.student_room, name="hall_student")
    r.add_get("/hall/booths/{session_id:\\d+}", hall_views.booth_room, name="hall_booth")
    r.add_get("/hall/booths/{session_id:\\d+}/walk-in", hall_views.walk_in_room,
              name="hall_walk_in")
    r.add_get("/hall/booths/{session_id:\\d+}/resumes/{application_id:\\d+}",
              hall_views.resume_fragment, name="hall_resume")
    r.add_get("/files/{file_id:[A-Za-z0-9_-]+}", application_views.download, name="file")
    # Platform admin
    r.add_get("/platform/outbox", admin_views.outbox, name="outbox")
    r.add_get("/platform/outbox/{mail_id:\\d+}", admin_views.outbox_mail, name="outbox_mail")
    r.add_post("/platform/outbox/{mail_id:\\d+}/resend", admin_views.outbox_resend,
               name="outbox_resend")
    setup_review_routes(app)  # 生源信息核对, 推荐表
    setup_signing_routes(app)  # 签约中心
    setup_monitor_routes(app)  # 大厅监控, hall reports
    setup_registration_routes(app)  # 就业信息登记
    setup_sms_routes(app)  # 短信发件箱, 手机认证
    setup_termination_routes(app)  # 解约中心
    setup_statistics_routes(app)  # 就业统计 and the exports
    setup_rtc_routes(app)
    r.add_static("/static", ROOT / "static", name="static", append_version=False)


@web.middleware
async def error_pages(request: web.Request, handler):  # noqa: ANN001
    try:
        return await handler(request)
    except web.HTTPException as exc:
        # Only aiohttp's bare default bodies are replaced; a handler's own page is kept.
        # A body over client_max_size (aiohttp's English one-liner, or app/bodies.py past
        # its bounds) always gets the Chinese page.
        if exc.status == 413 or (
                exc.status in (403, 404) and exc.text == f"{exc.status}: {exc.reason}"):
            context = {"request": request, "status": exc.status,
                       "max_mb": f"{request.app[SETTINGS].upload_max_bytes / (1024 * 1024):g}",
                       **await pages.template_context(request)}
            response = aiohttp_jinja2.render_template("error.html", request, context,
                                                      status=exc.status)
            for cookie in exc.cookies.values():  # keep a CSRF cookie set on the way out
                response.cookies[cookie.key] = cookie
            return response
        raise


def create_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    logging.basicConfig(level=settings.log_level)
    app = web.Application(
        # forwarded_middleware first: every later part sees the client behind the proxy
        middlewares=[forwarded_middleware, request_timing, error_pages, session_middleware, bounded_bodies, csrf_middleware,
                     access_middleware],
        client_max_size=settings.upload_max_bytes + 1024 * 1024,
    )
    app[SETTINGS] = settings
    setup_proxy(app)
    app[CLOCK] = clock or Clock()
    app[FILES] = FileStore(settings.data_dir, settings.storage_quota_bytes)
    aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(ROOT / "templates"), autoescape=True,
        undefined=jinja2.StrictUndefined, context_processors=[aiohttp_jinja2.request_processor, pages.template_context],
        filters=FILTERS)
    app[aiohttp_jinja2.static_root_key] = "/static"
    app.on_response_prepare.append(set_security_headers)
    app.cleanup_ctx.append(_cpu_and_probe)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_workers)
    app.cleanup_ctx.append(probe_registry_ctx)
    setup_routes(app)
    setup_hall(app)
    setup_ops(app)  # /readyz, /metrics
    return app


async def _cpu_and_probe(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    app[CPU] = CpuPool(settings.cpu_workers)
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
    app[IMPORTS] = imports
    tasks = [asyncio.create_task(outbox.run(), name="outbox")]
    await imports.open()
    yield
    await imports.close()
    outbox.stop()
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
