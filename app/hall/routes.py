"""Routes of the 洽谈面试大厅 pages. The live part is the /hall namespace (rtc/setup.py),
the device check is rtc/routes.py."""

from __future__ import annotations

from aiohttp import web

from . import views


def setup_hall_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/hall/interviews/{interview_id:\\d+}", views.student_room, name="hall_student")
    r.add_get("/hall/booths/{session_id:\\d+}", views.booth_room, name="hall_booth")
    r.add_get("/hall/booths/{session_id:\\d+}/walk-in", views.walk_in_room,
              name="hall_walk_in")
    r.add_get("/hall/booths/{session_id:\\d+}/resumes/{application_id:\\d+}",
              views.resume_fragment, name="hall_resume")
