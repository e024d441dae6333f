"""Stored files: who may read which. Bytes live in a FileStore, rows in `files`."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .auth.sessions import Identity
from .roles import Role
from .tables import accounts, applications, employers, files, jobs, student_records
from .uploads import FileStore


class FileKind(enum.StrEnum):
    LICENCE = "licence"          # an employer's business licence
    RESUME = "resume"            # a student's 附件简历
    APPLICATION = "application"  # the copy of an attachment sent with an application
    AGREEMENT_SCAN = "agreement_scan"  # a photo or PDF of a signed and stamped 就业协议书
    REGISTRATION = "registration"  # evidence of a 就业信息登记 (contract, 入伍通知书 …)
    TERMINATION = "termination"  # a 解约函, or the paper proof of a 管理员强制解约


async def save(conn: AsyncConnection, store: FileStore, *, owner_id: int, kind: FileKind,
               display_name: str, content_type: str, data: bytes, now: dt.datetime) -> str:
    file_id = store.new_id()
    store.write(file_id, data)
    await conn.execute(files.insert().values(
        id=file_id, owner_id=owner_id, kind=kind, display_name=display_name,
        content_type=content_type, size=len(data), created_at=now))
    return file_id


async def copy(conn: AsyncConnection, store: FileStore, file_id: str, kind: FileKind,
               now: dt.datetime) -> str:
    """A separate copy, so deleting or replacing the original leaves the copy as it was sent."""
    row = (await conn.execute(sa.select(files).where(files.c.id == file_id))).one()
    return await save(conn, store, owner_id=row.owner_id, kind=kind,
                      display_name=row.display_name, content_type=row.content_type,
                      data=store.read(file_id), now=now)


async def get(conn: AsyncConnection, file_id: str) -> sa.Row | None:
    return (await conn.execute(sa.select(files).where(files.c.id == file_id))).first()


async def may_read(conn: AsyncConnection, ident: Identity, row: sa.Row) -> bool:
    if row.owner_id == ident.account_id:
        return True
    if row.kind == FileKind.LICENCE:
        if ident.role == Role.PLATFORM_ADMIN:
            return True
        owner_employer = (await conn.execute(sa.select(accounts.c.employer_id).where(
            accounts.c.id == row.owner_id))).scalar()
        return ident.role == Role.EMPLOYER and owner_employer == ident.employer_id
    if row.kind == FileKind.APPLICATION and ident.role == Role.EMPLOYER:
        # the employer whose job received the application that carries this copy
        found = (await conn.execute(
            sa.select(applications.c.id).join(jobs, jobs.c.id == applications.c.job_id)
            .where(applications.c.snapshot_file_id == row.id,
                   jobs.c.employer_id == ident.employer_id))).first()
        return found is not None
    if row.kind == FileKind.REGISTRATION and ident.role in (Role.COUNSELOR, Role.SCHOOL_ADMIN):
        # the reviewers of the owner's registration: their college's counselors, school's admins
        owner = (await conn.execute(sa.select(student_records.c.school_id, student_records.c.college_id)
                                    .where(student_records.c.account_id == row.owner_id))).first()
        return owner is not None and owner.school_id == ident.school_id and (
            ident.role == Role.SCHOOL_ADMIN or owner.college_id == ident.college_id)
    return False


async def licence_of(conn: AsyncConnection, employer_id: int) -> str | None:
    return (await conn.execute(sa.select(employers.c.licence_file_id).where(
        employers.c.id == employer_id))).scalar()
