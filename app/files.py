"""Stored files: who may read which, the per-account quota, deletion. Bytes live in a
FileStore, rows in `files`."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from urllib.parse import quote

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from .auth.sessions import Identity
from .db import lock_for_update, undo_on_rollback
from .roles import Role
from .tables import accounts, applications, employers, files, jobs, student_records
from .uploads import FileStore
from .validators import Invalid
from .workflow import TransitionError


class FileKind(enum.StrEnum):
    LICENCE = "licence"          # an employer's business licence
    RESUME = "resume"            # a student's 附件简历
    APPLICATION = "application"  # the copy of an attachment sent with an application
    AGREEMENT_SCAN = "agreement_scan"  # a photo or PDF of a signed and stamped 就业协议书
    REGISTRATION = "registration"  # evidence of a 就业信息登记 (contract, 入伍通知书 …)
    TERMINATION = "termination"  # a 解约函, or the paper proof of a 管理员强制解约


# Every byte a user can make the server keep counts against their quota. Copies kept with
# applications are not counted: the student cannot delete them, and they share their bytes
# with the original (FileStore.link).
COUNTED = (FileKind.LICENCE, FileKind.RESUME, FileKind.AGREEMENT_SCAN, FileKind.REGISTRATION,
           FileKind.TERMINATION)


class StorageFull(Invalid, TransitionError):
    """Over STORAGE_QUOTA_BYTES: a field's message (Invalid) where a form checks uploads,
    a step refused (TransitionError) where a workflow keeps them; nothing is written."""

    def __init__(self, message: str, field: str | None = None) -> None:
        TransitionError.__init__(self, message, field)


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f}MB" if n >= 100 * 1024 else f"{max(1, round(n / 1024))}KB"


async def used_bytes(conn: AsyncConnection, owner_id: int) -> int:
    return (await conn.execute(sa.select(sa.func.coalesce(sa.func.sum(files.c.size), 0)).where(
        files.c.owner_id == owner_id, files.c.kind.in_(COUNTED)))).scalar_one()


async def lock_owner(conn: AsyncConnection, owner_id: int) -> None:
    """A count-then-add rule about one account's things (its quota, its number of
    attachments) holds under concurrent requests: on PostgreSQL the account row is locked
    until the transaction ends (SQLite's BEGIN IMMEDIATE already serialises writers)."""
    await conn.execute(lock_for_update(sa.select(accounts.c.id).where(accounts.c.id == owner_id),
                                       conn.dialect.name == "sqlite"))


async def _check_quota(conn: AsyncConnection, store: FileStore, owner_id: int, adding: int) -> None:
    """Inside the caller's write transaction, so two uploads at once cannot both fit: on
    SQLite BEGIN IMMEDIATE already serialises writers, on PostgreSQL the account row is
    locked until the transaction ends."""
    if not store.quota_bytes:
        return
    await lock_owner(conn, owner_id)
    used = await used_bytes(conn, owner_id)
    if used + adding > store.quota_bytes:
        raise StorageFull(f"存储空间不足：已用{_size(used)}，共{_size(store.quota_bytes)}，"
                          "请先删除不用的文件")


@dataclass(frozen=True)
class Upload:
    """A file already checked by content (bodies.read_document …), ready for `save`."""
    display_name: str
    content_type: str
    data: bytes


def response(store: FileStore, row: sa.Row, *, inline: bool = True) -> web.FileResponse:
    """A stored file streamed from disk (sendfile where it can), never read whole into
    memory; 404 when its bytes are gone. Callers check who may read it first."""
    path = store.path(row.id)
    if not path.is_file():
        raise web.HTTPNotFound()
    disposition = "inline" if inline else "attachment"
    return web.FileResponse(path, headers={
        "Content-Type": row.content_type,
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(row.display_name)}",
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})


async def save(conn: AsyncConnection, store: FileStore, *, owner_id: int, kind: FileKind,
               display_name: str, content_type: str, data: bytes, now: dt.datetime) -> str:
    """Store the bytes and their row. Raises StorageFull (nothing written) over the quota."""
    if kind in COUNTED:
        await _check_quota(conn, store, owner_id, len(data))
    file_id = store.new_id()
    store.write(file_id, data)
    # a step after this one may still refuse (a workflow's state check): the bytes go with
    # the transaction, never left on disk without their row
    undo_on_rollback(lambda: store.remove(file_id))
    await conn.execute(files.insert().values(
        id=file_id, owner_id=owner_id, kind=kind, display_name=display_name,
        content_type=content_type, size=len(data), created_at=now))
    return file_id


async def copy(conn: AsyncConnection, store: FileStore, file_id: str, kind: FileKind,
               now: dt.datetime) -> str:
    """A separate copy, so deleting or replacing the original leaves the copy as it was sent."""
    row = (await conn.execute(sa.select(files).where(files.c.id == file_id))).one()
    new_id = store.new_id()
    store.link(file_id, new_id)
    undo_on_rollback(lambda: store.remove(new_id))
    await conn.execute(files.insert().values(
        id=new_id, owner_id=row.owner_id, kind=kind, display_name=row.display_name,
        content_type=row.content_type, size=row.size, created_at=now))
    return new_id


async def delete(conn: AsyncConnection, file_id: str) -> None:
    """The row goes in the caller's transaction, so the file answers 404 once it commits;
    the caller then removes the bytes (FileStore.remove): a rolled-back delete keeps them."""
    await conn.execute(files.delete().where(files.c.id == file_id))


async def get(conn: AsyncConnection, file_id: str) -> sa.Row | None:
    return (await conn.execute(sa.select(files).where(files.c.id == file_id))).first()


async def listed(conn: AsyncConnection, file_ids: list[str]) -> list[sa.Row]:
    """The rows of these files, in the given order (a stamped agreement's pages); gone ones left out."""
    if not file_ids:
        return []
    rows = {r.id: r for r in await conn.execute(sa.select(files).where(files.c.id.in_(file_ids)))}
    return [rows[i] for i in file_ids if i in rows]


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
