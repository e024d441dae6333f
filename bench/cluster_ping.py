"""Echo through the deployment: the ack round trip of the hall's `ping` from one socket
straight to an app process, and through the shipped nginx site (TLS, WebSocket upgrade) to
two processes on Redis, in the same run. A floor for the hall's figures behind nginx.

    python bench/cluster_ping.py [--pings 500] [--db sqlite|postgres]

Uses the test suite's cluster (tests/cluster_kit.py: nginx -t, then nginx and two
`python -m app serve` processes); needs nginx, Redis at 127.0.0.1:6379 and, for
--db postgres, the server at 127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import Settings  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from tests.conftest import _pg_admin, PG_ADMIN_URL  # noqa: E402
from tests.factories import build_world  # noqa: E402
from tests.hall_kit import connect  # noqa: E402
from tests.test_cluster_hall import login  # noqa: E402
from tests.cluster_kit import cluster  # noqa: E402
from app.clock import Clock  # noqa: E402


async def pings(client, n: int) -> list[float]:  # noqa: ANN001
    times = []
    for _ in range(n):
        started = time.perf_counter()
        assert await client.call("ping", {}) == {"ok": True}
        times.append(time.perf_counter() - started)
    return times


def line(name: str, xs: list[float]) -> str:
    xs = sorted(xs)
    p = lambda q: xs[min(len(xs) - 1, int(q * len(xs)))] * 1000  # noqa: E731
    return f"{name:<28} p50 {p(0.5):7.3f} ms   p99 {p(0.99):7.3f} ms   n={len(xs)}"


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="cluster-ping-"))
    if args.db == "postgres":
        name = f"cqbys_bench_{uuid.uuid4().hex[:8]}"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'app.db'}"
    try:
        await asyncio.to_thread(upgrade, url)
        world = await build_world(url, Clock().now())
        settings = Settings.from_env({}, data_dir=tmp / "data", database_url=url,
                                     secret_key="bench-secret")
        async with cluster(tmp, settings) as c:
            cookie = await login(c.base, "student", world.active_student(0).email)
            direct = await connect(c.direct(0), cookie)
            proxied = await connect(c.base, cookie, ssl_verify=False)
            try:
                await pings(direct, 50)  # warm both paths
                await pings(proxied, 50)
                d, p = [], []
                for _ in range(args.pings // 50):  # interleaved: same machine load for both
                    d += await pings(direct, 50)
                    p += await pings(proxied, 50)
            finally:
                await direct.sio.disconnect()
                await proxied.sio.disconnect()
        print(f"db={args.db}")
        print(line("ping direct to a process", d))
        print(line("ping through nginx (TLS)", p))
        print(f"ratio nginx/direct: p50 {statistics.median(p) / statistics.median(d):.2f}   "
              f"p99 {sorted(p)[int(.99 * len(p))] / sorted(d)[int(.99 * len(d))]:.2f}")
    finally:
        if args.db == "postgres":
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--pings", type=int, default=500)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    asyncio.run(main(parser.parse_args()))
