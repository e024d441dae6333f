"""学生信息 benchmark: the staff list of students, 学生档案 and 就业统计's drill-downs on a
generated province, on one served app.

    python bench/staff_lists.py [--db sqlite|postgres] [--schools 20 --graduates 60000]
                                [--requests 30] [--explain]

The province is bench/statistics.py's (its set-up is imported from there): a fresh database
(a SQLite file in a temp folder, or a fresh PostgreSQL database on 127.0.0.1:5432 as user
postgres, dropped at the end), migrated and filled in bulk with tests/statistics_kit.py —
--schools schools of 5 colleges × 3 majors, --graduates graduates of 2026, most with a 生源
record and a destination — then ANALYZEd. The app is served in this process (aiohttp
TestServer, real sockets) and driven with an aiohttp client logged in as a school admin
(the first school) and as a platform admin. Each of these is --requests requests, one after
the other, p50/p99 (ms):
  - school list: GET /school/students with three filters and a sort
    (year=2026&education=本科生&employed=1&sort=-name), the page varied from the first to
    the last over the requests;
  - school 学生档案: GET /school/students/{id} of --requests different students of the
    school;
  - platform list: GET /school/students over every school with three filters and a sort
    (year=2026&group=待就业&province=50&sort=college), the page varied likewise;
  - platform drill-down: the number links of the platform's GET /statistics?year=2026
    (a class="drill"), --requests of them spread over its tables (overall, 落实率分组, the
    weeks, each breakdown, the destinations), each requested once.
Every response must be 200, and every list must count (data-total) more than 0 rows, or the
run stops. A drill-down's count is also compared with the number it was clicked on.
Ratio lines: p99 / 300 ms for each school page, p99 / 1000 ms for each platform page (the
goal: ≤ 1). --explain prints each list's SQL and its plan (EXPLAIN QUERY PLAN on SQLite,
EXPLAIN ANALYZE on PostgreSQL) for the count and for one page.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/statistics.py shadows the standard library's `statistics`, which the app imports:
# take this folder off the import path before anything else is imported.
sys.path[:] = [e for e in sys.path if Path(e or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import html
import os
import re
import statistics
import time
import unicodedata
import urllib.parse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from app.db import Database  # noqa: E402
from bench.statistics import login, p, seed, served  # noqa: E402

LIST = "/school/students"
SCHOOL_QUERY = "year=2026&education=本科生&employed=1&sort=-name"
PLATFORM_QUERY = "year=2026&group=待就业&province=50&sort=college"
PER_PAGE = 50   # the list's first page size (app/roster/listing.py: sizes=(50, 100, 200))
TOTAL = re.compile(r'<strong data-total="(\d+)">')
FILE_LINK = re.compile(r'href="/school/students/(\d+)"')
DRILL = re.compile(r'<a href="([^"]+)" class="drill">([\d,]+)</a>')


async def get(session: aiohttp.ClientSession, url: str) -> tuple[float, str]:
    """One request: its time in ms and its body; anything but a 200 stops the run."""
    start = time.perf_counter()
    async with session.get(url) as resp:
        body = await resp.text()
        if resp.status != 200:
            raise SystemExit(f"GET {url}: {resp.status}")
    return (time.perf_counter() - start) * 1000, body


def total_of(url: str, body: str) -> int:
    found = TOTAL.search(body)
    if found is None:
        raise SystemExit(f"GET {url}: no data-total on the page")
    if int(found[1]) <= 0:
        raise SystemExit(f"GET {url}: the list counts no rows")
    return int(found[1])


def spread_pages(total: int, n: int) -> list[int]:
    """n page numbers from the first to the last page of `total` rows."""
    last = max(1, -(-total // PER_PAGE))
    return [1 + round(i * (last - 1) / max(1, n - 1)) for i in range(n)]


async def timed_list(session: aiohttp.ClientSession, base: str, query: str, n: int) -> tuple[list[float], int, int]:
    """The list, n times, its page going from the first to the last: times, rows, pages."""
    _, body = await get(session, f"{base}{LIST}?{query}")
    total = total_of(query, body)
    pages = spread_pages(total, n)
    times = []
    for page in pages:
        url = f"{base}{LIST}?{query}&page={page}"
        took, body = await get(session, url)
        if total_of(url, body) != total:
            raise SystemExit(f"GET {url}: the count changed from {total}")
        times.append(took)
    return times, total, max(pages)


async def file_ids(session: aiohttp.ClientSession, base: str, n: int) -> list[int]:
    """n different students of the viewer's list (its default order), spread over the first
    pages of 200 rows until there are 4 × n to pick from."""
    ids: list[int] = []
    page = 1
    while len(ids) < 4 * n:
        _, body = await get(session, f"{base}{LIST}?size=200&page={page}")
        found = [int(i) for i in FILE_LINK.findall(body)]
        ids += [i for i in found if i not in ids]
        if len(found) < 200:
            break
        page += 1
    if len(ids) < n:
        raise SystemExit(f"only {len(ids)} students listed, {n} wanted")
    return [ids[i * len(ids) // n] for i in range(n)]


def kind(href: str) -> tuple[str, ...]:
    """Which table of the statistics page a drill link comes from: the filters it sets."""
    return tuple(sorted(k for k, _ in urllib.parse.parse_qsl(urllib.parse.urlsplit(href).query)
                        if k != "year"))


def pick_drills(page: str, n: int) -> list[tuple[str, int]]:
    """n drill links (href, number) of the statistics page, round-robin over their kinds,
    numbers of 0 left out (an empty list is not a drill-down anyone makes)."""
    by_kind: dict[tuple[str, ...], list[tuple[str, int]]] = {}
    for href, number in DRILL.findall(page):
        count = int(number.replace(",", ""))
        if count > 0:
            by_kind.setdefault(kind(html.unescape(href)), []).append((html.unescape(href), count))
    if not by_kind:
        raise SystemExit("the statistics page has no drill-down link")
    for links in by_kind.values():   # each kind's links in an order spread over the table
        links[:] = links[::2] + links[1::2]
    picked: list[tuple[str, int]] = []
    while len(picked) < n:
        before = len(picked)
        for links in by_kind.values():
            if links and len(picked) < n:
                picked.append(links.pop(0))
        if len(picked) == before:
            break
    return picked


def line(name: str, t: list[float], note: str = "") -> str:
    wide = sum(unicodedata.east_asian_width(c) in "WF" for c in name)   # two columns each
    return (f"{name:{22 - wide}s} n={len(t)} p50={p(t, .5):7.1f} ms p99={p(t, .99):7.1f} ms "
            f"mean={statistics.mean(t):7.1f} ms{note}")


async def explain(url: str, school_id: int | None, query: str) -> None:
    """The list's SQL as the page runs it (count, then one page), and the database's plan."""
    from app.roster import listing
    from app.roster.filters import Scope
    db = Database(url)
    try:
        async with db.read() as conn:
            scope = Scope(school_id)
            resolved = await listing.read(conn, scope, dict(urllib.parse.parse_qsl(query)))
            stmt = listing.filtered(scope, resolved)
            count = sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
            for title, s in (("count", count), ("page 1", stmt.limit(PER_PAGE))):
                sql = str(s.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
                print(f"--- {'school' if school_id else 'platform'} list, {title}: {query}\n{sql}")
                prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN ANALYZE "
                for row in await conn.exec_driver_sql(prefix + sql):
                    print("    " + " | ".join(str(v) for v in row))
    finally:
        await db.dispose()


async def run(args: argparse.Namespace) -> None:
    said = f"{args.graduates} graduates in {args.schools} schools"
    async with served(args.db, "lists", lambda url: seed(url, args.schools, args.graduates),
                      said) as place:
        url, base = place.url, place.base
        n = args.requests
        school = await login(base, "bench_school")
        platform = await login(base, "bench_platform")
        for session, query in ((school, SCHOOL_QUERY), (platform, PLATFORM_QUERY)):
            for _ in range(2):   # warm caches, compile templates
                await get(session, f"{base}{LIST}?{query}")
        results: list[tuple[str, list[float], float]] = []

        t, total, pages = await timed_list(school, base, SCHOOL_QUERY, n)
        results.append(("school list", t, 300))
        print(line("school list", t, f"  ({total} rows, pages 1…{pages}: {SCHOOL_QUERY})"))

        ids = await file_ids(school, base, n)
        await get(school, f"{base}{LIST}/{ids[0]}")   # warm its template
        t = [(await get(school, f"{base}{LIST}/{i}"))[0] for i in ids]
        results.append(("school 学生档案", t, 300))
        print(line("school 学生档案", t, f"  ({len(set(ids))} different students)"))

        t, total, pages = await timed_list(platform, base, PLATFORM_QUERY, n)
        results.append(("platform list", t, 1000))
        print(line("platform list", t, f"  ({total} rows, pages 1…{pages}: {PLATFORM_QUERY})"))

        _, page = await get(platform, base + "/statistics?year=2026")
        drills = pick_drills(page, n)
        await get(platform, base + drills[0][0])
        t, differ = [], []
        for href, number in drills:
            took, body = await get(platform, base + href)
            t.append(took)
            if total_of(href, body) != number:
                differ.append(f"{href} counts {total_of(href, body)}, the number says {number}")
        results.append(("platform drill-down", t, 1000))
        kinds = len({kind(h) for h, _ in drills})
        print(line("platform drill-down", t, f"  ({len(drills)} links of {kinds} kinds, "
                   f"{min(c for _, c in drills)}…{max(c for _, c in drills)} rows)"))
        print(f"drill-downs whose list count differs from the number: {len(differ)} of {len(drills)}")
        for d in differ[:5]:
            print("  " + d)

        for name, t, goal in results:
            print(f"ratio {name} p99 / {goal} ms: {p(t, .99) / goal:.2f}")
        await school.close()
        await platform.close()
        if args.explain:
            db = Database(url)
            try:
                async with db.read() as conn:
                    school_id = (await conn.execute(sa.text(
                        "SELECT school_id FROM accounts WHERE username = 'bench_school'"))).scalar_one()
            finally:
                await db.dispose()
            await explain(url, school_id, SCHOOL_QUERY)
            await explain(url, None, PLATFORM_QUERY)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--graduates", type=int, default=60_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--explain", action="store_true",
                        help="print each list's SQL and the database's plan of it at the end")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
