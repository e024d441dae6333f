"""Routes of 简历管理."""

from __future__ import annotations

from aiohttp import web

from . import views


def setup_resume_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/student/resumes", views.index, name="resumes")
    r.add_get("/student/resumes/{kind:zh|en}/edit", views.edit_form, name="resume_edit")
    r.add_post("/student/resumes/{kind:zh|en}/edit", views.edit_submit)
    r.add_get("/student/resumes/{kind:zh|en}/preview", views.preview, name="resume_preview")
    r.add_post("/student/resumes/attachments", views.upload, name="resume_upload")
    r.add_post("/student/resumes/{resume_id:\\d+}/default", views.make_default,
               name="resume_default")
    r.add_post("/student/resumes/{resume_id:\\d+}/delete", views.delete,
               name="resume_delete")
