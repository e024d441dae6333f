"""Routes of 视频面试邀请: the employer's invitations and schedule, the student's answers."""

from __future__ import annotations

from aiohttp import web

from . import views


def setup_interview_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/employer/interviews/invite", views.invite, name="interview_invite")
    r.add_get("/employer/interviews", views.schedule, name="interview_schedule")
    r.add_get("/employer/interviews/{interview_id:\\d+}", views.reschedule_form,
              name="interview_reschedule")
    r.add_post("/employer/interviews/{interview_id:\\d+}", views.reschedule_submit)
    r.add_post("/employer/interviews/{interview_id:\\d+}/cancel", views.cancel,
               name="interview_cancel")
    r.add_post("/employer/interviews/{interview_id:\\d+}/release", views.release,
               name="interview_release")
    r.add_get("/student/interviews", views.my_interviews, name="my_interviews")
    r.add_get("/student/interviews/{interview_id:\\d+}", views.invitation,
              name="interview_invitation")
    r.add_post("/student/interviews/{interview_id:\\d+}/answer", views.answer,
               name="interview_answer")
