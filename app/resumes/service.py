"""Rules of 简历管理: one 中文简历 and one 英文简历 per student, up to five 附件简历,
and exactly one 默认简历 once any resume exists."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import files
from ..forms import FormError
from ..tables import resumes
from ..uploads import FileStore
from .schema import KIND_TITLES

MAX_ATTACHMENTS = 5


async def list_for(conn: AsyncConnection, account_id: int) -> list[sa.Row]:
    return list(await conn.execute(
        sa.select(resumes).where(resumes.c.account_id == account_id)
        .order_by(sa.case({"zh": 0, "en": 1}, value=resumes.c.kind, else_=2), resumes.c.id)))


async def structured(conn: AsyncConnection, account_id: int, kind: str) -> sa.Row | None:
    return (await conn.execute(sa.select(resumes).where(
        resumes.c.account_id == account_id, resumes.c.kind == kind))).first()


async def owned(conn: AsyncConnection, account_id: int, resume_id: int) -> sa.Row | None:
    """A resume only if it belongs to this student: ids from the URL are never trusted."""
    return (await conn.execute(sa.select(resumes).where(
        resumes.c.id == resume_id, resumes.c.account_id == account_id))).first()


async def default_for(conn: AsyncConnection, account_id: int) -> sa.Row | None:
    return (await conn.execute(sa.select(resumes).where(
        resumes.c.account_id == account_id, resumes.c.is_default.is_(True)))).first()


async def _ensure_one_default(conn: AsyncConnection, account_id: int) -> None:
    if await default_for(conn, account_id) is None:
        first = (await list_for(conn, account_id))[:1]
        if first:
            await conn.execute(resumes.update().where(resumes.c.id == first[0].id)
                               .values(is_default=True))


async def save_structured(conn: AsyncConnection, account_id: int, kind: str,
                          data: dict[str, Any], now: dt.datetime) -> int:
    existing = await structured(conn, account_id, kind)
    if existing:
        await conn.execute(resumes.update().where(resumes.c.id == existing.id)
                           .values(data=data, updated_at=now))
        resume_id = existing.id
    else:
        resume_id = (await conn.execute(resumes.insert().values(
            account_id=account_id, kind=kind, title=KIND_TITLES[kind], data=data,
            created_at=now, updated_at=now).returning(resumes.c.id))).scalar_one()
    await _ensure_one_default(conn, account_id)
    return resume_id


async def add_attachment(conn: AsyncConnection, store: FileStore, account_id: int, *,
                         display_name: str, content_type: str, data: bytes,
                         now: dt.datetime) -> int:
    await files.lock_owner(conn, account_id)  # 20 uploads at once still make at most 5
    count = (await conn.execute(sa.select(sa.func.count()).select_from(resumes).where(
        resumes.c.account_id == account_id, resumes.c.kind == "file"))).scalar_one()
    if count >= MAX_ATTACHMENTS:
        raise FormError({"file": f"最多上传{MAX_ATTACHMENTS}份附件简历，请先删除不用的"})
    try:
        file_id = await files.save(conn, store, owner_id=account_id, kind=files.FileKind.RESUME,
                                   display_name=display_name, content_type=content_type,
                                   data=data, now=now)
    except files.StorageFull as exc:
        raise FormError({"file": str(exc)}) from None
    resume_id = (await conn.execute(resumes.insert().values(
        account_id=account_id, kind="file", title=display_name, file_id=file_id,
        created_at=now, updated_at=now).returning(resumes.c.id))).scalar_one()
    await _ensure_one_default(conn, account_id)
    return resume_id


async def set_default(conn: AsyncConnection, account_id: int, resume_id: int) -> bool:
    if await owned(conn, account_id, resume_id) is None:
        return False
    await conn.execute(resumes.update().where(resumes.c.account_id == account_id)
                       .values(is_default=resumes.c.id == resume_id))
    return True


async def delete_attachment(conn: AsyncConnection, account_id: int, resume_id: int) -> str | None:
    """Deletes a 附件简历 and its file row; returns the file id whose bytes the caller removes
    once this commits (None: no such attachment of this student). Copies sent with
    applications are separate files and stay."""
    row = await owned(conn, account_id, resume_id)
    if row is None or row.kind != "file":
        return None
    await conn.execute(resumes.delete().where(resumes.c.id == resume_id))
    await files.delete(conn, row.file_id)
    await _ensure_one_default(conn, account_id)
    return row.file_id
