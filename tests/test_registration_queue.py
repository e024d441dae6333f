"""The 就业信息登记 queue on the staff list component: against registrations made here with
known facts, each filter hypothesis draws keeps exactly what a plain Python filter of them
keeps (for a counselor and a school admin, never a draft, never another college's or
school's), in the order asked; batches at both levels: "select all N" recounted when the
list changed, ticked items that cannot be decided listed with the reason, one 退回 reason
for all, one audit row per decided item and, for each of the school's approvals, its
毕业去向 made effective exactly once; the review page's 下一条 stays in the filtered queue
through the decision's POST and redirect."""

from __future__ import annotations

import datetime as dt
import html
import random
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import sqlalchemy as sa
from hypothesis import strategies as st

from app.auth.sessions import Identity
from app.clock import CHINA
from app.db import Database
from app.destinations import service as destinations
from app.destinations.tables import graduate_destinations
from app.registration import listing, service
from app.registration.tables import registrations
from app.roles import Role
from app.tables import audit_log, student_records
from app.validators import make_id_number
from tests.conftest import field_error
from tests.factories import PASSWORD
from tests.registration_helpers import staff_account
from tests.lists_kit import count_on, done_failed, drawn, total

EDUCATIONS = ("本科生", "硕士生", "专科生")
# Written out here, not imported: the 毕业去向 a registration can hold (DOMAIN.md).
CODES = ("11", "12", "27", "46", "50", "51", "75", "76", "80", "85", "70", "71", "72")
STATES = ("draft", "submitted", "college_ok", "returned", "approved")
BASE = dt.datetime(2026, 5, 1, 0, 0, tzinfo=dt.timezone.utc)
DAYS = [(BASE + dt.timedelta(days=d)).astimezone(CHINA).date() for d in range(0, 22, 2)]


@dataclass(frozen=True)
class Reg:
    id: int
    record_id: int
    school: int              # index into world.schools
    college_id: int
    major_id: int
    education: str
    year: int
    code: str
    status: str
    sent: dt.datetime | None
    student_no: str
    name: str


async def make_registrations(database_url: str, world: Any, n: int, *, school: int = 0,
                             seed: int = 25, status: str | None = None, college: int | None = None,
                             education: str | None = None, prefix: str = "R") -> list[Reg]:
    """n registrations with facts drawn from `seed` (or fixed by the arguments), each of its
    own student record."""
    rng = random.Random(seed)
    sd = world.schools[school]
    db = Database(database_url)
    out = []
    try:
        async with db.write() as conn:
            for i in range(n):
                c = rng.randrange(2) if college is None else college
                state = status or rng.choice(STATES)
                # drafts were mostly never sent; a withdrawn one keeps its 送审时间
                sent = (None if state == "draft" and rng.random() < 0.7
                        else BASE + dt.timedelta(hours=rng.randrange(0, 24 * 20, 7)))
                code = rng.choice(CODES)
                facts = dict(college_id=sd.college_ids[c], major_id=sd.major_ids[c],
                             education=education or rng.choice(EDUCATIONS),
                             year=rng.choice((2025, 2026)), student_no=f"{prefix}{school}{i:04d}",
                             name=f"登记{prefix}{school}{i:03d}")
                record_id = (await conn.execute(student_records.insert().values(
                    school_id=sd.id, student_no=facts["student_no"], name=facts["name"],
                    id_number=make_id_number("500103", dt.date(2003, 1, 1 + i % 28),
                                             (seed * 131 + i) % 1000),
                    gender="1", college_id=facts["college_id"], major_id=facts["major_id"],
                    education=facts["education"], graduation_year=facts["year"],
                    imported_at=BASE, updated_at=BASE).returning(student_records.c.id))).scalar_one()
                reg_id = (await conn.execute(registrations.insert().values(
                    school_id=sd.id, college_id=facts["college_id"], student_record_id=record_id,
                    status=state, code=code, data={}, files={}, created_at=BASE, updated_at=BASE,
                    submitted_at=sent).returning(registrations.c.id))).scalar_one()
                out.append(Reg(id=reg_id, record_id=record_id, school=school, code=code,
                               status=state, sent=sent, **facts))
        return out
    finally:
        await db.dispose()


def identity(world: Any, who: str) -> Identity:
    sd = world.schools[0]
    role = Role.COUNSELOR if who == "counselor" else Role.SCHOOL_ADMIN
    return Identity(account_id=world.staff[f"{who}0"][1], role=role, display_name="",
                    school_id=sd.id, college_id=sd.college_ids[0] if role == Role.COUNSELOR else None,
                    employer_id=None, session_hash="")


def visible(g: Reg, world: Any, who: str) -> bool:
    """Whose the registration is to list: their school's (a counselor: their college's), sent."""
    sd = world.schools[0]
    return (g.school == 0 and g.status != "draft"
            and (who == "school_admin" or g.college_id == sd.college_ids[0]))


def keeps(g: Reg, f: dict[str, str]) -> bool:
    """The plain Python meaning of each filter."""
    day = g.sent.astimezone(CHINA).date() if g.sent else None
    checks = {
        "status": lambda v: v == "" or g.status == v,
        "college": lambda v: g.college_id == int(v),
        "major": lambda v: g.major_id == int(v),
        "education": lambda v: g.education == v,
        "year": lambda v: g.year == int(v),
        "code": lambda v: g.code == v,
        "sent_from": lambda v: day is not None and day >= dt.date.fromisoformat(v),
        "sent_to": lambda v: day is not None and day <= dt.date.fromisoformat(v),
        "q": lambda v: all(w.lower() in g.student_no.lower() or w.lower() in g.name.lower()
                           for w in v.split()),
    }
    return all(checks[k](v) for k, v in f.items() if k in checks)


def filters_strategy(world: Any) -> st.SearchStrategy[dict[str, str]]:
    sd = world.schools[0]
    choices = {
        "status": st.sampled_from(["", "submitted", "college_ok", "returned", "approved"]),
        "college": st.sampled_from([str(c) for c in sd.college_ids]),
        "major": st.sampled_from([str(m) for m in sd.major_ids]),
        "education": st.sampled_from(EDUCATIONS),
        "year": st.sampled_from(["2025", "2026"]),
        "code": st.sampled_from(CODES),
        "sent_from": st.sampled_from([d.isoformat() for d in DAYS]),
        "sent_to": st.sampled_from([d.isoformat() for d in DAYS]),
        "q": st.sampled_from(["登记R00", "R0001", "r00 登记R000", "登记R0002", "无此人"]),
    }
    return st.tuples(
        st.sampled_from(["counselor", "school_admin"]),
        st.sampled_from(["sent", "-sent", "student_no", "-student_no"]),
        st.dictionaries(st.sampled_from(sorted(choices)), st.just(""), max_size=4).flatmap(
            lambda keys: st.fixed_dictionaries({k: choices[k] for k in keys})))


def wrong_values(world: Any, who: str, f: dict[str, str]) -> set[str]:
    """The filters the viewer was not offered (or a range backwards): named, not applied."""
    sd = world.schools[0]
    college_of = dict(zip(sd.major_ids, sd.college_ids))
    wrong = set()
    if who == "counselor" and f.get("college", str(sd.college_ids[0])) != str(sd.college_ids[0]):
        wrong.add("college")      # a counselor is offered their own 学院 only
    if "major" in f:
        within = sd.college_ids[0] if who == "counselor" else (
            int(f["college"]) if "college" in f and "college" not in wrong else None)
        if within is not None and college_of[int(f["major"])] != within:
            wrong.add("major")    # a 专业 of another 学院
    if "sent_from" in f and "sent_to" in f and f["sent_from"] > f["sent_to"]:
        wrong.add("sent_to")
    return wrong


def in_order(regs: list[Reg], sort: str) -> list[int]:
    """The list's order: the column (NULLs last either way), then the id."""
    key = sort.lstrip("-")
    desc = sort.startswith("-")

    def value(g: Reg) -> Any:
        if key == "sent":
            return g.sent.timestamp() if g.sent else 0
        return g.student_no
    if key == "sent":
        return [g.id for g in sorted(regs, key=lambda g: (g.sent is None,
                                                          -value(g) if desc else value(g), g.id))]
    ordered = sorted(regs, key=lambda g: g.id)
    ordered.sort(key=value, reverse=desc)   # student_no is unique: no tie to break
    return [g.id for g in ordered]


async def test_each_filter_and_sort_keeps_exactly_the_matching_registrations(settings, world):
    regs = await make_registrations(settings.database_url, world, 80)
    regs += await make_registrations(settings.database_url, world, 12, school=1, seed=3)
    examples = drawn(filters_strategy(world), 90)
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            seen_sizes = set()
            for who, sort, f in examples:
                ident = identity(world, who)
                resolved = await listing.read(conn, ident, {**f, "sort": sort})
                wrong = wrong_values(world, who, f)
                assert set(resolved.form.errors) == wrong, (who, f)
                applied = {k: v for k, v in f.items() if k not in wrong}
                # no 状态 in the URL: the state that waits for this reviewer
                applied.setdefault("status", "submitted" if who == "counselor" else "college_ok")
                want = [g for g in regs if visible(g, world, who) and keeps(g, applied)]
                got = [row[0] for row in await conn.execute(listing.ids(ident, resolved))]
                assert got == in_order(want, sort), (who, sort, f)
                page = list(await conn.execute(listing.rows(ident).where(*resolved.where())))
                assert sorted(row.id for row in page) == sorted(got)
                seen_sizes.add(min(len(got), 2))
            assert seen_sizes == {0, 1, 2}   # the examples narrowed to none, one and many
    finally:
        await db.dispose()




def listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)">', page)]


async def login(make_client, username: str):  # noqa: ANN001, ANN201
    c = await make_client()
    await c.login("staff", username, PASSWORD)
    return c


async def test_the_page_shows_exactly_the_filtered_rows_with_tabs_badges_and_files(
        make_client, settings, world):
    regs = await make_registrations(settings.database_url, world, 60)
    sd = world.schools[0]
    admin = await login(make_client, "school_admin0")
    counselor = await login(make_client, "counselor0")
    for who, client, query in (
            ("school_admin", admin, {}),
            ("school_admin", admin, {"status": "", "education": "本科生", "size": "100"}),
            ("school_admin", admin, {"status": "approved", "code": "46", "sort": "-student_no"}),
            ("counselor", counselor, {"status": "", "sent_from": DAYS[2].isoformat(),
                                      "sent_to": DAYS[6].isoformat(), "size": "100"}),
            ("counselor", counselor, {"year": "2025", "q": "登记R0"})):
        resp = await client.get("/reviews/registrations", params=query)
        assert resp.status == 200, query
        page = await resp.text()
        applied = {"status": "submitted" if who == "counselor" else "college_ok", **query}
        want = [g for g in regs if visible(g, world, who) and keeps(g, applied)]
        assert total(page) == len(want), query
        assert listed(page) == in_order(want, query.get("sort", "sent"))[:int(query.get("size", 20))]
        for g in want[:3]:
            assert f'href="/school/students/{g.record_id}" title="学生档案">{g.name}</a>' in page
    page = await (await counselor.get("/reviews/registrations")).text()
    mine = [g for g in regs if visible(g, world, "counselor")]
    for state, label in (("submitted", "待学院审核"), ("college_ok", "待学校审核"),
                         ("returned", "已退回"), ("approved", "已通过")):
        n = sum(g.status == state for g in mine)
        assert re.search(rf'status={state}"[^>]*>{label} <strong>{n}</strong>', page), state
    assert '<span class="state-badge tone-wait">待学院审核</span>' in page
    assert 'aria-current="true">待学院审核' in page and "未提交" not in page
    assert 'class="table stack pairs"' in page and 'data-label="毕业去向"' in page
    # a counselor naming another 学院: the message beside the field, still only their own
    resp = await counselor.get(f"/reviews/registrations?status=&college={sd.college_ids[1]}")
    page = await resp.text()
    assert resp.status == 400 and field_error(page, "college") == "请选择列表中的学院"
    assert total(page) == len(mine)


# --- batches -------------------------------------------------------------------------------

async def facts(database_url: str) -> tuple[dict[int, str], list[tuple], list[tuple]]:
    """(state by id, registration audit rows as (id, action, to, reason), destinations)."""
    db = Database(database_url)
    try:
        async with db.read() as conn:
            states = {r.id: r.status for r in await conn.execute(
                sa.select(registrations.c.id, registrations.c.status))}
            audits = [(int(r.entity_id), r.action, r.to_state, r.reason) for r in await conn.execute(
                sa.select(audit_log).where(audit_log.c.entity == "registration")
                .order_by(audit_log.c.id))]
            held = [tuple(r) for r in await conn.execute(sa.select(
                graduate_destinations.c.student_record_id, graduate_destinations.c.source,
                graduate_destinations.c.source_id, graduate_destinations.c.code))]
        return states, audits, held
    finally:
        await db.dispose()


async def decide_directly(database_url: str, world: Any, who: str, reg_id: int, now: dt.datetime) -> None:
    """Another reviewer of the same part decides it first."""
    db = Database(database_url)
    try:
        async with db.write() as conn:
            await service.review(conn, identity(world, who), reg_id, "approve", reason=None, now=now)
    finally:
        await db.dispose()






async def test_the_school_approves_all_that_match_each_destination_made_effective_once(
        make_client, settings, world, clock):
    regs = await make_registrations(settings.database_url, world, 30, status="college_ok")
    undergrads = [g for g in regs if g.education == "本科生"]
    assert len(undergrads) > 5
    admin = await login(make_client, "school_admin0")
    page = await (await admin.get("/reviews/registrations?size=20")).text()
    assert total(page) == 30 and "选择全部 30 条符合条件的记录" in page
    every = {"action": "approve", "every": "1", "status": "college_ok", "education": "本科生"}
    page = await (await admin.post("/reviews/registrations/batch",
                                   {**every, "expected": str(len(undergrads))})).text()
    assert count_on(page) == len(undergrads) and f"确认通过 {len(undergrads)} 条" in page
    assert (await facts(settings.database_url))[2] == []   # nothing yet
    # one of them is approved by another school admin before the confirmation
    await decide_directly(settings.database_url, world, "school_admin", undergrads[0].id, clock.now())
    resp = await admin.post("/reviews/registrations/batch",
                            {**every, "expected": str(len(undergrads)), "confirmed": "1"})
    page = await resp.text()
    left = len(undergrads) - 1
    assert resp.status == 409 and f"符合条件的记录已变为 {left} 条" in page and count_on(page) == left
    resp = await admin.post("/reviews/registrations/batch",
                            {**every, "expected": str(left), "confirmed": "1"})
    assert done_failed(await resp.text()) == (left, 0)
    states, audits, held = await facts(settings.database_url)
    assert {i for i, s in states.items() if s == "approved"} == {g.id for g in undergrads}
    assert all(states[g.id] == "college_ok" for g in regs if g.education != "本科生")
    assert sorted(a[0] for a in audits) == sorted(g.id for g in undergrads)   # one row each
    assert {a[1:3] for a in audits} == {("registration.approve", "approved")}
    assert sorted(held) == sorted((g.record_id, "registration", g.id, g.code) for g in undergrads)
    # again on the same ticked items: nothing more is written, each one says why
    picked = {"action": "approve", "id": [str(g.id) for g in undergrads], "confirmed": "1"}
    page = await (await admin.post("/reviews/registrations/batch", picked)).text()
    assert done_failed(page) == (0, len(undergrads)) and page.count("当前状态为“已通过”") == len(undergrads)
    assert (await facts(settings.database_url))[1:] == (audits, held)


async def test_ticked_items_that_cannot_be_decided_are_reported_and_nothing_of_them_kept(
        make_client, settings, world, clock):
    ours = await make_registrations(settings.database_url, world, 4, status="college_ok")
    waiting = await make_registrations(settings.database_url, world, 1, status="submitted",
                                       college=0, prefix="W")
    theirs = await make_registrations(settings.database_url, world, 1, school=1, status="college_ok")
    taken = ours[0]
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:   # an agreement became effective for one of them
            await destinations.claim(conn, student_record_id=taken.record_id,
                                     school_id=world.schools[0].id, college_id=taken.college_id,
                                     code="10", source="agreement", source_id=7, at=clock.now())
    finally:
        await db.dispose()
    admin = await login(make_client, "school_admin0")
    ticked = [g.id for g in ours + waiting + theirs] + [999_999]
    picked = {"action": "approve", "id": [str(i) for i in ticked]}
    page = await (await admin.post("/reviews/registrations/batch", picked)).text()
    assert count_on(page) == len(ticked)
    resp = await admin.post("/reviews/registrations/batch", {**picked, "confirmed": "1"})
    page = html.unescape(await resp.text())
    assert resp.status == 200 and done_failed(page) == (3, 4)
    assert (f"{taken.name}（{taken.student_no}）：已有生效的毕业去向（签就业协议形式就业，来自就业协议书），"
            "同一时间只能有一个") in page
    assert f"{waiting[0].name}（{waiting[0].student_no}）：当前状态为“待学院审核”，学校管理员不能执行“通过”" in page
    assert f"#{theirs[0].id}：不在您的范围内" in page and "#999999：不在您的范围内" in page
    states, audits, held = await facts(settings.database_url)
    assert [states[g.id] for g in ours] == ["college_ok"] + ["approved"] * 3
    assert states[waiting[0].id] == "submitted" and states[theirs[0].id] == "college_ok"
    # the refused approval left nothing behind: no audit row, the agreement still holds
    assert sorted(a[0] for a in audits) == sorted(g.id for g in ours[1:])
    assert sorted(held) == sorted([(taken.record_id, "agreement", 7, "10")] + [
        (g.record_id, "registration", g.id, g.code) for g in ours[1:]])


async def test_a_counselor_returns_all_that_match_with_one_reason(make_client, settings, world):
    regs = await make_registrations(settings.database_url, world, 24, status="submitted")
    mine = [g for g in regs if visible(g, world, "counselor")]
    other_college = [g for g in regs if not visible(g, world, "counselor")]
    assert mine and other_college
    counselor = await login(make_client, "counselor0")
    every = {"action": "return", "every": "1", "status": "submitted", "expected": str(len(mine))}
    page = await (await counselor.post("/reviews/registrations/batch", every)).text()
    assert count_on(page) == len(mine) and "退回理由" in page
    resp = await counselor.post("/reviews/registrations/batch", {**every, "confirmed": "1"})
    assert resp.status == 400 and field_error(await resp.text(), "reason") == "请填写退回理由"
    assert set((await facts(settings.database_url))[0].values()) == {"submitted"}
    resp = await counselor.post("/reviews/registrations/batch",
                                {**every, "confirmed": "1", "reason": "请上传清晰的证明材料"})
    assert done_failed(await resp.text()) == (len(mine), 0)
    states, audits, held = await facts(settings.database_url)
    assert {g.id for g in regs if states[g.id] == "returned"} == {g.id for g in mine}
    assert sorted(audits) == sorted((g.id, "registration.return", "returned", "请上传清晰的证明材料")
                                    for g in mine)
    assert held == []


async def test_another_colleges_counselor_and_another_schools_admin_decide_nothing(
        make_client, settings, world, clock):
    submitted = await make_registrations(settings.database_url, world, 4, status="submitted",
                                         college=0)
    college_ok = await make_registrations(settings.database_url, world, 4, status="college_ok",
                                          college=0, prefix="K")
    await staff_account(settings.database_url, world, "counselor_b", Role.COUNSELOR, clock.now(),
                        college=1)
    before = await facts(settings.database_url)
    for username, action, items, state in (
            ("counselor_b", "approve", submitted, "submitted"),
            ("counselor1", "approve", submitted, "submitted"),
            ("counselor_b", "return", submitted, "submitted"),
            ("school_admin1", "approve", college_ok, "college_ok"),
            ("school_admin1", "return", college_ok, "college_ok")):
        c = await login(make_client, username)
        page = await (await c.get(f"/reviews/registrations?status={state}")).text()
        assert total(page) == 0, username
        # "all that match" is their own list: empty
        resp = await c.post("/reviews/registrations/batch",
                            {"action": action, "every": "1", "status": state, "expected": "4",
                             "confirmed": "1", "reason": "不是他们的"})
        assert resp.status == 400 and "请先勾选要处理的记录" in await resp.text()
        picked = {"action": action, "id": [str(g.id) for g in items], "confirmed": "1",
                  "reason": "不是他们的"}
        page = await (await c.post("/reviews/registrations/batch", picked)).text()
        assert done_failed(page) == (0, 4) and page.count("不在您的范围内") == 4, username
    assert await facts(settings.database_url) == before


# --- the review page ------------------------------------------------------------------------

def links_of(page: str) -> list[str]:
    return [unquote(html.unescape(h))
            for h in re.findall(r'href="(/reviews/registrations/\d+[^"]*)"', page)]


async def test_next_stays_in_the_filtered_queue_through_each_decision(make_client, settings, world):
    undergrads = await make_registrations(settings.database_url, world, 3, status="submitted",
                                          college=0, education="本科生")
    await make_registrations(settings.database_url, world, 2, status="submitted", college=0,
                             education="硕士生", prefix="M")
    first, second, third = in_order(undergrads, "sent")
    counselor = await login(make_client, "counselor0")
    page = await (await counselor.get("/reviews/registrations?education=本科生")).text()
    links = links_of(page)
    assert [int(re.search(r"/(\d+)", h).group(1)) for h in links] == [first, second, third]
    assert all("education=本科生" in h for h in links)
    page = await (await counselor.get(links[0])).text()
    assert re.search(r'data-key="a"[^>]*>通过<', page) and 'data-key="r"' in page
    assert re.search(rf'href="/reviews/registrations/{second}\?[^"]*education=[^"]*" class="button" data-key="n"', page)
    assert "快捷键：A 选中【通过】（回车确认） · R 填写退回原因 · N 下一条" in page
    assert "review-done" not in page
    assert page.index('id="registration-values"') < page.index('class="review-box')   # document first
    approve = unquote(html.unescape(re.search(r'action="(/reviews/registrations/\d+/approve[^"]*)"', page).group(1)))
    assert approve == f"/reviews/registrations/{first}/approve?status=submitted&education=本科生"
    resp = await counselor.post(approve)
    assert resp.status == 303
    assert resp.headers["Location"].startswith(f"/reviews/registrations/{first}?")
    page = await (await counselor.get(resp.headers["Location"])).text()
    done = re.search(r'id="review-done">(.*?)</div>', page, re.S).group(1)
    assert done.startswith("已通过：") and re.search(
        rf'/reviews/registrations/{second}\?status=submitted&amp;education=%E6', done)
    assert re.search(r'id="registration-state"><span[^>]*>待学校审核<', page)
    # 返回列表 keeps the filters
    assert 'href="/reviews/registrations?status=submitted&amp;education=%E6' in page
    # 下一条, then 退回 with a reason: the next is the third
    resp = await counselor.post(f"/reviews/registrations/{second}/return?education=本科生",
                                {"reason": "请补充证明"})
    page = await (await counselor.get(resp.headers["Location"])).text()
    done = re.search(r'id="review-done">(.*?)</div>', page, re.S).group(1)
    assert done.startswith("已退回：") and f"/reviews/registrations/{third}?" in done
    resp = await counselor.post(f"/reviews/registrations/{third}/approve?education=本科生")
    page = await (await counselor.get(resp.headers["Location"])).text()
    assert "这一队列已处理完" in page and 'id="next-item"' not in page and 'data-key="n"' not in page
    assert "快捷键" not in page   # nothing left to decide here, no key to announce


async def test_the_deadline_reads_as_a_date_for_each_year(make_client, world):
    admin = await login(make_client, world.staff["school_admin0"][0])
    page = await (await admin.get("/reviews/registrations")).text()
    state = re.search(r'<p id="deadline-state">(.*?)</p>', page, re.S).group(1)
    assert "2026届 2026-08-31" in state and "毕业年份的" not in state
