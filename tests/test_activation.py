"""学生激活 through the real app and a real database: every branch."""

import re

from app.tables import accounts, audit_log, student_records
from tests.conftest import count, field_error, form_error


async def step1(client, world, **override):
    s = world.inactive_student()
    data = {"school_id": str(world.schools[0].id), "student_no": s.student_no, "name": s.name,
            "id_number": s.id_number, **override}
    return await client.post("/activate", data)


async def test_page_has_the_manuals_labels(client):
    html = await (await client.get("/activate")).text()
    assert "学生激活" in html and ">下一步<" in html
    for label in ("学校", "学号", "姓名", "身份证号"):
        assert re.search(rf'<label for="f-[a-z_]+">{label}<', html), label


async def test_success_logs_in_at_student_centre(client, world, settings):
    s = world.inactive_student()
    resp = await step1(client, world, id_number=s.id_number.lower())  # lower-case x accepted
    assert resp.status == 303
    profile_url = resp.headers["Location"]
    assert profile_url.startswith("/activate/profile?t=")
    html = await (await client.get(profile_url)).text()
    for label in ("邮箱", "手机号", "密码", "确认密码"):
        assert re.search(rf'<label for="f-[a-z0-9_]+">{label}<', html), label
    token = profile_url.split("t=", 1)[1]
    resp = await client.post("/activate/profile", {
        "t": token, "email": "new.student@example.cn", "phone": "+86 139-1234-5678",
        "password": "abc12345", "password2": "abc12345"})
    assert resp.status == 303 and resp.headers["Location"] == "/student"
    page = await client.get("/student")
    assert page.status == 200
    html = await page.text()
    assert "学生中心" in html and s.name in html and "13912345678" in html
    assert await count(settings.database_url, student_records,
                       student_records.c.id == s.record_id, student_records.c.account_id.is_not(None)) == 1
    assert await count(settings.database_url, audit_log, audit_log.c.action == "activate",
                       audit_log.c.entity_id == str(s.record_id)) == 1


async def test_missing_fields_each_get_a_message(client, world, settings):
    resp = await client.post("/activate", {"school_id": "", "student_no": "", "name": "", "id_number": ""})
    assert resp.status == 400
    html = await resp.text()
    assert field_error(html, "school_id") == "请填写学校"
    assert field_error(html, "student_no") == "请填写学号"
    assert field_error(html, "name") == "请填写姓名"
    assert field_error(html, "id_number") == "请填写身份证号"


async def test_check_digit_is_checked_first_and_input_kept(client, world):
    s = world.inactive_student()
    wrong = s.id_number[:17] + ("0" if s.id_number[17] != "0" else "1")
    resp = await step1(client, world, id_number=wrong, student_no="NO-SUCH")
    html = await resp.text()
    assert resp.status == 400
    assert "校验位" in field_error(html, "id_number")
    assert form_error(html) is None  # the record lookup did not run
    assert 'value="NO-SUCH"' in html and f'value="{wrong}"' in html


async def test_no_imported_record_says_the_school_must_import(client, world, settings):
    before = await count(settings.database_url, accounts)
    resp = await step1(client, world, student_no="X999")
    assert resp.status == 400
    assert "学校就业部门需要先导入" in form_error(await resp.text())
    assert await count(settings.database_url, accounts) == before


async def test_other_schools_record_is_not_found(client, world):
    resp = await step1(client, world, school_id=str(world.schools[1].id))
    assert "学校就业部门需要先导入" in form_error(await resp.text())


async def test_name_or_id_mismatch(client, world):
    from app.validators import make_id_number
    import datetime as dt
    resp = await step1(client, world, name="别人")
    assert "不一致" in form_error(await resp.text())
    other_id = make_id_number("110101", dt.date(1999, 9, 9), 55)
    resp = await step1(client, world, id_number=other_id)
    assert "不一致" in form_error(await resp.text())


async def test_already_active_points_to_login(client, world):
    s = world.active_student()
    resp = await client.post("/activate", {"school_id": str(world.schools[0].id),
                                           "student_no": s.student_no, "name": s.name,
                                           "id_number": s.id_number})
    html = await resp.text()
    assert "已激活" in form_error(html)
    assert 'href="/login/student">去登录</a>' in html


async def test_profile_errors_keep_input_and_write_nothing(client, world, settings):
    resp = await step1(client, world)
    token = resp.headers["Location"].split("t=", 1)[1]
    taken = world.active_student()
    before = await count(settings.database_url, accounts)
    cases = [
        ({"email": "bad", "phone": "123", "password": "short", "password2": "x"},
         {"email": "请输入正确的邮箱地址", "phone": "请输入11位手机号码", "password": "密码至少8位"}),
        ({"email": "ok@example.cn", "phone": "13900001111", "password": "abc12345", "password2": "abc12346"},
         {"password2": "两次输入的密码不一致"}),
        ({"email": taken.email.upper(), "phone": taken.phone, "password": "abc12345", "password2": "abc12345"},
         {"email": "该邮箱已被其他账号使用", "phone": "该手机号已被其他学生账号使用"}),
    ]
    for data, expected in cases:
        resp = await client.post("/activate/profile", {"t": token, **data})
        assert resp.status == 400
        html = await resp.text()
        for name, message in expected.items():
            assert field_error(html, name) == message, (name, html)
        assert f'value="{data["email"]}"' in html
        assert 'name="password" type="password" autocomplete' in html
    assert await count(settings.database_url, accounts) == before


async def test_forged_or_missing_token_goes_back_to_step_one(client, world):
    resp = await client.get("/activate/profile?t=forged.token")
    assert resp.status == 303 and resp.headers["Location"] == "/activate?expired=1"
    resp = await client.post("/activate/profile", {"t": "x", "email": "a@b.cn"})
    assert resp.status == 303


async def test_activation_twice_with_one_token_is_refused(make_client, world, settings):
    a, b = await make_client(), await make_client()
    resp = await step1(a, world)
    token = resp.headers["Location"].split("t=", 1)[1]
    data = {"t": token, "email": "one@example.cn", "phone": "13911112222",
            "password": "abc12345", "password2": "abc12345"}
    assert (await a.post("/activate/profile", data)).status == 303
    resp = await b.post("/activate/profile", {**data, "email": "two@example.cn", "phone": "13911113333"})
    assert resp.status == 400 and "已激活" in form_error(await resp.text())


async def test_wrong_attempts_are_rate_limited(client, world, settings):
    for _ in range(settings.activation_limit):
        resp = await step1(client, world, name="猜一猜")
        assert resp.status == 400
    resp = await step1(client, world)  # even the right answer waits now
    assert resp.status == 429
    assert "尝试次数过多" in form_error(await resp.text())


async def test_concurrent_wrong_attempts_get_the_limit_and_no_more(client, world, settings):
    """The slot is taken before the record is compared: forty at once get ACTIVATION_LIMIT
    answers that tell a mismatch, the rest wait."""
    import asyncio
    await client.get("/")
    resps = await asyncio.gather(*(step1(client, world, name=f"猜{i}") for i in range(40)))
    answers = [form_error(await r.text()) for r in resps]
    assert sum("不一致" in a for a in answers) == settings.activation_limit
    assert sum("尝试次数过多" in a for a in answers) == 40 - settings.activation_limit
