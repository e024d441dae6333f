"""解约中心 over HTTP: 9.1 解约申请 by the student (with the employer's 解约函) or the employer,
the other party told, counselor then school review (return, resubmit, withdraw), the effect of
approval in one transaction (已解约, 毕业去向 back to 70, a new agreement with a new number),
the school's window, 9.2 管理员强制解约 with a proof, the agreement's whole history, who may
do what, and the races: one submission twice, two approvals, a forced termination against an
approval."""

from __future__ import annotations

import asyncio
import datetime as dt

from app.clock import china_date
from app.destinations.tables import graduate_destinations
from app.roles import Role
from app.termination.flows import OPEN
from app.termination.tables import OPEN_STATES, termination_requests
from app.tables import audit_log, email_outbox, files, notices
from tests.conftest import count, field_error, form_error
from tests.signing_kit import (AGREEMENT, add_account, agreement_row, as_user, ready_student,
                               second_employer)
from tests.termination_kit import (agree_new, apply, audit_rows, effective, force,
                                   offline_effective, requests)


def test_open_states_are_the_flows():
    assert set(OPEN_STATES) == {s.value for s in OPEN}


async def _approve(make_client, rid: int, *users: str) -> None:  # noqa: ANN001
    for username in users:
        staff = await as_user(make_client, "staff", username)
        resp = await staff.post(f"/reviews/terminations/{rid}", {"action": "approve"})
        assert resp.status == 303, await resp.text()


async def test_student_applies_and_both_reviews_terminate(make_client, world, settings, clock):
    student, employer, aid = await effective(make_client, world, settings, clock)
    db, s = settings.database_url, world.active_student()
    centre = await (await student.get("/student/signing")).text()
    assert "解约中心" in centre and "/student/termination" in centre
    page = await (await student.get("/student/termination")).text()
    assert "解约申请" in page and f"/student/termination/apply/{aid}" in page
    form = await (await student.get(f"/student/termination/apply/{aid}")).text()
    for text in ("继续深造", "单位承诺无法兑现", "单位违约", "解约函", ">提交<"):
        assert text in form
    # Bad input: the messages beside their fields, what was typed kept, nothing written.
    resp = await apply(student, "student", aid, reason_code="", letter=None)
    html = await resp.text()
    assert resp.status == 400 and field_error(html, "reason_code") == "请选择解约原因"
    assert "解约函" in field_error(html, "letter") and "考取研究生" in html
    resp = await apply(student, "student", aid, letter=("letter.png", b"not an image at all"))
    assert resp.status == 400 and "JPG、PNG 图片或 PDF" in field_error(await resp.text(), "letter")
    assert await count(db, termination_requests) == 0 and await count(db, files) == 0
    # 【提交】: the employer is told (notice and mail).
    resp = await apply(student, "student", aid)
    assert resp.status == 303, await resp.text()
    (req,) = await requests(db)
    assert req.status == "submitted" and req.letter_file_id
    assert await count(db, notices, notices.c.account_id == world.staff["employer"][1],
                       notices.c.title.like("%解约申请%")) == 1
    assert await count(db, email_outbox, email_outbox.c.to_addr == "hr@test.example.cn",
                       email_outbox.c.subject.like("%解约申请%")) == 1
    # The employer sees it, with the 解约函.
    seen = await (await employer.get(f"/employer/termination/{req.id}")).text()
    assert "个人违约 · 继续深造" in seen and "待学院审核" in seen
    assert (await employer.get(f"/agreements/{aid}/termination/{req.letter_file_id}")).status == 200
    assert "撤回" not in seen.split("办理记录")[0].split("解约函")[-1]  # only the applicant withdraws
    # A second application of the same agreement is refused while this one is open.
    resp = await apply(employer, "employer", aid, letter=None)
    assert resp.status == 409 and "正在办理" in form_error(await resp.text())
    # The counselor returns it (a reason is required); the student changes it and resubmits.
    counselor = await as_user(make_client, "staff", "counselor0")
    resp = await counselor.post(f"/reviews/terminations/{req.id}", {"action": "return", "reason": ""})
    assert resp.status == 400 and "退回原因" in field_error(await resp.text(), "reason")
    assert (await counselor.post(f"/reviews/terminations/{req.id}",
                                 {"action": "return", "reason": "请补充违约金结清情况"})).status == 303
    again = await (await student.get(f"/student/termination/apply/{aid}")).text()
    assert "已上传解约函" in again and "考取研究生" in again
    resp = await apply(student, "student", aid, reason_text="违约金5000元已结清", letter=None)
    assert resp.status == 303, await resp.text()
    await _approve(make_client, req.id, "counselor0")
    assert (await agreement_row(db, aid)).status == "effective"
    await _approve(make_client, req.id, "school_admin0")
    # The effect, in one transaction: 已解约, no destination (70 待就业), both parties told.
    row = await agreement_row(db, aid)
    assert row.status == "terminated" and row.ended_at is not None
    assert await count(db, graduate_destinations) == 0
    assert (await requests(db))[0].status == "approved"
    for account in (s.account_id, world.staff["employer"][1]):
        assert await count(db, notices, notices.c.account_id == account,
                           notices.c.title.like("%已解约%")) == 1
    verify = await (await student.get(f"/verify/agreement?number={row.number}&code={row.verify_token[:8]}")).text()
    assert "已解约" in verify
    centre = await (await student.get("/student/signing")).text()
    assert "70 待就业" in centre and "尚未登记毕业去向" in centre
    # The agreement's whole history, from the audit rows.
    history = await (await student.get(f"/student/signing/agreements/{aid}")).text()
    for text in ("发起签约", "同意签约", "解约申请 · 提交解约申请", "解约申请 · 退回", "请补充违约金结清情况",
                 "解约申请 · 通过", "已生效 → 已解约", "counselor0", "school_admin0"):
        assert text in history, text
    assert [r.action for r in await audit_rows(db, "termination", req.id)] == [
        "termination.submit", "termination.return", "termination.submit",
        "termination.approve", "termination.approve"]
    (terminate,) = [r for r in await audit_rows(db, "agreement", aid) if r.action == "agreement.terminate"]
    assert terminate.detail == {"termination_request": req.id, "role": "school_admin"}
    # The student may sign again: a new invitation is agreed and gets a new number.
    _, username, _ = await second_employer(db, clock.now())
    other = await as_user(make_client, "employer", username)
    new_id = await agree_new(student, other, world, clock)
    new = await agreement_row(db, new_id)
    assert new.status == "college" and new.number and new.number != row.number


async def test_withdraw_until_the_first_review(make_client, world, settings, clock):
    student, employer, aid = await effective(make_client, world, settings, clock)
    db = settings.database_url
    assert (await apply(student, "student", aid)).status == 303
    (req,) = await requests(db)
    # Only the applicant withdraws.
    resp = await employer.post(f"/employer/termination/{req.id}/withdraw")
    assert resp.status == 409 and "提出申请的一方" in form_error(await resp.text())
    assert (await student.post(f"/student/termination/{req.id}/withdraw")).status == 303
    assert (await requests(db))[0].status == "withdrawn"
    # A new application; once the counselor has approved it, it cannot be withdrawn.
    assert (await apply(student, "student", aid)).status == 303
    second = (await requests(db))[1]
    await _approve(make_client, second.id, "counselor0")
    resp = await student.post(f"/student/termination/{second.id}/withdraw")
    assert resp.status == 409 and "待学校审核" in form_error(await resp.text())
    assert (await requests(db))[1].status == "college_approved"


async def test_employer_applies_the_student_is_told(make_client, world, settings, clock):
    student, employer, aid = await effective(make_client, world, settings, clock)
    db, s = settings.database_url, world.active_student()
    page = await (await employer.get("/employer/termination")).text()
    assert f"/employer/termination/apply/{aid}" in page
    # The employer's own 解约函 is optional; the reason is not.
    resp = await apply(employer, "employer", aid, reason_code="employer", reason_text="", letter=None)
    assert resp.status == 400 and field_error(await resp.text(), "reason_text") == "请填写解约说明"
    resp = await apply(employer, "employer", aid, reason_code="employer",
                       reason_text="岗位撤销", letter=None)
    assert resp.status == 303
    assert await count(db, notices, notices.c.account_id == s.account_id,
                       notices.c.title.like("%用人单位提交了%解约申请%")) == 1
    assert await count(db, email_outbox, email_outbox.c.to_addr == s.email,
                       email_outbox.c.subject.like("%解约申请%")) == 1
    (req,) = await requests(db)
    seen = await (await student.get(f"/student/termination/{req.id}")).text()
    assert "单位违约" in seen and "岗位撤销" in seen


async def test_window(make_client, world, settings, clock):
    student, employer, aid = await effective(make_client, world, settings, clock)
    db = settings.database_url
    admin = await as_user(make_client, "staff", "school_admin0")
    queue = await (await admin.get("/reviews/terminations")).text()
    assert "解约申请开放时间" in queue
    resp = await admin.post("/school/termination/window", {"opens": "2026-13-01", "closes": ""})
    html = await resp.text()
    assert resp.status == 400 and "年-月-日" in field_error(html, "opens") and "2026-13-01" in html
    today = china_date(clock.now())
    opens, closes = today + dt.timedelta(days=30), today + dt.timedelta(days=60)
    resp = await admin.post("/school/termination/window",
                            {"opens": closes.isoformat(), "closes": opens.isoformat()})
    assert resp.status == 400 and field_error(await resp.text(), "closes") == "截止日期不能早于开放日期"
    assert await count(db, audit_log, audit_log.c.action == "school_settings.change") == 0
    assert (await admin.post("/school/termination/window",
                             {"opens": opens.isoformat(), "closes": ""})).status == 303
    window = await (await admin.get("/reviews/terminations")).text()  # no "至 不限"
    assert f"只能在 {opens.isoformat()} 及以后提交解约申请" in window and "至 不限" not in window
    assert (await admin.post("/school/termination/window",
                             {"opens": opens.isoformat(), "closes": closes.isoformat()})).status == 303
    assert await count(db, audit_log, audit_log.c.action == "school_settings.change") == 2
    page = await (await student.get(f"/student/termination/apply/{aid}")).text()
    assert f"解约申请将于 {opens:%Y年%m月%d日} 开放，{closes:%Y年%m月%d日} 截止" in page
    assert ">提交<" not in page
    assert f"解约申请将于 {opens:%Y年%m月%d日} 开放" in await (await employer.get("/employer/termination")).text()
    resp = await apply(student, "student", aid)  # the server refuses too
    assert resp.status == 409 and f"{opens:%Y年%m月%d日} 开放" in form_error(await resp.text())
    assert await count(db, termination_requests) == 0
    clock.advance(days=40)  # inside the window (and past the 7-day session: log in again)
    student = await as_user(make_client, "student", world.active_student().email)
    assert (await apply(student, "student", aid)).status == 303
    assert (await student.post(f"/student/termination/{(await requests(db))[0].id}/withdraw")).status == 303
    clock.advance(days=30)  # past the closing day
    student = await as_user(make_client, "student", world.active_student().email)
    resp = await apply(student, "student", aid)
    assert resp.status == 409 and f"已于 {closes:%Y年%m月%d日} 截止" in form_error(await resp.text())


async def test_forced_termination(make_client, world, settings, clock):
    student, employer, aid = await effective(make_client, world, settings, clock)
    db, s = settings.database_url, world.active_student()
    number = (await agreement_row(db, aid)).number
    assert (await apply(employer, "employer", aid, letter=None)).status == 303  # open meanwhile
    (req,) = await requests(db)
    # Another school's admin does not find it.
    other = await as_user(make_client, "staff", "school_admin1")
    page = await (await other.get(f"/school/termination/force?number={number}")).text()
    assert "未找到" in field_error(page, "number")
    resp = await force(other, number)
    assert resp.status == 400 and "未找到" in field_error(await resp.text(), "number")
    # The school's admin: the reason and the proof are required, the proof by content.
    admin = await as_user(make_client, "staff", "school_admin0")
    review = await (await admin.get(f"/reviews/agreements/{aid}")).text()
    assert "强制解约" in review
    page = await (await admin.get(f"/school/termination/force?number={number}")).text()
    assert s.name in page and "纸质解约证明" in page
    resp = await force(admin, number, reason="", proof=None)
    html = await resp.text()
    assert resp.status == 400 and field_error(html, "reason") == "请填写解约原因" and "请上传" in field_error(html, "proof")
    resp = await force(admin, number, proof=("x.pdf", b"GIF89a not a pdf"))
    assert resp.status == 400 and field_error(await resp.text(), "proof")
    assert (await agreement_row(db, aid)).status == "effective" and await count(db, files) == 0
    resp = await force(admin, number)
    assert resp.status == 303, await resp.text()
    row = await agreement_row(db, aid)
    assert row.status == "terminated" and await count(db, graduate_destinations) == 0
    assert (await requests(db))[0].status == "superseded"
    (terminate,) = [r for r in await audit_rows(db, "agreement", aid) if r.action == "agreement.terminate"]
    assert terminate.detail["forced"] is True and terminate.reason == "单位已出具书面解约证明"
    proof = terminate.detail["proof_file_id"]
    for account in (s.account_id, world.staff["employer"][1]):
        assert await count(db, notices, notices.c.account_id == account,
                           notices.c.title.like("%已由学校管理员办理解约%")) == 1
    # The proof: staff in scope only.
    assert (await admin.get(f"/agreements/{aid}/termination/{proof}")).content_type == "application/pdf"
    counselor = await as_user(make_client, "staff", "counselor0")
    assert (await counselor.get(f"/agreements/{aid}/termination/{proof}")).status == 200
    for client in (student, employer, other):
        assert (await client.get(f"/agreements/{aid}/termination/{proof}")).status == 404
    history = await (await student.get(f"/student/signing/agreements/{aid}")).text()
    assert "管理员强制解约" in history and "单位已出具书面解约证明" in history
    assert "解约申请 · 管理员强制解约" in history  # the open application, superseded
    # Done once: a second attempt finds nothing effective.
    resp = await force(admin, number)
    assert resp.status == 400 and "已解约" in field_error(await resp.text(), "number")
    assert req.id


async def test_platform_admin_forces_any_school(make_client, world, settings, clock):
    _, _, aid = await effective(make_client, world, settings, clock)
    platform = await as_user(make_client, "staff", "platform")
    resp = await force(platform, (await agreement_row(settings.database_url, aid)).number)
    assert resp.status == 303, await resp.text()
    assert (await agreement_row(settings.database_url, aid)).status == "terminated"


async def test_who_may_do_what(make_client, world, settings, clock):
    student, employer, aid = await effective(make_client, world, settings, clock)
    db = settings.database_url
    assert (await apply(student, "student", aid)).status == 303
    (req,) = await requests(db)
    await ready_other_student(make_client, world, settings, clock)
    other_student = await as_user(make_client, "student", world.active_student(1).email)
    _, username, _ = await second_employer(db, clock.now())
    other_employer = await as_user(make_client, "employer", username)
    await add_account(db, clock.now(), role=Role.COUNSELOR, username="counselor_b",
                      school_id=world.schools[0].id, college_id=world.schools[0].college_ids[1])
    letter = f"/agreements/{aid}/termination/{req.letter_file_id}"
    for client, prefix in ((other_student, "student"), (other_employer, "employer")):
        for path in (f"/{prefix}/termination/apply/{aid}", f"/{prefix}/termination/{req.id}", letter):
            assert (await client.get(path)).status == 404, path
        assert (await client.post(f"/{prefix}/termination/{req.id}/withdraw")).status == 404
        assert (await apply(client, prefix, aid)).status == 404
        assert "S0000" not in await (await client.get(f"/{prefix}/termination")).text()
    for username in ("counselor_b", "counselor1", "school_admin1"):
        staff = await as_user(make_client, "staff", username)
        assert (await staff.get(f"/reviews/terminations/{req.id}")).status == 404, username
        assert (await staff.post(f"/reviews/terminations/{req.id}", {"action": "approve"})).status == 404
        assert (await staff.get(letter)).status == 404
        assert world.active_student().name not in await (await staff.get("/reviews/terminations?status=")).text()
    # Roles: a party cannot review or force; staff cannot apply; a counselor cannot force;
    # the student's routes are not the employer's and the other way round.
    assert (await student.post(f"/reviews/terminations/{req.id}", {"action": "approve"})).status == 403
    assert (await student.get("/school/termination/force")).status == 403
    assert (await employer.get("/student/termination")).status == 403
    assert (await student.get("/employer/termination")).status == 403
    counselor = await as_user(make_client, "staff", "counselor0")
    assert (await counselor.get("/school/termination/force")).status == 403
    assert (await counselor.post("/school/termination/window", {"opens": ""})).status == 403
    assert (await counselor.get(letter)).status == 200
    platform = await as_user(make_client, "staff", "platform")
    assert (await platform.get("/reviews/terminations")).status == 403
    assert (await requests(db))[0].status == "submitted"


async def ready_other_student(make_client, world, settings, clock) -> None:  # noqa: ANN001
    await ready_student(settings.database_url, world, clock.now(), school=1)


# --- races --------------------------------------------------------------------------------------

async def test_the_same_application_submitted_twice_at_once(make_client, world, settings, clock):
    student, _, aid = await effective(make_client, world, settings, clock)
    tab = await as_user(make_client, "student", world.active_student().email)
    await tab.get("/student/termination")
    results = await asyncio.gather(apply(student, "student", aid), apply(tab, "student", aid))
    assert sorted(r.status for r in results) == [303, 409]
    assert len(await requests(settings.database_url)) == 1
    assert await count(settings.database_url, audit_log, audit_log.c.action == "termination.submit") == 1


async def test_two_school_admins_approving_at_once(make_client, world, settings, clock):
    student, _, aid = await effective(make_client, world, settings, clock)
    db = settings.database_url
    assert (await apply(student, "student", aid)).status == 303
    (req,) = await requests(db)
    await _approve(make_client, req.id, "counselor0")
    await add_account(db, clock.now(), role=Role.SCHOOL_ADMIN, username="school_admin0b",
                      school_id=world.schools[0].id)
    a = await as_user(make_client, "staff", "school_admin0")
    b = await as_user(make_client, "staff", "school_admin0b")
    results = await asyncio.gather(
        a.post(f"/reviews/terminations/{req.id}", {"action": "approve"}),
        b.post(f"/reviews/terminations/{req.id}", {"action": "approve"}))
    assert sorted(r.status for r in results) == [303, 409]
    assert (await agreement_row(db, aid)).status == "terminated"
    assert await count(db, audit_log, audit_log.c.action == "agreement.terminate") == 1
    assert [r.action for r in await audit_rows(db, "termination", req.id)].count("termination.approve") == 2


async def test_forced_termination_racing_an_approval(make_client, world, settings, clock):
    """Whichever wins, the agreement is terminated once, by one audited step, and the request
    ends approved (the approval won) or superseded (the forced termination won)."""
    student, employer, aid = await effective(make_client, world, settings, clock)
    db = settings.database_url
    await add_account(db, clock.now(), role=Role.SCHOOL_ADMIN, username="school_admin0b",
                      school_id=world.schools[0].id)
    a = await as_user(make_client, "staff", "school_admin0")
    b = await as_user(make_client, "staff", "school_admin0b")
    for n in range(3):  # a few rounds, so either side gets to win
        assert (await apply(student, "student", aid)).status == 303, n
        req = (await requests(db))[-1]
        await _approve(make_client, req.id, "counselor0")
        number = (await agreement_row(db, aid)).number
        results = await asyncio.gather(a.post(f"/reviews/terminations/{req.id}", {"action": "approve"}),
                                       force(b, number))
        statuses = sorted(r.status for r in results)
        assert statuses in ([303, 400], [303, 409]), statuses
        assert (await agreement_row(db, aid)).status == "terminated"
        terminations = [r for r in await audit_rows(db, "agreement", aid) if r.action == "agreement.terminate"]
        assert len(terminations) == 1
        forced = bool(terminations[0].detail.get("forced"))
        assert (await requests(db))[-1].status == ("superseded" if forced else "approved")
        assert await count(db, graduate_destinations) == 0
        # Sign again for the next round.
        aid = await agree_new(student, employer, world, clock)
        for username in ("counselor0", "school_admin0"):
            staff = await as_user(make_client, "staff", username)
            assert (await staff.post(f"/reviews/agreements/{aid}", {"action": "approve"})).status == 303


async def test_offline_unit_without_account_is_mailed(make_client, world, settings, clock):
    db = settings.database_url
    await ready_student(db, world, clock.now())
    aid = await offline_effective(db, world, settings.data_dir, clock.now())
    assert (await agreement_row(db, aid)).status == "effective"
    unit = AGREEMENT["email"]
    student = await as_user(make_client, "student", world.active_student().email)
    assert (await apply(student, "student", aid)).status == 303
    assert await count(db, email_outbox, email_outbox.c.to_addr == unit,
                       email_outbox.c.subject.like("%学生提交了%解约申请%")) == 1
    (req,) = await requests(db)
    await _approve(make_client, req.id, "counselor0", "school_admin0")
    assert (await agreement_row(db, aid)).status == "terminated"
    assert await count(db, email_outbox, email_outbox.c.to_addr == unit,
                       email_outbox.c.subject.like("%已解约%")) == 1
    assert await count(db, graduate_destinations) == 0
