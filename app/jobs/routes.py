"""Routes of jobs: the public board, the employer's postings, the platform's review."""

from __future__ import annotations

from aiohttp import web

from . import views


def setup_job_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/jobs", views.board, name="jobs")
    r.add_get("/jobs/{job_id:\\d+}", views.detail, name="job")
    r.add_get("/employer/jobs", views.my_jobs, name="my_jobs")
    r.add_get("/employer/jobs/new", views.new_form, name="job_new")
    r.add_post("/employer/jobs/new", views.new_submit)
    r.add_get("/employer/jobs/{job_id:\\d+}/edit", views.edit_form, name="job_edit")
    r.add_post("/employer/jobs/{job_id:\\d+}/edit", views.edit_submit)
    r.add_post("/employer/jobs/{job_id:\\d+}/close", views.close, name="job_close")
    r.add_get("/platform/jobs", views.admin_list, name="admin_jobs")
    r.add_get("/platform/jobs/{job_id:\\d+}", views.admin_detail, name="admin_job")
    r.add_post("/platform/jobs/{job_id:\\d+}/review", views.admin_review,
               name="admin_job_review")
