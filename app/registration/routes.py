"""Routes of 就业信息登记, added to the app by one call from app/web.py."""

from __future__ import annotations

from aiohttp import web

from . import views


def setup_registration_routes(app: web.Application) -> None:
    r = app.router
    # student
    r.add_get("/student/registration", views.student_page, name="registration_student")
    r.add_get("/student/registration/report", views.report_page, name="registration_report")
    r.add_get("/student/registration/choose", views.choose_page, name="registration_choose")
    r.add_post("/student/registration/choose", views.choose)
    r.add_get("/student/registration/form", views.form_page, name="registration_form")
    r.add_post("/student/registration/form", views.form_submit)
    r.add_post("/student/registration/reset", views.reset, name="registration_reset")
    r.add_post("/student/registration/withdraw", views.withdraw, name="registration_withdraw")
    r.add_post("/student/registration/revise", views.revise, name="registration_revise")
    # counselor (own college) and school admin (own school)
    r.add_get("/reviews/registrations", views.queue, name="registration_queue")
    r.add_post("/reviews/registrations/batch", views.batch, name="registration_batch")
    r.add_post("/reviews/registrations/reopen", views.reopen, name="registration_reopen")
    r.add_get("/reviews/registrations/{reg_id:\\d+}", views.review_page, name="registration_review")
    r.add_post("/reviews/registrations/{reg_id:\\d+}/approve", views.approve,
               name="registration_approve")
    r.add_post("/reviews/registrations/{reg_id:\\d+}/return", views.return_,
               name="registration_return")
