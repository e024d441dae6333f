"""Pages while the caches' Redis is paused, restarted and back (app/redislink.py).

    python bench/redis_outage.py [--pages 50]

A fresh SQLite database with the test world and one published job; one app (in this
process, aiohttp's test server) with REDIS_URL pointing at a redis-server of the bench's
own. A returning visitor asks for the job board --pages times in each phase, one after the
other, and a logged-in student for 学生中心:

- running: Redis answers (pages from the caches);
- paused: SIGSTOP (connections stay open, nothing answers; the first page waits for the
  read timeout, TIMEOUT_SECONDS, the rest are served uncached without asking);
- back: SIGCONT, after the process's recovery has landed its reset (cached again).

Figures: p50, p99 and max per phase and page, and how many pages of each phase asked
Redis. Before this link, a paused Redis cost every page about 5 s (issue 24, finding 4).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/ itself off the path: bench/statistics.py would shadow the standard library's
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _figures(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (f"{name:<22} p50 {ms[len(ms) // 2]:8.2f} ms  p99 {p99:8.2f} ms  "
            f"max {ms[-1]:8.2f} ms  ({len(ms)} pages)")


async def main(pages: int) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from app.clock import ManualClock
    from app.config import Settings
    from app.migrate import upgrade
    from app.pagecache import PAGE_CACHE
    from app.web import create_app
    from tests.conftest import FormClient
    from tests.factories import PASSWORD, build_world
    from tests.helpers import published_job

    folder = Path(tempfile.mkdtemp(prefix="redis-outage-"))
    port = _free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                              "--dir", str(folder), "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL)
    try:
        url = f"sqlite+aiosqlite:///{folder / 'app.db'}"
        await asyncio.to_thread(upgrade, url)  # alembic runs its own loop
        clock = ManualClock(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
        world = await build_world(url, clock.now())
        await published_job(url, world.employer_id, world.staff["employer"][1],
                            world.staff["platform"][1], clock.now(), title="压测岗位")
        settings = Settings.from_env({}, data_dir=folder / "data", database_url=url,
                                     secret_key="bench", public_base_url="http://127.0.0.1",
                                     log_level="ERROR",  # no access lines, nor the link's warnings
                                     redis_url=f"redis://127.0.0.1:{port}/0?channel=bench")
        app = create_app(settings, clock=clock)
        server = TestServer(app)
        visitor_client, student_client = TestClient(server), TestClient(server)
        await visitor_client.start_server()
        await student_client.start_server()
        visitor, student = FormClient(visitor_client), FormClient(student_client)
        await student.login("student", world.active_student().email, PASSWORD)
        link = app[PAGE_CACHE].source.link
        asked = 0
        mget = link.reads.mget

        async def counted(keys):  # noqa: ANN001, ANN202
            nonlocal asked
            asked += 1
            return await mget(keys)
        link.reads.mget = counted

        async def phase(name: str) -> None:
            nonlocal asked
            for who, path in ((visitor, "/jobs"), (student, "/student")):
                asked, times = 0, []
                for _ in range(pages):
                    started = time.perf_counter()
                    resp = await who.get(path)
                    await resp.read()
                    times.append(time.perf_counter() - started)
                    assert resp.status == 200, resp.status
                label = "job board" if path == "/jobs" else "学生中心"
                print(_figures(f"{name}: {label}", times),
                      f" asked Redis {asked}" if path == "/jobs" else "")

        await phase("running")
        os.kill(redis.pid, signal.SIGSTOP)
        await phase("paused")
        os.kill(redis.pid, signal.SIGCONT)
        started = time.perf_counter()
        while link.owes_reset or not link.usable:
            await asyncio.sleep(0.01)
        print(f"back: caches usable again {time.perf_counter() - started:.2f} s after SIGCONT")
        await phase("back")
        await visitor_client.close()
        await student_client.close()
    finally:
        redis.send_signal(signal.SIGCONT)
        redis.kill()
        redis.wait()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.pages))
