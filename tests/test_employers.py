"""单位注册 and its review by a platform admin."""

import io

import aiohttp
import sqlalchemy as sa
from PIL import Image

from app.db import Database
from app.tables import audit_log, email_outbox, employers, files, notices
from tests.conftest import count, field_error, form_error
from tests.factories import PASSWORD, credit_code
from tests.helpers import jpeg_with_gps


def registration(**changes):
    values = {"name": "山城软件有限公司", "credit_code": credit_code(77), "nature": "39",
              "industry": "34", "location": "重庆市渝北区", "contact_name": "王经理",
              "contact_phone": "023-1234 5678", "contact_email": "hr@shancheng.example.cn",
              "username": "shancheng", "password": "abc12345", "password2": "abc12345"}
    values.update(changes)
    return values


async def register(client, licence=None, **changes):
    form = aiohttp.FormData()
    await client.get("/employer/register")
    form.add_field("_csrf", client.csrf())
    for k, v in registration(**changes).items():
        form.add_field(k, v)
    if licence is not False:
        form.add_field("licence", licence or jpeg_with_gps(), filename="执照.jpg",
                       content_type="image/jpeg")
    return await client.client.post("/employer/register", data=form, allow_redirects=False)


async def test_register_wait_for_review_then_approved(make_client, world, settings, app):
    employer = await make_client()
    resp = await register(employer, contact_phone="13812345678")
    assert resp.status == 303 and resp.headers["Location"] == "/employer"
    html = await (await employer.get("/employer")).text()
    assert "待审核" in html and "审核通过后即可发布岗位" in html
    # pending: posting is refused with a clear message
    resp = await employer.post("/employer/jobs/new", {
        "title": "测试", "kind": "全职", "city": "重庆", "education": "本科", "headcount": "1",
        "description": "x"})
    assert resp.status == 400 and form_error(await resp.text()) == "单位注册审核通过后才能发布岗位"

    admin = await make_client()
    await admin.login("staff", "platform", PASSWORD)
    listing = await (await admin.get("/platform/employers")).text()
    assert "山城软件有限公司" in listing
    db = Database(settings.database_url)
    async with db.read() as conn:
        org = (await conn.execute(sa.select(employers).where(
            employers.c.name == "山城软件有限公司"))).one()
    page = await (await admin.get(f"/platform/employers/{org.id}")).text()
    assert f'src="/files/{org.licence_file_id}"' in page
    # returning needs a reason
    resp = await admin.post(f"/platform/employers/{org.id}/review", {"action": "return", "reason": " "})
    assert resp.status == 400 and field_error(await resp.text(), "reason") == "请填写退回原因"
    resp = await admin.post(f"/platform/employers/{org.id}/review", {"action": "approve"})
    assert resp.status == 303
    # approving twice names the state
    resp = await admin.post(f"/platform/employers/{org.id}/review", {"action": "approve"})
    assert "当前状态为“已通过”，不能执行“通过”" in form_error(await resp.text())
    assert "已通过" in await (await employer.get("/employer")).text()
    async with db.read() as conn:
        trail = [(r.action, r.from_state, r.to_state) for r in await conn.execute(
            sa.select(audit_log).where(audit_log.c.entity == "employer",
                                       audit_log.c.entity_id == str(org.id)).order_by(audit_log.c.id))]
        mail = (await conn.execute(sa.select(email_outbox).where(
            email_outbox.c.to_addr == "hr@shancheng.example.cn"))).one()
    await db.dispose()
    assert trail == [("register", None, "pending"), ("employer.approve", "pending", "approved")]
    assert "审核通过" in mail.subject
    assert await count(settings.database_url, notices, notices.c.title.contains("审核已通过")) == 1


async def test_returned_employer_fixes_and_resubmits(make_client, world, settings):
    employer = await make_client()
    await register(employer)
    admin = await make_client()
    await admin.login("staff", "platform", PASSWORD)
    db = Database(settings.database_url)
    async with db.read() as conn:
        org_id = (await conn.execute(sa.select(employers.c.id).where(
            employers.c.credit_code == credit_code(77)))).scalar_one()
    await db.dispose()
    resp = await admin.post(f"/platform/employers/{org_id}/review",
                            {"action": "return", "reason": "营业执照不清晰"})
    assert resp.status == 303
    assert "营业执照不清晰" in await (await employer.get("/employer")).text()
    page = await (await employer.get("/employer/profile")).text()
    assert 'value="山城软件有限公司"' in page
    form = aiohttp.FormData()
    form.add_field("_csrf", employer.csrf())
    for k, v in registration(name="山城软件股份有限公司").items():
        form.add_field(k, v)
    resp = await employer.client.post("/employer/profile", data=form, allow_redirects=False)
    assert resp.status == 303
    assert "待审核" in await (await employer.get("/employer")).text()
    history = await (await admin.get(f"/platform/employers/{org_id}")).text()
    assert "营业执照不清晰" in history and "重新提交" in history


async def test_bad_registration_keeps_input_and_writes_nothing(client, world, settings):
    before = await count(settings.database_url, employers)
    resp = await register(client, licence=False, credit_code="91110000600037341A",
                          contact_email="bad", password2="different1")
    assert resp.status == 400
    html = await resp.text()
    assert field_error(html, "credit_code") == "统一社会信用代码校验位不正确，请核对"
    assert field_error(html, "contact_email") == "请输入正确的邮箱地址"
    assert field_error(html, "password2") == "两次输入的密码不一致"
    assert field_error(html, "licence") == "请上传营业执照图片"
    assert 'value="山城软件有限公司"' in html and 'value="91110000600037341A"' in html
    resp = await register(client, licence=b"MZ\x90\x00 not an image")
    assert field_error(await resp.text(), "licence") == "无法识别的图片文件，请上传 JPG 或 PNG 图片"
    resp = await register(client, credit_code=credit_code(1))  # the world's employer has it
    assert "已注册" in field_error(await resp.text(), "credit_code")
    assert await count(settings.database_url, employers) == before
    assert await count(settings.database_url, files) == 0


async def test_licence_image_loses_its_gps_data(client, world, settings):
    assert b"Exif" in jpeg_with_gps()[:200] or Image.open(io.BytesIO(jpeg_with_gps())).getexif()
    await register(client)
    db = Database(settings.database_url)
    async with db.read() as conn:
        file_id = (await conn.execute(sa.select(employers.c.licence_file_id).where(
            employers.c.credit_code == credit_code(77)))).scalar_one()
    await db.dispose()
    resp = await client.get(f"/files/{file_id}")
    assert resp.status == 200 and resp.headers["Content-Type"] == "image/jpeg"
    assert resp.headers["Content-Disposition"].startswith("inline; filename*=UTF-8''")
    stored = Image.open(io.BytesIO(await resp.read()))
    assert dict(stored.getexif()) == {}
    assert str(settings.data_dir) not in resp.headers.get("Content-Disposition", "")


async def test_registration_is_rate_limited_per_address(client, world, settings):
    before = await count(settings.database_url, employers)
    for _ in range(settings.register_limit):  # every submission counts, a bad one too
        resp = await register(client, licence=False, username="")
        assert resp.status == 400
    resp = await register(client)  # a good one, but one too many from this address
    assert resp.status == 429
    html = await resp.text()
    assert form_error(html) == "注册提交过于频繁，请一小时后再试"
    assert 'value="山城软件有限公司"' in html and 'value="shancheng"' in html
    assert await count(settings.database_url, employers) == before
    assert await count(settings.database_url, files) == 0
    from app.state import CLOCK
    client.app[CLOCK].advance(hours=2)
    assert (await register(client)).status == 303
