"""Rendered papers (the agreement's PDF and 原图, the 推荐表's PDF), kept by what they show.

A key names a paper by the digest of the HTML it is laid out from (app/documents.py), so any
change of what the paper shows (a field, the state's wording, the QR code, a template) is a
new key and an old paper is never served for a new state; nothing has to be invalidated.
Because a key is the whole content, one cache serves the whole process (a module object, not
an app's: two apps of one process may share a paper only when it is the same paper); the
renders in flight and the users' turns belong to the event loop they run on.

- Kept: an LRU bounded in entries, bytes and age (app/lru.py).
- Single flight: a paper asked for while it renders is not rendered again; every asker
  awaits the one render (a task of its own, so a client that goes away cancels nothing).
- Per user: a user may wait for at most RENDERS_PER_USER papers at once. Past that the
  asker is refused at once (RenderRefused, answered 429) instead of queueing: eight 原图
  requests held open by one student took the pool from every login. A turn lasts until
  the render ends, not until the request does, so closing requests frees nothing early.
  Joining a paper another renders costs no CPU and takes no turn.
"""

from __future__ import annotations

import asyncio
import collections
import weakref
from typing import Awaitable, Callable, Hashable

from .lru import Lru

# The agreement's PDF is ~300 KB (the Noto CJK subset embedded) and its 144-dpi 原图
# ~170 KB: 32 MB (what the account page cache may hold too) keeps some 70 papers with their
# 原图, those being printed and reviewed right now, which is what asks for a paper again
# and again; 128 entries bound the count of the smaller 推荐表.
PAPER_ENTRIES = 128
PAPER_BYTES = 32 * 1024 * 1024
# Content-keyed, so age is not about staleness: a paper nobody asked for in an hour gives
# its memory back.
PAPER_AGE_SECONDS = 3600.0
# Two: the PDF and the 原图 of one paper opened together, or two papers an employer prints.
RENDERS_PER_USER = 2

Key = tuple[Hashable, ...]  # (kind, digest, …): the kind ("pdf", "png") is counted in `made`


class RenderRefused(Exception):
    """The user already waits for RENDERS_PER_USER papers: try again in a moment."""


class Papers:
    def __init__(self, *, max_entries: int, max_bytes: int, max_age: float, per_user: int) -> None:
        self.kept: Lru[bytes] = Lru(max_entries=max_entries, max_bytes=max_bytes, max_age=max_age)
        self.per_user = per_user
        self.made: collections.Counter[Hashable] = collections.Counter()  # renders run, by kind
        # Renders and turns belong to the loop that runs them (a process serves one; each
        # test has its own), and go with it.
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _InFlight] = \
            weakref.WeakKeyDictionary()

    def _in_flight(self) -> _InFlight:
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            state = self._loops[loop] = _InFlight()
        return state

    def turns(self, owner: Hashable) -> int:
        """Renders `owner` started that have not ended (running or waiting for a thread)."""
        return self._in_flight().turns[owner]

    async def get(self, key: Key, make: Callable[[], Awaitable[bytes]], *,
                  owner: Hashable | None) -> bytes:
        """The paper under `key`: kept, being rendered (awaited), or rendered now by `make`
        as a turn of `owner` (None: inside a turn already taken)."""
        kept = self.kept.get(key)
        if kept is not None:
            return kept
        state = self._in_flight()
        flight = state.flights.get(key)
        if flight is None:
            if owner is not None:
                if state.turns[owner] >= self.per_user:
                    raise RenderRefused
                state.turns[owner] += 1  # now, not when the task starts: the next asker sees it
            flight = asyncio.get_running_loop().create_task(self._render(key, make))
            state.flights[key] = flight
            # Ended in a callback, which runs even for a task cancelled before it started.
            flight.add_done_callback(lambda task: state.ended(key, task, owner))
        # shield: an asker that goes away leaves the render to the others and the cache
        return await asyncio.shield(flight)

    async def _render(self, key: Key, make: Callable[[], Awaitable[bytes]]) -> bytes:
        value = await make()
        self.made[key[0]] += 1
        self.kept.put(key, value, len(value))
        return value

    def clear(self) -> None:
        self.kept.clear()


class _InFlight:
    def __init__(self) -> None:
        self.flights: dict[Key, asyncio.Task[bytes]] = {}
        self.turns: collections.Counter[Hashable] = collections.Counter()

    def ended(self, key: Key, task: asyncio.Task, owner: Hashable | None) -> None:
        if self.flights.get(key) is task:
            del self.flights[key]
        if owner is not None:
            self.turns[owner] -= 1
            if self.turns[owner] <= 0:
                del self.turns[owner]
        # A render whose askers all went away: its error was theirs, not a "never retrieved" log.
        if not task.cancelled():
            task.exception()


# The process's papers (see the module's docstring: a key is the whole content).
PAPERS = Papers(max_entries=PAPER_ENTRIES, max_bytes=PAPER_BYTES, max_age=PAPER_AGE_SECONDS,
                per_user=RENDERS_PER_USER)
