"""生源信息核对 through the app: import with a row report, 【通知核对】 (notice and real mail),
the student's draft / 保存并送审 / 撤回, the counselor's queue, return with a reason,
approval and locking, the school admin's reopen, and who may see what."""

import dataclasses

import aiohttp
import pytest
import sqlalchemy as sa

from app.auth import service as accounts
from app.db import Database
from app.reviews.origin.import_views import ORIGIN_IMPORTS
from app.reviews.tables import origin_records
from app.roles import Role
from app.tables import audit_log, email_outbox, notices
from tests.conftest import count, field_error, form_error
from tests.factories import PASSWORD, PASSWORD_HASH
from tests.review_helpers import ROW, import_origins, origin_row

HEADER = "学号,姓名,考生号,民族,政治面貌,生源所在地,城乡生源,困难生类别,师范生类别,手机,邮箱,家庭地址,户口是否转入学校,档案是否转入学校"


def origin_csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8-sig")


async def upload(client, data: bytes, name="生源.csv"):
    form = aiohttp.FormData()
    form.add_field("_csrf", client.csrf())
    form.add_field("file", data, filename=name, content_type="text/csv")
    resp = await client.client.post("/school/origins/import", data=form, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    await client.app[ORIGIN_IMPORTS].drain()
    status = await (await client.get(resp.headers["Location"] + "/status")).json()
    return status, await (await client.get(resp.headers["Location"])).text()


EDIT = {k: ROW[k] for k in ("political", "origin_area", "urban_rural", "hardship",
                            "normal_student", "mobile", "email", "home_address", "hukou_in",
                            "archive_in", "qq", "home_phone", "postcode")}


async def as_user(make_client, kind, account):
    c = await make_client()
    await c.login(kind, account, PASSWORD)
    return c


async def test_import_reports_rows_and_reimport_updates(make_client, world, settings):
    admin = await as_user(make_client, "staff", "school_admin0")
    s0, s1 = world.students[0], world.students[1]
    status, page = await upload(admin, origin_csv(
        f"{s0.student_no},{s0.name},2650,汉族,共青团员,500103,城镇,非困难生,非师范生,13800001111,a@b.cn,渝中区1号,否,是",
        "NOPE01,某某,,01,03,500103,1,0,2,13800001111,a@b.cn,x,0,1",
        f"{s1.student_no},{s1.name},,01,火星党,500000,1,0,2,123,a@b.cn,x,0,1"))
    assert (status["created"], status["failed_rows"]) == (1, 2)
    assert "学校没有学号为“NOPE01”的学生" in page
    assert "政治面貌不在代码表中" in page and "请选择到区县一级的生源所在地" in page
    assert "手机" in page
    [row] = await _origins(settings.database_url)
    assert row.status == "draft" and row.data["political"] == "03" and row.roll["ethnicity"] == "01"
    # re-import the same 学号: updated, not duplicated
    status, _ = await upload(admin, origin_csv(
        f"{s0.student_no},{s0.name},2650,汉族,中共党员,500103,城镇,非困难生,非师范生,13800001111,a@b.cn,渝中区1号,否,是"))
    assert (status["created"], status["updated"]) == (0, 1)
    [row] = await _origins(settings.database_url)
    assert row.data["political"] == "01" and row.imported["political"] == "01"
    # another school's admin cannot read this import job
    other = await as_user(make_client, "staff", "school_admin1")
    assert (await other.get("/school/origins/import/1")).status == 404


async def _origins(url):
    db = Database(url)
    try:
        async with db.read() as conn:
            return list(await conn.execute(sa.select(origin_records).order_by(origin_records.c.id)))
    finally:
        await db.dispose()


@pytest.fixture
def settings(settings, mailbox):
    return dataclasses.replace(settings, smtp_host=mailbox.host, smtp_port=mailbox.port)


async def test_notify_sends_notice_and_mail(make_client, world, settings, clock, mailbox):
    student = world.active_student()
    ids = await import_origins(settings.database_url, world.schools[0].id,
                               [s.student_no for s in world.students[:3]], clock.now())
    admin = await as_user(make_client, "staff", "school_admin0")
    picked = {"action": "notify", "id": list(ids.values())}
    page = await (await admin.post("/reviews/origins/batch", picked)).text()
    assert 'data-count="3"' in page   # the confirmation names the count; nothing sent yet
    assert await count(settings.database_url, notices, notices.c.title == "请核对您的生源信息") == 0
    resp = await admin.post("/reviews/origins/batch", {**picked, "confirmed": "1"})
    page = await resp.text()
    assert resp.status == 200 and 'data-done="1"' in page and 'data-failed="2"' in page
    assert page.count("尚未激活账号") == 2
    assert await count(settings.database_url, notices, notices.c.account_id == student.account_id,
                       notices.c.title == "请核对您的生源信息") == 1
    assert await count(settings.database_url, email_outbox, email_outbox.c.to_addr == student.email,
                       email_outbox.c.template == "origin_check") == 1
    [mail] = await mailbox.wait_for(student.email)   # sent through the real SMTP server
    assert mail["Subject"] == "请核对您的生源信息"
    # nothing selected: nothing sent
    resp = await admin.post("/reviews/origins/batch", {"action": "notify", "confirmed": "1"})
    assert resp.status == 400 and "请先勾选要处理的记录" in await resp.text()


async def test_student_edits_submits_counselor_returns_then_approves(make_client, world, settings, clock):
    student = world.active_student()
    origin_id = (await import_origins(settings.database_url, world.schools[0].id,
                                      [student.student_no], clock.now()))[student.student_no]
    s = await as_user(make_client, "student", student.email)
    page = await (await s.get("/student")).text()
    assert 'href="/student/origin"' in page and "生源信息核对" in page
    page = await (await s.get("/student/origin")).text()
    assert "待核对" in page and ">编辑</a>" in page
    form_page = await (await s.get("/student/origin/edit")).text()
    assert 'value="500103" selected' in form_page and "readonly" not in form_page
    assert "保存并送审" in form_page and 'data-areas="' in form_page

    # bad input: message beside the field, typed value kept, nothing written
    bad = {**EDIT, "mobile": "12345", "political": "", "home_address": "新地址"}
    resp = await s.post("/student/origin/edit", {**bad, "do": "submit"})
    html = await resp.text()
    assert resp.status == 400
    assert field_error(html, "mobile") and field_error(html, "political") == "请选择政治面貌"
    assert 'value="新地址"' in html
    assert (await origin_row(settings.database_url, origin_id)).data["home_address"] == ROW["home_address"]

    # 保存 keeps a draft; 保存并送审 submits
    resp = await s.post("/student/origin/edit", {**EDIT, "home_address": "重庆市沙坪坝区2号", "do": "save"})
    assert resp.status == 303 and "done=saved" in resp.headers["Location"]
    row = await origin_row(settings.database_url, origin_id)
    assert row.status == "draft" and row.data["home_address"] == "重庆市沙坪坝区2号"
    resp = await s.post("/student/origin/edit", {**EDIT, "home_address": "重庆市沙坪坝区2号", "do": "submit"})
    assert resp.status == 303
    assert (await origin_row(settings.database_url, origin_id)).status == "submitted"
    counselor_id = world.staff["counselor0"][1]
    assert await count(settings.database_url, notices, notices.c.account_id == counselor_id) == 1

    # 撤回 until reviewed, then send again
    assert (await s.post("/student/origin/withdraw")).status == 303
    assert (await origin_row(settings.database_url, origin_id)).status == "draft"
    await s.post("/student/origin/edit", {**EDIT, "home_address": "重庆市沙坪坝区2号", "do": "submit"})

    # the counselor's queue, with the change highlighted
    c = await as_user(make_client, "staff", "counselor0")
    queue = await (await c.get("/reviews/origins")).text()
    assert student.name in queue
    detail = await (await c.get(f"/reviews/origins/{origin_id}")).text()
    assert '<tr class="changed"><th scope="row">家庭地址</th>' in detail
    assert "<mark>重庆市沙坪坝区2号</mark>" in detail

    # return needs a reason, shown next to the field
    resp = await c.post(f"/reviews/origins/{origin_id}/return", {"reason": "  "})
    assert resp.status == 400 and field_error(await resp.text(), "reason") == "请填写退回原因"
    assert (await origin_row(settings.database_url, origin_id)).status == "submitted"
    resp = await c.post(f"/reviews/origins/{origin_id}/return", {"reason": "家庭地址请写到门牌号"})
    assert resp.status == 303
    page = await (await s.get("/student/origin")).text()
    assert "已退回" in page and "退回原因：家庭地址请写到门牌号" in page

    # the student fixes and resubmits; the counselor approves; the record is locked
    await s.post("/student/origin/edit", {**EDIT, "home_address": "重庆市沙坪坝区2号3单元", "do": "submit"})
    assert (await c.post(f"/reviews/origins/{origin_id}/approve")).status == 303
    assert (await origin_row(settings.database_url, origin_id)).status == "approved"
    assert (await s.get("/student/origin/edit")).status == 303
    resp = await s.post("/student/origin/edit", {**EDIT, "home_address": "改", "do": "save"})
    assert resp.status == 400 and "当前状态为“已通过”，不能修改" in form_error(await resp.text())
    resp = await c.post(f"/reviews/origins/{origin_id}/return", {"reason": "再退回"})
    assert resp.status == 409
    assert "当前状态为“已通过”，不能执行“退回”" in form_error(await resp.text())

    # the whole history is recorded and shown
    history = await (await c.get(f"/reviews/origins/{origin_id}")).text()
    assert history.count("<td>保存并送审</td>") == 3 and "家庭地址请写到门牌号" in history

    # a school admin reopens it, with a reason (audited); the student may edit again
    a = await as_user(make_client, "staff", "school_admin0")
    resp = await a.post(f"/reviews/origins/{origin_id}/reopen", {"reason": ""})
    assert resp.status == 400 and field_error(await resp.text(), "reason") == "请填写重新开放原因"
    assert (await a.post(f"/reviews/origins/{origin_id}/reopen", {"reason": "学生申请更正手机"})).status == 303
    assert (await origin_row(settings.database_url, origin_id)).status == "draft"
    assert await count(settings.database_url, audit_log, audit_log.c.action == "origin.reopen",
                       audit_log.c.reason == "学生申请更正手机") == 1
    assert (await s.get("/student/origin/edit")).status == 200


async def test_scopes_other_college_school_and_student_see_nothing(make_client, world, settings, clock):
    school = world.schools[0]
    student = world.active_student()
    origin_id = (await import_origins(settings.database_url, school.id, [student.student_no],
                                      clock.now()))[student.student_no]
    s = await as_user(make_client, "student", student.email)
    await s.post("/student/origin/edit", {**EDIT, "do": "submit"})
    db = Database(settings.database_url)
    async with db.write() as conn:
        await accounts.create_account(
            conn, role=Role.COUNSELOR, username="counselor_biz", password=None,
            password_hash=PASSWORD_HASH, display_name="商学院辅导员", now=clock.now(),
            school_id=school.id, college_id=school.college_ids[1])
    await db.dispose()
    for username in ("counselor_biz", "counselor1"):
        c = await as_user(make_client, "staff", username)
        assert student.name not in await (await c.get("/reviews/origins?status=")).text()
        assert (await c.get(f"/reviews/origins/{origin_id}")).status == 404
        assert (await c.post(f"/reviews/origins/{origin_id}/approve")).status == 404
        resp = await c.post("/reviews/origins/batch",
                            {"action": "approve", "id": [str(origin_id)], "confirmed": "1"})
        page = await resp.text()
        assert 'data-done="0"' in page and "不在您的范围内" in page
    assert (await origin_row(settings.database_url, origin_id)).status == "submitted"
    other_admin = await as_user(make_client, "staff", "school_admin1")
    assert (await other_admin.get(f"/reviews/origins/{origin_id}")).status == 404
    await other_admin.post("/reviews/origins/batch",
                           {"action": "notify", "id": [str(origin_id)], "confirmed": "1"})
    assert await count(settings.database_url, notices, notices.c.title == "请核对您的生源信息") == 0
    # a student of the other school has no 生源 record and cannot open reviewer pages
    other_student = await as_user(make_client, "student", world.active_student(1).email)
    page = await (await other_student.get("/student/origin")).text()
    assert "学校尚未导入您的生源信息" in page and student.name not in page
    assert (await other_student.get(f"/reviews/origins/{origin_id}")).status == 403
    resp = await other_student.post("/student/origin/edit", {**EDIT, "do": "submit"})
    assert resp.status == 404


async def test_counselor_batch_approves_their_college(make_client, world, settings, clock):
    student = world.active_student()
    origin_id = (await import_origins(settings.database_url, world.schools[0].id,
                                      [student.student_no], clock.now()))[student.student_no]
    s = await as_user(make_client, "student", student.email)
    await s.post("/student/origin/edit", {**EDIT, "do": "submit"})
    c = await as_user(make_client, "staff", "counselor0")
    picked = {"action": "approve", "id": [str(origin_id), "999"], "confirmed": "1"}
    page = await (await c.post("/reviews/origins/batch", picked)).text()
    # the one outside their part is listed, not skipped in silence
    assert 'data-done="1"' in page and 'data-failed="1"' in page and "#999：不在您的范围内" in page
    assert (await origin_row(settings.database_url, origin_id)).status == "approved"
    page = await (await c.post("/reviews/origins/batch", {**picked, "id": [str(origin_id)]})).text()
    assert 'data-done="0"' in page and "当前状态为“已通过”" in page


async def test_reimport_keeps_what_the_student_changed(make_client, world, settings, clock):
    student = world.active_student()
    origin_id = (await import_origins(settings.database_url, world.schools[0].id,
                                      [student.student_no], clock.now()))[student.student_no]
    s = await as_user(make_client, "student", student.email)
    await s.post("/student/origin/edit", {**EDIT, "home_address": "学生改过的地址", "do": "save"})
    await import_origins(settings.database_url, world.schools[0].id, [student.student_no],
                         clock.now(), political="01", home_address="学校的新地址")
    row = await origin_row(settings.database_url, origin_id)
    assert row.imported["home_address"] == "学校的新地址"
    assert row.data["home_address"] == "学生改过的地址"   # the student's edit wins
    assert row.data["political"] == "01"                 # untouched fields follow the school
    # once submitted, a re-import changes the imported values only
    await s.post("/student/origin/edit", {**EDIT, "home_address": "学生改过的地址", "political": "01",
                                          "do": "submit"})
    await import_origins(settings.database_url, world.schools[0].id, [student.student_no],
                         clock.now(), political="13")
    row = await origin_row(settings.database_url, origin_id)
    assert row.status == "submitted" and row.data["political"] == "01"
    assert row.imported["political"] == "13"
