"""Routes of student records: the school admin's list and the import of 学籍."""

from __future__ import annotations

from aiohttp import web

from . import views


def setup_student_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/school/imports", views.import_form, name="student_import")
    r.add_post("/school/imports", views.import_upload)
    r.add_get("/school/imports/template.xlsx", views.import_template,
              name="student_import_template")
    r.add_get("/school/imports/{job_id:\\d+}", views.import_job, name="student_import_job")
    r.add_get("/school/imports/{job_id:\\d+}/errors.xlsx", views.import_errors,
              name="student_import_errors")
    r.add_get("/school/imports/{job_id:\\d+}/status", views.import_status,
              name="student_import_status")
    r.add_post("/school/imports/{job_id:\\d+}/cancel", views.import_cancel,
               name="student_import_cancel")
