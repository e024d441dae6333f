"""Rules of activation and login. Handlers call these; these hold no HTTP."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import audit
from ..db import for_accounts
from ..forms import FormError
from ..offload import CpuPool
from ..roles import STAFF_ROLES, Role
from ..security import hash_password, needs_rehash, verify_password
from ..tables import accounts, schools, student_records

NOT_IMPORTED = "未找到你的学籍信息：学校就业部门需要先导入你的学生信息，请联系学校就业指导中心。"
MISMATCH = "姓名或身份证号与学校导入的信息不一致，请核对后重试。"
ALREADY_ACTIVE = "该学生账号已激活，请直接登录。"
BAD_LOGIN = "账号或密码错误"
AMBIGUOUS_NO = "多所学校有这个学号，请先选择学校。"


@dataclass(frozen=True)
class ActivationMatch:
    record_id: int
    name: str


async def school_choices(conn: AsyncConnection) -> list[sa.Row]:
    return list(await conn.execute(sa.select(schools.c.id, schools.c.name).order_by(schools.c.code)))


async def match_record(conn: AsyncConnection, *, school_id: int, student_no: str, name: str,
                       id_number: str) -> ActivationMatch:
    """Step 1 of 学生激活: the four fields must match a record the school imported."""
    record = (await conn.execute(sa.select(student_records).where(
        student_records.c.school_id == school_id,
        student_records.c.student_no == student_no))).first()
    if record is None:
        raise FormError({"_form": NOT_IMPORTED})
    if record.name != name or record.id_number != id_number:
        raise FormError({"_form": MISMATCH})
    if record.account_id is not None:
        raise FormError({"_form": ALREADY_ACTIVE, "_already_active": "1"})
    return ActivationMatch(record_id=record.id, name=record.name)


async def activate(conn: AsyncConnection, *, record_id: int, email: str, phone: str,
                   password_hash: str, now: dt.datetime) -> int:
    """Step 2: create the student's account and link it to the record. Returns the account id.

    Takes the hash, computed before the transaction (`hash_in_pool`), so that argon2 holds
    neither the event loop nor SQLite's write lock.
    """
    record = (await conn.execute(
        sa.select(student_records).where(student_records.c.id == record_id))).first()
    if record is None:
        raise FormError({"_form": NOT_IMPORTED})
    if record.account_id is not None:
        raise FormError({"_form": ALREADY_ACTIVE, "_already_active": "1"})
    errors = {}
    if await _email_taken(conn, email):
        errors["email"] = "该邮箱已被其他账号使用"
    if await _student_phone_taken(conn, phone):
        errors["phone"] = "该手机号已被其他学生账号使用"
    if errors:
        raise FormError(errors)
    account_id = (await conn.execute(accounts.insert().values(
        role=Role.STUDENT, email=email, phone=phone, password_hash=password_hash,
        display_name=record.name, school_id=record.school_id, college_id=record.college_id,
        created_at=now).returning(accounts.c.id))).scalar_one()
    await conn.execute(student_records.update().where(student_records.c.id == record_id)
                       .values(account_id=account_id, updated_at=now))
    await audit.record(conn, at=now, actor_id=account_id, action="activate",
                       entity="student_record", entity_id=record_id,
                       from_state="inactive", to_state="active")
    return account_id


async def _email_taken(conn: AsyncConnection, email: str) -> bool:
    return (await conn.execute(sa.select(accounts.c.id).where(
        sa.func.lower(accounts.c.email) == email.lower()))).first() is not None


async def _student_phone_taken(conn: AsyncConnection, phone: str) -> bool:
    return (await conn.execute(sa.select(accounts.c.id).where(
        accounts.c.phone == phone, accounts.c.role == Role.STUDENT))).first() is not None


def _looks_like_phone(identifier: str) -> bool:
    return re.fullmatch(r"1[3-9]\d{9}", identifier) is not None


async def find_student_account(conn: AsyncConnection, identifier: str,
                               school_id: int | None) -> int | None:
    """学号, 邮箱 or 手机号 → account id. Raises FormError when a 学号 needs a school."""
    a = accounts
    if "@" in identifier:
        stmt = sa.select(a.c.id).where(sa.func.lower(a.c.email) == identifier.lower(),
                                       a.c.role == Role.STUDENT)
        return (await conn.execute(stmt)).scalar()
    ids: list[int] = []
    if _looks_like_phone(identifier):
        ids = list((await conn.execute(sa.select(a.c.id).where(
            a.c.phone == identifier, a.c.role == Role.STUDENT))).scalars())
    if not ids:
        stmt = sa.select(student_records.c.account_id).where(
            student_records.c.student_no == identifier, student_records.c.account_id.is_not(None))
        if school_id:
            stmt = stmt.where(student_records.c.school_id == school_id)
        ids = list((await conn.execute(stmt)).scalars())
    if len(ids) > 1:
        raise FormError({"school_id": AMBIGUOUS_NO})
    return ids[0] if ids else None


async def find_account(conn: AsyncConnection, identifier: str, roles: frozenset[Role]) -> int | None:
    """User name or 邮箱 of an employer or staff account → account id."""
    a = accounts
    return (await conn.execute(sa.select(a.c.id).where(
        sa.or_(a.c.username == identifier, sa.func.lower(a.c.email) == identifier.lower()),
        a.c.role.in_(list(roles))))).scalar()


async def password_of(conn: AsyncConnection, account_id: int | None) -> sa.Row | None:
    """The stored hash and the active flag, read before the check so that no connection
    is held while argon2 runs."""
    if account_id is None:
        return None
    return (await conn.execute(sa.select(accounts.c.password_hash, accounts.c.is_active)
                               .where(accounts.c.id == account_id))).first()


async def check_password(cpu: CpuPool, row: sa.Row | None, password: str) -> bool:
    """Verify a password in the CPU pool; runs a full argon2 check even for a missing
    account (against a dummy hash), so the time taken does not reveal which accounts exist.
    CpuBusy when too many checks already wait (a login crowd): nothing was checked."""
    ok = await cpu.run_or_refuse(verify_password, row.password_hash if row else None, password)
    return ok and row is not None and row.is_active


async def rehash_if_outdated(cpu: CpuPool, stored_hash: str, password: str) -> str | None:
    """After a right password: a new hash when the stored one was made with other argon2
    costs than the settings' (raised or lowered by the operator), so the costs reach every
    account at its next login. Computed before any write transaction is opened."""
    return await cpu.run(hash_password, password) if needs_rehash(stored_hash) else None


async def replace_hash(conn: AsyncConnection, account_id: int, stored_hash: str, fresh: str) -> None:
    # only if unchanged meanwhile: a password reset in between wins
    await conn.execute(for_accounts(accounts.update(), account_id)
                       .where(accounts.c.id == account_id, accounts.c.password_hash == stored_hash)
                       .values(password_hash=fresh))


async def hash_in_pool(cpu: CpuPool, password: str) -> str:
    """argon2 takes tens of milliseconds of CPU: never on the event loop."""
    return await cpu.run(hash_password, password)


EMPLOYER_ROLES = frozenset({Role.EMPLOYER})
STAFF = frozenset(STAFF_ROLES)


async def create_account(conn: AsyncConnection, *, role: Role, username: str | None,
                         password: str | None, display_name: str, now: dt.datetime,
                         email: str | None = None, phone: str | None = None,
                         school_id: int | None = None, college_id: int | None = None,
                         employer_id: int | None = None, password_hash: str | None = None) -> int:
    """Give either the password or an already computed hash. Request handlers give the
    hash (`hash_in_pool`); the password form is for the command line and bulk loads."""
    return (await conn.execute(accounts.insert().values(
        role=role, username=username, email=email, phone=phone,
        password_hash=password_hash or hash_password(password or ""), display_name=display_name,
        school_id=school_id,
        college_id=college_id, employer_id=employer_id, created_at=now)
        .returning(accounts.c.id))).scalar_one()


async def create_staff_account(conn: AsyncConnection, *, role: Role, username: str, password: str,
                               display_name: str, now: dt.datetime, email: str | None,
                               school_id: int | None, college_id: int | None) -> int:
    """`create-admin` on the command line: the account, and an audit row (no actor: whoever
    ran the command on the server) in the school's log."""
    account_id = await create_account(conn, role=role, username=username, password=password,
                                      display_name=display_name, now=now, email=email,
                                      school_id=school_id, college_id=college_id)
    await audit.record(conn, at=now, actor_id=None, action="create_admin", entity="account",
                       entity_id=account_id, to_state="active", school_id=school_id,
                       detail={"role": role.value, "username": username, "via": "command line"})
    return account_id


async def record_login(conn: AsyncConnection, *, account_id: int | None, ok: bool, portal: str,
                       address: str, now: dt.datetime) -> None:
    """One audit row per password check (a rate-limited refusal checks nothing and writes
    nothing, so the rows are bounded by LOGIN_LIMIT_PER_ADDRESS). Neither the password nor,
    for an unknown account, the typed name is kept: people type passwords into the name
    field. A failed login to a real account goes to that account's school's log."""
    school = (sa.select(accounts.c.school_id).where(accounts.c.id == account_id).scalar_subquery()
              if account_id is not None else None)
    await audit.record(conn, at=now, actor_id=account_id if ok else None,
                       action="login" if ok else "login.failed", entity="account",
                       entity_id=account_id if account_id is not None else "unknown",
                       detail={"portal": portal, "address": address[:64]}, school_id=school)


async def set_password(conn: AsyncConnection, account_id: int, password_hash: str) -> None:
    await conn.execute(for_accounts(accounts.update(), account_id)
                       .where(accounts.c.id == account_id).values(password_hash=password_hash))


async def role_of(conn: AsyncConnection, account_id: int) -> Role:
    return Role((await conn.execute(
        sa.select(accounts.c.role).where(accounts.c.id == account_id))).scalar_one())
