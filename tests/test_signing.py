"""签约中心 over HTTP: 线上应约 (invite, agree or refuse, reviews), 线下签约 (entry, the
employer's confirmation link, number, document, stamped upload, review), the channel switch,
one agreement at a time, verification, and who may see what."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re

import pypdfium2
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from app.clock import china_date
from app.db import Database
from app.destinations.tables import graduate_destinations
from app.roles import Role
from app.school_settings import service as school_settings
from app.signing.tables import agreements
from app.tables import audit_log, notices
from tests.conftest import count, field_error
from tests.review_helpers import approved_origin
from tests.signing_kit import (AGREEMENT, add_account, agreement_id_from, agreement_row, as_user,
                               invite_form, last_mail_to, ready_student, second_employer,
                               upload_scans)


def until(clock, days: int = 7) -> str:
    return (china_date(clock.now()) + dt.timedelta(days=days)).isoformat()


async def invite(employer, world, clock, **changes):  # noqa: ANN001, ANN201
    await employer.get("/employer/agreements/new")
    return await employer.post("/employer/agreements/new",
                               invite_form(world, valid_until=until(clock), **changes))


async def invited(make_client, world, settings, clock):  # noqa: ANN001, ANN201
    """A ready student, the employer's invitation → (student client, employer client, id)."""
    await ready_student(settings.database_url, world, clock.now())
    student = await as_user(make_client, "student", world.active_student().email)
    employer = await as_user(make_client, "employer", "employer")
    resp = await invite(employer, world, clock)
    assert resp.status == 303, await resp.text()
    return student, employer, agreement_id_from(resp.headers["Location"])


async def test_gate_needs_approved_origin(make_client, world, settings, clock):
    s = await as_user(make_client, "student", world.active_student().email)
    page = await (await s.get("/student/signing")).text()
    assert "学校尚未导入您的生源信息" in page and "/student/origin" in page
    assert (await s.get("/student/signing/offline/new")).status == 200  # the same explanation
    assert await count(settings.database_url, agreements) == 0
    # Approved: the first visit goes to 手机认证 (8.1), and every signing page with it.
    await approved_origin(settings.database_url, world, clock.now())
    for path in ("/student/signing", "/student/signing/offline", "/student/signing/offline/new"):
        resp = await s.get(path)
        assert resp.status == 303 and resp.headers["Location"] == "/student/signing/phone", path


async def test_online_invitation_agreed_and_reviewed_to_effective(make_client, world, settings, clock):
    student, employer, aid = await invited(make_client, world, settings, clock)
    s = world.active_student()
    # The student is told: an in-site notice and a mail.
    assert await count(settings.database_url, notices, notices.c.account_id == s.account_id,
                       notices.c.title.like("%线上签约邀请%")) == 1
    assert "线上签约邀请" in (await last_mail_to(settings.database_url, s.email)).subject
    centre = await (await student.get("/student/signing")).text()
    assert "测试科技有限公司" in centre and "待学生应约" in centre
    page = await (await student.get(f"/student/signing/online/{aid}")).text()
    for text in ("软件开发工程师", "91110000600037341L", "考取研究生可解除协议", "同意签约"):
        assert text in page
    detail = await employer.get(f"/employer/agreements/{aid}")
    assert detail.status == 200 and "待学生应约" in await detail.text()
    # Inside the window the employer cannot invite again.
    again = await invite(employer, world, clock)
    assert again.status == 400 and "不能重复邀请" in field_error(await again.text(), "student_no")
    # Agreeing needs an opinion; then the agreement is numbered and goes to the college.
    resp = await student.post(f"/student/signing/online/{aid}/answer", {"action": "agree", "opinion": ""})
    assert resp.status == 409 and field_error(await resp.text(), "opinion") == "请填写应聘意见"
    resp = await student.post(f"/student/signing/online/{aid}/answer",
                              {"action": "agree", "opinion": "同意到贵单位工作"})
    assert resp.status == 303
    row = await agreement_row(settings.database_url, aid)
    assert row.status == "college" and re.fullmatch(r"2026100013\d{5}", row.number)
    # Counselor, then school admin.
    counselor = await as_user(make_client, "staff", "counselor0")
    queue = await (await counselor.get("/reviews/agreements")).text()
    assert s.name in queue
    assert (await counselor.post(f"/reviews/agreements/{aid}", {"action": "approve"})).status == 303
    admin = await as_user(make_client, "staff", "school_admin0")
    resp = await admin.post(f"/reviews/agreements/{aid}", {"action": "return", "reason": ""})
    assert resp.status == 400 and "退回原因" in field_error(await resp.text(), "reason")
    assert (await admin.post(f"/reviews/agreements/{aid}", {"action": "approve"})).status == 303
    row = await agreement_row(settings.database_url, aid)
    assert row.status == "effective" and row.effective_at is not None
    assert await count(settings.database_url, graduate_destinations,
                       graduate_destinations.c.code == "10",
                       graduate_destinations.c.source_id == aid) == 1
    # The whole history, from the audit rows.
    history = await (await student.get(f"/student/signing/agreements/{aid}")).text()
    for text in ("发起签约", "同意签约", "通过", "已生效"):
        assert text in history
    assert [r for r, in await _audit_actions(settings.database_url, aid)] == [
        "agreement.invite", "agreement.agree", "agreement.approve", "agreement.approve"]
    # Verification shows only number, name, school, employer and state.
    verify = await (await student.get(f"/verify/agreement?number={row.number}&code={row.verify_token[:8]}")).text()
    assert "有效" in verify and s.name in verify and "测试科技有限公司" in verify
    assert s.id_number not in verify
    forged = await student.get("/verify/agreement/forged-token-123")
    assert forged.status == 404 and "伪造" in await forged.text()
    # The centre shows the destination, and a new invitation is view-only.
    centre = await (await student.get("/student/signing")).text()
    assert "10 签就业协议形式就业" in centre and "已生效" in centre


async def _audit_actions(database_url, aid):  # noqa: ANN001, ANN202
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return list(await conn.execute(sa.select(audit_log.c.action).where(
                audit_log.c.entity == "agreement", audit_log.c.entity_id == str(aid))
                .order_by(audit_log.c.id)))
    finally:
        await db.dispose()


async def test_refused_or_expired_invitation_can_be_sent_again(make_client, world, settings, clock):
    student, employer, aid = await invited(make_client, world, settings, clock)
    resp = await student.post(f"/student/signing/online/{aid}/answer", {"action": "refuse", "reason": ""})
    assert resp.status == 409 and field_error(await resp.text(), "reason") == "请填写拒绝原因"
    resp = await student.post(f"/student/signing/online/{aid}/answer",
                              {"action": "refuse", "reason": "已决定读研"})
    assert resp.status == 303 and (await agreement_row(settings.database_url, aid)).status == "refused"
    resp = await invite(employer, world, clock)
    assert resp.status == 303
    second = agreement_id_from(resp.headers["Location"])
    clock.advance(days=9)  # past the 7-day window (and the 7-day session: log in again)
    student = await as_user(make_client, "student", world.active_student().email)
    employer = await as_user(make_client, "employer", "employer")
    resp = await student.post(f"/student/signing/online/{second}/answer",
                              {"action": "agree", "opinion": "同意"})
    assert resp.status == 409 and "已过期" in await resp.text()
    assert (await invite(employer, world, clock)).status == 303


async def test_channel_switch_off(make_client, world, settings, clock):
    await ready_student(settings.database_url, world, clock.now())
    db = Database(settings.database_url)
    async with db.write() as conn:
        await school_settings.change(conn, world.schools[0].id, actor_id=None, at=clock.now(),
                                     online_signing=False)
    await db.dispose()
    student = await as_user(make_client, "student", world.active_student().email)
    page = await (await student.get("/student/signing")).text()
    assert 'id="online-closed">暂未开启' in page
    employer = await as_user(make_client, "employer", "employer")
    resp = await invite(employer, world, clock)
    assert resp.status == 400 and "暂未开启线上签约" in field_error(await resp.text(), "school_id")
    assert await count(settings.database_url, agreements) == 0


async def test_invitation_form_errors_keep_input(make_client, world, settings, clock):
    await ready_student(settings.database_url, world, clock.now())
    employer = await as_user(make_client, "employer", "employer")
    resp = await invite(employer, world, clock, student_name="别人", credit_code="91110000600037341X",
                        monthly_salary="很多")
    html = await resp.text()
    assert resp.status == 400
    assert "校验位" in field_error(html, "credit_code")
    assert "金额" in field_error(html, "monthly_salary")
    assert 'value="别人"' in html
    resp = await invite(employer, world, clock, student_name="别人")
    assert "无法向该学生发起签约" in field_error(await resp.text(), "student_no")
    assert await count(settings.database_url, agreements) == 0


async def offline_generated(make_client, world, settings, clock, mailbox=None):  # noqa: ANN001, ANN201
    """A student's offline agreement through the employer's confirmation to a number."""
    await ready_student(settings.database_url, world, clock.now())
    s = await as_user(make_client, "student", world.active_student().email)
    await s.get("/student/signing/offline/new")
    resp = await s.post("/student/signing/offline/new", {**AGREEMENT, "do": "preview", "email": ""})
    assert resp.status == 400 and field_error(await resp.text(), "email") == "请填写单位邮箱"
    resp = await s.post("/student/signing/offline/new", {**AGREEMENT, "do": "preview"})
    assert resp.status == 303 and resp.headers["Location"].endswith("/preview")
    aid = agreement_id_from(resp.headers["Location"])
    preview = await (await s.get(f"/student/signing/offline/{aid}/preview")).text()
    assert "重庆示例科技有限公司" in preview and "发给单位确认" in preview
    assert (await s.post(f"/student/signing/offline/{aid}/send")).status == 303
    mail = await last_mail_to(settings.database_url, AGREEMENT["email"])
    link = re.search(r"http://127\.0\.0\.1(/agreements/confirm/\S+)", mail.body_text).group(1)
    return s, aid, link


async def test_offline_agreement_from_entry_to_effective(make_client, world, settings, clock):
    s, aid, link = await offline_generated(make_client, world, settings, clock)
    # Generating before the employer confirmed is refused.
    resp = await s.post(f"/student/signing/offline/{aid}/generate")
    assert resp.status == 409 and "待单位确认" in await resp.text()
    unit = await make_client()  # no login
    page = await (await unit.get(link)).text()
    assert "确认无误" in page and "软件开发工程师" in page
    resp = await unit.post(link, {"action": "ask_changes", "comment": ""})
    assert resp.status == 400 and field_error(await resp.text(), "comment")
    resp = await unit.post(link, {"action": "ask_changes", "comment": "月薪应为9500"})
    assert resp.status == 200 and "已将修改意见发给学生" in await resp.text()
    reused = await unit.get(link)
    assert reused.status == 410 and "已使用" in await reused.text()
    row = await agreement_row(settings.database_url, aid)
    assert row.status == "draft" and row.employer_comment == "月薪应为9500"
    resp = await s.post(f"/student/signing/offline/{aid}/edit", {**AGREEMENT, "monthly_salary": "9500",
                                                                  "do": "preview"})
    assert resp.status == 303
    assert (await s.post(f"/student/signing/offline/{aid}/send")).status == 303
    link2 = re.search(r"http://127\.0\.0\.1(/agreements/confirm/\S+)",
                      (await last_mail_to(settings.database_url, AGREEMENT["email"])).body_text).group(1)
    assert link2 != link and (await unit.get(link)).status == 404  # the old link is void
    assert (await unit.post(link2, {"action": "confirm"})).status == 200
    assert (await agreement_row(settings.database_url, aid)).status == "confirmed"
    resp = await s.post(f"/student/signing/offline/{aid}/generate")
    assert resp.status == 303
    row = await agreement_row(settings.database_url, aid)
    assert row.status == "generated" and row.number.startswith("2026100013")
    # 【查看原图】: a PNG whose QR code opens the verification page; the PDF carries the text.
    png = await s.get(f"/agreements/{aid}/original.png")
    assert png.status == 200 and png.content_type == "image/png"
    image = Image.open(io.BytesIO(await png.read()))
    codes = zxingcpp.read_barcodes(image)
    assert any(c.text.endswith(f"/verify/agreement/{row.verify_token}") for c in codes)
    pdf = await (await s.get(f"/agreements/{aid}/agreement.pdf")).read()
    text = pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range()
    for expected in (row.number, world.active_student().name, "重庆示例科技有限公司", "9500"):
        assert expected in text, expected
    # the paper that gets stamped carries the 验证码, not a passing state
    assert row.verify_token[:8] in text and "待上传盖章协议书" not in text and "状态：" not in text
    sheet = await (await s.get(f"/student/signing/agreements/{aid}")).text()
    assert 'id="agreement-state"' in sheet  # the screen still shows it
    verify = await (await s.get(f"/verify/agreement/{row.verify_token}")).text()
    assert "审核中" in verify
    # Upload the stamped copy: a photo whose EXIF is dropped.
    photo = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"
    Image.new("RGB", (600, 800), (240, 240, 240)).save(photo, "JPEG", exif=exif.tobytes())
    resp = await upload_scans(s, aid, [("page1.txt", b"not an image at all")])
    assert resp.status == 400 and field_error(await resp.text(), "scans")
    resp = await upload_scans(s, aid, [("page1.jpg", photo.getvalue()), ("page2.jpg", photo.getvalue())])
    assert resp.status == 303
    row = await agreement_row(settings.database_url, aid)
    assert row.status == "scan_review" and len(row.scans) == 2
    scan = await s.get(f"/agreements/{aid}/scans/{row.scans[0]}")
    assert scan.status == 200 and b"SecretCamera" not in await scan.read()
    admin = await as_user(make_client, "staff", "school_admin0")
    resp = await admin.post(f"/reviews/agreements/{aid}", {"action": "return", "reason": "盖章不清晰"})
    assert resp.status == 303 and (await agreement_row(settings.database_url, aid)).status == "scan_returned"
    resp = await upload_scans(s, aid, [("page1.jpg", photo.getvalue())])
    assert resp.status == 303
    assert (await admin.post(f"/reviews/agreements/{aid}", {"action": "approve"})).status == 303
    assert (await agreement_row(settings.database_url, aid)).status == "effective"
    assert await count(settings.database_url, graduate_destinations,
                       graduate_destinations.c.source == "agreement") == 1
    # A second agreement cannot be started while this one is effective.
    page = await (await s.get("/student/signing/offline")).text()
    assert "已有生效的毕业去向" in page and "如需变更请先办理解约" in page


async def test_confirmation_link_forged_and_expired(make_client, world, settings, clock):
    s, aid, link = await offline_generated(make_client, world, settings, clock)
    unit = await make_client()
    forged = link[:-3] + ("abc" if not link.endswith("abc") else "xyz")
    resp = await unit.get(forged)
    assert resp.status == 404 and "链接无效" in await resp.text()
    resp = await unit.post(forged, {"action": "confirm"})
    assert resp.status == 404
    clock.advance(days=8)
    unit = await make_client()
    resp = await unit.get(link)
    assert resp.status == 410 and "已过期" in await resp.text()
    assert (await unit.post(link, {"action": "confirm"})).status == 410
    assert (await agreement_row(settings.database_url, aid)).status == "awaiting"


async def test_who_may_see_an_agreement(make_client, world, settings, clock):
    student, employer, aid = await invited(make_client, world, settings, clock)
    await student.post(f"/student/signing/online/{aid}/answer", {"action": "agree", "opinion": "同意"})
    other_student = await ready_student(settings.database_url, world, clock.now(), school=1)
    assert other_student
    other = await as_user(make_client, "student", world.active_student(1).email)
    for path in (f"/student/signing/online/{aid}", f"/student/signing/agreements/{aid}",
                 f"/agreements/{aid}/agreement.pdf", f"/agreements/{aid}/original.png"):
        assert (await other.get(path)).status == 404, path
    assert (await other.post(f"/student/signing/online/{aid}/answer", {"action": "refuse", "reason": "x"})).status == 404
    _, username, _ = await second_employer(settings.database_url, clock.now())
    stranger = await as_user(make_client, "employer", username)
    assert (await stranger.get(f"/employer/agreements/{aid}")).status == 404
    assert (await stranger.post(f"/employer/agreements/{aid}/withdraw")).status == 404
    assert (await stranger.get(f"/agreements/{aid}/agreement.pdf")).status == 404
    await add_account(settings.database_url, clock.now(), role=Role.COUNSELOR, username="counselor_b",
                      school_id=world.schools[0].id, college_id=world.schools[0].college_ids[1])
    for username in ("counselor_b", "counselor1", "school_admin1"):
        staff = await as_user(make_client, "staff", username)
        assert (await staff.get(f"/reviews/agreements/{aid}")).status == 404, username
        assert (await staff.post(f"/reviews/agreements/{aid}", {"action": "approve"})).status == 404, username
        assert world.active_student().name not in await (await staff.get("/reviews/agreements?status=")).text()
    # The student cannot review, and the employer cannot answer for the student.
    assert (await student.post(f"/reviews/agreements/{aid}", {"action": "approve"})).status == 403
    assert (await employer.post(f"/student/signing/online/{aid}/answer", {"action": "agree"})).status == 403
    assert (await agreement_row(settings.database_url, aid)).status == "college"


async def test_two_school_admins_approving_at_once(make_client, world, settings, clock):
    student, employer, aid = await invited(make_client, world, settings, clock)
    await student.post(f"/student/signing/online/{aid}/answer", {"action": "agree", "opinion": "同意"})
    counselor = await as_user(make_client, "staff", "counselor0")
    await counselor.post(f"/reviews/agreements/{aid}", {"action": "approve"})
    await add_account(settings.database_url, clock.now(), role=Role.SCHOOL_ADMIN,
                      username="school_admin0b", school_id=world.schools[0].id)
    a = await as_user(make_client, "staff", "school_admin0")
    b = await as_user(make_client, "staff", "school_admin0b")
    await a.get("/reviews/agreements")
    await b.get("/reviews/agreements")
    results = await asyncio.gather(a.post(f"/reviews/agreements/{aid}", {"action": "approve"}),
                                   b.post(f"/reviews/agreements/{aid}", {"action": "return", "reason": "重复"}))
    assert sorted(r.status for r in results) == [303, 409]
    rows = [r for r, in await _audit_actions(settings.database_url, aid)]
    assert rows.count("agreement.approve") + rows.count("agreement.return") == 2  # counselor + one winner
    assert await count(settings.database_url, graduate_destinations) == (
        1 if (await agreement_row(settings.database_url, aid)).status == "effective" else 0)


async def test_returned_invitation_is_corrected_and_the_changes_are_marked(make_client, world, settings, clock):
    student, employer, aid = await invited(make_client, world, settings, clock)
    await student.post(f"/student/signing/online/{aid}/answer", {"action": "agree", "opinion": "同意"})
    number = (await agreement_row(settings.database_url, aid)).number
    counselor = await as_user(make_client, "staff", "counselor0")
    resp = await counselor.post(f"/reviews/agreements/{aid}", {"action": "return", "reason": "月薪与岗位不符"})
    assert resp.status == 303
    page = await (await employer.get(f"/employer/agreements/{aid}")).text()
    assert "已退回单位修改" in page and "修改后重新发送" in page and "月薪与岗位不符" in page
    await employer.post(f"/employer/agreements/{aid}/resend",
                        {**AGREEMENT, "monthly_salary": "abc", "valid_until": until(clock)})
    resp = await employer.post(f"/employer/agreements/{aid}/resend",
                               {**AGREEMENT, "monthly_salary": "9800", "valid_until": until(clock)})
    assert resp.status == 303
    row = await agreement_row(settings.database_url, aid)
    assert row.status == "invited" and row.data["monthly_salary"] == "9800"
    await student.post(f"/student/signing/online/{aid}/answer", {"action": "agree", "opinion": "同意"})
    assert (await agreement_row(settings.database_url, aid)).number == number  # kept, not a new one
    review = await (await counselor.get(f"/reviews/agreements/{aid}")).text()
    assert re.search(r'<tr class="changed"><th>月薪（元）</th><td id="sheet-monthly_salary">9800', review)
    assert 'class="changed"><th>岗位名称' not in review


async def test_a_batch_decides_only_what_the_flow_gives_each_reviewer(make_client, world, settings, clock):
    student, employer, aid = await invited(make_client, world, settings, clock)
    await student.post(f"/student/signing/online/{aid}/answer", {"action": "agree", "opinion": "同意"})
    # 待学院审核 is the counselor's: the school admin's batch 通过 leaves it, saying why
    admin = await as_user(make_client, "staff", "school_admin0")
    resp = await admin.post("/reviews/agreements/batch", {"action": "approve", "id": str(aid),
                                                          "confirmed": "1"})
    page = await resp.text()
    assert resp.status == 200 and 'data-done="0"' in page and 'data-failed="1"' in page
    assert "当前状态为“待学院审核”" in page and "不能执行“通过”" in page
    assert (await agreement_row(settings.database_url, aid)).status == "college"
    counselor = await as_user(make_client, "staff", "counselor0")
    resp = await counselor.post("/reviews/agreements/batch", {"action": "approve", "confirmed": "1",
                                                              "id": [str(aid), "999999"]})
    page = await resp.text()
    assert 'data-done="1"' in page and "#999999：不在您的范围内" in page
    assert (await agreement_row(settings.database_url, aid)).status == "school"
    # the old one-level batch address is gone
    assert (await counselor.post("/reviews/agreements/approve", {"ids": str(aid)})).status == 404


async def test_start_signing_from_an_applicant(make_client, world, settings, clock):
    from tests.helpers import published_job, saved_resume
    from app.applications import service as applications
    from app.uploads import FileStore
    await ready_student(settings.database_url, world, clock.now())
    s = world.active_student()
    job_id = await published_job(settings.database_url, world.employer_id, world.staff["employer"][1],
                                 world.staff["platform"][1], clock.now())
    await saved_resume(settings.database_url, s.account_id, clock.now(), name=s.name)
    db = Database(settings.database_url)
    async with db.write() as conn:
        app_id = await applications.apply(conn, FileStore(settings.data_dir), job_id=job_id,
                                          account_id=s.account_id, now=clock.now())
    await db.dispose()
    employer = await as_user(make_client, "employer", "employer")
    page = await (await employer.get(f"/employer/applications/{app_id}")).text()
    assert f'/employer/agreements/new?application={app_id}' in page
    form = await (await employer.get(f"/employer/agreements/new?application={app_id}")).text()
    assert f'value="{s.student_no}"' in form and f'value="{s.name}"' in form
    assert 'value="测试科技有限公司"' in form  # the unit part starts from the registration
    _, username, _ = await second_employer(settings.database_url, clock.now())
    stranger = await as_user(make_client, "employer", username)
    assert (await stranger.get(f"/employer/agreements/new?application={app_id}")).status == 404


async def test_verification_by_number_needs_the_printed_code_and_is_bounded(make_client, world,
                                                                            settings, clock):
    """Agreement numbers are sequential: a number alone opened any graduate's agreement to
    anyone, 200 in 0.3 s. Now the typed lookup needs the 验证码 printed beside the number
    (the QR code's link needs none), and one address may try 30 in 10 minutes."""
    from app.signing.views.public import LOOKUPS
    s, aid, link = await offline_generated(make_client, world, settings, clock)
    unit = await make_client()
    assert (await unit.post(link, {"action": "confirm"})).status == 200
    assert (await s.post(f"/student/signing/offline/{aid}/generate")).status == 303
    row = await agreement_row(settings.database_url, aid)
    code = row.verify_token[:8]
    sheet = await (await s.get(f"/student/signing/agreements/{aid}")).text()
    assert f'id="agreement-check-code">{code}<' in sheet  # on the paper, beside the number
    name = world.active_student().name
    visitor = await make_client()
    for query in (f"number={row.number}", f"number={row.number}&code=AAAAAAAA",
                  f"number={row.number}&code={code[:-1]}"):
        resp = await visitor.get(f"/verify/agreement?{query}")
        assert resp.status == 404 and name not in await resp.text(), query
    found = await visitor.get(f"/verify/agreement?number={row.number}&code={code}")
    assert found.status == 200 and name in await found.text()
    for _ in range(LOOKUPS.limit - 4):
        assert (await visitor.get(f"/verify/agreement?number={row.number}&code=x")).status == 404
    limited = await visitor.get(f"/verify/agreement?number={row.number}&code={code}")
    assert limited.status == 429 and "查询过于频繁" in await limited.text()
    # the QR code's own link is not counted
    token = row.verify_token
    assert (await visitor.get(f"/verify/agreement/{token}")).status == 200


async def test_invitation_refusals_tell_nothing_of_the_students_state(make_client, world,
                                                                    settings, clock):
    """发起签约 answered three ways (not found / not activated or 生源 not approved / already
    placed): a status oracle over school + 学号 + 姓名. One answer now, and bounded."""
    from app.signing.online import NOT_ELIGIBLE
    from app.signing.views.employer import INVITES
    from tests.termination_kit import effective
    other = await as_user(make_client, "employer", (await second_employer(settings.database_url,
                                                                          clock.now()))[1])
    unknown = await invite(other, world, clock, student_name="别人")
    unready = await invite(other, world, clock)  # exists, 生源 not approved
    await effective(make_client, world, settings, clock)  # now placed (an effective agreement)
    placed = await invite(other, world, clock)
    messages = [field_error(await r.text(), "student_no") for r in (unknown, unready, placed)]
    assert messages == [NOT_ELIGIBLE] * 3
    for _ in range(INVITES.limit - 3):
        await invite(other, world, clock, student_name="别人")
    limited = await invite(other, world, clock, student_name="别人")
    assert limited.status == 429 and "发起签约过于频繁" in await limited.text()
    assert await count(settings.database_url, agreements) == 1
