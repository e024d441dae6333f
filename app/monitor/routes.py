"""Routes of 大厅监控 and the hall reports. The live feed is the /monitor namespace
(rtc/monitor_feed.py)."""

from __future__ import annotations

from aiohttp import web

from . import views


def setup_monitor_routes(app: web.Application) -> None:
    # ids of at most 9 digits fit the 32-bit id columns: a longer one is a 404, not a
    # database error
    r = app.router
    r.add_get("/monitor", views.monitor_page, name="monitor")
    r.add_post("/monitor/notices", views.post_notice, name="monitor_notice")
    r.add_post("/monitor/booths/{session_id:\\d{1,9}}/close", views.close_booth,
               name="monitor_close")
    r.add_post("/monitor/tickets/{ticket_id:\\d{1,9}}/remove", views.remove_ticket,
               name="monitor_remove")
    r.add_get("/monitor/reports", views.report_list, name="hall_reports")
    r.add_get("/monitor/reports/{session_id:\\d{1,9}}", views.report_page, name="hall_report")
