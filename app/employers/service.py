"""Employer registration and the platform's review of it."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import audit, files
from ..auth import service as accounts_service
from ..workflow import Actor, Flow, Step, transition
from ..forms import FormError
from ..notify import emails, notices
from ..roles import Role
from ..tables import accounts, employers
from ..uploads import FileStore


class EmployerState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    RETURNED = "returned"


PLATFORM = frozenset({Role.PLATFORM_ADMIN})
EMPLOYER = frozenset({Role.EMPLOYER})
EMPLOYER_FLOW = Flow(
    name="employer", label="单位注册", states=EmployerState, initial=EmployerState.PENDING, table=employers,
    state_labels={EmployerState.PENDING: "待审核", EmployerState.APPROVED: "已通过",
            EmployerState.RETURNED: "已退回"},
    action_labels={"approve": "通过", "return": "退回", "resubmit": "重新提交", "register": "注册"},
    steps=(
        Step(EmployerState.PENDING, "approve", EmployerState.APPROVED, PLATFORM),
        Step(EmployerState.PENDING, "return", EmployerState.RETURNED, PLATFORM, reason_required=True),
        Step(EmployerState.RETURNED, "resubmit", EmployerState.PENDING, EMPLOYER),
    ))


@dataclass(frozen=True)
class Profile:
    name: str
    credit_code: str
    nature: str
    industry: str
    location: str
    contact_name: str
    contact_phone: str
    contact_email: str


async def register(conn: AsyncConnection, store: FileStore, *, profile: Profile, username: str,
                   password_hash: str, licence: bytes, licence_type: str, now: dt.datetime) -> int:
    """Create the employer (待审核) and its first account. Returns the account id.

    Takes the password's hash, computed in the CPU pool before the transaction."""
    errors = {}
    if (await conn.execute(sa.select(employers.c.id).where(
            employers.c.credit_code == profile.credit_code))).first():
        errors["credit_code"] = "该统一社会信用代码已注册，请直接登录或联系平台"
    if (await conn.execute(sa.select(accounts.c.id).where(accounts.c.username == username))).first():
        errors["username"] = "该用户名已被使用"
    if (await conn.execute(sa.select(accounts.c.id).where(
            sa.func.lower(accounts.c.email) == profile.contact_email.lower()))).first():
        errors["contact_email"] = "该邮箱已被其他账号使用"
    if errors:
        raise FormError(errors)
    employer_id = (await conn.execute(employers.insert().values(
        **profile.__dict__, status=EmployerState.PENDING, created_at=now, updated_at=now)
        .returning(employers.c.id))).scalar_one()
    account_id = await accounts_service.create_account(
        conn, role=Role.EMPLOYER, username=username, password=None, password_hash=password_hash,
        display_name=profile.name, now=now, email=profile.contact_email,
        phone=profile.contact_phone, employer_id=employer_id)
    try:
        file_id = await files.save(conn, store, owner_id=account_id, kind=files.FileKind.LICENCE,
                                   display_name="营业执照.jpg", content_type=licence_type,
                                   data=licence, now=now)
    except files.StorageFull as exc:
        raise FormError({"licence": str(exc)}) from None
    await conn.execute(employers.update().where(employers.c.id == employer_id)
                       .values(licence_file_id=file_id))
    await audit.record(conn, at=now, actor_id=account_id, action="register", entity="employer",
                       entity_id=employer_id, to_state=EmployerState.PENDING)
    return account_id


async def get(conn: AsyncConnection, employer_id: int) -> sa.Row | None:
    return (await conn.execute(sa.select(employers).where(employers.c.id == employer_id))).first()


async def state_counts(conn: AsyncConnection) -> dict[str, int]:
    """单位审核's tabs: employers per state."""
    return {r[0]: r[1] for r in await conn.execute(
        sa.select(employers.c.status, sa.func.count()).group_by(employers.c.status))}


async def resubmit(conn: AsyncConnection, store: FileStore, employer_id: int, *,
                   profile: Profile, licence: bytes | None, licence_type: str | None,
                   actor_id: int, now: dt.datetime) -> str | None:
    """A returned employer corrects its data and sends it back for review. Returns the id of
    a replaced licence, whose bytes the caller removes once this commits."""
    values = {k: v for k, v in profile.__dict__.items() if k != "credit_code"}
    replaced = None
    if licence is not None:
        replaced = (await get(conn, employer_id)).licence_file_id
        try:
            values["licence_file_id"] = await files.save(
                conn, store, owner_id=actor_id, kind=files.FileKind.LICENCE,
                display_name="营业执照.jpg", content_type=licence_type or "image/jpeg",
                data=licence, now=now)
        except files.StorageFull as exc:
            raise FormError({"licence": str(exc)}) from None
    await transition(conn, EMPLOYER_FLOW, employer_id, "resubmit", actor=Actor(actor_id, Role.EMPLOYER),
                     at=now,
                     values={**values, "return_reason": None, "updated_at": now})
    if replaced:
        await files.delete(conn, replaced)
    return replaced


async def review(conn: AsyncConnection, employer_id: int, action: str, *, actor_id: int,
                 reason: str | None, now: dt.datetime, base_url: str) -> None:
    await transition(conn, EMPLOYER_FLOW, employer_id, action, actor=Actor(actor_id, Role.PLATFORM_ADMIN),
                     at=now, reason=reason,
                     values={"return_reason": reason if action == "return" else None,
                             "updated_at": now})
    org = await get(conn, employer_id)
    approved = action == "approve"
    title = "单位注册审核已通过，可以发布岗位了" if approved else "单位注册被退回，请修改后重新提交"
    for account_id in (await conn.execute(sa.select(accounts.c.id).where(
            accounts.c.employer_id == employer_id))).scalars():
        await notices.add(conn, account_id=account_id, title=title, body=reason or "", at=now,
                          link="/employer")
    await emails.enqueue(conn, to=org.contact_email, template="employer_reviewed", at=now,
                         context={"name": org.name, "approved": approved, "reason": reason or "",
                                  "link": f"{base_url.rstrip('/')}/employer"})
