"""解约申请 mail through a real SMTP server (aiosmtpd): a party cycling 提交/撤回 does not make
the server mail the other party each time. The other party is mailed about one side's
解约申请 of an agreement once a day; every submission is still a notice in their centre."""

from __future__ import annotations

import dataclasses

import pytest

from app.tables import email_outbox, notices
from tests.conftest import count
from tests.mailbox import body_text
from tests.signing_kit import as_user
from tests.termination_kit import apply, effective, requests

UNIT = "hr@test.example.cn"   # the employer's account (tests/factories.py)
ABOUT = "%学生提交了%解约申请%"


@pytest.fixture
def settings(settings, mailbox):  # noqa: ANN001, ANN201
    return dataclasses.replace(settings, smtp_host=mailbox.host, smtp_port=mailbox.port)


def _about_termination(messages) -> list:  # noqa: ANN001
    return [m for m in messages if UNIT in m["To"] and "解约申请" in m["Subject"]]


async def test_ten_submit_withdraw_cycles_mail_the_employer_once(make_client, world, settings,
                                                                  clock, mailbox):
    student, employer, aid = await effective(make_client, world, settings, clock)
    db, unit_account = settings.database_url, world.staff["employer"][1]
    before = await count(db, email_outbox, email_outbox.c.to_addr == UNIT)  # 同意签约, 已生效
    for cycle in range(10):
        resp = await apply(student, "student", aid, reason_text=f"考取研究生（第{cycle + 1}次提交）")
        assert resp.status == 303, await resp.text()
        rid = (await requests(db))[-1].id
        assert (await student.post(f"/student/termination/{rid}/withdraw")).status == 303
        clock.advance(minutes=30)
    assert [r.status for r in await requests(db)] == ["withdrawn"] * 10
    # Ten notices in 单位中心 (each submission is there to read), one mail.
    assert await count(db, notices, notices.c.account_id == unit_account,
                       notices.c.title.like(ABOUT)) == 10
    assert await count(db, email_outbox, email_outbox.c.to_addr == UNIT,
                       email_outbox.c.subject.like(ABOUT)) == 1
    # A day after the last submission, a new 解约申请 is news again: a second mail.
    clock.advance(hours=24)
    assert (await apply(student, "student", aid, reason_text="再次申请解约")).status == 303
    assert await count(db, email_outbox, email_outbox.c.to_addr == UNIT,
                       email_outbox.c.subject.like(ABOUT)) == 2
    # Both really left through SMTP, and nothing else about 解约 was ever queued for the unit.
    await mailbox.wait_for(UNIT, count=before + 2)
    mails = _about_termination(mailbox.messages)
    assert len(mails) == 2
    assert "第1次提交" in body_text(mails[0]) and "再次申请解约" in body_text(mails[1])
    assert await count(db, email_outbox, email_outbox.c.to_addr == UNIT) == before + 2


async def test_a_returned_request_resubmitted_the_same_day_is_not_mailed_again(
        make_client, world, settings, clock, mailbox):
    """The employer's own 解约申请, returned by the counselor and corrected within the day:
    the student was mailed about it once; the correction is a notice."""
    student, employer, aid = await effective(make_client, world, settings, clock)
    db, s = settings.database_url, world.active_student()
    assert (await apply(employer, "employer", aid, reason_code="employer", reason_text="岗位撤销",
                        letter=None)).status == 303
    (req,) = await requests(db)
    counselor = await as_user(make_client, "staff", "counselor0")
    assert (await counselor.post(f"/reviews/terminations/{req.id}",
                                 {"action": "return", "reason": "请说明补偿"})).status == 303
    clock.advance(hours=3)
    assert (await apply(employer, "employer", aid, reason_code="employer",
                        reason_text="岗位撤销，已支付补偿", letter=None)).status == 303
    about = email_outbox.c.subject.like("%用人单位提交了%解约申请%")
    assert await count(db, email_outbox, email_outbox.c.to_addr == s.email, about) == 1
    assert await count(db, notices, notices.c.account_id == s.account_id,
                       notices.c.title.like("%用人单位提交了%解约申请%")) == 2
    queued = await count(db, email_outbox, email_outbox.c.to_addr == s.email)
    [mail] = [m for m in await mailbox.wait_for(s.email, count=queued) if "解约申请" in m["Subject"]]
    assert "岗位撤销" in body_text(mail) and "已支付补偿" not in body_text(mail)
