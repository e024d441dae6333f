"""Routes of employers: 单位注册, the profile, and the platform admin's review."""

from __future__ import annotations

from aiohttp import web

from . import views


def setup_employer_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/employer/register", views.register_form, name="employer_register")
    r.add_post("/employer/register", views.register_submit)
    r.add_get("/employer/profile", views.profile_form, name="employer_profile")
    r.add_post("/employer/profile", views.profile_submit)
    r.add_get("/platform/employers", views.admin_list, name="admin_employers")
    r.add_get("/platform/employers/{employer_id:\\d+}", views.admin_detail,
              name="admin_employer")
    r.add_post("/platform/employers/{employer_id:\\d+}/review", views.admin_review,
               name="admin_employer_review")
