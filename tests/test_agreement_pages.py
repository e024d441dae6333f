"""What the 签约中心 and 解约中心 pages say, seen in the manual walk: a refused step says why
once, a 已解约 agreement says so instead of asking for print and upload, uploaded photos keep
their real type (a PNG stays a PNG and is listed as one), and 就业协议书验证 is linked from
every page's footer and from the agreement's own verification block."""

from __future__ import annotations

import datetime as dt
import io
import re

import sqlalchemy as sa
from PIL import Image, PngImagePlugin

from app.clock import china_date
from app.db import Database
from app.images import ImageLimits, document_or_pdf
from app.roles import Role
from app.tables import files
from tests.conftest import form_error
from tests.signing_kit import (agreement_row, as_user, ready_student, second_employer,
                               upload_scans)
from tests.termination_kit import (apply, effective, force, identity, invite_by_service,
                                   offline_generated, requests)

LIMITS = ImageLimits(max_bytes=10_000_000, max_pixels=40_000_000)


def _png(color: str = "white", **save) -> bytes:  # noqa: ANN003
    out = io.BytesIO()
    Image.new("RGB", (300, 400), color).save(out, "PNG", **save)
    return out.getvalue()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 400), "gray").save(out, "JPEG")
    return out.getvalue()


async def _offline_generated(database_url: str, world, now: dt.datetime) -> int:  # noqa: ANN001
    """A 线下签约 agreement confirmed by the unit and generated: numbered, to print and upload."""
    await ready_student(database_url, world, now)
    return await offline_generated(database_url, world, now)


async def _stored(database_url: str, file_id: str) -> sa.Row:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return (await conn.execute(sa.select(files).where(files.c.id == file_id))).one()
    finally:
        await db.dispose()


# --- a refused step says why once ---------------------------------------------------------------

async def test_a_refused_termination_says_why_once(make_client, world, settings, clock):
    student, employer, aid = await effective(make_client, world, settings, clock)
    assert (await apply(student, "student", aid)).status == 303
    # The employer's own 解约申请 of the same agreement: refused, the reason shown once.
    resp = await apply(employer, "employer", aid, reason_code="employer", reason_text="岗位撤销",
                       letter=None)
    html = await resp.text()
    assert resp.status == 409 and "正在办理" in form_error(html)
    assert html.count("正在办理") == 1 and 'id="apply-blocked"' not in html
    # Opened without a refusal, the page still says why it has no form.
    page = await (await employer.get(f"/employer/termination/apply/{aid}")).text()
    assert page.count("正在办理") == 1 and 'id="apply-blocked"' in page and ">提交<" not in page
    # The window closed: the refusal names the closing day once.
    (req,) = await requests(settings.database_url)
    assert (await student.post(f"/student/termination/{req.id}/withdraw")).status == 303
    admin = await as_user(make_client, "staff", "school_admin0")
    yesterday = china_date(clock.now()) - dt.timedelta(days=1)
    assert (await admin.post("/school/termination/window",
                             {"opens": "", "closes": yesterday.isoformat()})).status == 303
    resp = await apply(student, "student", aid)
    html = await resp.text()
    closed = f"已于 {yesterday:%Y年%m月%d日} 截止"
    assert resp.status == 409 and closed in form_error(html) and html.count(closed) == 1


async def test_a_refused_answer_says_why_once(make_client, world, settings, clock):
    """The student agrees to one invitation; agreeing to the other is refused (one agreement
    at a time), and the refusal is shown once, not again as the page's note."""
    db, now = settings.database_url, clock.now()
    await ready_student(db, world, now)
    employer2, _, account2 = await second_employer(db, now)
    other = await invite_by_service(db, world, identity(world, account2, Role.EMPLOYER, employer2), now)
    employer = identity(world, "employer", Role.EMPLOYER, world.employer_id)
    await invite_by_service(db, world, employer, now, agree=True)
    s = await as_user(make_client, "student", world.active_student().email)
    page = await (await s.get(f"/student/signing/online/{other}")).text()
    assert page.count("同一时间只能办理一份") == 1 and 'id="busy-note"' in page
    resp = await s.post(f"/student/signing/online/{other}/answer", {"action": "agree", "opinion": "同意"})
    html = await resp.text()
    assert resp.status == 409 and "同一时间只能办理一份" in form_error(html)
    assert html.count("同一时间只能办理一份") == 1


# --- a 已解约 agreement says so ---------------------------------------------------------------------

async def test_a_terminated_agreement_says_so_instead_of_print_and_upload(make_client, world,
                                                                          settings, clock):
    db = settings.database_url
    aid = await _offline_generated(db, world, clock.now())
    s = await as_user(make_client, "student", world.active_student().email)
    page = await (await s.get(f"/student/signing/agreements/{aid}")).text()
    assert 'id="print-hint"' in page and "拍照上传" in page  # the step to do now
    assert (await upload_scans(s, aid, [("盖章页.pdf", b"%PDF-1.4\n%%EOF\n")])).status == 303
    page = await (await s.get(f"/student/signing/agreements/{aid}")).text()
    assert "拍照上传" not in page  # uploaded: waiting for the school, nothing to print
    admin = await as_user(make_client, "staff", "school_admin0")
    assert (await admin.post(f"/reviews/agreements/{aid}", {"action": "approve"})).status == 303
    number = (await agreement_row(db, aid)).number
    assert (await force(admin, number)).status == 303
    row = await agreement_row(db, aid)
    assert row.status == "terminated"
    page = await (await s.get(f"/student/signing/agreements/{aid}")).text()
    assert "打印" not in page and "拍照上传" not in page and 'id="f-scans"' not in page
    note = re.search(r'id="terminated-note">([^<]*)<', page).group(1)
    assert note == f"本协议书已于 {china_date(row.ended_at):%Y-%m-%d} 解约，不再有效；原图和PDF仅供留存。"
    assert re.search(r'id="detail-state">已解约<', page)


async def test_an_online_agreement_never_asks_for_an_upload(make_client, world, settings, clock):
    student, employer, aid = await effective(make_client, world, settings, clock)
    page = await (await student.get(f"/student/signing/agreements/{aid}")).text()
    assert "拍照上传" not in page and 'id="terminate-link"' in page


# --- a PNG stays a PNG ------------------------------------------------------------------------------

def test_a_document_photo_keeps_its_type_and_loses_its_metadata():
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "GPS 29.56N 106.55E")
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"
    name, content_type, data = document_or_pdf(_png(pnginfo=text, exif=exif.tobytes()),
                                               "解约函.png", LIMITS)
    assert (name, content_type) == ("解约函.png", "image/png")
    assert Image.open(io.BytesIO(data)).format == "PNG"
    assert b"GPS" not in data and b"SecretCamera" not in data
    # The name follows the content, never the name sent: a JPEG called .png is a .jpg.
    assert document_or_pdf(_jpeg(), "scan.png", LIMITS)[:2] == ("scan.jpg", "image/jpeg")
    assert document_or_pdf(_png(), "scan.jpg", LIMITS)[:2] == ("scan.png", "image/png")


async def test_uploaded_scans_and_letters_are_listed_with_their_real_type(make_client, world,
                                                                         settings, clock):
    db = settings.database_url
    aid = await _offline_generated(db, world, clock.now())
    s = await as_user(make_client, "student", world.active_student().email)
    resp = await upload_scans(s, aid, [("第一页.png", _png()), ("第二页.jpg", _jpeg())])
    assert resp.status == 303, await resp.text()
    first, second = (await agreement_row(db, aid)).scans
    assert ((await _stored(db, first)).display_name, (await _stored(db, first)).content_type) == (
        "第一页.png", "image/png")
    assert (await _stored(db, second)).content_type == "image/jpeg"
    served = await s.get(f"/agreements/{aid}/scans/{first}")
    assert served.status == 200 and served.content_type == "image/png"
    assert Image.open(io.BytesIO(await served.read())).format == "PNG"
    page = await (await s.get(f"/student/signing/agreements/{aid}")).text()
    listed = re.search(r'id="scan-list">(.*?)</ul>', page, re.S).group(1)
    assert re.findall(r">(第\d页)</a>（([^）]*)）", listed) == [("第1页", "PNG 图片"), ("第2页", "JPG 图片")]
    admin = await as_user(make_client, "staff", "school_admin0")
    review = await (await admin.get(f"/reviews/agreements/{aid}")).text()
    assert "（PNG 图片）" in review and "（JPG 图片）" in review


async def test_a_png_letter_is_listed_as_a_png(make_client, world, settings, clock):
    student, employer, aid = await effective(make_client, world, settings, clock)
    assert (await apply(student, "student", aid, letter=("解约函.png", _png()))).status == 303
    (req,) = await requests(settings.database_url)
    assert (await _stored(settings.database_url, req.letter_file_id)).content_type == "image/png"
    for client, path in ((student, "student"), (employer, "employer")):
        page = await (await client.get(f"/{path}/termination/{req.id}")).text()
        assert re.search(r'id="letter-link">查看解约函</a>（PNG 图片）', page)


# --- 就业协议书验证 is linked ----------------------------------------------------------------------------

async def test_verification_is_linked_from_every_footer_and_the_agreement(make_client, world,
                                                                          settings, clock):
    anonymous = await make_client()
    for path in ("/", "/jobs", "/login/student"):
        page = await (await anonymous.get(path)).text()
        assert re.search(r'<footer.*href="/verify/agreement"[^>]*>就业协议书验证</a>', page, re.S), path
    assert (await anonymous.get("/verify/agreement")).status == 200
    student, employer, aid = await effective(make_client, world, settings, clock)
    for client, path in ((student, f"/student/signing/agreements/{aid}"),
                         (employer, f"/employer/agreements/{aid}")):
        page = await (await client.get(path)).text()
        block = page.split('id="agreement-number"')[1].split("<table")[0]  # beside the number and QR
        assert 'href="/verify/agreement" id="verify-lookup-link">就业协议书验证</a>' in block
    # The paper renders from the same partial: it carries the address and QR code, no link.
    assert (await student.get(f"/agreements/{aid}/agreement.pdf")).status == 200
