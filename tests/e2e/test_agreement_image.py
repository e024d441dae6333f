"""【查看原图】 in a real Chromium: the 就业协议书's two pages, one under the other, in one image
the browser's own viewer shows (no console error, nothing blocked)."""

from __future__ import annotations

import io

import pypdfium2
from PIL import Image

from tests.factories import PASSWORD
from tests.signing_kit import ready_student
from tests.termination_kit import offline_generated


async def test_the_original_image_shows_every_page(page, world, settings, clock):
    await ready_student(settings.database_url, world, clock.now())
    aid = await offline_generated(settings.database_url, world, clock.now())
    await page.goto("/login/student")
    await page.get_by_label("学号/邮箱/手机号").fill(world.active_student().email)
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.goto(f"/student/signing/agreements/{aid}")
    link = page.get_by_role("link", name="查看原图")
    href = await link.get_attribute("href")
    response = await page.goto(href)
    assert response.status == 200 and response.headers["content-type"] == "image/png"
    size = await page.evaluate("() => [document.images[0].naturalWidth, document.images[0].naturalHeight]")
    pdf = await (await page.request.get(f"/agreements/{aid}/agreement.pdf")).body()
    pages = pypdfium2.PdfDocument(pdf)
    assert len(pages) == 2  # the agreement's paper has two pages
    width, height = pages[0].get_size()
    # both pages, each at the image's width, one under the other
    assert size[1] > 2 * size[0] * height / width * 0.98, size
    png = Image.open(io.BytesIO(await response.body()))
    assert png.size == tuple(size)
