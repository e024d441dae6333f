"""线下签约's 发给单位确认 is bound to the unit (issue 24, finding 6): an agreement carrying a
registered employer's 统一社会信用代码 is confirmed in that employer's 单位中心, never through
an address the student typed; only an unregistered unit gets the mailed link, and the
verification page says so ("单位未注册，经邮件确认")."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.db import Database
from app.tables import email_outbox, notices
from tests.conftest import field_error
from tests.factories import credit_code
from tests.signing_kit import (AGREEMENT, agreement_id_from, agreement_row, as_user,
                               last_mail_to, ready_student, second_employer)

REGISTERED = {**AGREEMENT, "unit_name": "测试科技有限公司", "credit_code": credit_code(1),
              "email": "student-typed@mailbox.example.cn"}


async def _entered(make_client, world, settings, clock, values):  # noqa: ANN001, ANN202
    await ready_student(settings.database_url, world, clock.now())
    s = await as_user(make_client, "student", world.active_student().email)
    await s.get("/student/signing/offline/new")
    resp = await s.post("/student/signing/offline/new", {**values, "do": "preview"})
    assert resp.status == 303, await resp.text()
    return s, agreement_id_from(resp.headers["Location"])


async def _mails_to(database_url: str, address: str) -> int:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return (await conn.execute(sa.select(sa.func.count()).select_from(email_outbox)
                                       .where(email_outbox.c.to_addr == address))).scalar_one()
    finally:
        await db.dispose()


async def _notices_of(database_url: str, account_id: int) -> list[str]:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return list((await conn.execute(sa.select(notices.c.title).where(
                notices.c.account_id == account_id))).scalars())
    finally:
        await db.dispose()


async def test_a_registered_units_agreement_is_confirmed_in_its_own_unit_centre(
        make_client, world, settings, clock):
    s, aid = await _entered(make_client, world, settings, clock, REGISTERED)
    employer = await as_user(make_client, "employer", "employer")
    # a draft is the student's own: not in the unit's list, not openable
    assert (await employer.get(f"/employer/agreements/{aid}")).status == 404
    assert world.active_student().name not in await (await employer.get("/employer/agreements")).text()

    preview = await (await s.get(f"/student/signing/offline/{aid}/preview")).text()
    assert "已在本网注册" in preview
    assert (await s.post(f"/student/signing/offline/{aid}/send")).status == 303
    sent = await (await s.get(f"/student/signing/offline/{aid}/preview?sent=1")).text()
    message = re.search(r'id="sent-message">(.*?)</div>', sent)[1]
    assert "单位中心确认" in message and REGISTERED["email"] not in message
    # nothing goes to the address the student typed: no link exists to confirm with
    assert await _mails_to(settings.database_url, REGISTERED["email"]) == 0
    row = await agreement_row(settings.database_url, aid)
    assert row.status == "awaiting" and row.confirm_token_hash is None
    employer_account = world.staff["employer"][1]
    assert any("线下签约" in t for t in await _notices_of(settings.database_url, employer_account))

    # the unit finds it in its list and answers there
    assert world.active_student().name in await (await employer.get("/employer/agreements")).text()
    page = await (await employer.get(f"/employer/agreements/{aid}")).text()
    assert "确认无误" in page and "需要修改" in page
    resp = await employer.post(f"/employer/agreements/{aid}/confirm",
                               {"action": "ask_changes", "comment": ""})
    assert resp.status == 400 and field_error(await resp.text(), "comment")
    assert (await agreement_row(settings.database_url, aid)).status == "awaiting"
    resp = await employer.post(f"/employer/agreements/{aid}/confirm",
                               {"action": "ask_changes", "comment": "岗位名称应为测试工程师"})
    assert resp.status == 303
    row = await agreement_row(settings.database_url, aid)
    assert row.status == "draft" and row.employer_comment == "岗位名称应为测试工程师"

    assert (await s.post(f"/student/signing/offline/{aid}/send")).status == 303
    resp = await employer.post(f"/employer/agreements/{aid}/confirm", {"action": "confirm"})
    assert resp.status == 303
    assert (await agreement_row(settings.database_url, aid)).status == "confirmed"
    # a second answer is refused: the agreement no longer waits for one
    resp = await employer.post(f"/employer/agreements/{aid}/confirm", {"action": "confirm"})
    assert resp.status == 409
    assert (await s.post(f"/student/signing/offline/{aid}/generate")).status == 303
    row = await agreement_row(settings.database_url, aid)
    verify = await (await s.get(f"/verify/agreement/{row.verify_token}")).text()
    assert "测试科技有限公司" in verify and "单位未注册" not in verify


async def test_another_unit_and_the_student_cannot_confirm_a_registered_units_agreement(
        make_client, world, settings, clock):
    s, aid = await _entered(make_client, world, settings, clock, REGISTERED)
    assert (await s.post(f"/student/signing/offline/{aid}/send")).status == 303
    _, other_name, _ = await second_employer(settings.database_url, clock.now())
    other = await as_user(make_client, "employer", other_name)
    assert (await other.get(f"/employer/agreements/{aid}")).status == 404
    assert (await other.post(f"/employer/agreements/{aid}/confirm", {"action": "confirm"})).status == 404
    # the student is not an employer: the route refuses the role
    assert (await s.post(f"/employer/agreements/{aid}/confirm", {"action": "confirm"})).status in (302, 303, 403)
    assert (await agreement_row(settings.database_url, aid)).status == "awaiting"


async def test_an_unregistered_unit_confirms_by_mail_and_the_verification_page_says_so(
        make_client, world, settings, clock):
    s, aid = await _entered(make_client, world, settings, clock, AGREEMENT)
    preview = await (await s.get(f"/student/signing/offline/{aid}/preview")).text()
    assert "单位未注册，经邮件确认" in preview  # told before sending
    assert (await s.post(f"/student/signing/offline/{aid}/send")).status == 303
    mail = await last_mail_to(settings.database_url, AGREEMENT["email"])
    link = mail.body_text.split("http://127.0.0.1", 1)[1].split()[0]
    unit = await make_client()
    assert (await unit.post(link, {"action": "confirm"})).status == 200
    assert (await s.post(f"/student/signing/offline/{aid}/generate")).status == 303
    row = await agreement_row(settings.database_url, aid)
    assert row.employer_id is None
    verify = await (await unit.get(f"/verify/agreement/{row.verify_token}")).text()
    assert "重庆示例科技有限公司（单位未注册，经邮件确认）" in verify
    # and no registered employer lists it
    employer = await as_user(make_client, "employer", "employer")
    assert world.active_student().name not in await (await employer.get("/employer/agreements")).text()



TRAINING_MODE_CELL = re.compile(r"<th>培养方式</th><td>非定向</td>")


async def test_the_mailed_links_page_shows_the_papers_training_mode(make_client, world, settings,
                                                                   clock):
    """培养方式 comes with the agreement wherever it is shown: the unit's pages used to leave
    it empty."""
    s, aid = await _entered(make_client, world, settings, clock, AGREEMENT)
    assert (await s.post(f"/student/signing/offline/{aid}/send")).status == 303
    mail = await last_mail_to(settings.database_url, AGREEMENT["email"])
    link = mail.body_text.split("http://127.0.0.1", 1)[1].split()[0]
    assert TRAINING_MODE_CELL.search(await (await (await make_client()).get(link)).text())


async def test_the_unit_centres_page_shows_the_papers_training_mode(make_client, world, settings,
                                                                   clock):
    s, aid = await _entered(make_client, world, settings, clock, REGISTERED)
    assert (await s.post(f"/student/signing/offline/{aid}/send")).status == 303
    employer = await as_user(make_client, "employer", "employer")
    assert TRAINING_MODE_CELL.search(await (await employer.get(f"/employer/agreements/{aid}")).text())
