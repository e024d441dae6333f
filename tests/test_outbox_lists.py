"""邮件发件箱 and 短信发件箱 on the list component: each filter (状态, 邮件类型/用途, text,
生成日期) keeps exactly what a plain Python filter of the same rows keeps (hypothesis draws
the filters), the count says how many, the columns sort, states are badges, and 【重发】 goes
back to the list as it was filtered."""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import strategies as st

from app.admin import listing as mail_listing
from app.clock import CHINA
from app.db import Database
from app.sms.tables import sms_outbox
from app.tables import email_outbox
from tests.signing_kit import as_user
from tests.lists_kit import drawn

BASE = dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.timezone.utc)
DAYS = [(BASE + dt.timedelta(days=d)).astimezone(CHINA).date() for d in range(0, 10)]
LATER = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)   # not due: the workers leave them be
WORDS = ["alice", "bob", "example", "通知", "验证码", "面试", "b.example", "zz", "00000007", "carol7@"]


def _when(rng: random.Random) -> dt.datetime:
    return BASE + dt.timedelta(minutes=rng.randrange(10 * 24 * 60))


@pytest.fixture
async def admin(make_client, world):  # noqa: ANN001, ANN201
    return await as_user(make_client, "staff", "platform")


@pytest.fixture
async def boxes(settings, admin) -> dict[str, list[Any]]:  # noqa: ANN001
    """80 mails and 80 text messages in every state, of every kind, over ten China days
    (written once the app runs: its housekeeping at start deletes old sent mail)."""
    rng = random.Random(25)
    templates = [*mail_listing.template_names(), "test"]
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            for n in range(80):
                status = rng.choice(["pending", "pending", "sent", "failed"])
                at = _when(rng)
                await conn.execute(email_outbox.insert().values(
                    to_addr=f"{rng.choice(['alice', 'bob', 'carol'])}{n}@{rng.choice('ab')}.example.cn",
                    subject=f"{rng.choice(['审核通知', '找回密码验证码', '视频面试邀请'])} {n}",
                    body_text="正文", template=rng.choice(templates), attachments=[], status=status,
                    attempts=rng.randrange(4), next_attempt_at=LATER, created_at=at,
                    sent_at=at if status == "sent" else None,
                    last_error=rng.choice([None, "421 稍后再试"]) if status != "sent" else None))
                status = rng.choice(["pending", "sent", "kept", "failed"])
                at = _when(rng)
                await conn.execute(sms_outbox.insert().values(
                    to_phone=f"13{rng.choice('89')}{n:08d}",
                    text=f"【就业网】{rng.choice(['验证码', '面试通知', 'alice'])} {n}",
                    purpose=rng.choice(["phone_code", "test"]), status=status,
                    attempts=rng.randrange(4), next_attempt_at=LATER, created_at=at,
                    sent_at=at if status == "sent" else None,
                    last_error=rng.choice([None, "网关超时"]) if status in ("pending", "failed") else None))
        async with db.read() as conn:
            return {"mail": list(await conn.execute(sa.select(email_outbox))),
                    "sms": list(await conn.execute(sa.select(sms_outbox)))}
    finally:
        await db.dispose()


def keeps(row: Any, f: dict[str, str], kind: str) -> bool:
    """The plain Python meaning of each filter."""
    texts = (row.to_addr, row.subject) if kind == "mail" else (row.to_phone, row.text)
    day = row.created_at.astimezone(CHINA).date()
    checks = {
        "status": lambda v: (row.status == "pending" and row.last_error is not None)
        if v == "retrying" else row.status == v,
        "template": lambda v: row.template == v,
        "purpose": lambda v: row.purpose == v,
        "q": lambda v: all(any(w.lower() in t.lower() for t in texts) for w in v.split()),
        "created_from": lambda v: day >= dt.date.fromisoformat(v),
        "created_to": lambda v: day <= dt.date.fromisoformat(v),
    }
    return all(checks[k](v) for k, v in f.items())


def filters(kind: str) -> st.SearchStrategy[dict[str, str]]:
    states = ["pending", "retrying", "sent", "failed", *(["kept"] if kind == "sms" else [])]
    choices = {
        "status": st.sampled_from(states),
        "q": st.lists(st.sampled_from(WORDS), min_size=1, max_size=2).map(" ".join),
        "created_from": st.sampled_from([d.isoformat() for d in DAYS]),
        "created_to": st.sampled_from([d.isoformat() for d in DAYS]),
        **({"template": st.sampled_from(mail_listing.template_names()[:6])} if kind == "mail"
           else {"purpose": st.just("phone_code")}),
    }
    return st.dictionaries(st.sampled_from(sorted(choices)), st.just(""), max_size=3).flatmap(
        lambda keys: st.fixed_dictionaries({k: choices[k] for k in keys}))


LISTS = {"mail": ("/platform/outbox", r'<tr id="mail-(\d+)">'),
         "sms": ("/platform/sms", r'<tr id="sms-(\d+)">')}
SORTS = {"created": lambda r: r.id, "attempts": lambda r: r.attempts, "status": lambda r: r.status}


@pytest.mark.parametrize("kind", ["mail", "sms"])
async def test_each_filter_keeps_exactly_the_matching_rows(kind, admin, boxes):
    path, row = LISTS[kind]
    one = boxes[kind][7].to_addr if kind == "mail" else boxes[kind][7].to_phone
    sizes = set()
    # none, one and many for certain; then what hypothesis draws
    for n, f in enumerate([{}, {"q": "无此"}, {"q": one}, *drawn(filters(kind), 40)]):
        sort = list(SORTS)[n % len(SORTS)]
        descending = n % 2 == 0
        resp = await admin.get(path, params={**f, "size": "100", "sort": ("-" if descending else "") + sort})
        page = await resp.text()
        if f.get("created_from", "") > f.get("created_to", "9"):
            assert resp.status == 400 and 'id="f-created_to-error"' in page, f
            f = {k: v for k, v in f.items() if k != "created_to"}
        else:
            assert resp.status == 200, f
        want = [r for r in boxes[kind] if keeps(r, f, kind)]
        got = [int(i) for i in re.findall(row, page)]
        assert sorted(got) == sorted(r.id for r in want), f
        assert int(re.search(r'data-total="(\d+)"', page).group(1)) == len(want)
        by_id = {r.id: r for r in want}
        keys = [SORTS[sort](by_id[i]) for i in got]
        assert keys == sorted(keys, reverse=descending), (f, sort)
        sizes.add(min(len(got), 2))
    assert sizes == {0, 1, 2}


@pytest.mark.parametrize("kind", ["mail", "sms"])
async def test_states_are_badges_and_rows_are_labelled_cards(kind, admin, boxes):
    path, row = LISTS[kind]
    page = await (await admin.get(path, params={"status": "failed", "size": "100"})).text()
    bodies = re.findall(row.replace(r"(\d+)", r"\d+") + r"(.*?)</tr>", page, re.S)
    failed = [r for r in boxes[kind] if r.status == "failed"]
    assert len(bodies) == len(failed) > 0
    for body in bodies:
        assert '<span class="state-badge tone-bad">发送失败</span>' in body
        assert body.count("<td") == body.count("<td data-label=")
    retrying = await (await admin.get(path, params={"status": "retrying", "size": "100"})).text()
    assert '<span class="state-badge tone-wait">待重试</span>' in retrying
    assert 'class="table stack pairs"' in page


async def test_resend_goes_back_to_the_filtered_list(admin, boxes):
    failed = next(r for r in boxes["mail"] if r.status == "failed")
    page = await (await admin.get("/platform/outbox", params={"status": "failed", "q": "example",
                                                              "sort": "attempts"})).text()
    action = re.search(rf'<form method="post" action="(/platform/outbox/{failed.id}/resend[^"]*)"',
                       page).group(1).replace("&amp;", "&")
    resp = await admin.post(action)
    assert resp.status == 303
    assert resp.headers["Location"] == "/platform/outbox?status=failed&q=example&sort=attempts"
    # what is not the list's own is not carried back
    other = next(r for r in boxes["mail"] if r.status == "failed" and r.id != failed.id)
    resp = await admin.post(f"/platform/outbox/{other.id}/resend?status=sent&next=//evil.example")
    assert resp.headers["Location"] == "/platform/outbox?status=sent"
    page = await (await admin.get("/platform/outbox", params={"status": "failed", "size": "100"})).text()
    assert f'id="mail-{failed.id}"' not in page and f'id="mail-{other.id}"' not in page


def test_every_mail_template_has_a_name():
    assert set(mail_listing.template_names()) == set(mail_listing.TEMPLATE_LABELS)
