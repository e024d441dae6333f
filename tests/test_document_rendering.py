"""Rendered documents (the agreement's PDF and 原图): the font maps do not pile up, a paper is
rendered once per content and served from the cache until what it shows changes, a user waits
for at most RENDERS_PER_USER papers (429 past that, at once), and documents never take the CPU
pool's last thread. Facts only: counts of renders, mappings, threads and semaphores, never
durations.

Renders are held in their pool threads by `Gate`, a pass-through around
app.documents.html_to_pdf (the real WeasyPrint render runs once the test opens it): the only way
to have renders in flight at a moment the test chooses, without timing."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import gc
import threading
from typing import Callable

import pypdfium2
import pytest

from app import documents
from app.clock import china_date
from app.gcpacing import tune
from app.rendercache import PAPERS, RENDERS_PER_USER
from app.state import CPU
from tests.signing_kit import agreement_id_from, as_user, invite_form, ready_student

EFFECTIVE = "审核通过，协议生效"  # what the paper says once the school approved it


@pytest.fixture
def settings(settings, request):  # noqa: ANN001, ANN201 — conftest's, CPU_WORKERS from the test
    return dataclasses.replace(settings, cpu_workers=getattr(request, "param", settings.cpu_workers))


@pytest.fixture(autouse=True)
def fresh_papers():  # noqa: ANN201
    PAPERS.clear()
    yield
    PAPERS.clear()


# --- the font maps -------------------------------------------------------------------------

SHEET = """<article class="sheet"><h1>全国普通高等学校毕业生就业协议书</h1><table>
<tr><th>姓名</th><td>学生{n}</td><th>编号</th><td>2026100013{n:05d}</td></tr>
<tr><th>单位</th><td colspan="3">重庆示例科技有限公司第{n}分公司</td></tr></table></article>"""


def _mappings() -> tuple[int, int]:
    lines = open("/proc/self/maps").read().splitlines()
    return len(lines), sum("NotoSansCJK" in line for line in lines)


def test_three_hundred_renders_map_no_more_fonts():
    """The process's mappings stay flat over 300 different papers. The collector is off while
    they render: a serving process runs it over its old objects every few minutes only
    (app/gcpacing.py), so whatever a render leaves to the collector piles up there; before,
    every render's own FontConfiguration mapped both Noto CJK files again (+2 a render)."""
    warm = [documents.html_to_pdf(SHEET.format(n=n)) for n in range(3)]
    documents.pdf_to_png(warm[0])
    gc.collect()
    gc.disable()
    try:
        before, fonts_before = _mappings()
        for n in range(300):
            pdf = documents.html_to_pdf(SHEET.format(n=1000 + n))
            if n % 10 == 0:
                documents.pdf_to_png(pdf)
        after, fonts_after = _mappings()
    finally:
        gc.enable()
    assert fonts_after == fonts_before, f"Noto CJK mappings: {fonts_before} → {fonts_after}"
    assert after - before <= 16, f"mappings: {before} → {after}"
    assert fonts_before >= 1  # the fonts the renders use stay mapped, once


def test_the_server_collector_pacing_leaves_the_fonts_mapped_once():
    """The same with the collector paced as app/gcpacing.py paces a serving process."""
    documents.html_to_pdf(SHEET.format(n=0))
    frozen = gc.get_threshold()
    tune(True)
    try:
        fonts_before = _mappings()[1]
        for n in range(60):
            documents.html_to_pdf(SHEET.format(n=2000 + n))
        fonts_after = _mappings()[1]
    finally:
        gc.unfreeze()
        gc.set_threshold(*frozen)
    assert fonts_after == fonts_before


# --- agreements over HTTP ------------------------------------------------------------------

class Gate:
    """Around html_to_pdf: each render that `hold`s waits in its pool thread until `open`;
    every render is announced on `entered` (its HTML) and counted while inside."""

    def __init__(self, real: Callable[[str], bytes], loop: asyncio.AbstractEventLoop) -> None:
        self.real, self.loop = real, loop
        self.hold: Callable[[str], bool] = lambda html: True
        self.entered: asyncio.Queue[str] = asyncio.Queue()
        self.opened = threading.Event()
        self._lock = threading.Lock()
        self.inside = 0
        self.most_inside = 0
        self.threads: set[int] = set()

    def __call__(self, html: str) -> bytes:
        with self._lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            self.threads.add(threading.get_ident())
        self.loop.call_soon_threadsafe(self.entered.put_nowait, html)
        try:
            if self.hold(html):
                self.opened.wait()
            return self.real(html)
        finally:
            with self._lock:
                self.inside -= 1


@pytest.fixture
async def gate(monkeypatch):  # noqa: ANN001, ANN201
    held = Gate(documents.html_to_pdf, asyncio.get_running_loop())
    monkeypatch.setattr(documents, "html_to_pdf", held)
    yield held
    held.opened.set()  # never leave a pool thread waiting, whatever the test did


async def numbered_agreements(make_client, world, settings, clock, schools=(0,)):  # noqa: ANN001, ANN201
    """The employer's online invitation to each school's student, agreed: numbered agreements
    → (employer client, [(student client, agreement id)])."""
    employer = await as_user(make_client, "employer", "employer")
    made = []
    for school in schools:
        await ready_student(settings.database_url, world, clock.now(), school)
        student = await as_user(make_client, "student", world.active_student(school).email)
        await employer.get("/employer/agreements/new")
        until = china_date(clock.now()) + dt.timedelta(days=7)
        resp = await employer.post("/employer/agreements/new",
                                   invite_form(world, school, valid_until=until.isoformat()))
        assert resp.status == 303, await resp.text()
        aid = agreement_id_from(resp.headers["Location"])
        resp = await student.post(f"/student/signing/online/{aid}/answer",
                                  {"action": "agree", "opinion": "同意到贵单位工作"})
        assert resp.status == 303
        made.append((student, aid))
    return employer, made


async def make_effective(make_client, aid: int, school: int = 0) -> None:  # noqa: ANN001
    for username in (f"counselor{school}", f"school_admin{school}"):
        staff = await as_user(make_client, "staff", username)
        assert (await staff.post(f"/reviews/agreements/{aid}", {"action": "approve"})).status == 303


def pdf_text(pdf: bytes) -> str:
    doc = pypdfium2.PdfDocument(pdf)
    try:
        return "".join(page.get_textpage().get_text_range() for page in doc)
    finally:
        doc.close()


async def fetch(client, path: str) -> tuple[int, bytes]:  # noqa: ANN001
    resp = await client.get(path)
    return resp.status, await resp.read()


async def test_a_paper_is_rendered_once_until_what_it_shows_changes(make_client, world, settings, clock):
    employer, [(student, aid)] = await numbered_agreements(make_client, world, settings, clock)
    pdf_url, png_url = f"/agreements/{aid}/agreement.pdf", f"/agreements/{aid}/original.png"
    made = dict(PAPERS.made)

    def renders() -> dict[str, int]:
        return {kind: PAPERS.made[kind] - made.get(kind, 0) for kind in ("pdf", "png")}

    status, first = await fetch(student, pdf_url)
    assert status == 200 and renders() == {"pdf": 1, "png": 0}
    assert await fetch(student, pdf_url) == (200, first)
    assert await fetch(employer, pdf_url) == (200, first)  # its own access check, the same paper
    assert renders() == {"pdf": 1, "png": 0}
    status, png = await fetch(student, png_url)
    assert status == 200 and png.startswith(b"\x89PNG")
    assert renders() == {"pdf": 1, "png": 1}  # the 原图 is made from the kept PDF
    assert await fetch(employer, png_url) == (200, png)
    assert renders() == {"pdf": 1, "png": 1}
    assert EFFECTIVE not in pdf_text(first)
    # A change of the agreement is a new paper, never the old one from the cache.
    await make_effective(make_client, aid)
    status, effective = await fetch(student, pdf_url)
    assert status == 200 and effective != first and EFFECTIVE in pdf_text(effective)
    # The 原图 is made again from the new PDF (its first page happens to look the same: the
    # approval is printed on the second).
    assert (await fetch(student, png_url))[0] == 200
    assert renders() == {"pdf": 2, "png": 2}
    # Who may not see the agreement is refused before any cache.
    other = await as_user(make_client, "staff", "school_admin1")
    assert (await other.get(pdf_url)).status == 404 and (await other.get(png_url)).status == 404


async def test_asked_together_a_paper_is_rendered_once(make_client, world, settings, clock, gate):
    employer, [(student, aid)] = await numbered_agreements(make_client, world, settings, clock)
    made = PAPERS.made["pdf"]
    asks = [asyncio.create_task(fetch(client, f"/agreements/{aid}/agreement.pdf"))
            for client in (student, employer, student)]
    await gate.entered.get()
    gate.opened.set()
    answers = await asyncio.gather(*asks)
    assert [status for status, _ in answers] == [200, 200, 200]
    assert len({body for _, body in answers}) == 1
    assert PAPERS.made["pdf"] - made == 1 and gate.entered.empty()


async def _first(*aws):  # noqa: ANN002, ANN202
    """Whichever finishes first (the others keep running): which of two facts came about."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    return tasks, done


@pytest.mark.parametrize("settings", [4], indirect=True)  # room in the pool for every render here
async def test_a_user_waits_for_two_papers_at_most(make_client, world, settings, clock, gate):
    assert RENDERS_PER_USER == 2
    employer, [(student0, ag0), (_, ag1)] = await numbered_agreements(
        make_client, world, settings, clock, schools=(0, 1))
    gate.hold = lambda html: EFFECTIVE not in html  # the effective paper below goes through
    held = [asyncio.create_task(fetch(employer, f"/agreements/{aid}/agreement.pdf"))
            for aid in (ag0, ag1)]
    await gate.entered.get()
    await gate.entered.get()
    # Two papers rendering for the employer: a third is refused at once, nothing rendered.
    [third, entered], done = await _first(employer.get(f"/agreements/{ag0}/original.png"),
                                          gate.entered.get())
    assert entered not in done, "the third paper was rendered instead of refused"
    entered.cancel()
    refused = third.result()
    assert refused.status == 429 and "文档正在生成" in await refused.text()
    assert refused.headers["Retry-After"]
    # Meanwhile another user's paper renders: the student's, once the school approved it.
    await make_effective(make_client, ag0)
    status, body = await fetch(student0, f"/agreements/{ag0}/agreement.pdf")
    assert status == 200 and EFFECTIVE in pdf_text(body)
    # Still two in flight for the employer, whatever the paper.
    assert (await employer.get(f"/agreements/{ag0}/original.png")).status == 429
    assert gate.inside == 2 and not any(task.done() for task in held)
    gate.opened.set()
    assert [status for status, _ in await asyncio.gather(*held)] == [200, 200]
    # Its renders ended: the employer's turns are back.
    assert (await employer.get(f"/agreements/{ag0}/original.png")).status == 200


async def test_documents_never_take_the_pools_last_thread(make_client, world, settings, clock, gate, app):
    employer, [(_, ag0), (_, ag1)] = await numbered_agreements(
        make_client, world, settings, clock, schools=(0, 1))
    pool = app[CPU]  # made when the app started
    assert pool.workers == 2
    asks = [asyncio.create_task(fetch(employer, f"/agreements/{aid}/agreement.pdf"))
            for aid in (ag0, ag1)]
    await gate.entered.get()
    # One render holds the documents' share (workers - 1 threads); the other waits for it …
    assert pool.share(documents.DOCUMENTS).locked() and gate.inside == 1
    # … and the pool's other thread is free: a login's password check runs on it now.
    await as_user(make_client, "staff", "counselor0")
    free = await pool.run(threading.get_ident)
    assert free not in gate.threads and gate.inside == 1
    gate.opened.set()
    assert [status for status, _ in await asyncio.gather(*asks)] == [200, 200]
    assert gate.most_inside == pool.workers - 1  # one after the other, never side by side


async def test_a_failed_render_gives_its_turn_back(make_client, world, settings, clock, monkeypatch):
    """A render that fails answers the error page and does not keep the user's turn."""
    _, [(student, aid)] = await numbered_agreements(make_client, world, settings, clock)

    def broken(html: str) -> bytes:
        raise RuntimeError("render failed")

    monkeypatch.setattr(documents, "html_to_pdf", broken)
    for _ in range(RENDERS_PER_USER + 1):
        assert (await student.get(f"/agreements/{aid}/agreement.pdf")).status == 500
    monkeypatch.undo()
    assert (await student.get(f"/agreements/{aid}/agreement.pdf")).status == 200
