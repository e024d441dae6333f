"""就业信息登记 evidence uploads and the event loop: how long 【保存并审核】 with a phone-camera
photo takes, and the worst event-loop stall meanwhile (LoopLagProbe), against the stall at
rest and against the same image check run on the loop itself (what the CPU pool avoids).

    .venv/bin/python bench/registration_upload.py [--rounds 5] [--megapixels 12]

A temporary SQLite database, the real app on a real port, a real HTTP client.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.clock import ManualClock  # noqa: E402
from app.config import Settings  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.registration import evidence  # noqa: E402
from app.state import LOOP_LAG  # noqa: E402
from app.web import create_app  # noqa: E402
from tests.conftest import FormClient  # noqa: E402
from tests.factories import PASSWORD, build_world  # noqa: E402
from tests.registration_helpers import ready_student  # noqa: E402

NOW = dt.datetime(2026, 6, 1, 1, 0, tzinfo=dt.timezone.utc)


def photo(megapixels: float) -> bytes:
    side = int((megapixels * 1e6 / 12) ** 0.5)
    img = Image.effect_noise((side * 4, side * 3), 60).convert("RGB")
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


async def main(rounds: int, megapixels: float) -> None:
    data = photo(megapixels)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await asyncio.to_thread(upgrade, url)
        world = await build_world(url, NOW)
        student = await ready_student(url, world, NOW)
        settings = dataclasses.replace(
            Settings.from_env({}, data_dir=Path(tmp) / "data", database_url=url,
                              secret_key="bench", public_base_url="http://127.0.0.1"),
            loop_lag_probe_seconds=0.005)
        app = create_app(settings, clock=ManualClock(NOW))
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        try:
            c = FormClient(client)
            await c.login("student", student.email, PASSWORD)
            await c.get("/student/registration/choose")
            assert (await c.post("/student/registration/choose", {"code": "46"})).status == 303
            probe = app[LOOP_LAG]
            await asyncio.sleep(1.0)
            probe.reset()
            await asyncio.sleep(2.0)
            rest = probe.reset()
            times, lags = [], []
            for _ in range(rounds):
                form = aiohttp.FormData()
                form.add_field("_csrf", c.csrf())
                form.add_field("area", "500103")
                form.add_field("enlist_notice", data, filename="入伍通知书.jpg",
                               content_type="image/jpeg")
                probe.reset()
                start = time.perf_counter()
                resp = await client.post("/student/registration/form", data=form,
                                         allow_redirects=False)
                times.append(time.perf_counter() - start)
                lags.append(probe.reset())
                assert resp.status == 303, await resp.text()
                assert (await c.post("/student/registration/withdraw")).status == 303
            probe.reset()
            start = time.perf_counter()
            evidence._check(data, "on-the-loop.jpg")   # what the pool keeps off the loop
            on_loop = time.perf_counter() - start
        finally:
            await client.close()
    print(f"image: {megapixels:g} MP JPEG, {len(data) / 1e6:.1f} MB, {rounds} submissions")
    print(f"submit with evidence        p50={statistics.median(times) * 1e3:8.1f} ms  "
          f"max={max(times) * 1e3:8.1f} ms")
    print(f"loop stall during submits   p50={statistics.median(lags) * 1e3:8.1f} ms  "
          f"max={max(lags) * 1e3:8.1f} ms")
    print(f"loop stall at rest (2 s)        {rest * 1e3:8.1f} ms")
    print(f"image check run on the loop     {on_loop * 1e3:8.1f} ms (the stall it would cause)")
    print(f"ratio worst stall during submits / image check on the loop: "
          f"{max(lags) / on_loop:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--megapixels", type=float, default=12)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.megapixels))
