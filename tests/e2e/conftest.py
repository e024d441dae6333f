"""Browser fixtures: the OS Chromium through Playwright (never a downloaded browser), and
the real app served on a real port on 127.0.0.1 (a secure context for camera/mic)."""

from __future__ import annotations

import dataclasses
import os
import re

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import async_playwright

from app.web import create_app

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--no-sandbox",
    "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture
async def browser():
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
def settings(settings, mailbox):
    return dataclasses.replace(settings, smtp_host=mailbox.host, smtp_port=mailbox.port)


@pytest.fixture
async def live_server(settings, clock):
    server = TestServer(create_app(settings, clock=clock), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


def _form_rejection(text: str) -> bool:
    """A form page answered 400/429 on purpose (bad input, rate limit): not a page error."""
    return bool(re.fullmatch(r"Failed to load resource: the server responded with a status of "
                             r"(400|429) \(.*\)", text))


@pytest.fixture
async def page(browser, live_server):
    context = await browser.new_context(base_url=str(live_server.make_url("/")), locale="zh-CN")
    context.set_default_timeout(10_000)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and not _form_rejection(msg.text)
            and errors.append(msg.text))
    yield page
    await context.close()
    assert errors == [], f"browser errors: {errors}"
