"""Routes of 投递: the student's applications, the employer's applicants, file downloads."""

from __future__ import annotations

from aiohttp import web

from . import views


def setup_application_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/jobs/{job_id:\\d+}/apply", views.apply, name="job_apply")
    r.add_get("/student/applications", views.my_applications, name="my_applications")
    r.add_post("/student/applications/{application_id:\\d+}/withdraw", views.withdraw,
               name="application_withdraw")
    r.add_get("/employer/jobs/{job_id:\\d+}/applicants", views.applicants,
              name="applicants")
    r.add_get("/employer/applications/{application_id:\\d+}", views.application,
              name="application")
    r.add_post("/employer/applications/{application_id:\\d+}/reject", views.reject,
               name="application_reject")
    # Every stored file, for whoever may read it (app/files.py decides).
    r.add_get("/files/{file_id:[A-Za-z0-9_-]+}", views.download, name="file")
