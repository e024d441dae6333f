"""Routes of the review workflows, added to the app by one call from app/web.py."""

from __future__ import annotations

from typing import AsyncIterator

from aiohttp import web

from ..state import CLOCK, CPU, DB, SETTINGS
from .origin import import_views as imports
from .origin import views as origin
from .origin.imports import OriginImportRunner
from .recommendation import views as rec


def setup_review_routes(app: web.Application) -> None:
    r = app.router
    # 生源信息核对 — student
    r.add_get("/student/origin", origin.student_page, name="origin_student")
    r.add_get("/student/origin/edit", origin.student_edit, name="origin_edit")
    r.add_post("/student/origin/edit", origin.student_save)
    r.add_post("/student/origin/withdraw", origin.student_withdraw, name="origin_withdraw")
    # 生源信息 — counselor (own college) and school admin (own school)
    r.add_get("/reviews/origins", origin.queue, name="origin_queue")
    r.add_post("/reviews/origins/batch", origin.batch, name="origin_batch")
    r.add_get("/reviews/origins/{origin_id:\\d+}", origin.review_page, name="origin_review")
    r.add_post("/reviews/origins/{origin_id:\\d+}/approve", origin.approve, name="origin_approve")
    r.add_post("/reviews/origins/{origin_id:\\d+}/return", origin.return_, name="origin_return")
    r.add_post("/reviews/origins/{origin_id:\\d+}/reopen", origin.reopen, name="origin_reopen")
    # 生源信息 import — school admin
    r.add_get("/school/origins/import", imports.import_form, name="origin_import")
    r.add_post("/school/origins/import", imports.import_upload)
    r.add_get("/school/origins/import/template.xlsx", imports.import_template,
              name="origin_import_template")
    r.add_get("/school/origins/import/{job_id:\\d+}", imports.import_job, name="origin_import_job")
    r.add_get("/school/origins/import/{job_id:\\d+}/errors.xlsx", imports.import_errors,
              name="origin_import_errors")
    r.add_get("/school/origins/import/{job_id:\\d+}/status", imports.import_status,
              name="origin_import_status")
    r.add_post("/school/origins/import/{job_id:\\d+}/cancel", imports.import_cancel,
               name="origin_import_cancel")
    # 推荐表 — student
    r.add_get("/student/recommendation", rec.student_page, name="recommendation_student")
    r.add_get("/student/recommendation/edit", rec.student_edit, name="recommendation_edit")
    r.add_post("/student/recommendation/edit", rec.student_save)
    r.add_post("/student/recommendation/withdraw", rec.student_withdraw,
               name="recommendation_withdraw")
    r.add_get("/student/recommendation/photo", rec.student_photo, name="recommendation_photo")
    r.add_get("/student/recommendation/print", rec.print_page, name="recommendation_print")
    r.add_get("/student/recommendation/print.pdf", rec.print_pdf, name="recommendation_pdf")
    # 推荐表 — school admin review
    r.add_get("/school/recommendations", rec.queue, name="recommendation_queue")
    r.add_post("/school/recommendations/batch", rec.batch, name="recommendation_batch")
    r.add_get("/school/recommendations/{rec_id:\\d+}", rec.review_page, name="recommendation_review")
    r.add_get("/school/recommendations/{rec_id:\\d+}/photo", rec.review_photo,
              name="recommendation_review_photo")
    r.add_post("/school/recommendations/{rec_id:\\d+}/approve", rec.approve,
               name="recommendation_approve")
    r.add_post("/school/recommendations/{rec_id:\\d+}/return", rec.return_,
               name="recommendation_return")
    r.add_post("/school/recommendations/{rec_id:\\d+}/revoke", rec.revoke,
               name="recommendation_revoke")
    # Public: the QR code on a printed 推荐表 opens this
    r.add_get("/verify/recommendation/{token}", rec.verify, name="recommendation_verify")
    app.cleanup_ctx.append(_origin_imports)


async def _origin_imports(app: web.Application) -> AsyncIterator[None]:
    runner = OriginImportRunner(app[DB], app[SETTINGS], app[CLOCK], app[CPU])
    app[imports.ORIGIN_IMPORTS] = runner
    await runner.open()
    yield
    await runner.close()
