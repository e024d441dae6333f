"""Routes of 学生信息 (the staff's list of students) and 学生档案 (one student's whole file)."""

from __future__ import annotations

from aiohttp import web

from . import views


def setup_roster_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/school/students", views.record_list, name="student_records")
    r.add_get("/school/students/{record_id}", views.file_page, name="student_file")
