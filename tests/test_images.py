"""Uploaded images (营业执照, 推荐表 photo): an image bomb is refused from its header, next to
the field, before any pixel is decoded and without stalling the event loop; a large but
allowed image is shrunk, turned upright and stripped of EXIF."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import io
import re
import struct
import threading
import zlib

import pytest
from PIL import Image, ImageFile

from app import images
from app.reviews.tables import recommendations
from app.state import LOOP_LAG, SETTINGS
from app.tables import employers, files
from tests.conftest import count, field_error
from tests.factories import credit_code
from tests.review_helpers import approved_origin
from tests.test_employers import register
from tests.test_recommendation import FORM, as_user, post_form

# 81 million pixels: over IMAGE_MAX_PIXELS (40 million) but under Pillow's own warning
# (89 million), so only our header check stands between it and a full decode.
BOMB_SIDE = 9000
BOMBS = 4


@pytest.fixture
def settings(settings):  # noqa: ANN001, ANN201 — conftest's, with the loop-lag probe on
    return dataclasses.replace(settings, loop_lag_probe_seconds=0.01)


def png_bomb(side: int = BOMB_SIDE) -> bytes:
    """A valid PNG of side × side black pixels, 1 bit each: about 10 KB that decodes to
    side² bytes (81 MB for 9000) in Pillow, three times that once converted to RGB."""
    row = b"\0" * (1 + (side + 7) // 8)          # filter byte + packed bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)   # 1-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))


def big_jpeg(width: int, height: int, orientation: int = 1) -> bytes:
    """A noisy camera-size JPEG with EXIF (a Make and an orientation)."""
    img = Image.effect_noise((width, height), 60).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "TestPhone"
    exif[0x0112] = orientation
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


async def lag_of(app, requests) -> tuple[float, list]:  # noqa: ANN001
    """The worst event-loop stall while the given requests run together."""
    probe = app[LOOP_LAG]
    # A full collection of the test process's heap (everything every earlier test left)
    # stalls for 0.1-0.4 s whenever it happens to fall: move the old objects out of its
    # way, so the window measures the requests and not the test run's history.
    gc.collect()
    gc.freeze()
    try:
        await asyncio.sleep(0.05)   # let the probe tick once so the window starts clean
        probe.reset()
        results = await asyncio.gather(*requests)
        await asyncio.sleep(0.05)   # a stall at the very end shows at the probe's next wake
        return probe.reset(), results
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def watched_images():
    """Which threads redrew images, and how many images were decoded (pixels read): the
    facts behind "refused from the header, off the loop"."""
    seen: dict = {"threads": [], "decoded": 0}
    redraw, load = images._redraw, ImageFile.ImageFile.load

    def redraw_seen(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        seen["threads"].append(threading.current_thread().name)
        return redraw(*args, **kwargs)

    def load_seen(self):  # noqa: ANN001, ANN202
        seen["decoded"] += 1
        return load(self)
    images._redraw, ImageFile.ImageFile.load = redraw_seen, load_seen
    try:
        yield seen
    finally:
        images._redraw, ImageFile.ImageFile.load = redraw, load


def _no_stall(seen: dict, count: int, lag: float, rest: float) -> None:
    """Each bomb was judged on a pool thread, from its header alone (nothing decoded); the
    loop's worst stall is shown, not asserted (a shared machine's scheduling is not ours)."""
    assert len(seen["threads"]) == count, seen
    assert all(name.startswith("cpu") for name in seen["threads"]), seen
    assert seen["decoded"] == 0, seen
    print(f"loop stall with {count} bombs: {lag * 1000:.1f} ms (at rest {rest * 1000:.1f} ms)")


async def test_licence_bomb_refused_from_header_without_stalling_the_loop(make_client, app, settings):
    bomb = png_bomb()
    assert len(bomb) < 100_000
    employers_ = [await make_client() for _ in range(BOMBS)]
    for c in employers_:
        await c.get("/employer/register")                # templates compiled before measuring
    rest, _ = await lag_of(app, [c.get("/employer/register") for c in employers_])
    with watched_images() as seen:
        lag, answers = await lag_of(app, [
            register(c, licence=bomb, username=f"bomb{i}", credit_code=credit_code(80 + i),
                     contact_email=f"hr{i}@bomb.example.cn")
            for i, c in enumerate(employers_)])
    for resp in answers:
        html = await resp.text()
        assert resp.status == 400
        assert re.findall(r'id="f-(\w+)-error"', html) == ["licence"]   # the only complaint
        assert field_error(html, "licence") == \
            "图片尺寸过大，请缩小到4000万像素以内"
        assert 'value="山城软件有限公司"' in html          # what the user typed is kept
    assert await count(settings.database_url, employers) == 0
    assert await count(settings.database_url, files) == 0
    assert not (settings.data_dir / "files").exists() or not any((settings.data_dir / "files").iterdir())
    _no_stall(seen, BOMBS, lag, rest)


async def test_photo_bomb_refused_from_header_without_stalling_the_loop(make_client, app, settings,
                                                                         world, clock):
    await approved_origin(settings.database_url, world, clock.now())
    student = await as_user(make_client, "student", world.active_student().email)
    bomb = png_bomb()
    await student.get("/student/recommendation/edit")   # templates compiled before measuring
    rest, _ = await lag_of(app, [student.get("/student/recommendation/edit") for _ in range(BOMBS)])
    with watched_images() as seen:
        lag, answers = await lag_of(app, [post_form(student, FORM, bomb, do="save", name="me.png")
                                          for _ in range(BOMBS)])
    for resp in answers:
        html = await resp.text()
        assert resp.status == 400
        assert re.findall(r'id="f-(\w+)-error"', html) == ["photo"]
        assert field_error(html, "photo") == \
            "照片尺寸过大，请缩小到4000万像素以内"
        assert "踏实肯干，乐于学习。" in html
    assert await count(settings.database_url, recommendations) == 0
    photos = settings.data_dir / "photos"
    assert not photos.exists() or not any(photos.iterdir())
    _no_stall(seen, BOMBS, lag, rest)


async def test_the_pixel_bound_is_one_setting_for_every_image(make_client, app, settings, world,
                                                               clock):
    """Just over IMAGE_MAX_PIXELS is refused on both paths; the message names the bound."""
    app[SETTINGS] = dataclasses.replace(settings, image_max_pixels=10_000)  # before it starts
    employer = await make_client()
    # far past Pillow's own bound too (its DecompressionBombError): the same message
    resp = await register(employer, licence=png_bomb(13000))
    assert field_error(await resp.text(), "licence") == "图片尺寸过大，请缩小到1万像素以内"
    resp = await register(employer, licence=png_bomb(101))
    assert field_error(await resp.text(), "licence") == "图片尺寸过大，请缩小到1万像素以内"
    await approved_origin(settings.database_url, world, clock.now())
    student = await as_user(make_client, "student", world.active_student().email)
    resp = await post_form(student, FORM, png_bomb(101), do="save", name="me.png")
    assert field_error(await resp.text(), "photo") == "照片尺寸过大，请缩小到1万像素以内"
    resp = await post_form(student, FORM, png_bomb(100), do="save", name="me.png")
    assert resp.status == 303


async def test_large_allowed_licence_is_shrunk_upright_and_without_exif(make_client, settings):
    employer = await make_client()
    photo = big_jpeg(4000, 3000, orientation=6)   # a phone held upright: stored sideways
    assert len(photo) < settings.image_max_bytes
    resp = await register(employer, licence=photo)
    assert resp.status == 303, await resp.text()
    stored = list((settings.data_dir / "files").iterdir())
    with Image.open(stored[0]) as img:
        assert img.format == "JPEG"
        assert img.size == (1800, 2400)           # turned upright, longest side 2400
        assert not img.getexif()                  # GPS, Make, orientation: all gone


async def test_large_allowed_photo_is_shrunk(make_client, settings, world, clock):
    await approved_origin(settings.database_url, world, clock.now())
    student = await as_user(make_client, "student", world.active_student().email)
    resp = await post_form(student, FORM, big_jpeg(3000, 4000), do="save")
    assert resp.status == 303, await resp.text()
    served = await (await student.get("/student/recommendation/photo")).read()
    with Image.open(io.BytesIO(served)) as img:
        assert img.size == (600, 800) and not img.getexif()


async def test_an_image_over_the_byte_bound_is_refused_next_to_the_field(make_client, settings):
    employer = await make_client()
    too_big = b"\xff\xd8\xff" + b"\0" * settings.image_max_bytes
    resp = await register(employer, licence=too_big)
    assert resp.status == 413
    assert field_error(await resp.text(), "licence") == "图片不能超过10MB"
    assert await count(settings.database_url, employers) == 0
