"""Batch work on a staff list: the items ticked on the page, or "all N that match" its
filters across every page.

"All N" is re-read when the reviewer confirms: if the list no longer holds exactly the N
they were shown (someone else decided some meanwhile, a student withdrew), nothing is done
and the confirmation comes back with the new count, so a batch never acts on a set the
reviewer did not see counted. Items are decided in chunks, each its own transaction, so a
long batch never holds the database's write lock for long; whatever could not be done is
reported with its reason, never skipped in silence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..workflow import TransitionError

MAX_BATCH = 5_000   # items one confirmation may act on; more is filtered down first
CHUNK = 100         # items per write transaction


@dataclass(frozen=True)
class Picked:
    ids: tuple[int, ...]      # ticked on the page
    every: bool               # "select all N that match"
    expected: int | None      # the N the reviewer was shown


def picked(post: Mapping[str, Any]) -> Picked:
    getall = getattr(post, "getall", None)
    raw_ids = getall("id", []) if getall else [post.get("id", "")]
    ids = tuple(dict.fromkeys(int(v) for v in raw_ids
                              if isinstance(v, str) and v.isdigit() and len(v) < 12))[:MAX_BATCH]
    raw = post.get("expected", "")
    expected = int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) < 9 else None
    return Picked(ids=ids, every=post.get("every") == "1", expected=expected)


async def matching_ids(conn: AsyncConnection, ids: sa.Select) -> list[int]:
    """The ids of "all that match": `ids` selects one id column, filtered and ordered."""
    return [r[0] for r in await conn.execute(ids.limit(MAX_BATCH + 1))]


@dataclass
class Report:
    done: list[str] = field(default_factory=list)               # the items' names
    failed: list[tuple[str, str]] = field(default_factory=list)  # (name, why not)

    @property
    def total(self) -> int:
        return len(self.done) + len(self.failed)


# act(conn, item_id) → (the item's name, None when done or the reason it was not)
Act = Callable[[AsyncConnection, int], Awaitable[tuple[str, str | None]]]


async def apply(db: Any, ids: list[int], act: Act, *, chunk: int = CHUNK) -> Report:
    """Each item in its own savepoint: an item refused part-way (a 毕业去向 already held,
    found after its state was written) is taken back alone, leaving nothing of it — no state,
    no audit row, no notice — while the chunk's other decisions stand."""
    report = Report()
    # in id order: two batches over the same items then take their row locks in the same
    # order, and so never wait for each other in a circle (a deadlock on PostgreSQL)
    ids = sorted(ids)
    for start in range(0, len(ids), chunk):
        async with db.write() as conn:
            for item_id in ids[start:start + chunk]:
                savepoint = await conn.begin_nested()
                try:
                    name, why_not = await act(conn, item_id)
                except BaseException:
                    await savepoint.rollback()
                    raise
                if why_not is None:
                    await savepoint.commit()
                    report.done.append(name)
                else:
                    await savepoint.rollback()
                    report.failed.append((name, why_not))
    return report


async def next_in(conn: AsyncConnection, ids: sa.Select, current: int) -> int | None:
    """【下一条】 of a review page: the item after `current` in the same filtered queue (`ids`,
    in the list's order); once `current` has left it (decided, so no longer waiting), the
    first one left."""
    found = [r[0] for r in await conn.execute(ids.limit(MAX_BATCH))]
    if current in found:
        at = found.index(current)
        return found[at + 1] if at + 1 < len(found) else None
    return found[0] if found else None


OUT_OF_SCOPE = "不在您的范围内"


def decisions(find: Callable[[AsyncConnection, int], Awaitable[Any]],
              decide: Callable[[AsyncConnection, Any, str, str | None], Awaitable[Any]],
              name: Callable[[Any], str] = lambda row: f"{row.name}（{row.student_no}）",
              ) -> Callable[[str, str | None], Act]:
    """A queue's act(action, reason) for `apply`: `find` the item in the reviewer's scope
    (None: out of it), `decide` it by the flow's own rules; a refusal (TransitionError) is
    the reason it was not done. `apply`'s savepoint takes back whatever a refused item
    wrote first."""
    def act(action: str, reason: str | None) -> Act:
        async def one(conn: AsyncConnection, item_id: int) -> tuple[str, str | None]:
            row = await find(conn, item_id)
            if row is None:
                return f"#{item_id}", OUT_OF_SCOPE
            try:
                await decide(conn, row, action, reason)
            except TransitionError as exc:
                return name(row), str(exc)
            return name(row), None
        return one
    return act
