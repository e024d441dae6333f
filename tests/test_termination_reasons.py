"""解约原因's group is the one chosen (issue 24, finding 12): the select offers 个人违约 and
单位违约, each with its sub-reasons, and an employer's 单位经营问题 chosen under 单位违约 is
recorded and shown as 单位违约, never as 个人违约."""

from __future__ import annotations

import re

from app.termination import codes
from tests.termination_kit import apply, audit_rows, effective, requests


def _groups(html: str) -> dict[str, list[str]]:
    select = re.search(r'<select id="f-reason_code".*?</select>', html, re.S)[0]
    return {label: re.findall(r'<option value="[^"]+"[^>]*>([^<]+)</option>', body)
            for label, body in re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S)}


async def test_the_select_shows_both_groups_with_their_sub_reasons(make_client, world, settings,
                                                                  clock):
    _, employer, aid = await effective(make_client, world, settings, clock)
    groups = _groups(await (await employer.get(f"/employer/termination/apply/{aid}")).text())
    assert list(groups) == ["个人违约", "单位违约"]
    assert "单位经营问题" in groups["个人违约"] and "单位经营问题" in groups["单位违约"]
    # every option's label is its group's, as recorded
    for group, options in codes.GROUPS:
        for code, _ in options:
            assert codes.label(code).startswith(group), code


async def test_an_employers_business_problem_is_recorded_as_a_unit_breach(make_client, world,
                                                                          settings, clock):
    student, employer, aid = await effective(make_client, world, settings, clock)
    resp = await apply(employer, "employer", aid, reason_code="employer_business",
                       reason_text="公司业务调整，岗位撤销", letter=None)
    assert resp.status == 303, await resp.text()
    (req,) = await requests(settings.database_url)
    assert req.reason_code == "employer_business"
    seen = await (await student.get(f"/student/termination/{req.id}")).text()
    assert "单位违约 · 单位经营问题" in seen and "个人违约" not in seen
    reasons = [r.reason for r in await audit_rows(settings.database_url, "termination", req.id)]
    assert any(r and r.startswith("单位违约 · 单位经营问题") for r in reasons), reasons
