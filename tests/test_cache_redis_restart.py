"""The caches against a Redis that restarts, loses writes, is flushed or pauses
(app/redislink.py): what a change answered is never hidden by a cached page afterwards.

Each test runs its own redis-server on a free port, with a data folder, and stops,
restarts, kills or pauses it as a service manager or a fault would; two app processes
share it and the database, as two `serve` processes do."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

from app.accountcache import AccountCache
from app.middleware import SESSION_COOKIE
from app.pagecache import PAGE_CACHE
from app.state import ACCOUNT_CACHE
from app.web import create_app
from tests.conftest import FormClient
from tests.factories import PASSWORD
from tests.helpers import published_job
from tests.test_jobs import titles

REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")


class RedisServer:
    """A redis-server of the test's own, keeping its data in `folder` (dump.rdb) as a
    packaged service does."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0?channel=restart"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while self.cli("PING") != "PONG":
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def cli(self, *args: str) -> str:
        done = subprocess.run(["redis-cli", "-p", str(self.port), *args],
                              capture_output=True, text=True, timeout=20)
        return done.stdout.strip()

    def stop_saving(self) -> None:
        """A service restart's stop: the data is saved, then the server exits."""
        self.cli("SHUTDOWN", "SAVE")
        self.process.wait(timeout=20)

    def kill(self) -> None:
        """A crash: whatever changed since the last snapshot is lost."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=20)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-cli") is None:
        pytest.skip("redis-cli is not installed")
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def two(aiohttp_client, settings, clock, redis_server):  # noqa: ANN001, ANN201
    """Two app processes sharing the database and the test's Redis: (a, b) as servers."""
    shared = dataclasses.replace(settings, redis_url=redis_server.url)
    return (await aiohttp_client(create_app(shared, clock=clock)),
            await aiohttp_client(create_app(shared, clock=clock)))


async def _job(world, settings, clock) -> int:  # noqa: ANN001
    return await published_job(settings.database_url, world.employer_id,
                               world.staff["employer"][1], world.staff["platform"][1],
                               clock.now(), title="重启测试岗位")


async def _board_kept(visitor: FormClient, shown: tuple[str, ...] = ("重启测试岗位",)) -> None:
    for _ in range(2):
        assert titles(await (await visitor.get("/jobs")).text()) == list(shown)
    assert len(visitor.app[PAGE_CACHE].entries) == 1, "the board was not kept"


async def _centre_kept(student: FormClient) -> None:
    """学生中心 viewed until it is kept (the first view learns whose session it is)."""
    for _ in range(3):
        assert (await student.get("/student")).status == 200
    cache: AccountCache = student.app[ACCOUNT_CACHE]
    assert any(name[1] == "student_centre" for name in cache.pages.entries), "not kept"


async def _kept_again(visitor: FormClient) -> None:
    """The cache works again once Redis is back and nothing is owed."""
    link = visitor.app[PAGE_CACHE].source.link
    link.down_until = 0.0
    deadline = time.monotonic() + 60
    while link.owes_reset:
        assert time.monotonic() < deadline, "the reset never landed"
        await asyncio.sleep(0.05)
    await _board_kept(visitor, ())


def _session_token(c: FormClient) -> str:
    return c.client.session.cookie_jar.filter_cookies(c.client.make_url("/"))[SESSION_COOKIE].value


async def _log_out_elsewhere(server, token: str) -> None:  # noqa: ANN001
    """The student's session ended through another process (a password reset ends them
    all; logging out ends this one)."""
    other = FormClient(await _client_of(server))
    other.client.session.cookie_jar.update_cookies({SESSION_COOKIE: token})
    await other.get("/")
    assert (await other.post("/logout")).status == 303


_CLIENTS: list = []


async def _client_of(server):  # noqa: ANN001, ANN202
    from aiohttp.test_utils import TestClient
    client = TestClient(server.server)
    await client.start_server()
    _CLIENTS.append(client)
    return client


@pytest.fixture(autouse=True)
async def _close_clients():  # noqa: ANN202
    yield
    while _CLIENTS:
        await _CLIENTS.pop().close()


async def test_changes_made_while_redis_restarts_are_never_hidden_by_kept_pages(
        two, world, settings, clock, redis_server):
    """Redis is stopped as a service restart does (its data saved) and started again;
    meanwhile a job is closed and a student's session ended through process B, whose bumps
    fail. Process A, which kept the board and the student's 学生中心 and asked Redis nothing
    during the outage, must show neither afterwards."""
    a, b = two
    job_id = await _job(world, settings, clock)
    visitor = FormClient(a)
    await _board_kept(visitor)
    student = FormClient(await _client_of(a))
    await student.login("student", world.active_student().email, PASSWORD)
    await _centre_kept(student)

    redis_server.stop_saving()
    employer = FormClient(b)
    await employer.login("employer", "employer", PASSWORD)
    assert (await employer.post(f"/employer/jobs/{job_id}/close")).status == 303
    await _log_out_elsewhere(b, _session_token(student))
    redis_server.start()  # with the counters as they were saved

    assert titles(await (await visitor.get("/jobs")).text()) == []
    assert (await student.get("/student")).status == 303  # to the login page


async def test_a_change_redis_lost_in_a_crash_is_never_hidden_by_kept_pages(
        two, world, settings, clock, redis_server):
    """Redis snapshots, then a change's bump lands and is answered, then Redis crashes and
    comes back from the snapshot: its counter is the one A kept the board under again."""
    a, b = two
    job_id = await _job(world, settings, clock)
    visitor = FormClient(a)
    await _board_kept(visitor)
    assert redis_server.cli("SAVE") == "OK"
    employer = FormClient(b)
    await employer.login("employer", "employer", PASSWORD)
    assert (await employer.post(f"/employer/jobs/{job_id}/close")).status == 303
    redis_server.kill()
    redis_server.start()
    assert titles(await (await visitor.get("/jobs")).text()) == []
    await _kept_again(visitor)


async def test_a_flushed_redis_never_matches_a_kept_page(two, world, settings, clock,
                                                         redis_server):
    a, b = two
    job_id = await _job(world, settings, clock)
    visitor = FormClient(a)
    await _board_kept(visitor)
    employer = FormClient(b)
    await employer.login("employer", "employer", PASSWORD)
    assert redis_server.cli("FLUSHALL") == "OK"
    assert (await employer.post(f"/employer/jobs/{job_id}/close")).status == 303
    assert redis_server.cli("FLUSHALL") == "OK"  # the bump is gone too
    assert titles(await (await visitor.get("/jobs")).text()) == []


async def test_a_paused_redis_is_asked_once_then_pages_are_served_uncached_until_it_answers(
        two, world, settings, clock, redis_server):
    """A paused Redis (SIGSTOP: connections stay open, nothing answers) used to cost every
    page a 5 s wait. One read times out and marks it down; the next pages are served
    without asking it (counted), a change made meanwhile is owed as a reset, and once Redis
    answers the owed reset lands and the pages are kept again."""
    a, b = two
    job_id = await _job(world, settings, clock)
    visitor = FormClient(a)
    await _board_kept(visitor)
    link = a.app[PAGE_CACHE].source.link
    link_b = b.app[PAGE_CACHE].source.link
    for each in (link, link_b):
        each.retry_seconds = 600.0  # no background retry while the test looks
    asked: list[tuple[str, ...]] = []
    mget = link.reads.mget

    async def counted(keys):  # noqa: ANN001, ANN202
        asked.append(keys)
        return await mget(keys)
    link.reads.mget = counted

    os.kill(redis_server.process.pid, signal.SIGSTOP)
    try:
        for _ in range(5):
            assert titles(await (await visitor.get("/jobs")).text()) == ["重启测试岗位"]
        assert len(asked) == 1, "the paused Redis was asked by more than the first page"
        assert not link.usable and len(a.app[PAGE_CACHE].entries) == 1
        employer = FormClient(b)
        await employer.login("employer", "employer", PASSWORD)
        assert (await employer.post(f"/employer/jobs/{job_id}/close")).status == 303
        assert link_b.owes_reset
    finally:
        os.kill(redis_server.process.pid, signal.SIGCONT)

    # Redis answers again: B's owed reset lands (its recovery, asked to try now)
    for each in (link, link_b):
        each.retry_seconds = 0.05
        each.down_until = 0.0
    deadline = time.monotonic() + 60
    while link.owes_reset or link_b.owes_reset:
        assert time.monotonic() < deadline, "the reset never landed"
        await asyncio.sleep(0.05)
    assert titles(await (await visitor.get("/jobs")).text()) == []
    await _kept_again(visitor)
