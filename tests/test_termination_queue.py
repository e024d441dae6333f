"""解约审核 on the staff list component, and 管理员强制解约's search.

Requests of known attributes are written straight into the tables (the flow that makes them
is tested in test_termination.py): each filter drawn by hypothesis keeps exactly what a plain
Python filter of the same requests keeps, in the list's order; batch 通过 / 退回 acts on
exactly the N that match (asked again when they changed), reports what it could not do and
why, writes one audit row per item, and decides nothing outside the reviewer's college or
school; the review page carries the queue's filters through its POST to 【下一条】; the force
page finds a school admin's own school's effective agreements by 学号 or 姓名."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from hypothesis import strategies as st

from app.clock import CHINA
from app.db import Database
from app.roles import Role
from app.signing.tables import agreements
from app.tables import audit_log, majors, student_records
from app.termination import codes, listing, service
from app.termination.tables import termination_requests as tr
from app.validators import make_id_number
from tests.conftest import field_error
from tests.signing_kit import add_account, as_user
from tests.termination_kit import force, identity
from tests.lists_kit import count_on, done_failed, drawn, states, total

EDUCATIONS = ("本科生", "硕士生", "专科生")
STATES = ("submitted", "college_approved", "returned", "withdrawn", "approved", "superseded", "draft")
REASONS = tuple(codes.REASONS)
WAITING = {Role.COUNSELOR: "submitted", Role.SCHOOL_ADMIN: "college_approved"}
DAY0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=CHINA)


@dataclass(frozen=True)
class Req:
    id: int
    agreement_id: int
    number: str
    school_id: int
    college_id: int
    major_id: int
    education: str
    year: int
    applicant: str
    reason: str
    status: str
    sent: dt.datetime | None
    student_no: str
    name: str


_serial = iter(range(1, 10**6))


async def _insert(conn, table: sa.Table, **values: Any) -> int:  # noqa: ANN001
    return (await conn.execute(table.insert().values(**values).returning(table.c.id))).scalar_one()


async def make(conn, world, now: dt.datetime, *, school: int = 0, college: int = 0,  # noqa: ANN001
               education: str = "本科生", year: int = 2026, applicant: str = "student",
               reason: str = "personal_study", status: str = "submitted",
               sent: dt.datetime | None = None, name: str | None = None,
               student_no: str | None = None, agreement_status: str = "effective") -> Req:
    """One student with an effective agreement and (unless `status` is None) its 解约申请."""
    n = next(_serial)
    sd = world.schools[school]
    college_id = sd.college_ids[college]
    major_id = (await conn.execute(sa.select(majors.c.id).where(
        majors.c.college_id == college_id))).scalars().first()
    student_no = student_no or f"J{n:05d}"
    name = name or f"解约{n:05d}"
    record_id = await _insert(conn, student_records, school_id=sd.id, student_no=student_no,
                              name=name, id_number=make_id_number("110101", dt.date(2003, 1, 1), n % 1000),
                              gender="1", college_id=college_id, major_id=major_id,
                              education=education, graduation_year=year, imported_at=now,
                              updated_at=now)
    number = f"5000{n:011d}"
    employer = applicant == "employer" or n % 2 == 0
    agreement_id = await _insert(
        conn, agreements, status=agreement_status, channel="online", student_record_id=record_id,
        school_id=sd.id, college_id=college_id, employer_id=world.employer_id if employer else None,
        created_by=world.staff["employer"][1], data={"unit_name": "线下单位有限公司"}, scans=[],
        number=number, created_at=now, updated_at=now, effective_at=now)
    request_id = 0
    if status is not None:
        applicant_id = world.staff["employer"][1] if applicant == "employer" \
            else world.active_student(school).account_id
        sent = None if status == "draft" else (sent or now)
        request_id = await _insert(
            conn, tr, agreement_id=agreement_id, student_record_id=record_id, school_id=sd.id,
            college_id=college_id, applicant_role=applicant, applicant_id=applicant_id,
            status=status, reason_code=reason, reason_text="说明", created_at=now, updated_at=now,
            submitted_at=sent)
    return Req(request_id, agreement_id, number, sd.id, college_id, major_id, education, year,
               applicant, reason, status, sent, student_no, name)


async def build(database_url: str, world, now: dt.datetime, n: int, **kw: Any) -> list[Req]:  # noqa: ANN001
    db = Database(database_url)
    try:
        async with db.write() as conn:
            return [await make(conn, world, now, **{k: v(i) if callable(v) else v
                                                   for k, v in kw.items()}) for i in range(n)]
    finally:
        await db.dispose()


def mixed(i: int) -> dict[str, Any]:
    """The i-th request of the mixed population: every attribute takes turns, out of step."""
    return {"college": i % 2, "education": EDUCATIONS[i % 3], "year": 2025 + (i // 2) % 2,
            "applicant": ("student", "employer")[(i // 3) % 2], "reason": REASONS[i % len(REASONS)],
            "status": STATES[i % len(STATES)], "sent": DAY0 + dt.timedelta(hours=13 * i)}


async def population(database_url: str, world, now: dt.datetime) -> list[Req]:  # noqa: ANN001
    db = Database(database_url)
    try:
        async with db.write() as conn:
            out = [await make(conn, world, now, **mixed(i)) for i in range(84)]
            out += [await make(conn, world, now, school=1, **mixed(i)) for i in range(14)]
            return out
    finally:
        await db.dispose()


# --- the filters, against a plain Python filter --------------------------------------------------

def _day(r: Req) -> dt.date | None:
    return r.sent.astimezone(CHINA).date() if r.sent else None


def keeps(r: Req, f: dict[str, str], role: Role) -> bool:
    checks = {
        "status": lambda v: r.status == (WAITING[role] if v == "waiting" else v),
        "college": lambda v: r.college_id == int(v),
        "major": lambda v: r.major_id == int(v),
        "education": lambda v: r.education == v,
        "year": lambda v: r.year == int(v),
        "applicant_role": lambda v: r.applicant == v,
        "reason_code": lambda v: r.reason == v,
        "sent_from": lambda v: _day(r) is not None and _day(r) >= dt.date.fromisoformat(v),
        "sent_to": lambda v: _day(r) is not None and _day(r) <= dt.date.fromisoformat(v),
        "q": lambda v: any(v.lower() in s.lower() for s in (r.student_no, r.name, r.number)),
    }
    return all(checks[k](v) for k, v in f.items())


DAYS = [(DAY0 + dt.timedelta(days=d)).date().isoformat() for d in range(0, 48, 4)]


def filters_strategy(world: Any, made: list[Req]) -> st.SearchStrategy[dict[str, str]]:
    sd = world.schools[0]
    words = [r.student_no[-3:] for r in made[:20]] + [r.name[-2:] for r in made[:20]] + \
            [r.number[-4:] for r in made[:10]] + ["解约", "J0"]
    choices = {
        "status": st.sampled_from(["waiting", "", *STATES[:-1]]),
        "college": st.sampled_from([str(c) for c in sd.college_ids]),
        "major": st.sampled_from([str(m) for m in sd.major_ids]),
        "education": st.sampled_from(EDUCATIONS),
        "year": st.sampled_from(["2025", "2026"]),
        "applicant_role": st.sampled_from(["student", "employer"]),
        "reason_code": st.sampled_from(REASONS),
        "sent_from": st.sampled_from(DAYS),
        "sent_to": st.sampled_from(DAYS),
        "q": st.sampled_from(words),
    }
    return st.dictionaries(st.sampled_from(sorted(choices)), st.just(""), max_size=4).flatmap(
        lambda keys: st.fixed_dictionaries({k: choices[k] for k in keys}))


# each sortable column's value; ties go by id ascending whichever way the column sorts
SORTS = {"student_no": lambda r: r.student_no, "sent": lambda r: r.sent,
         "reason": lambda r: r.reason, "status": lambda r: r.status}


async def test_each_filter_and_sort_keeps_exactly_the_matching_requests(settings, world, clock):
    made = await population(settings.database_url, world, clock.now())
    sd = world.schools[0]
    college_of = dict(zip(sd.major_ids, sd.college_ids))
    examples = drawn(filters_strategy(world, made), 60)
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            for role, who in ((Role.SCHOOL_ADMIN, "school_admin0"), (Role.COUNSELOR, "counselor0")):
                ident = identity(world, who, role)
                visible = [r for r in made if r.school_id == sd.id and r.status != "draft"
                           and (role != Role.COUNSELOR or r.college_id == sd.college_ids[0])]
                sizes = set()
                for n, f in enumerate(examples):
                    sort = list(SORTS)[n % len(SORTS)]
                    sort = ("-" if n % 3 == 0 else "") + sort
                    resolved = await listing.read(conn, ident, {**f, "sort": sort})
                    wrong = set()
                    if role == Role.COUNSELOR and f.get("college", str(sd.college_ids[0])) != str(sd.college_ids[0]):
                        wrong.add("college")   # not the counselor's own college
                    picked = sd.college_ids[0] if role == Role.COUNSELOR else (
                        int(f["college"]) if "college" in f else None)
                    if "major" in f and picked is not None and college_of[int(f["major"])] != picked:
                        wrong.add("major")     # a 专业 of another 学院
                    if "sent_from" in f and "sent_to" in f and f["sent_from"] > f["sent_to"]:
                        wrong.add("sent_to")   # an end before the start
                    assert set(resolved.form.errors) == wrong, (role, f)
                    kept = {k: v for k, v in f.items() if k not in wrong and v != ""}
                    if "status" not in f:
                        kept["status"] = "waiting"   # the queue opens on 待我审核
                    ids = [r[0] for r in await conn.execute(listing.ids(ident, resolved))]
                    by_id = sorted((r for r in visible if keeps(r, kept, role)), key=lambda r: r.id)
                    # sorted() is stable, reversed too: equal values keep their id order
                    want = sorted(by_id, key=SORTS[sort.lstrip("-")], reverse=sort.startswith("-"))
                    assert ids == [r.id for r in want], (role, f, sort)
                    # the page's rows are the same as "select all" acts on
                    page_rows = list(await conn.execute(listing.rows(ident).where(*resolved.where())
                                                        .order_by(*resolved.order_by())))
                    assert [r.id for r in page_rows] == ids
                    sizes.add(min(len(ids), 2))
                assert sizes == {0, 1, 2}, role   # the examples narrowed to none, one and many
    finally:
        await db.dispose()


def review_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/reviews/terminations/(\d+)[?"]', page)]


async def test_the_page_tabs_badges_links_and_a_wrong_filter(make_client, settings, world, clock):
    made = await population(settings.database_url, world, clock.now())
    sd = world.schools[0]
    mine = [r for r in made if r.school_id == sd.id and r.college_id == sd.college_ids[0]]
    counselor = await as_user(make_client, "staff", "counselor0")
    # The 待办事项's link: exactly the requests waiting for this counselor.
    page = await (await counselor.get("/reviews/terminations?status=waiting")).text()
    waiting = [r for r in mine if r.status == "submitted"]
    assert total(page) == len(waiting) and sorted(review_ids(page)) == sorted(r.id for r in waiting)
    assert (await (await counselor.get("/reviews/terminations")).text()).count("data-id=") == len(waiting)
    # Tabs with counts; each state a badge; each name opens the 学生档案.
    for state, label in (("submitted", "待学院审核"), ("returned", "已退回"), ("approved", "已解约")):
        n = sum(r.status == state for r in mine)
        assert re.search(rf'{label} <strong>{n}</strong>', page), label
    assert re.search(rf'全部 <strong>{sum(r.status != "draft" for r in mine)}</strong>', page)
    assert 'class="state-badge tone-wait">待学院审核</span>' in page
    record = (await _record_ids(settings.database_url, [waiting[0].student_no]))[0]
    assert f'href="/school/students/{record}" title="学生档案">{waiting[0].name}</a>' in page
    # 全部 is kept across pages and sorts (an empty status, not the default).
    page = await (await counselor.get("/reviews/terminations?status=&sort=-sent&size=50")).text()
    assert total(page) == sum(r.status != "draft" for r in mine)
    assert 'name="status" value=""' in page
    # A value not offered: its message beside the field, and it is not applied.
    resp = await counselor.get("/reviews/terminations?status=draft&reason_code=nonsense")
    page = await resp.text()
    assert resp.status == 400
    assert field_error(page, "status") == "请选择列表中的状态"
    assert field_error(page, "reason_code") == "请选择列表中的解约原因"
    assert total(page) == sum(r.status != "draft" for r in mine)


async def _record_ids(database_url: str, numbers: list[str]) -> list[int]:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            rows = dict((await conn.execute(sa.select(student_records.c.student_no, student_records.c.id)
                                            .where(student_records.c.student_no.in_(numbers)))).all())
            return [rows[n] for n in numbers]
    finally:
        await db.dispose()


# --- batch ---------------------------------------------------------------------------------------


async def audited(database_url: str, action: str) -> list[sa.Row]:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return list(await conn.execute(sa.select(audit_log.c.entity_id, audit_log.c.reason)
                                           .where(audit_log.c.action == action)
                                           .order_by(audit_log.c.id)))
    finally:
        await db.dispose()


async def decided_elsewhere(database_url: str, world, ids: list[int], now, action: str = "approve",  # noqa: ANN001
                            who: tuple[str, Role] = ("counselor0", Role.COUNSELOR)) -> None:
    db = Database(database_url)
    try:
        async with db.write() as conn:
            for rid in ids:
                await service.review(conn, identity(world, who[0], who[1]), rid, action,
                                     reason="已处理" if action == "return" else None, now=now)
    finally:
        await db.dispose()


async def test_select_all_that_match_recounts_and_each_item_is_decided_and_audited(
        make_client, world, settings, clock):
    db = settings.database_url
    made = await build(db, world, clock.now(), 66,
                       reason=lambda i: ("personal_family", "personal_study", "employer")[i % 3],
                       sent=lambda i: DAY0 + dt.timedelta(hours=i))
    family = [r.id for r in made if r.reason == "personal_family"]   # 22: more than a page
    counselor = await as_user(make_client, "staff", "counselor0")
    listed = await (await counselor.get("/reviews/terminations?reason_code=personal_family")).text()
    assert total(listed) == 22 and "选择全部 22 条符合条件的记录" in listed
    assert len(review_ids(listed)) == 20
    every = {"action": "approve", "every": "1", "status": "waiting", "reason_code": "personal_family"}
    page = await (await counselor.post("/reviews/terminations/batch", {**every, "expected": "22"})).text()
    assert count_on(page) == 22 and "确认通过 22 份" in page
    assert set((await states(db, tr)).values()) == {"submitted"}   # nothing yet
    await decided_elsewhere(db, world, family[:2], clock.now())
    resp = await counselor.post("/reviews/terminations/batch", {**every, "expected": "22", "confirmed": "1"})
    page = await resp.text()
    assert resp.status == 409 and "符合条件的记录已变为 20 份" in page and count_on(page) == 20
    resp = await counselor.post("/reviews/terminations/batch", {**every, "expected": "20", "confirmed": "1"})
    assert done_failed(await resp.text()) == (20, 0)
    after = await states(db, tr)
    assert {i for i, s in after.items() if s == "college_approved"} == set(family)
    assert all(after[r.id] == "submitted" for r in made if r.reason != "personal_family")
    approvals = await audited(db, "termination.approve")
    assert sorted(int(a.entity_id) for a in approvals) == sorted(family) and len(approvals) == 22
    # The school admin's 通过 of all 22 terminates each agreement, once, audited per item.
    admin = await as_user(make_client, "staff", "school_admin0")
    listed = await (await admin.get("/reviews/terminations")).text()
    assert total(listed) == 22 and "学校审核通过即解约" in listed
    every = {"action": "approve", "every": "1", "status": "waiting"}
    resp = await admin.post("/reviews/terminations/batch", {**every, "expected": "22", "confirmed": "1"})
    assert done_failed(await resp.text()) == (22, 0)
    after = await states(db, tr)
    assert {i for i, s in after.items() if s == "approved"} == set(family)
    ended = {a for a, s in (await states(db, agreements)).items() if s == "terminated"}
    assert ended == {r.agreement_id for r in made if r.reason == "personal_family"}
    assert len(await audited(db, "agreement.terminate")) == 22
    assert len(await audited(db, "termination.approve")) == 44


async def test_ticked_items_changed_or_out_of_scope_are_reported_and_return_takes_one_reason(
        make_client, world, settings, clock):
    db, now = settings.database_url, clock.now()
    made = [r.id for r in await build(db, world, now, 6)]
    other_school = (await build(db, world, now, 1, school=1))[0].id
    other_college = (await build(db, world, now, 1, college=1))[0].id
    counselor = await as_user(make_client, "staff", "counselor0")
    ticked = {"action": "return", "id": [str(i) for i in made + [other_school, other_college]]}
    page = await (await counselor.post("/reviews/terminations/batch", ticked)).text()
    assert count_on(page) == 8 and "退回理由" in page
    resp = await counselor.post("/reviews/terminations/batch", {**ticked, "confirmed": "1"})
    assert resp.status == 400 and field_error(await resp.text(), "reason") == "请填写退回理由"
    assert set((await states(db, tr)).values()) == {"submitted"}   # nothing written
    await decided_elsewhere(db, world, made[:2], now)
    resp = await counselor.post("/reviews/terminations/batch",
                                {**ticked, "confirmed": "1", "reason": "请补充违约金结清凭证"})
    page = await resp.text()
    assert done_failed(page) == (4, 4)
    assert page.count("当前状态为“待学校审核”") == 2
    assert f"#{other_school}：不在您的范围内" in page and f"#{other_college}：不在您的范围内" in page
    after = await states(db, tr)
    assert [after[i] for i in made] == ["college_approved"] * 2 + ["returned"] * 4
    assert after[other_school] == after[other_college] == "submitted"
    returns = await audited(db, "termination.return")
    assert [int(r.entity_id) for r in returns] == made[2:]
    assert [r.reason for r in returns] == ["请补充违约金结清凭证"] * 4   # one row per item


async def test_another_colleges_counselor_and_another_schools_admin_decide_nothing(
        make_client, world, settings, clock):
    db, now = settings.database_url, clock.now()
    sd = world.schools[0]
    submitted = [r.id for r in await build(db, world, now, 3)]
    waiting_school = [r.id for r in await build(db, world, now, 3, status="college_approved")]
    await add_account(db, now, role=Role.COUNSELOR, username="counselor_b", school_id=sd.id,
                      college_id=sd.college_ids[1])
    before = await states(db, tr)
    for username, ids, status in (("counselor_b", submitted, "submitted"),
                                  ("counselor1", submitted, "submitted"),
                                  ("school_admin1", waiting_school, "college_approved")):
        staff = await as_user(make_client, "staff", username)
        page = await (await staff.get("/reviews/terminations?status=")).text()
        assert total(page) == 0 and not review_ids(page), username
        every = {"action": "approve", "every": "1", "status": status, "expected": "3", "confirmed": "1"}
        resp = await staff.post("/reviews/terminations/batch", every)
        assert resp.status == 400 and "请先勾选" in await resp.text(), username
        resp = await staff.post("/reviews/terminations/batch",
                                {"action": "approve", "id": [str(i) for i in ids], "confirmed": "1"})
        page = await resp.text()
        assert done_failed(page) == (0, 3) and page.count("不在您的范围内") == 3, username
    # A school admin decides no request still with the college; a counselor none with the school.
    admin = await as_user(make_client, "staff", "school_admin0")
    page = await (await admin.post("/reviews/terminations/batch", {
        "action": "approve", "id": [str(i) for i in submitted], "confirmed": "1"})).text()
    assert done_failed(page) == (0, 3) and page.count("学校管理员不能执行“通过”") == 3
    counselor = await as_user(make_client, "staff", "counselor0")
    page = await (await counselor.post("/reviews/terminations/batch", {
        "action": "approve", "id": [str(i) for i in waiting_school], "confirmed": "1"})).text()
    assert done_failed(page) == (0, 3)
    assert await states(db, tr) == before
    assert await audited(db, "termination.approve") == []
    assert set((await states(db, agreements)).values()) == {"effective"}
    # Parties and platform admins have no batch.
    platform = await as_user(make_client, "staff", "platform")
    assert (await platform.post("/reviews/terminations/batch", {"action": "approve"})).status == 403


# --- the review page -----------------------------------------------------------------------------

async def test_review_page_carries_the_queue_to_the_next_item(make_client, world, settings, clock):
    db, now = settings.database_url, clock.now()
    made = await build(db, world, now, 5, reason=lambda i: ("personal_health", "personal_study")[i % 2],
                       sent=lambda i: DAY0 + dt.timedelta(hours=i))
    health = [r.id for r in made if r.reason == "personal_health"]   # 3, oldest first
    counselor = await as_user(make_client, "staff", "counselor0")
    listed = await (await counselor.get("/reviews/terminations?reason_code=personal_health")).text()
    link = re.search(rf'href="(/reviews/terminations/{health[0]}\?[^"]*)"', listed).group(1)
    assert "reason_code=personal_health" in link
    page = await (await counselor.get(link.replace("&amp;", "&"))).text()
    # the document first, the decision box beside it, the keys announced
    assert page.index('class="review-document"') < page.index('class="review-box')
    for key in ("a", "r", "n"):
        assert f'data-key="{key}"' in page
    assert "快捷键：A" in page and 'id="review-keys"' in page
    assert f'href="/reviews/terminations/{health[1]}?' in page   # 下一条, same filter
    action = re.search(r'<form method="post" action="(/reviews/terminations/[^"]+)"', page).group(1).replace("&amp;", "&")
    assert "reason_code=personal_health" in action
    # 退回 without a reason: the message beside the field, the queue's query kept
    resp = await counselor.post(action, {"action": "return", "reason": ""})
    page = await resp.text()
    assert resp.status == 400 and field_error(page, "reason") == "请填写退回原因"
    assert "reason_code=personal_health" in re.search(r'<form method="post" action="(/reviews/terminations/[^"]+)"', page).group(1)
    for n, rid in enumerate(health):
        url = f"/reviews/terminations/{rid}?reason_code=personal_health"
        resp = await counselor.post(url, {"action": "approve"})
        assert resp.status == 303
        location = resp.headers["Location"]
        assert location.startswith(f"/reviews/terminations/{rid}?")
        assert "reason_code=personal_health" in location and "done=approve" in location
        page = await (await counselor.get(location)).text()
        done = re.search(r'id="review-done">(.*?)</div>', page, re.S).group(1)
        assert done.startswith("已通过：") and "待学校审核" in done
        if n + 1 < len(health):
            nxt = re.search(r'id="next-item"', page) and re.search(
                r'href="(/reviews/terminations/(\d+)\?[^"]*)" class="button primary" id="next-item"', page)
            assert int(nxt.group(2)) == health[n + 1] and "reason_code=personal_health" in nxt.group(1)
            assert "done=" not in nxt.group(1)
        else:
            assert "这一队列已处理完" in done
    after = await states(db, tr)
    assert [after[r.id] for r in made] == ["college_approved", "submitted"] * 2 + ["college_approved"]


# --- 管理员强制解约's search ------------------------------------------------------------------------

async def test_force_search_by_student_no_and_name_in_the_admins_scope(make_client, world, settings, clock):
    db, now = settings.database_url, clock.now()
    database = Database(db)
    try:
        async with database.write() as conn:
            mine = await make(conn, world, now, name="王同名", student_no="Z0001", status=None)
            other = await make(conn, world, now, name="李四", student_no="Z0002", status="submitted")
            await make(conn, world, now, name="王同名", student_no="Z0003", status=None,
                       agreement_status="school")   # not effective: nothing to terminate
            theirs = await make(conn, world, now, school=1, name="王同名", student_no="Z0001",
                                status=None)
    finally:
        await database.dispose()
    admin = await as_user(make_client, "staff", "school_admin0")
    page = await (await admin.get("/school/termination/force?q=王同名")).text()
    assert total(page) == 1 and mine.number in page and theirs.number not in page
    assert "Z0003" not in page
    page = await (await admin.get("/school/termination/force?q=Z0002")).text()
    assert total(page) == 1 and other.number in page and "待学院审核" in page   # its open 解约申请
    page = await (await admin.get("/school/termination/force?q=Z0001")).text()
    assert total(page) == 1 and mine.number in page and theirs.number not in page
    # the other school's admin finds theirs only; the platform admin finds both
    other_admin = await as_user(make_client, "staff", "school_admin1")
    page = await (await other_admin.get("/school/termination/force?q=王同名")).text()
    assert total(page) == 1 and theirs.number in page and mine.number not in page
    platform = await as_user(make_client, "staff", "platform")
    page = await (await platform.get("/school/termination/force?q=王同名")).text()
    assert total(page) == 2 and theirs.number in page and mine.number in page
    assert "第二测试学院" in page
    page = await (await admin.get("/school/termination/force?q=没有这个人")).text()
    assert total(page) == 0 and 'id="no-results"' in page
    # The row opens the form for that agreement; the rest of 强制解约 is as it was.
    page = await (await admin.get("/school/termination/force?q=王同名")).text()
    link = re.search(r'href="(/school/termination/force\?number=[^"]+)"', page).group(1)
    page = await (await admin.get(link.replace("&amp;", "&"))).text()
    assert re.search(rf'id="force-number">{mine.number}<', page) and "纸质解约证明" in page
    assert (await force(admin, mine.number)).status == 303
    assert (await states(db, agreements))[mine.agreement_id] == "terminated"
    page = await (await admin.get("/school/termination/force?q=王同名")).text()
    assert total(page) == 0   # no longer effective
    assert (await (await as_user(make_client, "staff", "counselor0")).get(
        "/school/termination/force?q=王同名")).status == 403
