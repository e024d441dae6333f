"""就业信息登记 through the app: the gate, 【就业信息上报】 → 【编辑】 → a branch → 【保存并审核】,
the branch forms' checks, 【返回重新选择毕业去向】, the two review levels with notices and mail,
the destination claimed on approval (and refused while another is effective), the deadline
and the school admin's reopening, who may see what, and two reviewers at once."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest
import sqlalchemy as sa

from app import workflow
from app.clock import ManualClock, china_date
from app.db import Database
from app.destinations import service as destinations
from app.destinations.tables import graduate_destinations
from app.registration import service
from app.registration.flows import REGISTRATION_FLOW
from app.registration.tables import registrations
from app.roles import Role
from app.school_settings import service as school_settings
from app.tables import audit_log, email_outbox, files, notices
from tests.conftest import count, field_error, form_error, using_postgres
from tests.factories import PASSWORD
from tests.registration_helpers import (FORM_11, PDF_BYTES, activate, confirm_phone, png_bytes,
                                        post_branch, ready_student, staff_account)


@pytest.fixture
def clock() -> ManualClock:
    """June of the graduation year (2026, tests/factories.py): before the default deadline."""
    return ManualClock(dt.datetime(2026, 6, 1, 1, 0, tzinfo=dt.timezone.utc))


async def as_user(make_client, kind, account):  # noqa: ANN001, ANN201
    c = await make_client()
    await c.login(kind, account, PASSWORD)
    return c


async def registration_row(database_url: str) -> sa.Row | None:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return (await conn.execute(sa.select(registrations))).first()
    finally:
        await db.dispose()


async def choose(client, code: str):  # noqa: ANN001, ANN201
    await client.get("/student/registration/choose")
    return await client.post("/student/registration/choose", {"code": code})


async def submitted_46(client) -> None:  # noqa: ANN001
    """【应征义务兵】 filled with an image and 【保存并审核】."""
    assert (await choose(client, "46")).status == 303
    resp = await post_branch(client, {"area": "500103"},
                             {"enlist_notice": ("入伍通知书.png", png_bytes())})
    assert resp.status == 303, await resp.text()


async def test_closed_until_origin_approved_and_phone_confirmed(make_client, world, settings, clock):
    student = world.active_student()
    s = await as_user(make_client, "student", student.email)
    page = await (await s.get("/student/registration")).text()
    assert "学校尚未导入您的生源信息" in page and "就业信息上报" not in page
    resp = await choose(s, "46")
    assert resp.status == 400 and "生源信息" in form_error(await resp.text())
    from tests.review_helpers import approved_origin
    await approved_origin(settings.database_url, world, clock.now())
    page = await (await s.get("/student/registration")).text()
    assert "首次使用签约中心，需要进行手机认证。" in page and 'href="/student/signing/phone"' in page
    assert (await s.get("/student/registration/choose")).status == 303
    assert await count(settings.database_url, registrations) == 0
    await confirm_phone(settings.database_url, student.account_id, clock.now())
    page = await (await s.get("/student/registration")).text()
    assert "就业信息上报" in page and "首次使用签约中心" not in page


async def test_military_branch_two_reviews_then_the_destination_is_effective(
        make_client, world, settings, clock):
    student = await ready_student(settings.database_url, world, clock.now())
    s = await as_user(make_client, "student", student.email)
    page = await (await s.get("/student/registration/report")).text()
    assert 'href="/student/registration/choose">编辑</a>' in page
    chooser = await (await s.get("/student/registration/choose")).text()
    for label in ("签劳动合同形式就业", "应征义务兵", "国家基层项目", "自主创业", "境外留学", "待就业",
                  "不就业拟升学", "其他暂不就业", "科研助理、管理助理"):
        assert f">{label}</button>" in chooser
    assert "由生效的就业协议书产生，不在此登记" in chooser and 'value="10"' not in chooser
    await submitted_46(s)
    page = await (await s.get("/student/registration")).text()
    assert re.search(r'id="registration-state">待学院审核<', page)
    reg = await registration_row(settings.database_url)
    assert (reg.code, reg.data, reg.status) == ("46", {"area": "500103"}, "submitted")
    file_id = reg.files["enlist_notice"]
    stored = await s.get(f"/files/{file_id}")
    assert stored.status == 200 and stored.content_type == "image/png"  # re-drawn, still a PNG

    counselor = await as_user(make_client, "staff", "counselor0")
    queue = await (await counselor.get("/reviews/registrations")).text()
    assert student.name in queue and "应征义务兵" in queue
    review = await (await counselor.get(f"/reviews/registrations/{reg.id}")).text()
    assert "入伍地" in review and "重庆市渝中区" in review and f"/files/{file_id}" in review
    assert (await counselor.get(f"/files/{file_id}")).status == 200
    resp = await counselor.post(f"/reviews/registrations/{reg.id}/approve")
    assert resp.status == 303

    admin = await as_user(make_client, "staff", "school_admin0")
    assert student.name in await (await admin.get("/reviews/registrations")).text()
    assert (await admin.get(f"/files/{file_id}")).status == 200
    assert (await admin.post(f"/reviews/registrations/{reg.id}/approve")).status == 303

    page = await (await s.get("/student/registration")).text()
    assert re.search(r'id="current-destination">应征义务兵<', page)
    assert re.search(r'id="registration-state">已通过<', page)
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            current = await destinations.current(conn, student.record_id)
            entries = await service.history(conn, reg.id)
            titles = (await conn.execute(sa.select(notices.c.title).where(
                notices.c.account_id == student.account_id))).scalars().all()
            mails = (await conn.execute(sa.select(email_outbox.c.to_addr).where(
                email_outbox.c.template == "workflow_notice",
                email_outbox.c.subject.contains("就业信息登记")))).scalars().all()
    finally:
        await db.dispose()
    assert (current.code, current.source, current.source_id) == ("46", "registration", reg.id)
    assert [(e.from_state, e.to_state) for e in entries] == [
        ("draft", "submitted"), ("submitted", "college_ok"), ("college_ok", "approved")]
    assert workflow.replay(REGISTRATION_FLOW, entries) == "approved"
    assert "您的就业信息登记已通过学院审核，等待学校审核" in titles
    assert "您的就业信息登记已审核通过，毕业去向已生效" in titles
    assert mails.count(student.email) == 2
    # approved and placed: view-only
    assert (await s.get("/student/registration/choose")).status == 303
    assert (await choose(s, "11")).status == 400
    # 签约中心 says how to change it: 解约 ends agreements, a registration goes through the school
    signing = await (await s.get("/student/signing/offline")).text()
    assert "已有生效的毕业去向（应征义务兵" in signing and "解约" not in signing
    assert "如需变更请联系学校就业指导中心" in signing


async def test_branch_form_checks_keep_the_typed_values_and_write_nothing(
        make_client, world, settings, clock):
    student = await ready_student(settings.database_url, world, clock.now())
    s = await as_user(make_client, "student", student.email)
    assert (await choose(s, "11")).status == 303
    page = await (await s.get("/student/registration/form")).text()
    for label in ("单位名称", "统一社会信用代码", "单位性质", "单位所在地", "工作职位类别", "联系人",
                  "联系电话", "劳动合同", "返回重新选择毕业去向", "保存并审核"):
        assert label in page
    bad = {**FORM_11, "credit_code": "91500000000000077X", "contact_phone": "12345",
           "position": "", "employer_name": "重庆<测试>公司"}
    resp = await post_branch(s, bad, {"contract": ("合同.png", b"not an image at all")})
    html = await resp.text()
    assert resp.status == 400
    assert field_error(html, "credit_code") == "统一社会信用代码校验位不正确，请核对"
    assert field_error(html, "contact_phone") == "请输入手机号或带区号的固定电话，如 023-12345678"
    assert field_error(html, "position") == "请选择工作职位类别"
    assert "只支持 JPG、PNG 图片或 PDF 文件" in field_error(html, "contract")
    assert 'value="重庆&lt;测试&gt;公司"' in html and 'value="91500000000000077X"' in html
    reg = await registration_row(settings.database_url)
    assert (reg.status, reg.data, reg.files) == ("draft", {}, {})
    assert await count(settings.database_url, files) == 0
    # a valid form without the contract: the missing file is named, still nothing written
    resp = await post_branch(s, FORM_11)
    assert field_error(await resp.text(), "contract") == "请上传劳动合同"
    assert await count(settings.database_url, registrations, registrations.c.status == "draft") == 1
    # a good image with a bad field: the image is not kept either, and the page says so
    resp = await post_branch(s, {**FORM_11, "area": "500100"},
                             {"contract": ("合同.png", png_bytes())})
    html = await resp.text()
    assert field_error(html, "area") == "请选择到区县一级的单位所在地"
    assert field_error(html, "contract") == "请重新选择文件"
    assert await count(settings.database_url, files) == 0
    # a PDF is accepted by its content
    resp = await post_branch(s, FORM_11, {"contract": ("合同.pdf", PDF_BYTES)})
    assert resp.status == 303, await resp.text()
    reg = await registration_row(settings.database_url)
    assert reg.data["credit_code"] == FORM_11["credit_code"] and reg.status == "submitted"


async def test_back_to_the_chooser_keeps_nothing_of_the_abandoned_branch(
        make_client, world, settings, clock):
    student = await ready_student(settings.database_url, world, clock.now())
    s = await as_user(make_client, "student", student.email)
    assert (await choose(s, "11")).status == 303
    assert (await post_branch(s, FORM_11, {"contract": ("合同.png", png_bytes())})).status == 303
    assert (await s.post("/student/registration/withdraw")).status == 303
    # a new contract image replaces the old one (row and bytes)
    first = settings.data_dir / "files" / (await registration_row(settings.database_url)).files["contract"]
    assert (await post_branch(s, FORM_11, {"contract": ("合同2.png", png_bytes("blue"))})).status == 303
    assert not first.exists() and await count(settings.database_url, files) == 1
    assert (await s.post("/student/registration/withdraw")).status == 303
    reg = await registration_row(settings.database_url)
    assert reg.status == "draft" and reg.data and reg.files
    stored = settings.data_dir / "files" / reg.files["contract"]
    assert stored.is_file()
    page = await (await s.get("/student/registration/form")).text()
    assert FORM_11["employer_name"] in page
    resp = await s.post("/student/registration/reset")
    assert resp.status == 303 and resp.headers["Location"] == "/student/registration/choose"
    reg = await registration_row(settings.database_url)
    assert (reg.code, reg.sub_code, reg.data, reg.files) == (None, None, {}, {})
    assert await count(settings.database_url, files) == 0 and not stored.exists()
    assert (await s.get("/student/registration/form")).headers["Location"] == \
        "/student/registration/choose"
    assert (await choose(s, "46")).status == 303
    page = await (await s.get("/student/registration/form")).text()
    assert "入伍地" in page and FORM_11["employer_name"] not in page and "单位名称" not in page


async def test_return_resubmit_and_withdraw_only_before_the_first_review(
        make_client, world, settings, clock):
    student = await ready_student(settings.database_url, world, clock.now())
    s = await as_user(make_client, "student", student.email)
    assert (await choose(s, "80")).status == 303
    assert (await post_branch(s, {"sub_code": "801", "admitted_school": "重庆大学"})).status == 303
    reg = await registration_row(settings.database_url)
    counselor = await as_user(make_client, "staff", "counselor0")
    resp = await counselor.post(f"/reviews/registrations/{reg.id}/return", {"reason": ""})
    assert resp.status == 400 and field_error(await resp.text(), "reason") == "请填写退回原因"
    resp = await counselor.post(f"/reviews/registrations/{reg.id}/return",
                                {"reason": "请写全录取学校名称"})
    assert resp.status == 303
    page = await (await s.get("/student/registration")).text()
    assert "退回原因：请写全录取学校名称" in page
    page = await (await s.get("/student/registration/form")).text()
    assert 'value="重庆大学"' in page
    assert (await post_branch(s, {"sub_code": "801", "admitted_school": "重庆大学（研究生院）"})).status == 303
    assert (await counselor.post(f"/reviews/registrations/{reg.id}/approve")).status == 303
    resp = await s.post("/student/registration/withdraw")
    assert resp.status == 409 and "待学校审核" in await resp.text()
    reg = await registration_row(settings.database_url)
    assert (reg.status, reg.sub_code, reg.data) == ("college_ok", "801",
                                                   {"admitted_school": "重庆大学（研究生院）"})


async def test_who_may_see_and_decide(make_client, world, settings, clock):
    student = await ready_student(settings.database_url, world, clock.now())
    s = await as_user(make_client, "student", student.email)
    await submitted_46(s)
    reg = await registration_row(settings.database_url)
    file_id = reg.files["enlist_notice"]
    other = await activate(settings.database_url, world, 1, clock.now())
    await staff_account(settings.database_url, world, "counselor_b", Role.COUNSELOR, clock.now(),
                        college=1)
    o = await as_user(make_client, "student", other.email)
    assert "应征义务兵" not in await (await o.get("/student/registration")).text()
    assert (await o.get(f"/files/{file_id}")).status == 404
    assert (await o.get(f"/reviews/registrations/{reg.id}")).status == 403
    assert (await o.post(f"/reviews/registrations/{reg.id}/approve")).status == 403
    for username in ("counselor_b", "counselor1", "school_admin1"):
        c = await as_user(make_client, "staff", username)
        assert student.name not in await (await c.get("/reviews/registrations?status=")).text()
        assert (await c.get(f"/reviews/registrations/{reg.id}")).status == 404
        assert (await c.post(f"/reviews/registrations/{reg.id}/approve")).status == 404
        assert (await c.get(f"/files/{file_id}")).status == 404
    c = await as_user(make_client, "staff", "counselor_b")
    picked = {"action": "approve", "id": str(reg.id), "confirmed": "1"}
    page = await (await c.post("/reviews/registrations/batch", picked)).text()
    assert 'data-done="0"' in page and f"#{reg.id}：不在您的范围内" in page
    assert (await registration_row(settings.database_url)).status == "submitted"
    # the school admin cannot take the counselor's step, nor the counselor the school's
    admin = await as_user(make_client, "staff", "school_admin0")
    resp = await admin.post(f"/reviews/registrations/{reg.id}/approve")
    assert resp.status == 409 and "学校管理员不能执行“通过”" in form_error(await resp.text())
    page = await (await admin.post("/reviews/registrations/batch", picked)).text()
    assert 'data-done="0"' in page and "学校管理员不能执行“通过”" in page
    assert (await s.get("/reviews/registrations")).status == 403
    assert (await registration_row(settings.database_url)).status == "submitted"


async def test_counselor_batch_approves_the_first_level(make_client, world, settings, clock):
    student = await ready_student(settings.database_url, world, clock.now())
    s = await as_user(make_client, "student", student.email)
    await submitted_46(s)
    reg = await registration_row(settings.database_url)
    counselor = await as_user(make_client, "staff", "counselor0")
    picked = {"action": "approve", "id": [str(reg.id), "999"]}
    page = await (await counselor.post("/reviews/registrations/batch", picked)).text()
    assert 'data-count="2"' in page   # the confirmation names the count; nothing done yet
    assert (await registration_row(settings.database_url)).status == "submitted"
    page = await (await counselor.post("/reviews/registrations/batch",
                                       {**picked, "confirmed": "1"})).text()
    # the one outside their part is listed, not skipped in silence
    assert 'data-done="1"' in page and 'data-failed="1"' in page and "#999：不在您的范围内" in page
    assert (await registration_row(settings.database_url)).status == "college_ok"
    assert await count(settings.database_url, graduate_destinations) == 0


async def test_deadline_closes_registration_and_the_school_admin_reopens_it(
        make_client, world, settings, clock):
    student = await ready_student(settings.database_url, world, clock.now())
    s = await as_user(make_client, "student", student.email)
    assert (await choose(s, "46")).status == 303
    yesterday = china_date(clock.now()) - dt.timedelta(days=1)
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            await school_settings.change(conn, world.schools[0].id, actor_id=None, at=clock.now(),
                                         registration_deadline=yesterday)
    finally:
        await db.dispose()
    page = await (await s.get("/student/registration")).text()
    assert f"登记截止日期：{yesterday:%Y-%m-%d}（已截止）" in page
    assert f"就业信息登记已于 {yesterday:%Y年%m月%d日} 截止" in page
    assert (await s.get("/student/registration/form")).status == 303
    # the server refuses too, whatever the page shows
    resp = await post_branch(s, {"area": "500103"}, {"enlist_notice": ("n.png", png_bytes())})
    assert resp.status == 400 and "截止" in form_error(await resp.text())
    assert (await choose(s, "11")).status == 400
    assert (await s.post("/student/registration/reset")).status == 409
    reg = await registration_row(settings.database_url)
    assert (reg.status, reg.code, reg.files) == ("draft", "46", {})
    assert await count(settings.database_url, files) == 0

    counselor = await as_user(make_client, "staff", "counselor0")
    assert (await counselor.post("/reviews/registrations/reopen", {"reopened": "1"})).status == 403
    admin = await as_user(make_client, "staff", "school_admin0")
    page = await (await admin.get("/reviews/registrations")).text()
    assert f"截止日期：{yesterday:%Y-%m-%d}" in page and "重新开放登记" in page
    resp = await admin.post("/reviews/registrations/reopen", {"reopened": "1"})
    assert resp.status == 303
    assert "已重新开放" in await (await admin.get(resp.headers["Location"])).text()
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            audit = (await conn.execute(sa.select(audit_log).where(
                audit_log.c.action == "school_settings.change").order_by(audit_log.c.id))).all()
    finally:
        await db.dispose()
    assert audit[-1].actor_id == world.staff["school_admin0"][1]
    assert audit[-1].detail == {"registration_reopened": [False, True]}
    resp = await post_branch(s, {"area": "500103"}, {"enlist_notice": ("n.png", png_bytes())})
    assert resp.status == 303, await resp.text()


async def test_approval_refused_while_another_destination_is_effective(
        make_client, world, settings, clock):
    student = await ready_student(settings.database_url, world, clock.now())
    s = await as_user(make_client, "student", student.email)
    await submitted_46(s)
    reg = await registration_row(settings.database_url)
    counselor = await as_user(make_client, "staff", "counselor0")
    assert (await counselor.post(f"/reviews/registrations/{reg.id}/approve")).status == 303
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:  # an agreement became effective meanwhile
            await destinations.claim(conn, student_record_id=student.record_id,
                                     school_id=reg.school_id, college_id=reg.college_id,
                                     code="10", source="agreement", source_id=7, at=clock.now())
    finally:
        await db.dispose()
    admin = await as_user(make_client, "staff", "school_admin0")
    resp = await admin.post(f"/reviews/registrations/{reg.id}/approve")
    assert resp.status == 409
    assert form_error(await resp.text()) == \
        "已有生效的毕业去向（签就业协议形式就业，来自就业协议书），同一时间只能有一个"
    assert (await registration_row(settings.database_url)).status == "college_ok"
    assert await count(settings.database_url, audit_log, audit_log.c.entity == "registration") == 2
    page = await (await s.get("/student/registration")).text()
    assert "您已有生效的毕业去向（签就业协议形式就业，来自就业协议书）" in page
    assert "就业信息上报</a>" not in page


async def test_two_school_admins_approving_at_once_exactly_one_wins(
        make_client, world, settings, clock):
    student = await ready_student(settings.database_url, world, clock.now())
    s = await as_user(make_client, "student", student.email)
    await submitted_46(s)
    reg = await registration_row(settings.database_url)
    counselor = await as_user(make_client, "staff", "counselor0")
    assert (await counselor.post(f"/reviews/registrations/{reg.id}/approve")).status == 303
    second = await staff_account(settings.database_url, world, "school_admin0b",
                                 Role.SCHOOL_ADMIN, clock.now(), college=None)
    admins = [(world.staff["school_admin0"][1], Role.SCHOOL_ADMIN),
              (second, Role.SCHOOL_ADMIN)]
    # On PostgreSQL both read "待学校审核" before either writes; SQLite serialises writers.
    barrier = asyncio.Barrier(2) if using_postgres() else None
    dbs = [Database(settings.database_url), Database(settings.database_url)]

    async def approve(db: Database, account_id: int) -> str:
        from app.auth.sessions import Identity
        ident = Identity(account_id=account_id, role=Role.SCHOOL_ADMIN, display_name="",
                         school_id=world.schools[0].id, college_id=None, employer_id=None,
                         session_hash="")
        async with db.write() as conn:
            if barrier is not None:
                assert (await service.item(conn, ident, reg.id)).status == "college_ok"
                await barrier.wait()
            return await service.review(conn, ident, reg.id, "approve", reason=None,
                                        now=clock.now())
    try:
        results = await asyncio.gather(*(approve(db, a) for db, (a, _) in zip(dbs, admins)),
                                       return_exceptions=True)
    finally:
        for db in dbs:
            await db.dispose()
    wins = [r for r in results if r == "approved"]
    losses = [r for r in results if isinstance(r, workflow.TransitionError)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert "当前状态为“已通过”" in str(losses[0])
    assert await count(settings.database_url, graduate_destinations) == 1
    assert await count(settings.database_url, audit_log, audit_log.c.entity == "registration",
                       audit_log.c.to_state == "approved") == 1


async def test_an_approved_waiting_registration_can_be_revised_and_a_job_cannot(
        make_client, world, settings, clock):
    student = await ready_student(settings.database_url, world, clock.now())
    s = await as_user(make_client, "student", student.email)
    assert (await choose(s, "70")).status == 303
    assert (await post_branch(s, {"sub_code": "701"})).status == 303
    reg = await registration_row(settings.database_url)
    counselor = await as_user(make_client, "staff", "counselor0")
    admin = await as_user(make_client, "staff", "school_admin0")
    assert (await counselor.post(f"/reviews/registrations/{reg.id}/approve")).status == 303
    assert (await admin.post(f"/reviews/registrations/{reg.id}/approve")).status == 303
    page = await (await s.get("/student/registration")).text()
    assert re.search(r'id="current-destination">待就业<', page) and "修改毕业去向</button>" in page
    resp = await s.post("/student/registration/revise")
    assert resp.status == 303 and resp.headers["Location"] == "/student/registration/form"
    assert await count(settings.database_url, graduate_destinations) == 0
    assert (await s.post("/student/registration/reset")).status == 303
    await submitted_46(s)
    assert (await counselor.post(f"/reviews/registrations/{reg.id}/approve")).status == 303
    assert (await admin.post(f"/reviews/registrations/{reg.id}/approve")).status == 303
    page = await (await s.get("/student/registration")).text()
    assert re.search(r'id="current-destination">应征义务兵<', page)
    assert "修改毕业去向</button>" not in page
    resp = await s.post("/student/registration/revise")
    assert resp.status == 409 and "已生效的就业去向不能自行修改" in await resp.text()
    assert (await registration_row(settings.database_url)).status == "approved"
    assert await count(settings.database_url, graduate_destinations) == 1
