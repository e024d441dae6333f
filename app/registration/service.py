"""就业信息登记: rules and writes. Every read is scoped by the caller's identity (a student
sees only their own registration, a counselor their college's, a school admin their school's).

A student may write only while: 签约中心's gate is open (approved 生源信息, confirmed phone),
no other destination is effective (destinations.is_placed), the school's deadline has not
passed (or the school reopened registration), and the registration is a draft or returned.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import files, workflow
from ..files import Upload
from ..auth.sessions import Identity
from ..clock import china_date
from ..destinations import service as destinations
from ..destinations.codes import DESTINATIONS, blocks
from ..forms import FormError
from ..roles import Role
from ..school_settings import service as school_settings
from ..signing import gate as signing_gate
from ..tables import colleges, student_records
from ..tables import files as stored_files
from ..uploads import FileStore
from .branches import BRANCHES, Branch, clean
from .flows import EDITABLE, REGISTRATION_FLOW, RegState
from .tables import registrations

r, sr = registrations, student_records
SOURCE = "registration"  # graduate_destinations.source of an approved registration


@dataclass(frozen=True)
class Mine:
    gate: signing_gate.Gate
    registration: sa.Row | None
    current: destinations.Current | None
    deadline: dt.date | None
    open_now: bool                     # the deadline has not passed, or the school reopened

    @property
    def student(self) -> sa.Row | None:
        return self.gate.student

    @property
    def status(self) -> str:
        return self.registration.status if self.registration else RegState.DRAFT.value

    @property
    def branch(self) -> Branch | None:
        code = self.registration.code if self.registration else None
        return BRANCHES.get(code or "")

    @property
    def sub_label(self) -> str:
        return sub_label(self.registration)

    @property
    def placed_elsewhere(self) -> bool:
        """Another agreement or registration holds the graduate's effective destination."""
        c = self.current
        return c is not None and c.placed and not (
            c.source == SOURCE and self.registration is not None
            and c.source_id == self.registration.id)

    @property
    def why_closed(self) -> str | None:
        """Why the student cannot change the registration now (None: they can)."""
        if not self.gate.open:
            return self.gate.why_not
        if self.placed_elsewhere:
            source = destinations.SOURCE_LABELS.get(self.current.source, self.current.source)
            return (f"您已有生效的毕业去向（{self.current.label}，来自{source}），"
                    "同一时间只能有一个毕业去向，就业信息登记仅供查看。")
        if self.status not in EDITABLE:
            return (f"就业信息登记当前状态为“{REGISTRATION_FLOW.state_label(self.status)}”，"
                    "不能修改。")
        if not self.open_now:
            return f"就业信息登记已于 {self.deadline:%Y年%m月%d日} 截止，如需登记请联系学校就业部门。"
        return None


async def mine(conn: AsyncConnection, ident: Identity, now: dt.datetime) -> Mine:
    gate = await signing_gate.load(conn, ident)
    if gate.student is None:
        return Mine(gate, None, None, None, False)
    reg = (await conn.execute(sa.select(r).where(r.c.student_record_id == gate.student.id))).first()
    settings = await school_settings.load(conn, gate.student.school_id)
    year = gate.student.graduation_year
    return Mine(gate, reg, await destinations.current(conn, gate.student.id),
                settings.registration_deadline_for(year),
                settings.registration_open(year, china_date(now)))


def sub_label(reg: sa.Row | None) -> str:
    """The label of the registration's sub-code (项目, 升学类别, 目前状态 …), if any."""
    if reg is None or not reg.code or not reg.sub_code:
        return ""
    found = DESTINATIONS.get(reg.code)
    return found.sub_codes.get(reg.sub_code, "") if found else ""


def actor(ident: Identity) -> workflow.Actor:
    return workflow.Actor(ident.account_id, ident.role)


async def _writable(conn: AsyncConnection, ident: Identity, now: dt.datetime) -> Mine:
    me = await mine(conn, ident, now)
    if me.why_closed:
        raise workflow.NotAllowed(me.why_closed)
    return me


async def _clear(conn: AsyncConnection, reg: sa.Row | None) -> list[str]:
    """Drop the evidence rows of the abandoned branch; their ids go back so the caller can
    remove the bytes once the transaction has committed."""
    ids = list((reg.files or {}).values()) if reg is not None else []
    if ids:
        await conn.execute(stored_files.delete().where(stored_files.c.id.in_(ids)))
    return ids


async def choose(conn: AsyncConnection, ident: Identity, code: str, now: dt.datetime) -> list[str]:
    """Pick a 毕业去向 branch: a fresh form for it (nothing of another branch is kept).
    Returns the ids of evidence files to remove from disk."""
    me = await _writable(conn, ident, now)
    if code not in BRANCHES:
        raise FormError({"code": "请选择毕业去向"})
    return await _set_branch(conn, me, code, now)


async def reset(conn: AsyncConnection, ident: Identity, now: dt.datetime) -> list[str]:
    """【返回重新选择毕业去向】: forget the branch and everything typed or uploaded for it."""
    me = await _writable(conn, ident, now)
    return await _set_branch(conn, me, None, now)


async def _set_branch(conn: AsyncConnection, me: Mine, code: str | None,
                      now: dt.datetime) -> list[str]:
    blank = dict(code=code, sub_code=None, data={}, files={}, updated_at=now)
    if me.registration is None:
        student = me.student
        await conn.execute(r.insert().values(
            school_id=student.school_id, college_id=student.college_id,
            student_record_id=student.id, status=RegState.DRAFT.value, created_at=now, **blank))
        return []
    if me.registration.code == code and code is not None:
        return []  # the same branch again: keep what was typed for it
    gone = await _clear(conn, me.registration)
    await _guarded_update(conn, me.registration, blank)
    return gone


async def _guarded_update(conn: AsyncConnection, reg: sa.Row, values: Mapping) -> None:
    # Like a transition, the draft changes only while the student may still edit it.
    done = await conn.execute(r.update().where(r.c.id == reg.id, r.c.status.in_(EDITABLE))
                              .values(**values))
    if done.rowcount != 1:
        raise workflow.StaleState("就业信息登记刚被他人处理，请刷新后再试")


async def submit(conn: AsyncConnection, ident: Identity, raw: Mapping[str, str],
                 uploads: Mapping[str, Upload], store: FileStore, *, now: dt.datetime,
                 upload_errors: Mapping[str, str] | None = None) -> list[str]:
    """【保存并审核】: check the branch's fields and evidence, store them, send for review.
    Returns the ids of replaced evidence files (to remove from disk after the commit).
    Raises FormError (nothing written) or TransitionError."""
    me = await _writable(conn, ident, now)
    branch = me.branch
    if branch is None:
        raise workflow.NotAllowed("请先选择毕业去向")
    values, errors = clean(branch, raw)
    errors.update(upload_errors or {})
    kept = dict(me.registration.files or {})
    for f in branch.evidence:
        if f.name not in uploads and f.name not in kept and f.name not in errors and f.required:
            errors[f.name] = f"请上传{f.label}"
    if errors:
        raise FormError(errors)
    replaced = [kept[name] for name in uploads if name in kept]
    if replaced:
        await conn.execute(stored_files.delete().where(stored_files.c.id.in_(replaced)))
    for f in branch.evidence:
        if f.name in uploads:
            up = uploads[f.name]
            kept[f.name] = await files.save(
                conn, store, owner_id=ident.account_id, kind=files.FileKind.REGISTRATION,
                display_name=up.display_name, content_type=up.content_type, data=up.data, now=now)
    sub_code = values.pop("sub_code", None)
    await _guarded_update(conn, me.registration, dict(sub_code=sub_code, data=values,
                                                      files=kept, updated_at=now))
    await workflow.transition(conn, REGISTRATION_FLOW, me.registration.id, "submit",
                              actor=actor(ident), at=now, values={"submitted_at": now})
    return replaced


async def withdraw(conn: AsyncConnection, ident: Identity, now: dt.datetime) -> str:
    me = await mine(conn, ident, now)
    if me.registration is None:
        raise workflow.NotAllowed("还没有提交就业信息登记")
    if not me.open_now:
        raise workflow.NotAllowed(f"就业信息登记已于 {me.deadline:%Y年%m月%d日} 截止，不能撤回")
    return await workflow.transition(conn, REGISTRATION_FLOW, me.registration.id, "withdraw",
                                     actor=actor(ident), at=now)


def may_revise(me: Mine) -> bool:
    """An approved 70–72 registration may be reopened by the student (while registration is
    open and no other destination took its place)."""
    reg = me.registration
    return (reg is not None and reg.status == RegState.APPROVED and not blocks(reg.code or "")
            and me.gate.open and not me.placed_elsewhere and me.open_now)


async def revise(conn: AsyncConnection, ident: Identity, now: dt.datetime) -> str:
    """【修改毕业去向】: back to a draft of the same branch; its destination is released."""
    me = await mine(conn, ident, now)
    if not may_revise(me):
        if me.registration is not None and me.registration.status == RegState.APPROVED \
                and blocks(me.registration.code or ""):
            raise workflow.NotAllowed("已生效的就业去向不能自行修改，如需变更请联系学校就业部门")
        raise workflow.NotAllowed(me.why_closed or "当前不能修改毕业去向")
    state = await workflow.transition(conn, REGISTRATION_FLOW, me.registration.id, "revise",
                                      actor=actor(ident), at=now)
    await destinations.release(conn, source=SOURCE, source_id=me.registration.id)
    return state


# --- reviewers ------------------------------------------------------------------------------

def scope(ident: Identity) -> sa.ColumnElement[bool]:
    if ident.role == Role.COUNSELOR:
        return sa.and_(r.c.school_id == ident.school_id, r.c.college_id == ident.college_id)
    if ident.role == Role.SCHOOL_ADMIN:
        return r.c.school_id == ident.school_id
    return sa.false()


def _select() -> sa.Select:
    return (sa.select(r, sr.c.student_no, sr.c.name, sr.c.graduation_year, sr.c.education,
                      sr.c.account_id, colleges.c.name.label("college_name"))
            .join(sr, sr.c.id == r.c.student_record_id)
            .join(colleges, colleges.c.id == r.c.college_id))


async def item(conn: AsyncConnection, ident: Identity, reg_id: int) -> sa.Row | None:
    return (await conn.execute(_select().where(r.c.id == reg_id, scope(ident)))).first()


async def status_counts(conn: AsyncConnection, ident: Identity) -> dict[str, int]:
    rows = await conn.execute(sa.select(r.c.status, sa.func.count()).where(scope(ident))
                              .group_by(r.c.status))
    return {s: n for s, n in rows}


async def review(conn: AsyncConnection, ident: Identity, reg_id: int, action: str, *,
                 reason: str | None, now: dt.datetime) -> str | None:
    """Approve or return one registration in the reviewer's scope; None if not in scope.
    The school's approval claims the destination in the same transaction: if the graduate
    already has another effective one, DestinationTaken rolls the approval back."""
    reg = await item(conn, ident, reg_id)
    if reg is None:
        return None
    state = await workflow.transition(conn, REGISTRATION_FLOW, reg_id, action, actor=actor(ident),
                                      at=now, reason=reason, values={"reviewed_at": now})
    if state == RegState.APPROVED:
        await destinations.claim(conn, student_record_id=reg.student_record_id,
                                 school_id=reg.school_id, college_id=reg.college_id,
                                 code=reg.code, sub_code=reg.sub_code, source=SOURCE,
                                 source_id=reg.id, at=now)
    return state


async def history(conn: AsyncConnection, reg_id: int) -> list[workflow.HistoryEntry]:
    return await workflow.history(conn, REGISTRATION_FLOW, reg_id)


async def evidence_rows(conn: AsyncConnection, reg: sa.Row | None) -> dict[str, sa.Row]:
    """{field name: files row} of the registration's evidence."""
    found = {}
    for name, file_id in ((reg.files or {}) if reg is not None else {}).items():
        row = await files.get(conn, file_id)
        if row is not None:
            found[name] = row
    return found


async def set_reopened(conn: AsyncConnection, ident: Identity, reopened: bool,
                       now: dt.datetime) -> school_settings.SchoolSettings:
    """The school admin lets registrations in after the deadline (or closes them again):
    school-wide, audited by school_settings.change."""
    if ident.role != Role.SCHOOL_ADMIN or ident.school_id is None:
        raise workflow.NotAllowed("只有学校管理员可以重新开放就业信息登记")
    return await school_settings.change(conn, ident.school_id, actor_id=ident.account_id,
                                        at=now, registration_reopened=reopened)
