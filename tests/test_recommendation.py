"""推荐表: only after approved 生源信息; photo checks; school admin review; the print page,
the PDF (text and QR code read back from it) and the public verification page."""

import io

import aiohttp
import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from app.reviews.tables import recommendations
from tests.conftest import count, field_error, form_error
from tests.factories import PASSWORD
from tests.review_helpers import approved_origin, import_origins

FORM = {"resume_0_period": "2022.09-2026.06", "resume_0_place": "第一测试大学", "resume_0_role": "软件工程专业学习",
        "family_0_relation": "父亲", "family_0_name": "王大山", "family_0_work": "重庆某公司 工程师",
        "foreign_language": "CET-6", "computer": "全国计算机二级", "awards": "校级一等奖学金",
        "practice": "学生会主席", "self_evaluation": "踏实肯干，乐于学习。"}


def photo_bytes(fmt="JPEG", exif=True) -> bytes:
    img = Image.new("RGB", (300, 400), (200, 80, 60))
    out = io.BytesIO()
    if exif and fmt == "JPEG":
        ex = Image.Exif()
        ex[0x010F] = "SecretCamera"        # Make
        img.save(out, fmt, exif=ex.tobytes())
    else:
        img.save(out, fmt)
    return out.getvalue()


async def post_form(client, data: dict, photo: bytes | None = None, do="submit", name="me.jpg"):
    form = aiohttp.FormData()
    form.add_field("_csrf", client.csrf())
    for k, v in {**data, "do": do}.items():
        form.add_field(k, v)
    if photo is not None:
        form.add_field("photo", photo, filename=name, content_type="image/jpeg")
    return await client.client.post("/student/recommendation/edit", data=form, allow_redirects=False)


async def as_user(make_client, kind, account):
    c = await make_client()
    await c.login(kind, account, PASSWORD)
    return c


async def test_not_available_before_origin_is_approved(make_client, world, settings, clock):
    student = world.active_student()
    s = await as_user(make_client, "student", student.email)
    page = await (await s.get("/student/recommendation")).text()
    assert "学校尚未导入您的生源信息" in page and ">编辑</a>" not in page
    await import_origins(settings.database_url, world.schools[0].id, [student.student_no], clock.now())
    page = await (await s.get("/student/recommendation")).text()
    assert "当前状态为“待核对”，生源信息审核通过后才能填写推荐表" in page
    assert (await s.get("/student/recommendation/edit")).status == 303
    resp = await post_form(s, FORM, photo_bytes())
    assert resp.status == 400 and "生源信息审核通过后才能填写推荐表" in form_error(await resp.text())
    assert await count(settings.database_url, recommendations) == 0
    assert (await s.get("/student/recommendation/print")).status == 303


async def test_fill_review_print_pdf_and_verify(make_client, world, settings, clock):
    await approved_origin(settings.database_url, world, clock.now())
    student = world.active_student()
    s = await as_user(make_client, "student", student.email)
    assert ">编辑</a>" in await (await s.get("/student/recommendation")).text()

    # bad input: not an image, and missing required text → messages beside the fields
    resp = await post_form(s, {**FORM, "self_evaluation": ""}, b"%PDF-1.4 not a photo", name="a.jpg")
    html = await resp.text()
    assert resp.status == 400
    assert field_error(html, "photo") == "无法识别的图片文件，请上传 JPG 或 PNG 照片"
    assert "校级一等奖学金" in html
    assert await count(settings.database_url, recommendations) == 0
    resp = await post_form(s, {**FORM, "self_evaluation": ""})
    assert field_error(await resp.text(), "self_evaluation") == "请填写自我评价"
    assert field_error(await resp.text(), "photo") == "请上传照片"

    # 保存并送审 with a photo: EXIF is gone from what is stored and served
    resp = await post_form(s, FORM, photo_bytes())
    assert resp.status == 303, await resp.text()
    served = await (await s.get("/student/recommendation/photo")).read()
    with Image.open(io.BytesIO(served)) as img:
        assert img.format == "JPEG" and not img.getexif()
    assert list((settings.data_dir / "photos").iterdir())[0].suffix == ".jpg"

    # school admins: another school sees nothing; this school returns, then approves
    other = await as_user(make_client, "staff", "school_admin1")
    assert "没有符合条件的推荐表" in await (await other.get("/school/recommendations")).text()
    assert (await other.get("/school/recommendations/1")).status == 404
    assert (await other.get("/school/recommendations/1/photo")).status == 404
    a = await as_user(make_client, "staff", "school_admin0")
    assert student.name in await (await a.get("/school/recommendations")).text()
    resp = await a.post("/school/recommendations/1/return", {"reason": ""})
    assert field_error(await resp.text(), "reason") == "请填写退回原因"
    assert (await a.post("/school/recommendations/1/return", {"reason": "请补充实践经历"})).status == 303
    assert "请补充实践经历" in await (await s.get("/student/recommendation")).text()
    assert (await s.get("/student/recommendation/print")).status == 303
    assert (await post_form(s, {**FORM, "practice": "学生会主席；暑期社会实践"})).status == 303
    assert (await a.post("/school/recommendations/1/approve")).status == 303
    page = await (await a.get("/school/recommendations/1")).text()
    serial = f"TJ2026{world.schools[0].code}000001"
    assert serial in page and "已通过" in page

    # 【打印推荐表】 page and PDF
    assert ">打印推荐表</a>" in await (await s.get("/student/recommendation")).text()
    page = await (await s.get("/student/recommendation/print")).text()
    verify_path = page.split('id="verify-url">http://127.0.0.1')[1].split("<")[0]
    assert serial in page and student.name in page and "data:image/png;base64," in page
    resp = await s.get("/student/recommendation/print.pdf")
    assert resp.status == 200 and resp.content_type == "application/pdf"
    pdf = pypdfium2.PdfDocument(await resp.read())
    try:
        text = pdf[0].get_textpage().get_text_range()
        assert serial in text and student.name in text and "毕业生就业推荐表" in text
        image = pdf[0].render(scale=3).to_pil()
    finally:
        pdf.close()
    [code] = zxingcpp.read_barcodes(image)
    assert code.text == "http://127.0.0.1" + verify_path

    # the public verification page (anyone, no login)
    anon = await make_client()
    page = await (await anon.get(verify_path)).text()
    assert "该推荐表真实有效" in page and serial in page and student.name in page
    assert student.id_number not in page and student.email not in page
    assert "未找到该推荐表" in await (await anon.get("/verify/recommendation/nope")).text()
    # 作废 (revoke) makes it invalid at once
    assert (await a.post("/school/recommendations/1/revoke", {"reason": "信息有误"})).status == 303
    assert "该推荐表已作废" in await (await anon.get(verify_path)).text()
    assert (await s.get("/student/recommendation/print.pdf")).status == 303


@pytest.mark.parametrize("data", [b"", b"GIF89a" + b"\0" * 100])
async def test_photo_checked_by_content(make_client, world, settings, clock, data):
    await approved_origin(settings.database_url, world, clock.now())
    s = await as_user(make_client, "student", world.active_student().email)
    resp = await post_form(s, FORM, data, do="save")
    assert resp.status == 400 and field_error(await resp.text(), "photo")
    assert await count(settings.database_url, recommendations) == 0
    assert not (settings.data_dir / "photos").exists() or not any((settings.data_dir / "photos").iterdir())
