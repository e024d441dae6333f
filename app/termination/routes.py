"""Routes of 解约中心, added to the app by one call from app/web.py."""

from __future__ import annotations

from aiohttp import web

from ..roles import Role
from .views import forced, parties, staff

AGREEMENT, REQUEST = "{agreement_id:\\d+}", "{request_id:\\d+}"


def setup_termination_routes(app: web.Application) -> None:
    r = app.router
    # 【解约中心】 of each party: the student (签约中心) and the employer (单位中心)
    for role, prefix, name in ((Role.STUDENT, "/student/termination", "termination"),
                               (Role.EMPLOYER, "/employer/termination", "employer_termination")):
        r.add_get(prefix, parties.for_role(role, parties.centre), name=f"{name}_centre")
        r.add_get(f"{prefix}/apply/{AGREEMENT}", parties.for_role(role, parties.apply_form),
                  name=f"{name}_apply")
        r.add_post(f"{prefix}/apply/{AGREEMENT}", parties.for_role(role, parties.apply))
        r.add_get(f"{prefix}/{REQUEST}", parties.for_role(role, parties.request_page),
                  name=f"{name}_request")
        r.add_post(f"{prefix}/{REQUEST}/withdraw", parties.for_role(role, parties.withdraw),
                   name=f"{name}_withdraw")
    # Counselor (own college) then school admin (own school)
    r.add_get("/reviews/terminations", staff.queue, name="termination_queue")
    r.add_post("/reviews/terminations/batch", staff.batch, name="termination_batch")
    r.add_get(f"/reviews/terminations/{REQUEST}", staff.review_page, name="termination_review")
    r.add_post(f"/reviews/terminations/{REQUEST}", staff.decide)
    r.add_post("/school/termination/window", staff.set_window, name="termination_window")
    # 管理员强制解约: school admin (own school), platform admin (any)
    r.add_get("/school/termination/force", forced.force_page, name="termination_force")
    r.add_post("/school/termination/force", forced.force)
    # 解约函 and proofs, through the agreement's scope
    r.add_get(f"/agreements/{AGREEMENT}/termination/{{file_id:[A-Za-z0-9_-]{{1,64}}}}",
              forced.document, name="termination_document")
